package gateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/keys"
	"github.com/llmux/llmux/internal/limits"
	"github.com/llmux/llmux/internal/store"
	"github.com/llmux/llmux/internal/store/testdb"
	"github.com/llmux/llmux/internal/usage"
)

// BenchmarkPolicy measures what virtual keys add to a passed-through 2 KB
// request, in one process and run: a static key with no limiter and no
// usage records (the baseline), then a virtual key whose RPM limit goes
// through the limiter's admission and settlement, with one usage record
// per request written to SQLite, on the in-memory limiter and on Redis;
// and the same with a budget, which also counts the request's tokens and
// prices the estimate at admission.
func BenchmarkPolicy(b *testing.B) {
	up := benchUpstream(b)
	cfg, err := config.Parse("bench.yaml", []byte(`
keys: [ k ]
log_requests: false
pricing: { gpt-4o-mini: { input: 0.15, output: 0.6 } }
providers:
  openai: { type: openai, base_url: "`+up.URL+`/v1", api_key: sk-bench, models: { fast: gpt-4o-mini } }
`), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	st, _ := testdb.Open(b, "sqlite")
	ctx := context.Background()
	newKey := func(l store.Limits) string {
		sec := keys.NewSecret()
		if _, err := st.CreateKey(ctx, store.VirtualKey{Name: "bench", Hash: sec.Hash, Prefix: sec.Prefix, Enabled: true, Limits: l}); err != nil {
			b.Fatal(err)
		}
		return sec.Raw
	}
	rpmKey := newKey(store.Limits{RPM: 1 << 40})
	budgetKey := newKey(store.Limits{RPM: 1 << 40, BudgetUSD: 1e9, BudgetPeriod: store.PeriodMonthly})

	limiters := []struct {
		name string
		l    limits.Limiter
	}{{"memory", limits.NewMemory(limits.Options{})}}
	if addr, _ := config.Getenv("LLMUX_TEST_REDIS_ADDR"); addr != "" {
		rc := redis.NewClient(&redis.Options{Addr: addr})
		b.Cleanup(func() { rc.Close() })
		limiters = append(limiters, struct {
			name string
			l    limits.Limiter
		}{"redis", limits.NewRedis(rc, limits.Options{Prefix: "llmux:bench:" + keys.NewSecret().Raw[9:17]})})
	}

	run := func(b *testing.B, opts Options, key string) {
		opts.Registry = registry()
		srv, err := New(cfg, opts)
		if err != nil {
			b.Fatal(err)
		}
		gw := httptest.NewServer(srv)
		defer srv.pending.Wait() // settlements that run after their responses
		defer gw.Close()
		c := benchClient()
		defer c.CloseIdleConnections()
		url := gw.URL + "/v1/chat/completions"
		postKey(b, c, url, key, benchRequest)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			postKey(b, c, url, key, benchRequest)
		}
	}
	b.Run("static-key", func(b *testing.B) { run(b, Options{}, "k") })
	for _, lim := range limiters {
		for _, k := range []struct{ name, raw string }{{"rpm", rpmKey}, {"budget", budgetKey}} {
			b.Run("virtual-"+k.name+"/"+lim.name, func(b *testing.B) {
				res := keys.New(st, keys.Options{})
				if err := res.Sync(ctx); err != nil {
					b.Fatal(err)
				}
				w := usage.NewWriter(st, usage.WriterOptions{FlushInterval: 100 * time.Millisecond})
				defer w.Close(ctx)
				run(b, Options{Keys: res, Limiter: lim.l, Usage: w, SettleAsync: lim.name == "redis"}, k.raw)
			})
		}
	}
}

func postKey(b *testing.B, c *http.Client, url, key string, body []byte) {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || n == 0 {
		b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
	}
}
