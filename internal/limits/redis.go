package limits

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Redis is the Limiter of several instances sharing one Redis: every
// admission is one call of an atomic Lua script, as is every settlement, so
// instances never race on a read-modify-write. The time is passed into the
// scripts from Options.Now (Redis TIME is not used), so tests move it and
// instances must keep their clocks in sync.
//
// Redis does not own the client: the caller makes it (any redis.Scripter,
// usually a *redis.Client) and closes it. The first call of each script
// after Redis starts loads it (EVALSHA, then EVAL on NOSCRIPT); after that
// every call is one round trip.
type Redis struct {
	c       redis.Scripter
	opts    Options
	periods periodCache
}

// NewRedis returns a limiter over c. It does no I/O.
func NewRedis(c redis.Scripter, o Options) *Redis {
	return &Redis{c: c, opts: o.withDefaults()}
}

var (
	//go:embed lua/common.lua
	luaCommon string
	//go:embed lua/admit.lua
	luaAdmit string
	//go:embed lua/settle.lua
	luaSettle string
	//go:embed lua/spend.lua
	luaSpend string
	//go:embed lua/seed.lua
	luaSeed string

	admitScript  = redis.NewScript(luaCommon + luaAdmit)
	settleScript = redis.NewScript(luaCommon + luaSettle)
	spendScript  = redis.NewScript(luaCommon + luaSpend)
	seedScript   = redis.NewScript(luaSeed)
)

// keys returns the subject's window hash, lease set and budget hash.
func (r *Redis) keys(s Subject) (w, f, b string) {
	tail := ":" + string(s.Kind) + ":" + s.ID
	return r.opts.Prefix + ":w" + tail, r.opts.Prefix + ":f" + tail, r.opts.Prefix + ":b" + tail
}

// Admit implements Limiter.
func (r *Redis) Admit(ctx context.Context, req Request) (*Ticket, error) {
	p, err := newPlan(req, r.opts.Now(), &r.periods)
	if err != nil {
		return nil, err
	}
	id := newTicketID()
	keys := make([]string, 0, 3*p.n)
	args := make([]any, 0, 7+6*p.n)
	args = append(args, p.nowMs, id, p.tokens, int64(p.cost), p.nowMs+r.opts.Lease.Milliseconds(), p.n, p.sec)
	for i := range p.n {
		ps := p.subs[i]
		w, f, b := r.keys(ps.subject)
		keys = append(keys, w, f, b)
		pol := ps.policy
		args = append(args, pol.RPM, pol.TPM, pol.MaxConcurrent, int64(pol.Budget), ps.period, ps.periodEndMs)
	}
	res, err := admitScript.Run(ctx, r.c, keys, args...).Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("limits: redis admit: %w", err)
	}
	var v verdict
	if err := v.decode(res, p.n); err != nil {
		return nil, err
	}
	if res[0] == 1 {
		return p.finish(&v, id)
	}
	return p.finish(&v, "")
}

var limitCodes = [...]Limit{1: LimitRPM, 2: LimitTPM, 3: LimitConcurrency, 4: LimitBudget}

// decode reads admit.lua's reply.
func (v *verdict) decode(res []int64, n int) error {
	if len(res) < 2 || res[1] < 0 || res[1] > int64(len(v.fails)) || len(res) != 2+6*int(res[1])+4*n {
		return fmt.Errorf("limits: redis admit: malformed reply %v", res)
	}
	v.nfail = int(res[1])
	at := 2
	for i := range v.nfail {
		f := res[at : at+6]
		if f[0] < 1 || f[0] >= int64(len(limitCodes)) || f[1] < 0 || f[1] >= int64(n) {
			return fmt.Errorf("limits: redis admit: malformed reply %v", res)
		}
		v.fails[i] = failure{limit: limitCodes[f[0]], sub: int(f[1]), retryMs: f[2], allowed: f[3], used: f[4], requested: f[5]}
		at += 6
	}
	for i := range n {
		w := res[at : at+4]
		v.views[i] = view{reqUsed: w[0], reqNewest: w[1], tokUsed: w[2], tokNewest: w[3]}
		at += 4
	}
	if (res[0] == 1) != (v.nfail == 0) {
		return fmt.Errorf("limits: redis admit: malformed reply %v", res)
	}
	return nil
}

// Settle implements Limiter.
func (r *Redis) Settle(ctx context.Context, t *Ticket, u Usage) error {
	if err := checkSettle(t, u); err != nil {
		return err
	}
	if !t.done.CompareAndSwap(false, true) {
		return ErrTicketDone
	}
	return r.end(ctx, t, u)
}

// Release implements Limiter.
func (r *Redis) Release(ctx context.Context, t *Ticket) error {
	if t == nil || !t.done.CompareAndSwap(false, true) {
		return nil
	}
	return r.end(ctx, t, Usage{})
}

func (r *Redis) end(ctx context.Context, t *Ticket, u Usage) error {
	keys := make([]string, 0, 3*t.n)
	args := make([]any, 0, 6+3*t.n)
	args = append(args, r.opts.Now().UnixMilli(), t.ID, t.sec, u.Tokens-t.tokens, int64(u.Cost), t.n)
	for i := range t.n {
		ts := t.subs[i]
		w, f, b := r.keys(ts.subject)
		keys = append(keys, w, f, b)
		charged := "0"
		if ts.charged {
			charged = "1"
		}
		args = append(args, ts.period, int64(ts.reserved), charged)
	}
	if err := settleScript.Run(ctx, r.c, keys, args...).Err(); err != nil {
		return fmt.Errorf("limits: redis settle: %w", err)
	}
	return nil
}

// Spend implements Limiter.
func (r *Redis) Spend(ctx context.Context, s Subject, p Period) (Spend, error) {
	if err := p.Validate(); err != nil {
		return Spend{}, err
	}
	now := r.opts.Now()
	sp := newSpend(p, now)
	_, f, b := r.keys(s)
	res, err := spendScript.Run(ctx, r.c, []string{f, b}, now.UnixMilli(), sp.ID).StringSlice()
	if err != nil {
		return Spend{}, fmt.Errorf("limits: redis spend: %w", err)
	}
	if len(res) != 2 {
		return Spend{}, fmt.Errorf("limits: redis spend: malformed reply %q", res)
	}
	spent, err1 := strconv.ParseInt(res[0], 10, 64)
	reserved, err2 := strconv.ParseInt(res[1], 10, 64)
	if err1 != nil || err2 != nil {
		return Spend{}, fmt.Errorf("limits: redis spend: malformed reply %q", res)
	}
	sp.Spent, sp.Reserved = Money(spent), Money(reserved)
	return sp, nil
}

// SeedSpend implements Limiter.
func (r *Redis) SeedSpend(ctx context.Context, s Subject, p Period, spent Money) error {
	if err := p.Validate(); err != nil {
		return err
	}
	id, _, _ := p.Bounds(r.opts.Now())
	_, _, b := r.keys(s)
	if err := seedScript.Run(ctx, r.c, []string{b}, id, int64(spent)).Err(); err != nil {
		return fmt.Errorf("limits: redis seed: %w", err)
	}
	return nil
}

var _ Limiter = (*Redis)(nil)
