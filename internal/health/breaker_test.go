package health

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bstep is one step of a breaker scenario at a time on the fake clock:
// Allow (with the expected answer), Report, or neither (look), then the
// expected state.
type bstep struct {
	at        time.Duration
	allow     bool    // call Allow and check ok/probe
	look      bool    // only check the state
	ok, probe bool    // expected from Allow; with report: the probe flag
	report    Outcome // call Report with this outcome (and probe)
	state     string  // expected Snapshot state after the step; "" to skip
	openUntil time.Duration
}

func TestBreakerTransitions(t *testing.T) {
	p := Policy{FailureThreshold: 3, OpenFor: 10 * time.Second, MaxOpen: 25 * time.Second, ProbeTimeout: 5 * time.Second}
	tests := []struct {
		name  string
		steps []bstep
	}{
		{"opens after the threshold of consecutive failures", []bstep{
			{allow: true, ok: true},
			{report: Failure, state: "closed"},
			{report: Failure, state: "closed"},
			{report: Success, state: "closed"}, // resets the run
			{report: Failure}, {report: Failure, state: "closed"},
			{at: time.Second, report: Failure, state: "open", openUntil: 11 * time.Second},
			{at: 2 * time.Second, allow: true, ok: false},
			{at: 11*time.Second - 1, allow: true, ok: false, state: "open"},
		}},
		{"429, 401/403 and other 4xx neither count nor reset", []bstep{
			{report: Failure}, {report: Failure},
			{report: RateLimited}, {report: AuthFailed}, {report: Neutral}, {report: 0}, {report: 99},
			{report: Failure, state: "open", openUntil: 10 * time.Second},
		}},
		{"one probe after the open period; success closes and resets the period", []bstep{
			{report: Failure}, {report: Failure}, {report: Failure, state: "open"},
			{at: 10 * time.Second, look: true, state: "half_open"},
			{at: 10 * time.Second, allow: true, ok: true, probe: true},
			{at: 10 * time.Second, allow: true, ok: false},
			{at: 12 * time.Second, allow: true, ok: false, state: "half_open"},
			{at: 13 * time.Second, report: Success, probe: true, state: "closed"},
			{at: 13 * time.Second, allow: true, ok: true},
			{at: 20 * time.Second, report: Failure}, {at: 20 * time.Second, report: Failure},
			{at: 20 * time.Second, report: Failure, state: "open", openUntil: 30 * time.Second}, // 10s again, not 20s
		}},
		{"failed probes double the period up to MaxOpen", []bstep{
			{report: Failure}, {report: Failure}, {report: Failure, openUntil: 10 * time.Second},
			{at: 10 * time.Second, allow: true, ok: true, probe: true},
			{at: 11 * time.Second, report: Failure, probe: true, state: "open", openUntil: 31 * time.Second}, // 20s
			{at: 30 * time.Second, allow: true, ok: false},
			{at: 31 * time.Second, allow: true, ok: true, probe: true},
			{at: 31 * time.Second, report: Failure, probe: true, openUntil: 56 * time.Second}, // 40s capped at 25s
			{at: 56 * time.Second, allow: true, ok: true, probe: true},
			{at: 56 * time.Second, report: Failure, probe: true, openUntil: 81 * time.Second}, // stays 25s
		}},
		{"a probe answered neither success nor failure is given back", []bstep{
			{report: Failure}, {report: Failure}, {report: Failure},
			{at: 10 * time.Second, allow: true, ok: true, probe: true},
			{at: 10 * time.Second, report: Neutral, probe: true, state: "half_open"},
			{at: 10 * time.Second, allow: true, ok: true, probe: true},
			{at: 10 * time.Second, report: RateLimited, probe: true, state: "half_open"},
			{at: 10 * time.Second, allow: true, ok: true, probe: true},
			{at: 10 * time.Second, report: AuthFailed, probe: true, state: "half_open"},
			{at: 11 * time.Second, allow: true, ok: true, probe: true},
			{at: 12 * time.Second, report: Success, probe: true, state: "closed"},
		}},
		{"a probe never reported is presumed lost after ProbeTimeout", []bstep{
			{report: Failure}, {report: Failure}, {report: Failure},
			{at: 10 * time.Second, allow: true, ok: true, probe: true},
			{at: 15*time.Second - 1, allow: true, ok: false},
			{at: 15 * time.Second, allow: true, ok: true, probe: true},
			{at: 16 * time.Second, report: Failure, probe: true, openUntil: 36 * time.Second},
			{at: 17 * time.Second, report: Failure, probe: true, openUntil: 36 * time.Second}, // the lost one: already re-opened
		}},
		{"calls let through before the breaker opened do not move it", []bstep{
			{report: Failure}, {report: Failure}, {report: Failure},
			{at: time.Second, report: Success, state: "open"},
			{at: time.Second, report: Failure, state: "open", openUntil: 10 * time.Second},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBreaker(p)
			for i, s := range tt.steps {
				now := at(s.at)
				if s.allow {
					if ok, probe := b.Allow(now); ok != s.ok || probe != s.probe {
						t.Fatalf("step %d: Allow = %v, %v; want %v, %v", i, ok, probe, s.ok, s.probe)
					}
				}
				if !s.allow && !s.look {
					b.Report(now, s.report, s.probe)
				}
				snap := b.Snapshot(now)
				if s.state != "" && snap.State != s.state {
					t.Fatalf("step %d: state %q, want %q (%+v)", i, snap.State, s.state, snap)
				}
				if s.openUntil != 0 && !snap.OpenUntil.Equal(at(s.openUntil)) {
					t.Fatalf("step %d: open until %v, want %v", i, snap.OpenUntil.Sub(t0), s.openUntil)
				}
			}
		})
	}
}

func TestBreakerSnapshot(t *testing.T) {
	b := NewBreaker(Policy{FailureThreshold: 2, OpenFor: time.Minute})
	if got, want := b.Snapshot(t0), (BreakerState{State: "closed"}); got != want {
		t.Errorf("new breaker: %+v, want %+v", got, want)
	}
	b.Report(t0, Failure, false)
	if got, want := b.Snapshot(t0), (BreakerState{State: "closed", ConsecutiveFailures: 1}); got != want {
		t.Errorf("after one failure: %+v, want %+v", got, want)
	}
	b.Report(t0, Failure, false)
	got := b.Snapshot(t0)
	if got.State != "open" || got.ConsecutiveFailures != 2 || got.Opens != 1 || !got.OpenUntil.Equal(at(time.Minute)) {
		t.Errorf("opened: %+v", got)
	}
	b.Allow(at(time.Minute))
	if got := b.Snapshot(at(time.Minute)); got.State != "half_open" || !got.ProbeInFlight {
		t.Errorf("probing: %+v", got)
	}
	b.Report(at(time.Minute), Success, true)
	if got, want := b.Snapshot(at(time.Minute)), (BreakerState{State: "closed", Opens: 1}); got != want {
		t.Errorf("closed again: %+v, want %+v", got, want)
	}
}

// TestBreakerHalfOpenSingleProbe: when many callers arrive at once at a
// half-open breaker, exactly one gets through, as a probe; after it fails,
// the same holds at the next half-open.
func TestBreakerHalfOpenSingleProbe(t *testing.T) {
	const callers = 64
	b := NewBreaker(Policy{FailureThreshold: 1, OpenFor: time.Second, MaxOpen: time.Second})
	b.Report(t0, Failure, false)
	for round := range 20 {
		now := at(time.Duration(round+1) * time.Second)
		var oks, probes atomic.Int32
		var start, done sync.WaitGroup
		start.Add(1)
		for range callers {
			done.Add(1)
			go func() {
				defer done.Done()
				start.Wait()
				ok, probe := b.Allow(now)
				if ok {
					oks.Add(1)
				}
				if probe {
					probes.Add(1)
				}
			}()
		}
		start.Done()
		done.Wait()
		if oks.Load() != 1 || probes.Load() != 1 {
			t.Fatalf("round %d: %d callers allowed, %d probes; want exactly one probe", round, oks.Load(), probes.Load())
		}
		b.Report(now, Failure, true)
	}
}

// TestBreakerConcurrentUse exercises every method at once, for the race
// detector, and checks the breaker ends up consistent.
func TestBreakerConcurrentUse(t *testing.T) {
	b := NewBreaker(Policy{FailureThreshold: 3, OpenFor: time.Millisecond})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				now := at(time.Duration(i) * time.Millisecond)
				ok, probe := b.Allow(now)
				if !ok {
					continue
				}
				o := Success
				if (i+g)%3 == 0 {
					o = Failure
				}
				b.Report(now, o, probe)
				if i%100 == 0 {
					b.Snapshot(now)
				}
			}
		}()
	}
	wg.Wait()
	end := at(time.Hour)
	if ok, probe := b.Allow(end); !ok {
		t.Fatal("breaker refuses long after the last failure")
	} else {
		b.Report(end, Success, probe)
	}
	if s := b.Snapshot(end); s.State != "closed" {
		t.Fatalf("after a success: %+v", s)
	}
}
