package health

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// BenchmarkPoolPickReport: one Pick and one Report(Success) on a healthy
// 10-key pool, the per-request cost of key selection.
func BenchmarkPoolPickReport(b *testing.B) {
	for _, s := range []Strategy{RoundRobin, LeastRecentlyLimited} {
		b.Run(string(s), func(b *testing.B) {
			p := NewPool(10, Policy{Strategy: s})
			b.ReportAllocs()
			for b.Loop() {
				idx, _, _ := p.Pick(t0)
				p.Report(idx, t0, Success, 0)
			}
		})
		b.Run(string(s)+"/parallel", func(b *testing.B) {
			p := NewPool(10, Policy{Strategy: s})
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					idx, _, _ := p.Pick(t0)
					p.Report(idx, t0, Success, 0)
				}
			})
		})
	}
}

// BenchmarkPoolPickDegraded: the same with one key of ten disabled, which
// takes Pick off its lock-free path.
func BenchmarkPoolPickDegraded(b *testing.B) {
	p := NewPool(10, Policy{})
	p.Report(3, t0, AuthFailed, 0)
	b.ReportAllocs()
	for b.Loop() {
		idx, _, _ := p.Pick(t0)
		p.Report(idx, t0, Success, 0)
	}
}

// BenchmarkBreakerAllowReport: Allow and Report(Success) on a closed breaker.
func BenchmarkBreakerAllowReport(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		br := NewBreaker(Policy{})
		b.ReportAllocs()
		for b.Loop() {
			_, probe := br.Allow(t0)
			br.Report(t0, Success, probe)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		br := NewBreaker(Policy{})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, probe := br.Allow(t0)
				br.Report(t0, Success, probe)
			}
		})
	})
}

// routingRegistry builds 100 providers of 10 keys each, every tenth
// provider's breaker open, and returns their handles.
func routingRegistry() []*Provider {
	r := NewRegistry(Policy{FailureThreshold: 1})
	ps := make([]*Provider, 100)
	for i := range ps {
		fps := make([]string, 10)
		for k := range fps {
			fps[k] = fmt.Sprintf("sha256:%04x%02x", i, k)
		}
		ps[i] = r.Provider(fmt.Sprintf("provider-%03d", i), fps)
		if i%10 == 0 {
			ps[i].Breaker.Report(t0, Failure, false)
		}
	}
	return ps
}

// route is one routing decision: Allow on the breakers of up to three
// candidates, and Pick on the first that lets the call through.
func route(ps []*Provider, i int, now time.Time) (*Provider, int, bool) {
	for c := range 3 {
		p := ps[(i+c*37)%len(ps)]
		if ok, _ := p.Breaker.Allow(now); !ok {
			continue
		}
		if idx, _, ok := p.Pool.Pick(now); ok {
			return p, idx, true
		}
	}
	return nil, -1, false
}

// BenchmarkRoutingDecision: a registry of 100 providers × 10 keys; per op,
// Allow on 3 providers' breakers and Pick on the chosen one ("+report" adds
// the Reports of the call's outcome).
func BenchmarkRoutingDecision(b *testing.B) {
	now := at(time.Second) // the open breakers are still open
	b.Run("serial", func(b *testing.B) {
		ps := routingRegistry()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			route(ps, i, now)
			i++
		}
	})
	b.Run("serial+report", func(b *testing.B) {
		ps := routingRegistry()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if p, idx, ok := route(ps, i, now); ok {
				p.Breaker.Report(now, Success, false)
				p.Pool.Report(idx, now, Success, 0)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		ps := routingRegistry()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				route(ps, i, now)
				i++
			}
		})
	})
	b.Run("parallel+report", func(b *testing.B) {
		ps := routingRegistry()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if p, idx, ok := route(ps, i, now); ok {
					p.Breaker.Report(now, Success, false)
					p.Pool.Report(idx, now, Success, 0)
				}
				i++
			}
		})
	})
}

// BenchmarkResetAfter: reading the wait from a 429's headers (off the hot
// path: once per 429).
func BenchmarkResetAfter(b *testing.B) {
	for _, c := range []struct {
		name string
		h    http.Header
	}{
		{"retry-after", hdr("retry-after", "20")},
		{"openai", hdr("x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "1s",
			"x-ratelimit-remaining-tokens", "149984", "x-ratelimit-reset-tokens", "6m0s")},
		{"anthropic", hdr("anthropic-ratelimit-requests-remaining", "0", "anthropic-ratelimit-requests-reset", "2025-08-21T12:41:20Z",
			"anthropic-ratelimit-tokens-remaining", "5000", "anthropic-ratelimit-tokens-reset", "2025-08-21T12:41:50Z")},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ResetAfter(c.h, t0)
			}
		})
	}
}
