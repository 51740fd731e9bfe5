package limits

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"sync"
)

// Memory is the Limiter of a single instance: counters in this process,
// lost on restart (budgets can be restored with SeedSpend). Each subject has
// its own lock, so different keys do not contend; an admission holds its
// key's lock and then its team's.
type Memory struct {
	opts     Options
	periods  periodCache
	mu       sync.RWMutex
	subjects map[Subject]*memSubject
}

// NewMemory returns an empty Memory limiter.
func NewMemory(o Options) *Memory {
	return &Memory{opts: o.withDefaults(), subjects: make(map[Subject]*memSubject)}
}

// memSubject holds one key's or team's counters, mirroring the three Redis
// keys of a subject (see the package doc).
type memSubject struct {
	mu       sync.Mutex
	win      *[windowBuckets]memBucket // ring: second s in slot s mod windowBuckets; nil until RPM or TPM is used
	leases   map[string]memLease       // by ticket id
	earliest int64                     // unix ms; no lease expires before; MaxInt64 if none
	spent    map[string]Money          // by budget period id
	reserved map[string]Money
}

type memBucket struct{ sec, reqs, toks int64 }

type memLease struct {
	expiresMs int64
	period    string
	reserved  Money
}

func (m *Memory) subject(s Subject, create bool) *memSubject {
	m.mu.RLock()
	ms := m.subjects[s]
	m.mu.RUnlock()
	if ms != nil || !create {
		return ms
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if ms = m.subjects[s]; ms == nil {
		ms = &memSubject{
			leases:   make(map[string]memLease),
			earliest: math.MaxInt64,
			spent:    make(map[string]Money),
			reserved: make(map[string]Money),
		}
		m.subjects[s] = ms
	}
	return ms
}

// Admit implements Limiter.
func (m *Memory) Admit(ctx context.Context, r Request) (*Ticket, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := newPlan(r, m.opts.Now(), &m.periods)
	if err != nil {
		return nil, err
	}
	var subs [2]*memSubject
	for i := range p.n {
		subs[i] = m.subject(p.subs[i].subject, true)
	}
	var v verdict
	var id string
	for i := range p.n { // key, then team: the one lock order
		subs[i].mu.Lock()
	}
	for i := range p.n {
		subs[i].check(&p, i, &v)
	}
	if v.nfail == 0 {
		id = newTicketID()
		expires := p.nowMs + m.opts.Lease.Milliseconds()
		for i := range p.n {
			subs[i].apply(&p, i, &v.views[i], id, expires)
		}
	}
	for i := range p.n {
		subs[i].mu.Unlock()
	}
	return p.finish(&v, id)
}

// check is admit.lua's check phase for subject i.
func (s *memSubject) check(p *plan, i int, v *verdict) {
	ps := p.subs[i]
	pol := ps.policy
	s.purge(p.nowMs)
	w := view{reqNewest: -1, tokNewest: -1}
	if pol.RPM > 0 || pol.TPM > 0 {
		lo := p.sec - (windowBuckets - 1)
		for _, b := range s.window() {
			if b.sec < lo {
				continue
			}
			if b.reqs > 0 {
				w.reqUsed += b.reqs
				w.reqNewest = max(w.reqNewest, b.sec)
			}
			if b.toks > 0 {
				w.tokUsed += b.toks
				w.tokNewest = max(w.tokNewest, b.sec)
			}
		}
		if pol.RPM > 0 && w.reqUsed+1 > pol.RPM {
			retry := retryMs(s.buckets(lo, false), w.reqUsed+1-pol.RPM, p.nowMs)
			v.fail(failure{LimitRPM, i, retry, pol.RPM, w.reqUsed, 1})
		}
		if pol.TPM > 0 && w.tokUsed+p.tokens > pol.TPM {
			retry := int64(-1)
			if p.tokens <= pol.TPM {
				retry = retryMs(s.buckets(lo, true), w.tokUsed+p.tokens-pol.TPM, p.nowMs)
			}
			v.fail(failure{LimitTPM, i, retry, pol.TPM, w.tokUsed, p.tokens})
		}
	}
	if inflight := int64(len(s.leases)); pol.MaxConcurrent > 0 && inflight+1 > pol.MaxConcurrent {
		v.fail(failure{LimitConcurrency, i, busyRetry.Milliseconds(), pol.MaxConcurrent, inflight, 1})
	}
	s.tidy(ps.period)
	spent, reserved := int64(s.spent[ps.period]), int64(s.reserved[ps.period])
	if cost := int64(p.cost); pol.Budget > 0 && spent+reserved+cost > int64(pol.Budget) {
		v.fail(failure{LimitBudget, i, budgetRetryMs(ps, spent, cost, p.nowMs), int64(pol.Budget), spent + reserved, cost})
	}
	v.views[i] = w
}

// buckets returns the window's non-empty buckets from second lo on, of
// tokens or of requests, oldest first.
func (s *memSubject) buckets(lo int64, tokens bool) []bucket {
	var bs []bucket
	for _, b := range s.window() {
		n := b.reqs
		if tokens {
			n = b.toks
		}
		if b.sec >= lo && n > 0 {
			bs = append(bs, bucket{b.sec, n})
		}
	}
	slices.SortFunc(bs, func(a, b bucket) int { return cmp.Compare(a.sec, b.sec) })
	return bs
}

// window returns the ring's buckets; none before RPM or TPM was used.
func (s *memSubject) window() []memBucket {
	if s.win == nil {
		return nil
	}
	return s.win[:]
}

// apply is admit.lua's apply phase for subject i.
func (s *memSubject) apply(p *plan, i int, w *view, id string, expiresMs int64) {
	ps := p.subs[i]
	pol := ps.policy
	if pol.RPM > 0 || pol.TPM > 0 {
		if s.win == nil {
			s.win = new([windowBuckets]memBucket)
		}
		b := &s.win[floorMod(p.sec, windowBuckets)]
		if b.sec != p.sec {
			*b = memBucket{sec: p.sec}
		}
		if pol.RPM > 0 {
			b.reqs++
			w.reqUsed++
			w.reqNewest = max(w.reqNewest, p.sec)
		}
		if pol.TPM > 0 {
			b.toks += p.tokens
			if p.tokens > 0 {
				w.tokUsed += p.tokens
				w.tokNewest = max(w.tokNewest, p.sec)
			}
		}
	}
	s.leases[id] = memLease{expiresMs: expiresMs, period: ps.period, reserved: p.cost}
	s.earliest = min(s.earliest, expiresMs)
	if p.cost > 0 {
		s.reserved[ps.period] += p.cost
	}
}

// purge ends the leases expired at nowMs, taking their reservations back.
func (s *memSubject) purge(nowMs int64) {
	if nowMs < s.earliest {
		return
	}
	s.earliest = math.MaxInt64
	for id, l := range s.leases {
		if l.expiresMs > nowMs {
			s.earliest = min(s.earliest, l.expiresMs)
			continue
		}
		delete(s.leases, id)
		s.unreserve(l.period, l.reserved)
	}
}

// unreserve takes m off period's reservations. A zero entry stays (tidy
// drops it once its period is past), so the current period's entry is not
// deleted and re-inserted by every request.
func (s *memSubject) unreserve(period string, m Money) {
	if m != 0 {
		s.reserved[period] -= m
	}
}

// tidy is admit.lua's: it drops the accounts of past periods of the
// current period's kind (never "total", nor the other kinds, which Spend may
// still read) once nothing is reserved in them.
func (s *memSubject) tidy(current string) {
	kind, _, ok := strings.Cut(current, ":")
	if !ok || len(s.spent)+len(s.reserved) <= 4 {
		return
	}
	past := func(id string) bool {
		k, _, _ := strings.Cut(id, ":")
		return id != current && k == kind && s.reserved[id] <= 0
	}
	for id := range s.spent {
		if past(id) {
			delete(s.spent, id)
		}
	}
	for id := range s.reserved {
		if past(id) {
			delete(s.reserved, id)
		}
	}
}

// Settle implements Limiter.
func (m *Memory) Settle(ctx context.Context, t *Ticket, u Usage) error {
	if err := checkSettle(t, u); err != nil {
		return err
	}
	if !t.done.CompareAndSwap(false, true) {
		return ErrTicketDone
	}
	m.end(t, u)
	return nil
}

// Release implements Limiter.
func (m *Memory) Release(ctx context.Context, t *Ticket) error {
	if t == nil || !t.done.CompareAndSwap(false, true) {
		return nil
	}
	m.end(t, Usage{})
	return nil
}

// end is settle.lua.
func (m *Memory) end(t *Ticket, u Usage) {
	nowMs := m.opts.Now().UnixMilli()
	lo := floorDiv(nowMs, 1000) - (windowBuckets - 1)
	delta := u.Tokens - t.tokens
	for i := range t.n {
		ts := t.subs[i]
		s := m.subject(ts.subject, true)
		s.mu.Lock()
		if _, ok := s.leases[t.ID]; ok {
			delete(s.leases, t.ID)
			s.unreserve(ts.period, ts.reserved)
		}
		if u.Cost > 0 {
			s.spent[ts.period] += u.Cost
		}
		if ts.charged && delta != 0 && t.sec >= lo && s.win != nil {
			if b := &s.win[floorMod(t.sec, windowBuckets)]; b.sec == t.sec {
				b.toks += delta
			}
		}
		s.mu.Unlock()
	}
}

// Spend implements Limiter.
func (m *Memory) Spend(ctx context.Context, sub Subject, p Period) (Spend, error) {
	if err := p.Validate(); err != nil {
		return Spend{}, err
	}
	now := m.opts.Now()
	sp := newSpend(p, now)
	if s := m.subject(sub, false); s != nil {
		s.mu.Lock()
		s.purge(now.UnixMilli())
		sp.Spent, sp.Reserved = s.spent[sp.ID], s.reserved[sp.ID]
		s.mu.Unlock()
	}
	return sp, nil
}

// SeedSpend implements Limiter.
func (m *Memory) SeedSpend(ctx context.Context, sub Subject, p Period, spent Money) error {
	if err := p.Validate(); err != nil {
		return err
	}
	id, _, _ := p.Bounds(m.opts.Now())
	s := m.subject(sub, true)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spent[id] < spent {
		s.spent[id] = spent
	}
	return nil
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

var _ Limiter = (*Memory)(nil)
