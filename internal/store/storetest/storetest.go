// Package storetest is the conformance suite of internal/store: one set of
// tests and benchmarks that every implementation runs (sqlite against a
// temporary file, postgres against the server named by
// LLMUX_TEST_POSTGRES_DSN), so that the two cannot drift apart.
//
// An implementation's test calls Run and Bench with a function that opens a
// fresh, empty store and arranges its own cleanup. This package imports only
// internal/store and the standard library, and is imported only by tests.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/store"
)

// Opener returns a fresh, empty, migrated store. It registers its own
// cleanup with tb (closing the store and removing its database), and fails
// tb when the store cannot be opened.
type Opener func(tb testing.TB) store.Store

type test struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// Run runs every conformance test, each on a store of its own.
func Run(t *testing.T, open Opener) {
	groups := [][]test{keyTests, teamTests, usageTests, aggregateTests, configTests, concurrencyTests}
	for _, g := range groups {
		for _, tt := range g {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				tt.fn(t, open(t))
			})
		}
	}
}

// ctx returns a context that ends with the test, bounded so that a hung
// database fails the test instead of the whole run.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// wantErr fails unless err wraps target and mentions every substring.
func wantErr(t *testing.T, err, target error, substrings ...string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
	for _, s := range substrings {
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("error %q does not mention %q", err, s)
		}
	}
}

// day is a fixed UTC date the tests build times from.
var day = time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)

// newKey returns a valid key with a hash derived from name.
func newKey(name string) store.VirtualKey {
	return store.VirtualKey{
		Name:    name,
		Hash:    store.HashKey("sk-llmux-" + name),
		Prefix:  "sk-llmux-" + name[:min(4, len(name))],
		Enabled: true,
	}
}

// countUsage returns the number of records matching f.
func countUsage(t *testing.T, s store.Store, f store.UsageFilter) int64 {
	t.Helper()
	a, err := s.AggregateUsage(ctx(t), store.AggregateQuery{Filter: f})
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 1 {
		t.Fatalf("AggregateUsage without GroupBy returned %d rows, want 1", len(a))
	}
	return a[0].Requests
}

// record returns a plausible usage record numbered i.
func record(i int, at time.Time) store.UsageRecord {
	return store.UsageRecord{
		Time:            at,
		RequestID:       fmt.Sprintf("req-%06d", i),
		KeyID:           fmt.Sprintf("key_%d", i%7),
		TeamID:          fmt.Sprintf("team_%d", i%3),
		RequestedModel:  []string{"smart", "gpt-4o-mini", "sonnet", "gemini-flash"}[i%4],
		Provider:        []string{"openai", "claude", "gemini"}[i%3],
		UpstreamModel:   []string{"gpt-4.1", "gpt-4o-mini", "claude-sonnet-4-5", "gemini-2.5-flash"}[i%4],
		ProtocolIn:      "openai",
		ProtocolOut:     []string{"openai", "anthropic", "gemini"}[i%3],
		InputTokens:     int64(100 + i%1000),
		OutputTokens:    int64(20 + i%300),
		CachedTokens:    int64(i % 50),
		ReasoningTokens: int64(i % 11),
		CostUSD:         float64(i%97) * 0.000125,
		Latency:         time.Duration(200+i%800) * time.Millisecond,
		TTFT:            time.Duration(i%5) * 40 * time.Millisecond,
		Status:          []int{200, 200, 200, 429, 200, 502}[i%6],
		ErrorType:       []string{"", "", "", "rate_limited", "", "upstream"}[i%6],
		Attempts:        1 + i%3,
		Estimated:       i%13 == 0,
	}
}
