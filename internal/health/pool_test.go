package health

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// picks returns the indices of n successive Picks at now (-1 when none).
func picks(p *Pool, now time.Time, n int) []int {
	out := make([]int, n)
	for i := range out {
		idx, _, ok := p.Pick(now)
		if !ok {
			idx = -1
		}
		out[i] = idx
	}
	return out
}

func TestPoolRoundRobinFairness(t *testing.T) {
	p := NewPool(4, Policy{})
	if got, want := picks(p, t0, 6), []int{0, 1, 2, 3, 0, 1}; !slices.Equal(got, want) {
		t.Fatalf("picks %v, want %v", got, want)
	}
	counts := make([]int, 4)
	for _, i := range picks(p, t0, 398) {
		counts[i]++
	}
	counts[0]++
	counts[1]++
	for i, c := range counts {
		if c != 100 {
			t.Errorf("key %d picked %d times in 400, want 100 (%v)", i, c, counts)
		}
	}
}

func TestPoolSkipsCoolingKeys(t *testing.T) {
	p := NewPool(4, Policy{})
	p.Report(1, t0, RateLimited, 5*time.Second)
	if got, want := picks(p, t0, 6), []int{0, 2, 3, 0, 2, 3}; !slices.Equal(got, want) {
		t.Fatalf("while key 1 cools down: %v, want %v", got, want)
	}
	// Fair among the available: a skipped key does not give its turn to its
	// successor twice.
	p.Report(2, t0, RateLimited, 5*time.Second)
	if got, want := picks(p, at(time.Second), 4), []int{0, 3, 0, 3}; !slices.Equal(got, want) {
		t.Fatalf("while keys 1 and 2 cool down: %v, want %v", got, want)
	}
	if got, want := picks(p, at(5*time.Second), 8), []int{0, 1, 2, 3, 0, 1, 2, 3}; !slices.Equal(got, want) {
		t.Fatalf("after the cooldowns: %v, want %v", got, want)
	}
}

func TestPoolRetryAfterIsExact(t *testing.T) {
	for _, ra := range []time.Duration{time.Millisecond, 7 * time.Second, 90 * time.Second, time.Hour} {
		p := NewPool(1, Policy{})
		p.Report(0, t0, RateLimited, ra)
		if s := p.Snapshot(t0)[0]; s.State != "cooling_down" || !s.Until.Equal(at(ra)) {
			t.Errorf("Retry-After %v: %+v", ra, s)
		}
		if _, wait, ok := p.Pick(at(ra - time.Nanosecond)); ok || wait != time.Nanosecond {
			t.Errorf("Retry-After %v: 1ns before: ok=%v wait=%v", ra, ok, wait)
		}
		if idx, _, ok := p.Pick(at(ra)); !ok || idx != 0 {
			t.Errorf("Retry-After %v: not available when it passed", ra)
		}
	}
}

// TestPoolBackoff: without a hint, each 429 of a key that follows the end of
// its previous cooldown doubles the cooldown, from CooldownBase up to
// CooldownMax; a Success starts over.
func TestPoolBackoff(t *testing.T) {
	p := NewPool(1, Policy{})
	now := t0
	for i, want := range []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60} {
		want *= time.Second
		p.Report(0, now, RateLimited, 0)
		s := p.Snapshot(now)[0]
		if got := s.Until.Sub(now); got != want || s.ConsecutiveLimits != i+1 {
			t.Fatalf("429 #%d: cooldown %v (streak %d), want %v", i+1, got, s.ConsecutiveLimits, want)
		}
		now = s.Until
	}
	p.Report(0, now, Success, 0)
	p.Report(0, now, RateLimited, 0)
	if s := p.Snapshot(now)[0]; s.Until.Sub(now) != time.Second || s.ConsecutiveLimits != 1 {
		t.Fatalf("after a success: %+v", s)
	}
	// A Retry-After does not break the streak, and does not set its length.
	p.Report(0, at(time.Hour), RateLimited, 10*time.Second)
	p.Report(0, at(time.Hour+10*time.Second), RateLimited, 0)
	if s := p.Snapshot(at(time.Hour))[0]; s.ConsecutiveLimits != 3 || !s.Until.Equal(at(time.Hour+14*time.Second)) {
		t.Fatalf("after a Retry-After: %+v", s)
	}
}

// TestPoolConcurrent429sCountOnce: calls in flight when the first 429 comes
// back get 429s too; they extend nothing and do not double the backoff.
func TestPoolConcurrent429sCountOnce(t *testing.T) {
	p := NewPool(2, Policy{})
	for i := range 10 {
		p.Report(0, at(time.Duration(i)*time.Millisecond), RateLimited, 0)
	}
	s := p.Snapshot(t0)[0]
	if s.ConsecutiveLimits != 1 || !s.Until.Equal(at(time.Second+9*time.Millisecond)) || s.RateLimits != 10 {
		t.Fatalf("%+v", s)
	}
	// A later, longer hint still extends the cooldown.
	p.Report(0, at(100*time.Millisecond), RateLimited, 20*time.Second)
	if s := p.Snapshot(t0)[0]; !s.Until.Equal(at(20*time.Second + 100*time.Millisecond)) {
		t.Fatalf("longer hint: %+v", s)
	}
}

// TestPoolSuccessDuringCooldown: calls in flight when a 429 arrives may
// still succeed; they do not end the cooldown or reset the streak, but a
// success after it does.
func TestPoolSuccessDuringCooldown(t *testing.T) {
	p := NewPool(1, Policy{})
	p.Report(0, t0, RateLimited, 0)
	p.Report(0, at(2*time.Second), RateLimited, 0)
	p.Report(0, at(3*time.Second), Success, 0)
	if s := p.Snapshot(at(3 * time.Second))[0]; s.State != "cooling_down" || s.ConsecutiveLimits != 2 || s.Successes != 1 {
		t.Fatalf("success during the cooldown: %+v", s)
	}
	p.Report(0, at(4*time.Second), Success, 0)
	if s := p.Snapshot(at(4 * time.Second))[0]; s.State != "ok" || s.ConsecutiveLimits != 0 {
		t.Fatalf("success after the cooldown: %+v", s)
	}
}

func TestPoolAuthFailedKeyIsProbed(t *testing.T) {
	p := NewPool(3, Policy{ProbeAfter: time.Minute, ProbeMax: 5 * time.Minute})
	p.Report(1, t0, AuthFailed, 0)
	p.Report(1, t0, AuthFailed, 0) // a call that was in flight: no doubling
	if s := p.Snapshot(t0)[1]; s.State != "disabled" || !s.Until.Equal(at(time.Minute)) || s.ConsecutiveAuthFailures != 1 || s.AuthFailures != 2 {
		t.Fatalf("after 401: %+v", s)
	}
	if got, want := picks(p, at(59*time.Second), 4), []int{0, 2, 0, 2}; !slices.Equal(got, want) {
		t.Fatalf("before the probe time: %v, want %v", got, want)
	}
	// Past the probe time the key is in the rotation again, for one caller.
	if got, want := picks(p, at(time.Minute), 6), []int{0, 1, 2, 0, 2, 0}; !slices.Equal(got, want) {
		t.Fatalf("at the probe time: %v, want %v (key 1 once)", got, want)
	}
	if s := p.Snapshot(at(time.Minute))[1]; s.State != "disabled" || !s.Probing {
		t.Fatalf("probing: %+v", s)
	}
	// Failed probes double the delay up to ProbeMax.
	now := at(time.Minute)
	for _, want := range []time.Duration{2, 4, 5, 5} {
		want *= time.Minute
		p.Report(1, now, AuthFailed, 0)
		s := p.Snapshot(now)[1]
		if got := s.Until.Sub(now); got != want || s.Probing {
			t.Fatalf("failed probe: next in %v, want %v (%+v)", got, want, s)
		}
		now = s.Until
		for {
			if idx, _, _ := p.Pick(now); idx == 1 {
				break
			}
		}
	}
	p.Report(1, now, Success, 0)
	s := p.Snapshot(now)[1]
	if s.State != "ok" || s.ConsecutiveAuthFailures != 0 || !s.Until.IsZero() || s.LastOutcome != "success" {
		t.Fatalf("after a successful probe: %+v", s)
	}
	if got, want := picks(p, now, 3), []int{2, 0, 1}; !slices.Equal(got, want) {
		t.Fatalf("re-enabled: %v, want %v", got, want)
	}
}

// TestPoolAuthProbeSingleCaller: many callers at once, one disabled key past
// its probe time: exactly one gets it.
func TestPoolAuthProbeSingleCaller(t *testing.T) {
	const callers = 64
	p := NewPool(1, Policy{ProbeAfter: time.Minute, ProbeTimeout: 10 * time.Second})
	p.Report(0, t0, AuthFailed, 0)
	now := at(time.Minute)
	var oks atomic.Int32
	var start, done sync.WaitGroup
	start.Add(1)
	for range callers {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			if idx, wait, ok := p.Pick(now); ok && idx == 0 {
				oks.Add(1)
			} else if ok || wait != 10*time.Second {
				t.Errorf("refused caller: idx=%d ok=%v wait=%v, want wait 10s", idx, ok, wait)
			}
		}()
	}
	start.Done()
	done.Wait()
	if n := oks.Load(); n != 1 {
		t.Fatalf("%d callers got the probe, want 1", n)
	}
}

func TestPoolProbeGivenBack(t *testing.T) {
	tests := []struct {
		name      string
		o         Outcome
		wantState string
		reprobe   bool // the next caller gets the key at once
	}{
		{"neutral gives it back", Neutral, "disabled", true},
		{"failure says nothing about the key", Failure, "disabled", true},
		{"429 proves the key authenticates", RateLimited, "cooling_down", false},
		{"success re-enables", Success, "ok", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPool(1, Policy{})
			p.Report(0, t0, AuthFailed, 0)
			now := at(time.Minute)
			if _, _, ok := p.Pick(now); !ok {
				t.Fatal("no probe")
			}
			p.Report(0, now, tt.o, 0)
			s := p.Snapshot(now)[0]
			if s.State != tt.wantState || s.Probing {
				t.Fatalf("%+v, want state %s", s, tt.wantState)
			}
			if _, _, ok := p.Pick(now); ok != tt.reprobe {
				t.Fatalf("next Pick ok=%v, want %v", ok, tt.reprobe)
			}
		})
	}
}

// TestPoolLostProbe: a probe never reported is presumed lost after
// ProbeTimeout, and the next caller probes.
func TestPoolLostProbe(t *testing.T) {
	p := NewPool(1, Policy{ProbeTimeout: 30 * time.Second})
	p.Report(0, t0, AuthFailed, 0)
	p.Pick(at(time.Minute))
	if _, wait, ok := p.Pick(at(80 * time.Second)); ok || wait != 10*time.Second {
		t.Fatalf("probe out: ok=%v wait=%v", ok, wait)
	}
	if _, _, ok := p.Pick(at(90 * time.Second)); !ok {
		t.Fatal("lost probe not replaced")
	}
}

func TestPoolAllUnavailable(t *testing.T) {
	p := NewPool(3, Policy{})
	p.Report(0, t0, RateLimited, 5*time.Second)
	p.Report(1, t0, RateLimited, 2*time.Second)
	p.Report(2, t0, AuthFailed, 0)
	tests := []struct {
		at       time.Duration
		wantIdx  int
		wantWait time.Duration
	}{
		{0, -1, 2 * time.Second},
		{time.Second, -1, time.Second},
		{2 * time.Second, 1, 0},
	}
	for _, tt := range tests {
		idx, wait, ok := p.Pick(at(tt.at))
		if idx != tt.wantIdx || wait != tt.wantWait || ok != (tt.wantIdx >= 0) {
			t.Errorf("at %v: Pick = %d, %v, %v; want %d, %v", tt.at, idx, wait, ok, tt.wantIdx, tt.wantWait)
		}
	}
	empty := NewPool(0, Policy{})
	if idx, wait, ok := empty.Pick(t0); idx != -1 || wait != 0 || ok {
		t.Errorf("empty pool: %d, %v, %v", idx, wait, ok)
	}
}

func TestPoolLeastRecentlyLimited(t *testing.T) {
	p := NewPool(3, Policy{Strategy: LeastRecentlyLimited})
	// Never limited: all equal, taken in turn.
	if got, want := picks(p, t0, 4), []int{0, 1, 2, 0}; !slices.Equal(got, want) {
		t.Fatalf("fresh pool: %v, want %v", got, want)
	}
	p.Report(2, at(1*time.Second), RateLimited, time.Second)
	p.Report(0, at(2*time.Second), RateLimited, time.Second)
	// Key 1 was never limited: it goes first while it lasts.
	if got, want := picks(p, at(5*time.Second), 3), []int{1, 1, 1}; !slices.Equal(got, want) {
		t.Fatalf("after limits: %v, want %v", got, want)
	}
	p.Report(1, at(6*time.Second), RateLimited, time.Minute)
	// Key 2 was limited longest ago, then key 0; key 1 cools down.
	if got, want := picks(p, at(7*time.Second), 2), []int{2, 2}; !slices.Equal(got, want) {
		t.Fatalf("key 1 cooling: %v, want %v", got, want)
	}
	p.Report(2, at(8*time.Second), RateLimited, time.Second)
	if got, want := picks(p, at(8*time.Second), 2), []int{0, 0}; !slices.Equal(got, want) {
		t.Fatalf("keys 1 and 2 cooling: %v, want %v", got, want)
	}
	if got, want := picks(p, at(61*time.Second), 1), []int{0}; !slices.Equal(got, want) {
		t.Fatalf("all back: %v, want %v (limited longest ago)", got, want)
	}
}

func TestPoolReportIgnoresUnknownKeys(t *testing.T) {
	p := NewPool(2, Policy{})
	p.Report(-1, t0, AuthFailed, 0)
	p.Report(2, t0, RateLimited, 0)
	p.Report(0, t0, 0, 0)  // unknown outcome: Neutral
	p.Report(1, t0, 77, 0) // likewise
	for _, s := range p.Snapshot(t0) {
		if s.State != "ok" || s.LastOutcome != "neutral" || s.Successes+s.RateLimits+s.AuthFailures+s.Failures != 0 {
			t.Errorf("%+v", s)
		}
	}
}

func TestPoolSnapshotCounts(t *testing.T) {
	p := NewPool(1, Policy{})
	for _, o := range []Outcome{Success, Success, Failure, Neutral, RateLimited} {
		p.Report(0, t0, o, 0)
	}
	got := p.Snapshot(t0)[0]
	want := KeyState{Index: 0, State: "cooling_down", Until: at(time.Second), LastOutcome: "rate_limited", LastLimited: t0,
		ConsecutiveLimits: 1, Successes: 2, RateLimits: 1, Failures: 1}
	if got != want {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	// A cooldown that has passed shows as ok, though its streak remains.
	if s := p.Snapshot(at(time.Second))[0]; s.State != "ok" || !s.Until.IsZero() || s.ConsecutiveLimits != 1 {
		t.Fatalf("after the cooldown: %+v", s)
	}
}

// TestPoolConcurrentUse exercises every method at once, for the race
// detector, then checks that a success makes every key ok.
func TestPoolConcurrentUse(t *testing.T) {
	for _, strategy := range []Strategy{RoundRobin, LeastRecentlyLimited} {
		p := NewPool(5, Policy{Strategy: strategy, ProbeAfter: 10 * time.Millisecond})
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 3000 {
					now := at(time.Duration(i) * time.Millisecond)
					idx, _, ok := p.Pick(now)
					if !ok {
						continue
					}
					o := []Outcome{Success, Success, Success, RateLimited, AuthFailed, Failure, Neutral}[(i+g)%7]
					p.Report(idx, now, o, 0)
					if i%500 == 0 {
						p.Snapshot(now)
					}
				}
			}()
		}
		wg.Wait()
		for i := range 5 {
			p.Report(i, at(time.Hour), Success, 0)
		}
		for _, s := range p.Snapshot(at(time.Hour)) {
			if s.State != "ok" || s.ConsecutiveLimits != 0 || s.ConsecutiveAuthFailures != 0 {
				t.Errorf("%s: %+v", strategy, s)
			}
		}
		if got := picks(p, at(time.Hour), 5); slices.Contains(got, -1) {
			t.Errorf("%s: %v", strategy, got)
		}
		if n := p.unhealthy.Load(); n != 0 {
			t.Errorf("%s: %d keys counted unhealthy", strategy, n)
		}
	}
}

// TestHotPathDoesNotAllocate: Pick and Report on a healthy pool, Allow and
// Report on a closed breaker.
func TestHotPathDoesNotAllocate(t *testing.T) {
	p := NewPool(10, Policy{})
	b := NewBreaker(Policy{})
	lrl := NewPool(10, Policy{Strategy: LeastRecentlyLimited})
	allocs := testing.AllocsPerRun(1000, func() {
		ok, probe := b.Allow(t0)
		idx, _, _ := p.Pick(t0)
		p.Report(idx, t0, Success, 0)
		b.Report(t0, Success, probe)
		idx, _, _ = lrl.Pick(t0)
		lrl.Report(idx, t0, Success, 0)
		_ = ok
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per call", allocs)
	}
}
