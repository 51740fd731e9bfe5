package gateway

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/health"
)

// BenchmarkAttemptLoop measures one non-streamed chat request through
// llmux (breaker, key pick, attempt loop, passthrough) to the fake upstream,
// beside the same request sent to the fake directly, in the same process
// and run: the difference is what llmux adds. llmux-failover adds one
// failed candidate (a 503, its breaker kept closed) before the one that
// answers.
func BenchmarkAttemptLoop(b *testing.B) {
	up := newFaultUpstream(b, answer(b, "openai/chat-text"))
	down := newFaultUpstream(b, serverError(503))
	ts, _ := newGateway(b, `
keys: [ k ]
log_requests: false
health: { failure_threshold: 1000000000 }
providers:
  up:
    type: openai
    base_url: ${UPSTREAM}/v1
    api_keys: [ sk-bench-1-0123456789abcdef, sk-bench-2-0123456789abcdef, sk-bench-3-0123456789abcdef ]
    models: [ m ]
  down: { type: openai, base_url: "`+down.URL+`/v1", api_key: sk-bench-down-0123456789abcdef, models: [ m ] }
routes:
  failover: { targets: [ { model: down/m, priority: 1 }, { model: up/m } ] }
`, up.URL)
	body := func(model string) []byte {
		return []byte(`{"model":"` + model + `","messages":[{"role":"user","content":"Say hello."}]}`)
	}
	for _, tc := range []struct {
		name, url string
		body      []byte
	}{
		{"llmux", ts.URL + "/v1/chat/completions", body("up/m")},
		{"direct", up.URL + "/v1/chat/completions", body("m")},
		{"llmux-failover", ts.URL + "/v1/chat/completions", body("failover")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := benchClient()
			defer c.CloseIdleConnections()
			post(b, c, tc.url, tc.body) // warm the connections
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				post(b, c, tc.url, tc.body)
			}
		})
	}
}

// BenchmarkRoutingDecision measures what the gateway decides before an
// upstream call, on a table of 100 providers (10 keys each) and 50 routes:
// resolving a route into its ordered candidates, and then asking the first
// candidate's breaker and key pool (from the server's health registry of
// 100×10) and reporting the outcome.
func BenchmarkRoutingDecision(b *testing.B) {
	var y strings.Builder
	y.WriteString("log_requests: false\nproviders:\n")
	for p := 0; p < 100; p++ {
		fmt.Fprintf(&y, "  p%02d:\n    type: openai\n    base_url: http://127.0.0.1:9/v1\n    api_keys: [", p)
		for k := 0; k < 10; k++ {
			if k > 0 {
				y.WriteString(", ")
			}
			fmt.Fprintf(&y, "sk-p%02d-k%d-0123456789abcdef", p, k)
		}
		y.WriteString(" ]\n    models: [ m0, m1, m2, m3, m4, m5, m6, m7, m8, m9 ]\n")
	}
	y.WriteString("routes:\n")
	names := make([]string, 50)
	for r := range names {
		names[r] = fmt.Sprintf("r%02d", r)
		fmt.Fprintf(&y, "  %s:\n    targets: [ { model: p%02d/m%d, weight: 3 }, { model: p%02d/m%d, weight: 1 }, { model: p%02d/m%d, priority: -1 } ]\n    fallbacks: [ p%02d/m0 ]\n",
			names[r], (2*r)%100, r%10, (2*r+1)%100, (r+1)%10, (r+50)%100, (r+2)%10, (r+77)%100)
	}
	srv, err := New(mustConfig(b, y.String()), Options{Registry: registry()})
	if err != nil {
		b.Fatal(err)
	}
	st := srv.state.Load()
	hp := map[string]*health.Provider{}
	for id := range st.providers {
		if h, ok := srv.health.Get(id); ok && h.Pool.Len() == 10 {
			hp[id] = h
		}
	}
	if len(hp) != 100 {
		b.Fatalf("%d providers with 10 keys in the health registry, want 100", len(hp))
	}

	b.Run("resolve", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			cands, err := st.router.Resolve(names[i%len(names)])
			if err != nil || len(cands) != 4 {
				b.Fatalf("%d candidates, %v", len(cands), err)
			}
		}
	})
	b.Run("resolve+breaker+key", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			name := names[i%len(names)]
			cands, err := st.router.Resolve(name)
			if err != nil {
				b.Fatal(err)
			}
			_ = st.router.Options(name)
			h := hp[cands[0].Provider]
			now := time.Now()
			ok, probe := h.Breaker.Allow(now)
			idx, _, picked := h.Pool.Pick(now)
			if !ok || !picked {
				b.Fatal("a healthy provider refused")
			}
			h.Pool.Report(idx, now, health.Success, 0)
			h.Breaker.Report(now, health.Success, probe)
		}
	})
}
