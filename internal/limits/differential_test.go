package limits

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestMemoryAndRedisAgree drives Memory and Redis with the same random
// operations on the same clock and requires the same answers: admissions,
// denials (limit, subject, numbers, Retry-After), headers and spend. The
// clock starts before midnight at a month's end, so periods roll over, and
// the lease is short, so leases expire.
func TestMemoryAndRedisAgree(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { testMemoryAndRedisAgree(t, seed) })
	}
}

func testMemoryAndRedisAgree(t *testing.T, seed uint64) {
	start := time.Date(2026, 3, 31, 23, 58, 0, 0, time.UTC)
	clock := newClock(start)
	o := Options{Now: clock.Now, Lease: 45 * time.Second}
	mem := NewMemory(o)
	rl := openRedis(t, o, 1)[0]
	ctx := context.Background()

	policies := []Policy{
		{RPM: 4, TPM: 2000, MaxConcurrent: 3, Budget: usd(0.3), Period: PeriodDaily},
		{RPM: 10, Budget: usd(0.6), Period: PeriodMonthly},
		{TPM: 900, MaxConcurrent: 2},
		{RPM: 6, Budget: usd(0.1)},
		{},
	}
	keys := []string{"a", "b", "c"}
	teams := []string{"", "x", "y"}
	type pair struct{ m, r *Ticket }
	var open []pair
	rng := rand.New(rand.NewPCG(seed, 4))
	kp := map[string]Policy{}
	tp := map[string]Policy{}
	repolicy := func() {
		for _, k := range keys {
			kp[k] = policies[rng.IntN(len(policies))]
		}
		for _, tm := range teams {
			tp[tm] = policies[rng.IntN(len(policies))]
		}
	}
	repolicy()
	outcome := func(tk *Ticket, err error) string {
		var d *Denial
		switch {
		case err == nil:
			return fmt.Sprintf("admitted %+v", tk.Limits)
		case errors.As(err, &d):
			return fmt.Sprintf("%+v", *d)
		}
		return "error " + err.Error()
	}
	admitted, denied := 0, 0
	kinds := map[string]int{}
	for op := range 6000 {
		switch n := rng.IntN(100); {
		case n < 50:
			k, tm := keys[rng.IntN(len(keys))], teams[rng.IntN(len(teams))]
			r := Request{Key: k, KeyPolicy: kp[k], Team: tm, TeamPolicy: tp[tm],
				Tokens: rng.Int64N(600), Cost: Money(rng.Int64N(int64(usd(0.01))))}
			mt, merr := mem.Admit(ctx, r)
			rt, rerr := rl.Admit(ctx, r)
			if a, b := outcome(mt, merr), outcome(rt, rerr); a != b {
				t.Fatalf("op %d at %v, %+v:\nmemory: %s\nredis:  %s", op, clock.Now().Sub(start), r, a, b)
			}
			if merr == nil {
				admitted++
				open = append(open, pair{mt, rt})
			} else {
				denied++
				var d *Denial
				if errors.As(merr, &d) {
					kinds[string(d.Subject.Kind)+" "+string(d.Limit)]++
				}
			}
		case n < 80 && len(open) > 0:
			i := rng.IntN(len(open))
			p := open[i]
			open = append(open[:i], open[i+1:]...)
			if rng.IntN(5) == 0 {
				mustNil(t, mem.Release(ctx, p.m), rl.Release(ctx, p.r))
			} else {
				u := Usage{Tokens: rng.Int64N(900), Cost: Money(rng.Int64N(int64(usd(0.015))))}
				mustNil(t, mem.Settle(ctx, p.m, u), rl.Settle(ctx, p.r, u))
			}
		case n < 90:
			clock.Advance(time.Duration(rng.IntN(4000)) * time.Millisecond)
		case n < 92:
			if rng.IntN(4) == 0 { // across days, sometimes months
				clock.Advance(time.Duration(rng.IntN(40)) * time.Hour)
			} else {
				clock.Advance(time.Duration(rng.IntN(120)) * time.Second)
			}
			repolicy()
		default:
			for _, s := range []Subject{{KindKey, "a"}, {KindKey, "b"}, {KindTeam, "x"}} {
				for _, per := range []Period{PeriodTotal, PeriodDaily, PeriodMonthly} {
					ms, err1 := mem.Spend(ctx, s, per)
					rs, err2 := rl.Spend(ctx, s, per)
					mustNil(t, err1, err2)
					if ms != rs {
						t.Fatalf("op %d at %v: %v %s spend:\nmemory: %+v\nredis:  %+v", op, clock.Now().Sub(start), s, per, ms, rs)
					}
				}
			}
		}
	}
	t.Logf("%d admitted, %d denied %v, clock moved %v", admitted, denied, kinds, clock.Now().Sub(start))
	// Past periods were dropped: each budget hash holds at most the total,
	// one day and one month (spent and reserved each).
	red := rl.(*Redis)
	for _, k := range keys {
		_, _, b := red.keys(Subject{KindKey, k})
		if n, err := red.c.(*redis.Client).HLen(ctx, b).Result(); err != nil || n > 6 {
			t.Errorf("%s holds %d fields (%v)", b, n, err)
		}
	}
	for _, l := range []Limit{LimitRPM, LimitTPM, LimitConcurrency, LimitBudget} {
		if kinds["key "+string(l)] < 3 || kinds["team "+string(l)] < 3 {
			t.Errorf("too few %s denials: %v", l, kinds)
		}
	}
}

func mustNil(t *testing.T, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
