package limits

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// step is one admission at a time after the clock's start, with the
// expected answer: admitted, or refused by limit with RetryAfter retry.
type step struct {
	at    time.Duration
	admit bool
	retry time.Duration
}

func runSteps(t *testing.T, e *env, start time.Time, r Request, limit Limit, steps []step) {
	t.Helper()
	for _, s := range steps {
		e.clock.Set(start.Add(s.at))
		tk, d := e.admit(r)
		switch {
		case s.admit && d != nil:
			t.Fatalf("at %v: refused (%v), want admitted", s.at, d)
		case !s.admit && d == nil:
			t.Fatalf("at %v: admitted, want refused by %s", s.at, limit)
		case !s.admit && (d.Limit != limit || d.RetryAfter != s.retry):
			t.Fatalf("at %v: %v (retry %v), want %s with retry %v", s.at, d, d.RetryAfter, limit, s.retry)
		case s.admit:
			e.release(tk) // keep no lease; the request still counts for RPM
		}
	}
}

func TestRPMSlidingWindow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, t0, 0, 1)
		r := Request{Key: "k", KeyPolicy: Policy{RPM: 3}}
		runSteps(t, e, t0, r, LimitRPM, []step{
			{at: 0, admit: true},
			{at: 10 * time.Second, admit: true},
			{at: 59500 * time.Millisecond, admit: true},
			{at: 59900 * time.Millisecond, retry: 1100 * time.Millisecond},
			// An exact sliding log would admit at 60s; the bucket of second 0 is
			// still counted until second 61 (the documented ≤1s conservatism).
			{at: 60 * time.Second, retry: time.Second},
			{at: 61 * time.Second, admit: true},
			{at: 61500 * time.Millisecond, retry: 9500 * time.Millisecond},
			{at: 71 * time.Second, admit: true},
			{at: 71 * time.Second, retry: 49 * time.Second}, // second 59 leaves the window at 120s
			{at: 120 * time.Second, admit: true},
		})
	})
}

// Issue: a fixed window admits 2×RPM across a minute boundary; a sliding
// window must not.
func TestRPMNoBurstAtMinuteBoundary(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		start := time.Date(2026, 3, 15, 12, 0, 59, 0, time.UTC)
		e := newEnv(t, b, start, 0, 1)
		r := Request{Key: "k", KeyPolicy: Policy{RPM: 5}}
		for range 5 {
			e.release(e.mustAdmit(r))
		}
		e.clock.Set(start.Add(1500 * time.Millisecond)) // next minute
		d := e.mustDeny(r, LimitRPM, KindKey)
		if d.Allowed != 5 || d.Used != 5 || d.Requested != 1 || d.RetryAfter != 59500*time.Millisecond {
			t.Fatalf("denial %+v", d)
		}
		if !errors.Is(d, ErrRateLimited) || errors.Is(d, ErrBudgetExceeded) {
			t.Fatalf("denial %v must wrap ErrRateLimited only", d)
		}
	})
}

func TestRateLimitHeaders(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, t0, 0, 1)
		r := Request{Key: "k", KeyPolicy: Policy{RPM: 10, TPM: 1000}, Tokens: 100}
		tk := e.mustAdmit(r)
		want := RateLimits{Requests: Window{10, 9, 61 * time.Second}, Tokens: Window{1000, 900, 61 * time.Second}}
		if tk.Limits != want {
			t.Fatalf("limits %+v, want %+v", tk.Limits, want)
		}
		e.clock.Set(t0.Add(30500 * time.Millisecond))
		tk = e.mustAdmit(r)
		want = RateLimits{Requests: Window{10, 8, 60500 * time.Millisecond}, Tokens: Window{1000, 800, 60500 * time.Millisecond}}
		if tk.Limits != want {
			t.Fatalf("limits %+v, want %+v", tk.Limits, want)
		}
		// No RPM or TPM: no numbers.
		tk = e.mustAdmit(Request{Key: "other", Tokens: 5})
		if tk.Limits != (RateLimits{}) {
			t.Fatalf("limits %+v, want none", tk.Limits)
		}
		// A refusal carries them too.
		e.clock.Set(t0.Add(40 * time.Second))
		d := e.mustDeny(Request{Key: "k", KeyPolicy: Policy{RPM: 2, TPM: 1000}, Tokens: 100}, LimitRPM, KindKey)
		want = RateLimits{Requests: Window{2, 0, 51 * time.Second}, Tokens: Window{1000, 800, 51 * time.Second}}
		if d.Limits != want {
			t.Fatalf("denial limits %+v, want %+v", d.Limits, want)
		}
	})
}

func TestTPMChargeAndCorrection(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, t0, 0, 1)
		pol := Policy{TPM: 1000}
		req := func(tokens int64) Request { return Request{Key: "k", KeyPolicy: pol, Tokens: tokens} }
		a := e.mustAdmit(req(800))
		d := e.mustDeny(req(300), LimitTPM, KindKey)
		if d.Used != 800 || d.Requested != 300 || d.RetryAfter != 61*time.Second {
			t.Fatalf("denial %+v", d)
		}
		e.settle(a, Usage{Tokens: 100}) // estimate 800 → actual 100
		b2 := e.mustAdmit(req(300))
		if got := b2.Limits.Tokens.Remaining; got != 600 {
			t.Fatalf("remaining tokens %d after 100 + 300, want 600", got)
		}
		e.release(b2) // refunds its 300
		c := e.mustAdmit(req(900))
		if got := c.Limits.Tokens.Remaining; got != 0 {
			t.Fatalf("remaining tokens %d, want 0", got)
		}
		e.settle(c, Usage{Tokens: 900})
		// Larger than the limit: waiting will not help.
		d = e.mustDeny(req(1001), LimitTPM, KindKey)
		if d.RetryAfter != 0 {
			t.Fatalf("retry %v for a request above the TPM, want 0", d.RetryAfter)
		}
		// A correction after the admission's second left the window is dropped.
		e.clock.Set(t0.Add(61 * time.Second))
		late := e.mustAdmit(req(500))
		e.clock.Set(t0.Add(123 * time.Second))
		e.settle(late, Usage{Tokens: 5000})
		e.mustAdmit(req(1000))
	})
}

func TestTeamLimitsAreShared(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, t0, 0, 1)
		team := Policy{RPM: 5}
		k1 := Request{Key: "k1", Team: "t", TeamPolicy: team}
		k2 := Request{Key: "k2", Team: "t", TeamPolicy: team}
		for i := range 5 {
			if i%2 == 0 {
				e.mustAdmit(k1)
			} else {
				e.mustAdmit(k2)
			}
		}
		e.mustDeny(k1, LimitRPM, KindTeam)
		d := e.mustDeny(k2, LimitRPM, KindTeam)
		if d.Subject != (Subject{KindTeam, "t"}) {
			t.Fatalf("subject %+v", d.Subject)
		}
		e.mustAdmit(Request{Key: "k3", Team: "other", TeamPolicy: team})
		e.mustAdmit(Request{Key: "k1"}) // the key alone has no limit

		// The key's own limit is checked too, and headers show the tighter.
		k4 := Request{Key: "k4", KeyPolicy: Policy{RPM: 2}, Team: "t2", TeamPolicy: team}
		tk := e.mustAdmit(k4)
		if w := tk.Limits.Requests; w.Limit != 2 || w.Remaining != 1 {
			t.Fatalf("requests window %+v, want the key's (limit 2, remaining 1)", w)
		}
		e.mustAdmit(k4)
		e.mustDeny(k4, LimitRPM, KindKey)
	})
}

// Issue: a request refused by the team must not be counted by its key.
func TestRefusalCountsNowhere(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, t0, 0, 1)
		key := Policy{RPM: 2, TPM: 100, MaxConcurrent: 5, Budget: usd(1)}
		r := Request{Key: "k", KeyPolicy: key, Team: "t", TeamPolicy: Policy{RPM: 1}, Tokens: 10, Cost: usd(0.1)}
		e.mustAdmit(r)
		for range 3 {
			e.mustDeny(r, LimitRPM, KindTeam)
		}
		r.Team = ""
		tk := e.mustAdmit(r)
		if tk.Limits.Requests.Remaining != 0 || tk.Limits.Tokens.Remaining != 80 {
			t.Fatalf("limits %+v: refused requests were counted", tk.Limits)
		}
		e.wantSpend(Subject{KindKey, "k"}, PeriodTotal, 0, usd(0.2))
	})
}

func TestConcurrencyAndLease(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, t0, time.Minute, 1)
		r := Request{Key: "k", KeyPolicy: Policy{MaxConcurrent: 2, Budget: usd(10)}, Cost: usd(1)}
		a := e.mustAdmit(r)
		e.mustAdmit(r)
		d := e.mustDeny(r, LimitConcurrency, KindKey)
		if d.Used != 2 || d.Allowed != 2 || d.RetryAfter != time.Second {
			t.Fatalf("denial %+v", d)
		}
		e.release(a)
		c := e.mustAdmit(r)
		e.mustDeny(r, LimitConcurrency, KindKey)
		e.wantSpend(Subject{KindKey, "k"}, PeriodTotal, 0, usd(2))

		// The instance holding the two leases crashes: after the lease they
		// are free again, reservations included.
		e.clock.Advance(59 * time.Second)
		e.mustDeny(r, LimitConcurrency, KindKey)
		e.clock.Advance(time.Second)
		e.wantSpend(Subject{KindKey, "k"}, PeriodTotal, 0, 0)
		x := e.mustAdmit(r)
		e.mustAdmit(r)
		e.mustDeny(r, LimitConcurrency, KindKey)

		// A late settlement of an expired lease still counts what was spent,
		// and frees nothing that is not its own.
		e.settle(c, Usage{Cost: usd(3)})
		e.wantSpend(Subject{KindKey, "k"}, PeriodTotal, usd(3), usd(2))
		e.mustDeny(r, LimitConcurrency, KindKey)
		e.settle(x, Usage{Cost: usd(0.5)})
		e.wantSpend(Subject{KindKey, "k"}, PeriodTotal, usd(3.5), usd(1))
		e.mustAdmit(r)
	})
}

func TestTeamConcurrencyShared(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, t0, 0, 1)
		team := Policy{MaxConcurrent: 2}
		a := e.mustAdmit(Request{Key: "k1", Team: "t", TeamPolicy: team})
		e.mustAdmit(Request{Key: "k2", Team: "t", TeamPolicy: team})
		e.mustDeny(Request{Key: "k3", Team: "t", TeamPolicy: team}, LimitConcurrency, KindTeam)
		e.settle(a, Usage{})
		e.mustAdmit(Request{Key: "k3", Team: "t", TeamPolicy: team})
	})
}

func TestBudgetReserveSettleRelease(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, t0, 0, 1)
		key := Subject{KindKey, "k"}
		req := func(cost float64) Request {
			return Request{Key: "k", KeyPolicy: Policy{Budget: usd(1)}, Cost: usd(cost)}
		}
		a := e.mustAdmit(req(0.40))
		e.wantSpend(key, PeriodTotal, 0, usd(0.40))
		bt := e.mustAdmit(req(0.40))
		d := e.mustDeny(req(0.30), LimitBudget, KindKey)
		if Money(d.Used) != usd(0.80) || Money(d.Requested) != usd(0.30) || Money(d.Allowed) != usd(1) || d.RetryAfter != time.Second {
			t.Fatalf("denial %+v: want used $0.80, requested $0.30, retry 1s (full of reservations only)", d)
		}
		if !errors.Is(d, ErrBudgetExceeded) || errors.Is(d, ErrRateLimited) {
			t.Fatalf("denial %v must wrap ErrBudgetExceeded only", d)
		}
		e.settle(a, Usage{Cost: usd(0.50)}) // more than reserved
		e.wantSpend(key, PeriodTotal, usd(0.50), usd(0.40))
		c := e.mustAdmit(req(0.10)) // 0.50 + 0.40 + 0.10 = 1.00: allowed
		e.release(bt)
		e.wantSpend(key, PeriodTotal, usd(0.50), usd(0.10))
		d = e.mustDeny(req(0.45), LimitBudget, KindKey)
		if d.RetryAfter != time.Second {
			t.Fatalf("retry %v, want 1s", d.RetryAfter)
		}
		e.settle(c, Usage{Cost: usd(0.60)}) // overrun of 0.50: within the bound
		e.wantSpend(key, PeriodTotal, usd(1.10), 0)
		d = e.mustDeny(req(0.01), LimitBudget, KindKey)
		if d.RetryAfter != 0 {
			t.Fatalf("retry %v on a spent total budget, want 0 (never)", d.RetryAfter)
		}
		// Without a budget, spend is still counted.
		tk := e.mustAdmit(Request{Key: "k", Cost: usd(2)})
		e.settle(tk, Usage{Cost: usd(2)})
		e.wantSpend(key, PeriodTotal, usd(3.10), 0)
	})
}

func TestBudgetTeamShared(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, t0, 0, 1)
		team := Policy{Budget: usd(1), Period: PeriodMonthly}
		a := e.mustAdmit(Request{Key: "k1", Team: "t", TeamPolicy: team, Cost: usd(0.6)})
		e.mustDeny(Request{Key: "k2", Team: "t", TeamPolicy: team, Cost: usd(0.6)}, LimitBudget, KindTeam)
		e.settle(a, Usage{Cost: usd(0.3)})
		e.mustAdmit(Request{Key: "k2", Team: "t", TeamPolicy: team, Cost: usd(0.6)})
		e.wantSpend(Subject{KindTeam, "t"}, PeriodMonthly, usd(0.3), usd(0.6))
		e.wantSpend(Subject{KindKey, "k1"}, PeriodTotal, usd(0.3), 0)
		e.wantSpend(Subject{KindKey, "k2"}, PeriodTotal, 0, usd(0.6))
	})
}

func TestBudgetDailyRollover(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		start := time.Date(2026, 3, 15, 23, 59, 30, 0, time.UTC)
		e := newEnv(t, b, start, time.Hour, 1)
		key := Subject{KindKey, "k"}
		req := func(cost float64) Request {
			return Request{Key: "k", KeyPolicy: Policy{Budget: usd(1), Period: PeriodDaily}, Cost: usd(cost)}
		}
		e.settle(e.mustAdmit(req(0.6)), Usage{Cost: usd(0.6)})
		d := e.mustDeny(req(0.5), LimitBudget, KindKey)
		if d.RetryAfter != 30*time.Second {
			t.Fatalf("retry %v, want 30s until midnight UTC", d.RetryAfter)
		}
		e.clock.Set(start.Add(20 * time.Second))
		late := e.mustAdmit(req(0.3)) // admitted on the 15th
		e.clock.Set(time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC))
		sp := e.spend(key, PeriodDaily)
		if sp.ID != "day:2026-03-16" || sp.Spent != 0 || sp.Reserved != 0 ||
			!sp.Start.Equal(time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)) || !sp.End.Equal(time.Date(2026, 3, 17, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("spend on the 16th %+v", sp)
		}
		tk := e.mustAdmit(req(0.5))
		e.clock.Advance(10 * time.Second)
		e.settle(late, Usage{Cost: usd(0.35)}) // charged to the 15th
		e.settle(tk, Usage{Cost: usd(0.5)})
		e.wantSpend(key, PeriodDaily, usd(0.5), 0)
		e.clock.Set(start) // look back at the 15th
		e.wantSpend(key, PeriodDaily, usd(0.95), 0)
	})
}

func TestBudgetMonthlyRollover(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		start := time.Date(2028, 2, 29, 23, 59, 59, 500e6, time.UTC) // leap day
		e := newEnv(t, b, start, 0, 1)
		req := Request{Key: "k", Team: "t", TeamPolicy: Policy{Budget: usd(1), Period: PeriodMonthly}, Cost: usd(0.7)}
		e.settle(e.mustAdmit(req), Usage{Cost: usd(0.7)})
		d := e.mustDeny(req, LimitBudget, KindTeam)
		if d.RetryAfter != 500*time.Millisecond {
			t.Fatalf("retry %v, want 500ms until March", d.RetryAfter)
		}
		e.clock.Set(time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC))
		e.mustAdmit(req)
		sp := e.spend(Subject{KindTeam, "t"}, PeriodMonthly)
		if sp.ID != "month:2028-03" || sp.Reserved != usd(0.7) || sp.Spent != 0 {
			t.Fatalf("spend %+v", sp)
		}
	})
}

func TestPeriodBounds(t *testing.T) {
	at := time.Date(2026, 12, 31, 23, 0, 0, 0, time.FixedZone("X", -3*3600)) // 2027-01-01T02:00Z
	tests := []struct {
		p          Period
		id         string
		start, end time.Time
	}{
		{"", "total", time.Time{}, time.Time{}},
		{PeriodTotal, "total", time.Time{}, time.Time{}},
		{PeriodDaily, "day:2027-01-01", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)},
		{PeriodMonthly, "month:2027-01", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		id, start, end := tt.p.Bounds(at)
		if id != tt.id || !start.Equal(tt.start) || !end.Equal(tt.end) {
			t.Errorf("%q.Bounds = %s %v %v, want %s %v %v", tt.p, id, start, end, tt.id, tt.start, tt.end)
		}
	}
}

func TestDenialPrecedence(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, t0, 0, 1)
		// Budget beats rate limits.
		spent := Request{Key: "a", KeyPolicy: Policy{RPM: 1, Budget: usd(1)}, Cost: usd(1)}
		e.settle(e.mustAdmit(spent), Usage{Cost: usd(1)})
		e.mustDeny(spent, LimitBudget, KindKey)
		// The team's budget beats the key's rpm.
		r := Request{Key: "b", KeyPolicy: Policy{RPM: 1}, Team: "t", TeamPolicy: Policy{MaxConcurrent: 1, Budget: usd(1)}, Cost: usd(0.6)}
		e.mustAdmit(r)
		e.mustDeny(r, LimitBudget, KindTeam)
		// Otherwise the longest Retry-After: the key's rpm (61s) over the
		// team's concurrency (1s).
		r.Cost = 0
		d := e.mustDeny(r, LimitRPM, KindKey)
		if d.RetryAfter != 61*time.Second {
			t.Fatalf("retry %v", d.RetryAfter)
		}
		// A "never" beats any finite retry.
		r2 := Request{Key: "c", KeyPolicy: Policy{RPM: 1, TPM: 10}, Tokens: 20}
		e.mustDeny(r2, LimitTPM, KindKey)
	})
}

func TestSpendAndSeed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, t0, 0, 1)
		ctx := context.Background()
		key := Subject{KindKey, "k"}
		e.wantSpend(Subject{KindKey, "unknown"}, PeriodDaily, 0, 0)
		if err := e.l.SeedSpend(ctx, key, PeriodDaily, usd(0.7)); err != nil {
			t.Fatal(err)
		}
		if err := e.l.SeedSpend(ctx, key, PeriodDaily, usd(0.5)); err != nil { // lower: ignored
			t.Fatal(err)
		}
		e.wantSpend(key, PeriodDaily, usd(0.7), 0)
		e.wantSpend(key, PeriodMonthly, 0, 0)
		r := Request{Key: "k", KeyPolicy: Policy{Budget: usd(1), Period: PeriodDaily}, Cost: usd(0.4)}
		d := e.mustDeny(r, LimitBudget, KindKey)
		if d.RetryAfter != 12*time.Hour {
			t.Fatalf("retry %v, want 12h until midnight", d.RetryAfter)
		}
		r.Cost = usd(0.3)
		e.settle(e.mustAdmit(r), Usage{Cost: usd(0.25)})
		if err := e.l.SeedSpend(ctx, key, PeriodDaily, usd(0.9)); err != nil {
			t.Fatal(err)
		}
		e.wantSpend(key, PeriodDaily, usd(0.95), 0) // 0.95 > 0.9: kept
		if err := e.l.SeedSpend(ctx, key, PeriodDaily, usd(0.99)); err != nil {
			t.Fatal(err)
		}
		e.wantSpend(key, PeriodDaily, usd(0.99), 0)
	})
}

func TestTicketEndsOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, t0, 0, 1)
		ctx := context.Background()
		key := Subject{KindKey, "k"}
		r := Request{Key: "k", KeyPolicy: Policy{MaxConcurrent: 1}, Cost: usd(0.1)}
		tk := e.mustAdmit(r)
		e.settle(tk, Usage{Cost: usd(0.2)})
		if err := e.l.Settle(ctx, tk, Usage{Cost: usd(0.2)}); !errors.Is(err, ErrTicketDone) {
			t.Fatalf("second settle: %v, want ErrTicketDone", err)
		}
		e.release(tk) // deferred release after settle: a no-op
		e.wantSpend(key, PeriodTotal, usd(0.2), 0)
		tk = e.mustAdmit(r)
		e.release(tk)
		e.release(tk)
		if err := e.l.Settle(ctx, tk, Usage{Cost: 1}); !errors.Is(err, ErrTicketDone) {
			t.Fatalf("settle after release: %v, want ErrTicketDone", err)
		}
		e.wantSpend(key, PeriodTotal, usd(0.2), 0)
		e.mustAdmit(r)
		if err := e.l.Release(ctx, nil); err != nil {
			t.Fatalf("release(nil): %v", err)
		}
	})
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name string
		r    Request
		want string
	}{
		{"no key", Request{}, "without a key"},
		{"negative rpm", Request{Key: "k", KeyPolicy: Policy{RPM: -1}}, "key policy: rpm must not be negative"},
		{"negative tpm", Request{Key: "k", KeyPolicy: Policy{TPM: -1}}, "key policy: tpm"},
		{"negative concurrency", Request{Key: "k", KeyPolicy: Policy{MaxConcurrent: -1}}, "key policy: max_concurrent"},
		{"negative team budget", Request{Key: "k", Team: "t", TeamPolicy: Policy{Budget: -1}}, "team policy: budget"},
		{"bad period", Request{Key: "k", KeyPolicy: Policy{Period: "weekly"}}, `period "weekly"`},
		{"negative tokens", Request{Key: "k", Tokens: -1}, "negative"},
		{"negative cost", Request{Key: "k", Cost: -1}, "negative"},
	}
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, t0, 0, 1)
		ctx := context.Background()
		for _, tt := range tests {
			_, err := e.l.Admit(ctx, tt.r)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: error %v, want it to contain %q", tt.name, err, tt.want)
			}
		}
		tk := e.mustAdmit(Request{Key: "k"})
		if err := e.l.Settle(ctx, tk, Usage{Tokens: -1}); err == nil {
			t.Error("settle with negative usage: no error")
		}
		e.settle(tk, Usage{}) // the failed settle did not use the ticket up
		if _, err := e.l.Spend(ctx, Subject{KindKey, "k"}, "weekly"); err == nil {
			t.Error("spend of a bad period: no error")
		}
		if err := e.l.SeedSpend(ctx, Subject{KindKey, "k"}, "weekly", 1); err == nil {
			t.Error("seed of a bad period: no error")
		}
	})
}

func TestMoney(t *testing.T) {
	tests := []struct {
		in   float64
		want Money
	}{
		{0.5, 500_000_000}, {1e-9, 1}, {0.4e-9, 0}, {1.23456789012, 1_234_567_890}, {-2, -2 * Dollar},
	}
	for _, tt := range tests {
		if got := Dollars(tt.in); got != tt.want {
			t.Errorf("Dollars(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
	if s := Dollars(0.0125).String(); s != "$0.012500" {
		t.Errorf("String = %s", s)
	}
	if Dollars(1e300) <= 0 {
		t.Error("Dollars(1e300) overflowed")
	}
}

func TestDenialMessages(t *testing.T) {
	d := &Denial{Limit: LimitBudget, Subject: Subject{KindTeam, "t"}, Allowed: int64(usd(0.5)), Used: int64(usd(0.49)), Requested: int64(usd(0.02))}
	want := "limits: team budget of $0.500000 exceeded: $0.490000 spent or reserved, $0.020000 requested"
	if d.Error() != want {
		t.Errorf("got %q\nwant %q", d.Error(), want)
	}
	d = &Denial{Limit: LimitRPM, Subject: Subject{KindKey, "k"}, Allowed: 60, Used: 60, Requested: 1, RetryAfter: 1500 * time.Millisecond}
	want = "limits: key rpm limit of 60 reached: 60 used, 1 requested; retry after 1.5s"
	if d.Error() != want {
		t.Errorf("got %q\nwant %q", d.Error(), want)
	}
}

func TestUnlimited(t *testing.T) {
	var l Limiter = Unlimited{}
	ctx := context.Background()
	tk, err := l.Admit(ctx, Request{Key: "k", KeyPolicy: Policy{RPM: 1}})
	if err != nil || tk.Limits != (RateLimits{}) {
		t.Fatalf("admit: %v %+v", err, tk)
	}
	if err := l.Settle(ctx, tk, Usage{Cost: 1}); err != nil {
		t.Fatal(err)
	}
	if err := l.Settle(ctx, tk, Usage{}); !errors.Is(err, ErrTicketDone) {
		t.Fatalf("second settle: %v", err)
	}
	if _, err := l.Admit(ctx, Request{}); err == nil {
		t.Fatal("admit without key: no error")
	}
}
