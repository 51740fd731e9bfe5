package limits

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The tests under load: three limiter instances sharing one store
// (one Redis; for Memory, one limiter), 50 goroutines on one key.

const (
	instances  = 3
	goroutines = 50
)

func TestRPMAcrossInstances(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, t0.Add(250*time.Millisecond), 0, instances)
		ctx := context.Background()
		r := Request{Key: "k", KeyPolicy: Policy{RPM: 60}}
		rng := rand.New(rand.NewPCG(1, 2))
		var (
			mu       sync.Mutex
			admitted []time.Time
		)
		for phase := 0; e.clock.Now().Sub(t0) < 200*time.Second; phase++ {
			before := len(admitted)
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					l := e.lims[g%instances]
					for range 3 {
						tk, err := l.Admit(ctx, r)
						var d *Denial
						if errors.As(err, &d) {
							continue
						}
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						admitted = append(admitted, tk.Admitted)
						mu.Unlock()
						if err := l.Settle(ctx, tk, Usage{}); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			if phase == 0 && len(admitted) != 60 {
				t.Fatalf("first burst: %d admitted of %d, want exactly 60", len(admitted), 3*goroutines)
			}
			t.Logf("phase %d at %v: %d admitted", phase, e.clock.Now().Sub(t0), len(admitted)-before)
			e.clock.Advance(time.Duration(100+rng.IntN(6000)) * time.Millisecond)
		}
		slices.SortFunc(admitted, func(a, b time.Time) int { return a.Compare(b) })
		for i := 60; i < len(admitted); i++ {
			if d := admitted[i].Sub(admitted[i-60]); d < time.Minute {
				t.Fatalf("61 admissions within %v (from %v to %v)", d, admitted[i-60].Sub(t0), admitted[i].Sub(t0))
			}
		}
		// The window refills: after 61, 122 and 183 seconds.
		if len(admitted) < 4*60 {
			t.Fatalf("%d admitted in 200s, want 240 (four full windows)", len(admitted))
		}
	})
}

func TestBudgetAcrossInstances(t *testing.T) {
	// Actual costs anywhere in [0, maxActual×estimate]: 2 lets requests
	// overrun their reservations; 1 makes estimates upper bounds, so spend
	// must stay within the budget itself.
	for _, maxActual := range []int64{2, 1} {
		t.Run(fmt.Sprintf("actual≤%d×estimate", maxActual), func(t *testing.T) {
			testBudgetAcrossInstances(t, maxActual)
		})
	}
}

func testBudgetAcrossInstances(t *testing.T, maxActual int64) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, t0, 0, instances)
		ctx := context.Background()
		budget, est := usd(0.50), usd(0.01)
		r := Request{Key: "k", KeyPolicy: Policy{Budget: budget}, Team: "t", TeamPolicy: Policy{Budget: usd(100)}, Cost: est}
		type record struct {
			admitStart, endEnd time.Time // real time, monotonic
			actual             Money
		}
		var (
			mu      sync.Mutex
			records []record
			busy    atomic.Int64
		)
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(g), 7))
				l := e.lims[g%instances]
				for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
					start := time.Now()
					tk, err := l.Admit(ctx, r)
					var d *Denial
					if errors.As(err, &d) {
						if d.RetryAfter == 0 { // spent: nothing left for a request
							return
						}
						busy.Add(1)
						time.Sleep(20 * time.Microsecond)
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond)
					rec := record{admitStart: start}
					if rng.IntN(10) == 0 { // the upstream failed
						err = l.Release(ctx, tk)
					} else {
						rec.actual = Money(rng.Int64N(maxActual*int64(est) + 1))
						err = l.Settle(ctx, tk, Usage{Cost: rec.actual})
					}
					if err != nil {
						t.Error(err)
					}
					rec.endEnd = time.Now()
					mu.Lock()
					records = append(records, rec)
					mu.Unlock()
				}
				t.Error("a goroutine never saw the budget spent")
			})
		}
		wg.Wait()

		// The documented bound: spent ≤ budget + Σ over F of the overruns,
		// F the requests in flight at the last admission. That admission
		// happened after every admitted request's Admit began, so F holds
		// only requests that ended after the latest such start.
		var last time.Time
		var total Money
		for _, rec := range records {
			total += rec.actual
			if rec.admitStart.After(last) {
				last = rec.admitStart
			}
		}
		bound, inF := budget, 0
		for _, rec := range records {
			if !rec.endEnd.Before(last) {
				inF++
				bound += max(0, rec.actual-est)
			}
		}
		sp := e.spend(Subject{KindKey, "k"}, PeriodTotal)
		t.Logf("%d requests, %d refusals while full of reservations; spent %v, bound %v (%d possibly in flight at the last admission)",
			len(records), busy.Load(), sp.Spent, bound, inF)
		if sp.Spent != total || sp.Reserved != 0 {
			t.Fatalf("key spend %+v, want spent %v (the sum settled) and nothing reserved", sp, total)
		}
		if sp.Spent > bound {
			t.Fatalf("spent %v above the bound %v", sp.Spent, bound)
		}
		if maxActual == 1 && sp.Spent > budget {
			t.Fatalf("spent %v above the budget with estimates that were upper bounds", sp.Spent)
		}
		if sp.Spent <= budget-est {
			t.Fatalf("spent %v: refused with money left", sp.Spent)
		}
		if tsp := e.spend(Subject{KindTeam, "t"}, PeriodTotal); tsp.Spent != total || tsp.Reserved != 0 {
			t.Fatalf("team spend %+v, want %v", tsp, total)
		}
	})
}

func TestConcurrencyAcrossInstances(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, t0, time.Minute, instances)
		ctx := context.Background()
		r := Request{Key: "k", KeyPolicy: Policy{MaxConcurrent: 5}}
		var live, peak, admitted atomic.Int64
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(g), 9))
				l := e.lims[g%instances]
				for range 40 {
					tk, err := l.Admit(ctx, r)
					var d *Denial
					if errors.As(err, &d) {
						runtime.Gosched()
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					admitted.Add(1)
					n := live.Add(1)
					for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
					}
					time.Sleep(time.Duration(rng.IntN(200)) * time.Microsecond)
					live.Add(-1)
					if err := l.Release(ctx, tk); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		t.Logf("%d admitted, peak %d in flight", admitted.Load(), peak.Load())
		if peak.Load() > 5 || admitted.Load() < 5 {
			t.Fatalf("peak %d in flight (max 5), %d admitted", peak.Load(), admitted.Load())
		}

		// All slots free again; then every instance that held one crashes.
		for i := range 5 {
			if _, err := e.lims[i%instances].Admit(ctx, r); err != nil {
				t.Fatalf("slot %d: %v", i, err)
			}
		}
		for _, l := range e.lims {
			if _, err := l.Admit(ctx, r); !errors.Is(err, ErrRateLimited) {
				t.Fatalf("sixth slot: %v, want a concurrency denial", err)
			}
		}
		e.clock.Advance(time.Minute) // the leases run out
		for i := range 5 {
			if _, err := e.lims[(i+1)%instances].Admit(ctx, r); err != nil {
				t.Fatalf("after the lease, slot %d: %v", i, err)
			}
		}
		if _, err := e.l.Admit(ctx, r); !errors.Is(err, ErrRateLimited) {
			t.Fatalf("sixth slot after recovery: %v", err)
		}
	})
}
