package limits

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// What Memory and the Redis scripts share: the window arithmetic, the plan
// of one admission, and turning the outcome into a Ticket or a Denial. The
// Lua in lua/*.lua mirrors the checks of memory.go step by step; the
// conformance suite runs both.

const (
	// windowBuckets is how many one-second buckets an admission counts: its
	// own second and the 60 before, so that every 60-second interval lies
	// within the buckets counted by the last admission in it.
	windowBuckets = 61
	// busyRetry is the Retry-After for limits that free up as requests end
	// (concurrency; a budget full only of reservations).
	busyRetry = time.Second
)

var errNoKey = errors.New("limits: request without a key")

// plan is one admission, validated, with its time and budget periods.
type plan struct {
	now    time.Time
	nowMs  int64
	sec    int64 // unix second: the window bucket
	tokens int64
	cost   Money
	n      int // subjects: the key, and the team if any
	subs   [2]planSubject
}

type planSubject struct {
	subject     Subject
	policy      Policy
	period      string // budget period id
	periodEndMs int64  // unix ms; 0 for PeriodTotal
}

func newPlan(r Request, now time.Time, pc *periodCache) (plan, error) {
	if r.Key == "" {
		return plan{}, errNoKey
	}
	if r.Tokens < 0 || r.Cost < 0 {
		return plan{}, errors.New("limits: negative token or cost estimate")
	}
	if err := r.KeyPolicy.Validate(); err != nil {
		return plan{}, fmt.Errorf("limits: key policy: %w", err)
	}
	p := plan{now: now, nowMs: now.UnixMilli(), tokens: r.Tokens, cost: r.Cost}
	p.sec = floorDiv(p.nowMs, 1000)
	p.add(Subject{KindKey, r.Key}, r.KeyPolicy, pc)
	if r.Team != "" {
		if err := r.TeamPolicy.Validate(); err != nil {
			return plan{}, fmt.Errorf("limits: team policy: %w", err)
		}
		p.add(Subject{KindTeam, r.Team}, r.TeamPolicy, pc)
	}
	return p, nil
}

func (p *plan) add(s Subject, pol Policy, pc *periodCache) {
	id, endMs := pc.bounds(pol.Period, p.now, p.nowMs)
	p.subs[p.n] = planSubject{subject: s, policy: pol, period: id, periodEndMs: endMs}
	p.n++
}

// periodCache remembers the current daily and monthly periods, so that an
// admission does not format dates.
type periodCache struct {
	daily, monthly atomic.Pointer[periodSpan]
}

type periodSpan struct {
	id             string
	startMs, endMs int64
}

// bounds returns the id and end (unix ms; 0 for total) of the period of
// kind p holding now.
func (c *periodCache) bounds(p Period, now time.Time, nowMs int64) (id string, endMs int64) {
	var ptr *atomic.Pointer[periodSpan]
	switch p {
	case PeriodDaily:
		ptr = &c.daily
	case PeriodMonthly:
		ptr = &c.monthly
	default:
		return "total", 0
	}
	if s := ptr.Load(); s != nil && s.startMs <= nowMs && nowMs < s.endMs {
		return s.id, s.endMs
	}
	id, start, end := p.Bounds(now)
	ptr.Store(&periodSpan{id: id, startMs: start.UnixMilli(), endMs: end.UnixMilli()})
	return id, end.UnixMilli()
}

// failure is one limit refusing the admission.
type failure struct {
	limit                    Limit
	sub                      int   // index into plan.subs
	retryMs                  int64 // -1: waiting will not help
	allowed, used, requested int64
}

// view is one subject's window after the admission (before it, if refused).
type view struct {
	reqUsed, reqNewest int64 // newest non-empty bucket, -1 if none
	tokUsed, tokNewest int64
}

// verdict collects the checks of one admission, in order: per subject (key,
// then team) rpm, tpm, concurrency, budget.
type verdict struct {
	nfail int
	fails [8]failure
	views [2]view
}

func (v *verdict) fail(f failure) {
	v.fails[v.nfail] = f
	v.nfail++
}

// budgetRetryMs is the Retry-After of a refused budget.
func budgetRetryMs(ps planSubject, spent, cost, nowMs int64) int64 {
	budget := int64(ps.policy.Budget)
	switch {
	case cost > budget:
		return -1
	case spent+cost <= budget:
		return busyRetry.Milliseconds() // full of reservations, which end soon
	case ps.periodEndMs > 0:
		return ps.periodEndMs - nowMs
	default:
		return -1
	}
}

// pick chooses the failure to report: the first budget, else the longest
// retry, else the first.
func (v *verdict) pick() failure {
	best := 0
	for i := 1; i < v.nfail; i++ {
		f, b := v.fails[i], v.fails[best]
		switch {
		case b.limit == LimitBudget:
		case f.limit == LimitBudget:
			best = i
		case b.retryMs < 0:
		case f.retryMs < 0 || f.retryMs > b.retryMs:
			best = i
		}
	}
	return v.fails[best]
}

// finish turns the verdict into a Ticket (id is its ID) or a Denial.
func (p *plan) finish(v *verdict, id string) (*Ticket, error) {
	rl := p.rateLimits(v)
	if v.nfail > 0 {
		f := v.pick()
		d := &Denial{
			Limit: f.limit, Subject: p.subs[f.sub].subject,
			Allowed: f.allowed, Used: f.used, Requested: f.requested,
			Limits: rl,
		}
		if f.retryMs > 0 {
			d.RetryAfter = time.Duration(f.retryMs) * time.Millisecond
		}
		return nil, d
	}
	t := &Ticket{ID: id, Admitted: p.now, Limits: rl, sec: p.sec, tokens: p.tokens, n: p.n}
	for i := range p.n {
		ps := p.subs[i]
		t.subs[i] = ticketSubject{subject: ps.subject, period: ps.period, reserved: p.cost, charged: ps.policy.TPM > 0}
	}
	return t, nil
}

func (p *plan) rateLimits(v *verdict) RateLimits {
	var rl RateLimits
	for i := range p.n {
		pol, w := p.subs[i].policy, v.views[i]
		if pol.RPM > 0 {
			rl.Requests.tighten(p.window(pol.RPM, w.reqUsed, w.reqNewest))
		}
		if pol.TPM > 0 {
			rl.Tokens.tighten(p.window(pol.TPM, w.tokUsed, w.tokNewest))
		}
	}
	return rl
}

func (p *plan) window(limit, used, newest int64) Window {
	w := Window{Limit: limit, Remaining: max(0, limit-used)}
	if used > 0 && newest >= 0 {
		w.Reset = time.Duration((newest+windowBuckets)*1000-p.nowMs) * time.Millisecond
	}
	return w
}

func (w *Window) tighten(o Window) {
	if w.Limit == 0 || o.Remaining < w.Remaining {
		*w = o
	}
}

// bucket is one second of a window: its unix second and count.
type bucket struct{ sec, n int64 }

// retryMs returns when enough of a window has rolled off to free need:
// bs are the window's buckets in ascending order.
func retryMs(bs []bucket, need, nowMs int64) int64 {
	var freed int64
	for _, b := range bs {
		freed += b.n
		if freed >= need {
			return (b.sec+windowBuckets)*1000 - nowMs
		}
	}
	return -1
}

func newTicketID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	return hex.EncodeToString(b[:])
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func newSpend(p Period, now time.Time) Spend {
	if p == "" {
		p = PeriodTotal
	}
	id, start, end := p.Bounds(now)
	return Spend{Period: p, ID: id, Start: start, End: end}
}

func checkSettle(t *Ticket, u Usage) error {
	if t == nil {
		return errors.New("limits: settle without a ticket")
	}
	if u.Tokens < 0 || u.Cost < 0 {
		return errors.New("limits: negative usage")
	}
	return nil
}
