package health

import (
	"sync"
	"sync/atomic"
	"time"
)

// Breaker is one provider's circuit breaker: closed → open after
// FailureThreshold consecutive Failures; open → half-open once its period has
// passed, when exactly one caller gets a probe and the others are refused
// until the probe reports; a successful probe closes it (and resets the
// period), a failed one re-opens it with the period doubled up to MaxOpen.
//
// The zero Breaker is not usable; make one with NewBreaker (or get one from
// a Registry). All methods are safe for concurrent use. Allow and Report on a
// closed breaker take no lock, except to count a Failure or to end a run of
// them.
type Breaker struct {
	// Read without the lock; written only with mu held.
	open      atomic.Bool  // open or half-open
	failures  atomic.Int32 // consecutive Failures while closed
	openUntil atomic.Int64 // unix nanoseconds; meaningful while open

	mu         sync.Mutex
	threshold  int32
	openFor    time.Duration // first open period
	maxOpen    time.Duration
	probeTTL   time.Duration
	period     time.Duration // current open period
	opens      int
	probing    bool      // a half-open probe is out
	probeStart time.Time // when it was handed out
}

// NewBreaker returns a closed breaker following p (after p.WithDefaults()).
func NewBreaker(p Policy) *Breaker {
	p = p.WithDefaults()
	return &Breaker{
		threshold: int32(min(p.FailureThreshold, 1<<30)),
		openFor:   p.OpenFor,
		maxOpen:   p.MaxOpen,
		probeTTL:  p.ProbeTimeout,
		period:    p.OpenFor,
	}
}

// Allow reports whether a call may go to the provider now. probe is true for
// the one caller allowed through a half-open breaker: it must Report with
// probe=true (reporting Neutral if it ends up not calling, which gives the
// probe back).
func (b *Breaker) Allow(now time.Time) (ok, probe bool) {
	if !b.open.Load() {
		return true, false
	}
	if now.UnixNano() < b.openUntil.Load() {
		return false, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case !b.open.Load():
		return true, false // closed meanwhile
	case now.UnixNano() < b.openUntil.Load():
		return false, false // re-opened meanwhile
	case b.probing && now.Sub(b.probeStart) < b.probeTTL:
		return false, false
	}
	b.probing, b.probeStart = true, now
	return true, true
}

// Report records the outcome of a call that Allow let through; probe is the
// value Allow returned. While closed, Success resets the failure count and
// Failure adds to it; RateLimited, AuthFailed and Neutral do not count. For a
// probe, Success closes the breaker, Failure re-opens it with a doubled
// period, and any other outcome gives the probe back. Reports of calls let
// through before the breaker opened do not change an open breaker.
func (b *Breaker) Report(now time.Time, o Outcome, probe bool) {
	if !probe {
		switch {
		case b.open.Load():
			return // a call let through before the breaker opened
		case o == Success && b.failures.Load() == 0, o != Success && o != Failure:
			return // nothing to change
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open.Load() {
		switch o {
		case Success:
			b.failures.Store(0)
		case Failure:
			n := b.failures.Load() + 1
			b.failures.Store(n)
			if n >= b.threshold {
				b.trip(now, b.openFor)
			}
		}
		return
	}
	if !probe {
		return
	}
	switch o {
	case Success:
		b.open.Store(false)
		b.failures.Store(0)
		b.period = b.openFor
		b.probing = false
	case Failure:
		if now.UnixNano() >= b.openUntil.Load() { // not already re-opened by another probe
			b.trip(now, min(2*b.period, b.maxOpen))
		}
	default:
		b.probing = false
	}
}

// trip opens the breaker for d from now. b.mu must be held.
func (b *Breaker) trip(now time.Time, d time.Duration) {
	b.period = d
	b.opens++
	b.probing = false
	b.openUntil.Store(now.Add(d).UnixNano())
	b.open.Store(true)
}

// BreakerState is a breaker as seen at one moment, for the admin API.
type BreakerState struct {
	// State is "closed", "open" or "half_open" (the open period has passed;
	// the next caller, or the one holding ProbeInFlight, probes).
	State string `json:"state"`
	// ConsecutiveFailures is the current run of Failures; while open, the run
	// that opened it.
	ConsecutiveFailures int `json:"consecutive_failures"`
	// OpenUntil is when the open period ends; zero while closed.
	OpenUntil time.Time `json:"open_until,omitzero"`
	// Opens counts how many times the breaker has opened (re-opens included).
	Opens int `json:"opens"`
	// ProbeInFlight is set while a half-open probe is out.
	ProbeInFlight bool `json:"probe_in_flight,omitempty"`
}

// Snapshot returns the breaker's state at now.
func (b *Breaker) Snapshot(now time.Time) BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := BreakerState{State: "closed", ConsecutiveFailures: int(b.failures.Load()), Opens: b.opens}
	if b.open.Load() {
		s.State = "open"
		s.OpenUntil = time.Unix(0, b.openUntil.Load()).UTC()
		if !now.Before(s.OpenUntil) {
			s.State = "half_open"
			s.ProbeInFlight = b.probing && now.Sub(b.probeStart) < b.probeTTL
		}
	}
	return s
}
