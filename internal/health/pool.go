package health

import (
	"sync"
	"sync/atomic"
	"time"
)

type keyStatus uint8

const (
	keyOK keyStatus = iota
	keyCooling
	keyDisabled
)

// key is the health of one API key of a Pool.
type key struct {
	// Read without the lock.
	clean        atomic.Bool   // ok, no streak, no probe out: Report may skip the lock
	last         atomic.Uint32 // last Outcome reported
	successes    atomic.Uint64
	limits       atomic.Uint64
	authFailures atomic.Uint64
	failures     atomic.Uint64

	// Guarded by Pool.mu.
	status      keyStatus
	until       time.Time // end of the cooldown, or when a disabled key may be probed
	limitStreak int       // consecutive cooldowns (429s not answered by a Success)
	authStreak  int       // consecutive 401/403s, probes included
	probing     bool      // a disabled key is out as a probe
	probeStart  time.Time
	lastLimited time.Time
}

// Pool is the health of one provider's API keys, which it knows by index
// only. The zero Pool is not usable; make one with NewPool (or get one from a
// Registry). All methods are safe for concurrent use; with RoundRobin and
// every key ok, Pick and Report take no lock.
type Pool struct {
	cursor    atomic.Uint32 // round-robin position (32 bits: a cheaper modulo)
	unhealthy atomic.Int32  // keys not ok; Pick scans only when > 0

	mu     sync.Mutex
	keys   []key
	fps    []string // fingerprints, when made by a Registry
	policy Policy
	lrl    bool
}

// NewPool returns a pool of n keys, all ok, following p (after
// p.WithDefaults()).
func NewPool(n int, p Policy) *Pool {
	p = p.WithDefaults()
	pool := &Pool{keys: make([]key, max(n, 0)), policy: p, lrl: p.Strategy == LeastRecentlyLimited}
	for i := range pool.keys {
		pool.keys[i].clean.Store(true)
	}
	return pool
}

// Len returns the number of keys.
func (p *Pool) Len() int { return len(p.keys) }

// Pick returns the index of the key to use now: an available key chosen by
// the strategy. A key whose cooldown has passed is available again; a
// disabled key whose probe time has passed is handed to one caller as a
// probe (others skip it until that caller reports, or until ProbeTimeout).
// ok is false when no key is available; wait is then the time until the
// earliest one is (zero for an empty pool). A caller that picks a key and
// then does not call must Report Neutral, to give back a probe.
func (p *Pool) Pick(now time.Time) (idx int, wait time.Duration, ok bool) {
	n := uint32(len(p.keys))
	if n == 0 {
		return -1, 0, false
	}
	if !p.lrl && p.unhealthy.Load() == 0 {
		return int((p.cursor.Add(1) - 1) % n), 0, true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	start := int(p.cursor.Load() % n)
	best := -1
	wait = time.Duration(1<<63 - 1)
	for j := range len(p.keys) {
		i := (start + j) % len(p.keys)
		k := &p.keys[i]
		if w := p.availableIn(k, now); w > 0 {
			wait = min(wait, w)
			continue
		}
		if best < 0 {
			best = i
			if !p.lrl {
				break
			}
		} else if k.lastLimited.Before(p.keys[best].lastLimited) {
			best = i
		}
	}
	if best < 0 {
		return -1, wait, false
	}
	k := &p.keys[best]
	switch k.status {
	case keyCooling:
		k.status = keyOK
		p.unhealthy.Add(-1)
	case keyDisabled:
		k.probing, k.probeStart = true, now
	}
	p.cursor.Store(uint32(best) + 1)
	return best, 0, true
}

// availableIn returns how long until k may be picked; zero for now. p.mu
// must be held.
func (p *Pool) availableIn(k *key, now time.Time) time.Duration {
	switch {
	case k.status == keyOK:
		return 0
	case now.Before(k.until):
		return k.until.Sub(now)
	case k.status == keyDisabled && k.probing:
		return max(k.probeStart.Add(p.policy.ProbeTimeout).Sub(now), 0)
	}
	return 0
}

// Report records the outcome of a call made with key idx (an index outside
// the pool is ignored). For RateLimited, retryAfter > 0 (see ResetAfter) sets
// the cooldown exactly; otherwise CooldownBase doubles per consecutive 429.
// A 429 that arrives while the key is already cooling down (a call that was
// in flight) does not lengthen the streak. AuthFailed disables the key until
// its next probe. Success clears the key's streaks and re-enables a disabled
// key, but does not end a cooldown in force (the call was sent before the
// 429 that started it). Failure and Neutral say nothing about the key, but
// give back a probe.
func (p *Pool) Report(idx int, now time.Time, o Outcome, retryAfter time.Duration) {
	if idx < 0 || idx >= len(p.keys) {
		return
	}
	if !o.valid() {
		o = Neutral
	}
	k := &p.keys[idx]
	if k.last.Load() != uint32(o) {
		k.last.Store(uint32(o))
	}
	switch o {
	case Success:
		k.successes.Add(1)
	case RateLimited:
		k.limits.Add(1)
	case AuthFailed:
		k.authFailures.Add(1)
	case Failure:
		k.failures.Add(1)
	}
	if k.clean.Load() && o != RateLimited && o != AuthFailed {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch o {
	case Success:
		if k.status == keyCooling && now.Before(k.until) {
			break // sent before the 429 that started the cooldown: the wait stands
		}
		p.setStatus(k, keyOK)
		k.limitStreak, k.authStreak, k.until = 0, 0, time.Time{}
	case RateLimited:
		p.rateLimited(k, now, retryAfter)
	case AuthFailed:
		if k.status != keyDisabled || !now.Before(k.until) { // not a duplicate of a disable in force
			k.authStreak++
			k.until = now.Add(backoff(p.policy.ProbeAfter, p.policy.ProbeMax, k.authStreak))
			p.setStatus(k, keyDisabled)
		}
	}
	k.probing = false
	k.clean.Store(k.status == keyOK && k.limitStreak == 0 && k.authStreak == 0)
}

// rateLimited starts or extends k's cooldown. A disabled key that answers 429
// has authenticated, so it is re-enabled into the cooldown. p.mu must be held.
func (p *Pool) rateLimited(k *key, now time.Time, retryAfter time.Duration) {
	k.lastLimited = now
	if k.status == keyDisabled {
		k.authStreak = 0
	}
	if k.status == keyCooling && now.Before(k.until) {
		d := retryAfter
		if d <= 0 {
			d = backoff(p.policy.CooldownBase, p.policy.CooldownMax, k.limitStreak)
		}
		if until := now.Add(d); until.After(k.until) {
			k.until = until
		}
		return
	}
	k.limitStreak++
	d := retryAfter
	if d <= 0 {
		d = backoff(p.policy.CooldownBase, p.policy.CooldownMax, k.limitStreak)
	}
	k.until = now.Add(d)
	p.setStatus(k, keyCooling)
}

// setStatus moves k to s, keeping the count of unhealthy keys. p.mu must be
// held.
func (p *Pool) setStatus(k *key, s keyStatus) {
	switch {
	case k.status == keyOK && s != keyOK:
		p.unhealthy.Add(1)
	case k.status != keyOK && s == keyOK:
		p.unhealthy.Add(-1)
	}
	k.status = s
}

// KeyState is one key as seen at one moment, for the admin API.
type KeyState struct {
	// Index is the key's position in the provider's configuration.
	Index int `json:"index"`
	// Fingerprint names the key (set when the pool belongs to a Registry).
	Fingerprint string `json:"fingerprint,omitempty"`
	// State is "ok", "cooling_down" or "disabled".
	State string `json:"state"`
	// Until is when a cooldown ends, or when a disabled key may next be
	// probed (in the past while it waits for, or holds, a probe).
	Until time.Time `json:"until,omitzero"`
	// Probing is set while a disabled key is out as a probe.
	Probing bool `json:"probing,omitempty"`
	// LastOutcome is the last outcome reported ("success", "rate_limited",
	// "auth_failed", "failure", "neutral"), empty before the first.
	LastOutcome string `json:"last_outcome,omitempty"`
	// LastLimited is when the key last got a 429.
	LastLimited time.Time `json:"last_limited,omitzero"`
	// ConsecutiveLimits is the 429 streak behind the current backoff.
	ConsecutiveLimits int `json:"consecutive_limits"`
	// ConsecutiveAuthFailures is the 401/403 streak behind the probe delay.
	ConsecutiveAuthFailures int `json:"consecutive_auth_failures"`
	// Counts of the outcomes reported since the key was first seen.
	Successes    uint64 `json:"successes"`
	RateLimits   uint64 `json:"rate_limits"`
	AuthFailures uint64 `json:"auth_failures"`
	Failures     uint64 `json:"failures"`
}

// Snapshot returns the state of every key at now, in index order.
func (p *Pool) Snapshot(now time.Time) []KeyState {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]KeyState, len(p.keys))
	for i := range p.keys {
		k := &p.keys[i]
		s := KeyState{
			Index:                   i,
			State:                   "ok",
			LastLimited:             k.lastLimited,
			ConsecutiveLimits:       k.limitStreak,
			ConsecutiveAuthFailures: k.authStreak,
			Successes:               k.successes.Load(),
			RateLimits:              k.limits.Load(),
			AuthFailures:            k.authFailures.Load(),
			Failures:                k.failures.Load(),
		}
		if i < len(p.fps) {
			s.Fingerprint = p.fps[i]
		}
		if o := Outcome(k.last.Load()); o.valid() {
			s.LastOutcome = o.String()
		}
		switch {
		case k.status == keyDisabled:
			s.State, s.Until = "disabled", k.until
			s.Probing = k.probing && now.Sub(k.probeStart) < p.policy.ProbeTimeout
		case k.status == keyCooling && now.Before(k.until):
			s.State, s.Until = "cooling_down", k.until
		}
		out[i] = s
	}
	return out
}

// adopt copies the state of old's key j into p's key i, for a Registry
// carrying keys across a reload. An outstanding probe stays with old. p is
// not yet shared; old.mu must be held.
func (p *Pool) adopt(i int, old *Pool, j int) {
	k, o := &p.keys[i], &old.keys[j]
	k.last.Store(o.last.Load())
	k.successes.Store(o.successes.Load())
	k.limits.Store(o.limits.Load())
	k.authFailures.Store(o.authFailures.Load())
	k.failures.Store(o.failures.Load())
	k.until, k.limitStreak, k.authStreak, k.lastLimited = o.until, o.limitStreak, o.authStreak, o.lastLimited
	p.setStatus(k, o.status)
	k.clean.Store(k.status == keyOK && k.limitStreak == 0 && k.authStreak == 0)
}
