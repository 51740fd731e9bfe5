package multi

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// burst sends n chat requests with key at once, request i to instance
// i%instances (streamed when stream(i)), with x-request-ids prefix-i, and
// returns what each got, in order. done, when not nil, is called as each
// one ends, from its goroutine.
func (c *cluster) burst(key string, n int, prefix string, stream func(int) bool, done func(outcome)) []outcome {
	outs := make([]outcome, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			o := c.chat(context.Background(), i%instances, key, qualified, stream(i), fmt.Sprintf("%s-%d", prefix, i))
			outs[i] = o
			if done != nil {
				done(o)
			}
		})
	}
	close(start)
	wg.Wait()
	return outs
}

func never(int) bool { return false }

// TestRPMSharedAcrossInstances: a key's requests per minute are counted
// once for all instances. 150 requests at once, 50 on each instance, with a
// limit of 60: instances counting alone would admit all 50 of their own,
// while the shared sliding window admits exactly 60 in all.
func TestRPMSharedAcrossInstances(t *testing.T) {
	fx := loadFixtures(t)
	up := newUpstream(t, fx)
	up.setDelay(20*time.Millisecond, 80*time.Millisecond)
	c := startCluster(t, up, options{})
	const rpm, total = 60, 150
	k := c.createKey(t, map[string]any{"name": "rpm", "rpm": rpm})

	start := time.Now()
	outs := c.burst(k.secret, total, "rpm", never, nil)
	elapsed := time.Since(start)
	// Exactly rpm, no slack: every admission is one atomic script in Redis
	// that admits while fewer than rpm requests were admitted in the last 60
	// to 61 seconds, and refuses only for that reason (the key has no other
	// limit). The whole burst lies within one window, so the first rpm
	// admissions fill it and every later request is refused, whichever
	// instance it reaches.
	if elapsed > 50*time.Second {
		t.Fatalf("the burst took %s: too slow to lie within one minute's window", elapsed)
	}
	admitted, perNode := 0, [instances][2]int{}
	var remaining []int
	for _, o := range outs {
		switch {
		case o.ok():
			admitted++
			perNode[o.node][0]++
			if got := o.header.Get("X-Ratelimit-Limit-Requests"); got != strconv.Itoa(rpm) {
				t.Errorf("%s: x-ratelimit-limit-requests %q, want %d", o, got, rpm)
			}
			r, err := strconv.Atoi(o.header.Get("X-Ratelimit-Remaining-Requests"))
			if err != nil {
				t.Errorf("%s: x-ratelimit-remaining-requests %q", o, o.header.Get("X-Ratelimit-Remaining-Requests"))
			}
			remaining = append(remaining, r)
		case o.status == http.StatusTooManyRequests && o.apiErr != nil && o.apiErr.Code == "rate_limit_exceeded":
			perNode[o.node][1]++
			ra, err := strconv.Atoi(o.header.Get("Retry-After"))
			if err != nil || ra < 1 || ra > 61 {
				t.Errorf("%s: Retry-After %q, want 1 to 61 seconds", o, o.header.Get("Retry-After"))
			}
			if got := o.header.Get("X-Ratelimit-Limit-Requests"); got != strconv.Itoa(rpm) {
				t.Errorf("%s: x-ratelimit-limit-requests %q, want %d", o, got, rpm)
			}
			if got := o.header.Get("X-Ratelimit-Remaining-Requests"); got != "0" {
				t.Errorf("%s: x-ratelimit-remaining-requests %q, want 0", o, got)
			}
		default:
			t.Errorf("%s: want 200, or 429 rate_limit_exceeded", o)
		}
	}
	t.Logf("%d requests in %s: %d admitted (per instance admitted/refused: %v)", total, elapsed.Round(time.Millisecond), admitted, perNode)
	if admitted != rpm {
		t.Fatalf("%d requests admitted across the instances, want exactly %d (rpm)", admitted, rpm)
	}
	// Each admission saw a different count: remaining went 59, 58, … 0.
	slices.Sort(remaining)
	for i, r := range remaining {
		if r != i {
			t.Fatalf("x-ratelimit-remaining-requests of the admitted requests are %v, want each of 0 to %d once", remaining, rpm-1)
		}
	}
	if got := up.requests.Load(); got != rpm {
		t.Errorf("the upstream got %d requests, want %d: refused requests must not reach it", got, rpm)
	}
	// Every request is recorded, the refused ones as errors.
	u := c.settledUsage(t, k.id)
	if u.Requests != total || u.Errors != total-rpm {
		t.Errorf("usage records: %d requests, %d errors; want %d and %d", u.Requests, u.Errors, total, total-rpm)
	}
}

// insufficientQuota reports a refusal by the budget.
func insufficientQuota(o outcome) bool {
	return o.status == http.StatusTooManyRequests && o.apiErr != nil &&
		o.apiErr.Code == "insufficient_quota" && o.apiErr.Type == "insufficient_quota"
}

// TestBudgetSharedAcrossInstances: a key's budget is spent once across the
// instances, and never overspent.
//
// The bound asserted is the budget itself, with no overrun: internal/limits
// (doc.go, "Budgets") guarantees spent ≤ budget + Σ max(0, actual −
// estimate) over the requests in flight, and here every estimate is at
// least the actual cost. The gateway estimates a request as its input
// tokens (guessed from the text's length) plus max_tokens output tokens;
// max_tokens is 16, and 16 output tokens alone cost $0.032, more than the
// whole recorded answer (8 input and 9 output tokens, $0.02), whatever the
// input guess.
func TestBudgetSharedAcrossInstances(t *testing.T) {
	fx := loadFixtures(t)
	per := cost(fx.plainUsage)
	if floor := cost(usage{Out: maxTokens}); floor < per {
		t.Fatalf("the estimate's floor %g is below the answer's cost %g: the no-overrun bound would not hold", floor, per)
	}
	up := newUpstream(t, fx)
	up.setDelay(20*time.Millisecond, 60*time.Millisecond)
	c := startCluster(t, up, options{})
	const budget = 0.50
	k := c.createKey(t, map[string]any{"name": "budget", "budget_usd": budget, "budget_period": "total"})

	// Eight workers over all instances, until every instance has refused.
	var (
		sent, admitted atomic.Int64
		refused        [instances]atomic.Bool
		perNode        [instances]atomic.Int64
		stop           atomic.Bool
		mu             sync.Mutex
		bad            []outcome
	)
	send := func(node int, id string) outcome {
		o := c.chat(context.Background(), node, k.secret, qualified, false, id)
		sent.Add(1)
		switch {
		case o.ok():
			admitted.Add(1)
			perNode[node].Add(1)
		case insufficientQuota(o):
			refused[node].Store(true)
		default:
			mu.Lock()
			bad = append(bad, o)
			mu.Unlock()
			stop.Store(true)
		}
		return o
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for j := 0; !stop.Load() && sent.Load() < 500; j++ {
				send((w+j)%instances, fmt.Sprintf("budget-w%d-%d", w, j))
				if refused[0].Load() && refused[1].Load() && refused[2].Load() {
					stop.Store(true)
				}
			}
		})
	}
	wg.Wait()
	// A refusal can come early, when other requests' estimates held the
	// rest of the budget. Now that none is in flight, probe until a whole
	// round over the instances is refused: then what is spent leaves no
	// room for one more estimate.
	for round := 0; len(bad) == 0; round++ {
		if round == 50 {
			t.Fatal("the instances kept admitting requests after the budget should have run out")
		}
		all := true
		for node := range instances {
			if o := send(node, fmt.Sprintf("budget-probe-%d-%d", round, node)); o.ok() {
				all = false
				time.Sleep(100 * time.Millisecond) // let it settle
			}
		}
		if all {
			break
		}
	}
	for _, o := range bad {
		t.Errorf("%s: want 200, or 429 insufficient_quota", o)
	}
	if t.Failed() {
		t.FailNow()
	}

	u := c.settledUsage(t, k.id)
	n := admitted.Load()
	t.Logf("%d requests, %d admitted (per instance %d, %d, %d) at $%g each; recorded spend $%.9f of a $%.2f budget",
		sent.Load(), n, perNode[0].Load(), perNode[1].Load(), perNode[2].Load(), per, u.CostUSD, budget)
	const eps = 1e-9 // costs are kept to the nano-dollar
	if u.CostUSD > budget+eps {
		t.Errorf("recorded spend $%.9f exceeds the budget $%.2f (the bound is the budget itself: estimates ≥ costs)", u.CostUSD, budget)
	}
	if want := float64(n) * per; math.Abs(u.CostUSD-want) > eps {
		t.Errorf("recorded spend $%.9f, want %d answers × $%g = $%.9f", u.CostUSD, n, per, want)
	}
	// The final refusals came with nothing in flight, so spent + estimate >
	// budget; the estimate of this prompt is below that of 64 input tokens.
	if low := budget - cost(usage{In: 64, Out: maxTokens}); u.CostUSD <= low {
		t.Errorf("recorded spend $%.9f: the budget was refused with more than one request's estimate left (> $%.9f)", u.CostUSD, low)
	}
	if u.Requests != sent.Load() || u.Errors != sent.Load()-n {
		t.Errorf("usage records: %d requests, %d errors; want %d and %d", u.Requests, u.Errors, sent.Load(), sent.Load()-n)
	}
	if got := up.requests.Load(); got != n {
		t.Errorf("the upstream got %d requests, want the %d admitted", got, n)
	}
}
