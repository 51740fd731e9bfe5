package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/store"
)

var aggregateTests = []test{
	{"AggregateMatchesReference", testAggregateReference},
	{"AggregateDayBucketsUTC", testAggregateDayBuckets},
	{"AggregateEmpty", testAggregateEmpty},
	{"AggregateInvalid", testAggregateInvalid},
}

// reference computes what AggregateUsage must return, in Go.
func reference(records []store.UsageRecord, q store.AggregateQuery) []store.UsageAggregate {
	type acc struct {
		a               store.UsageAggregate
		latSum, ttftSum time.Duration
		ttftN           int64
	}
	groups := map[string]*acc{}
	var order []string
	for _, r := range records {
		if !matches(r, q.Filter) {
			continue
		}
		var g store.UsageAggregate
		for _, d := range q.GroupBy {
			switch d {
			case store.DimKey:
				g.KeyID = r.KeyID
			case store.DimTeam:
				g.TeamID = r.TeamID
			case store.DimModel:
				g.Model = r.RequestedModel
			case store.DimUpstreamModel:
				g.UpstreamModel = r.UpstreamModel
			case store.DimProvider:
				g.Provider = r.Provider
			case store.DimDay:
				g.Bucket = r.Time.UTC().Truncate(24 * time.Hour)
			case store.DimHour:
				g.Bucket = r.Time.UTC().Truncate(time.Hour)
			}
		}
		k := fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%s\x00%d", g.KeyID, g.TeamID, g.Model, g.UpstreamModel, g.Provider, g.Bucket.UnixMicro())
		a := groups[k]
		if a == nil {
			a = &acc{a: g}
			groups[k] = a
			order = append(order, k)
		}
		a.a.Requests++
		if r.Failed() {
			a.a.Errors++
		}
		a.a.InputTokens += r.InputTokens
		a.a.OutputTokens += r.OutputTokens
		a.a.CachedTokens += r.CachedTokens
		a.a.ReasoningTokens += r.ReasoningTokens
		a.a.CostUSD += r.CostUSD
		a.latSum += r.Latency
		if r.TTFT != 0 {
			a.ttftSum += r.TTFT
			a.ttftN++
		}
	}
	if len(q.GroupBy) == 0 && len(groups) == 0 {
		return []store.UsageAggregate{{}}
	}
	var out []store.UsageAggregate
	for _, k := range order {
		a := groups[k]
		a.a.AvgLatency = a.latSum / time.Duration(a.a.Requests)
		if a.ttftN > 0 {
			a.a.AvgTTFT = a.ttftSum / time.Duration(a.ttftN)
		}
		out = append(out, a.a)
	}
	slices.SortFunc(out, func(x, y store.UsageAggregate) int {
		for _, d := range q.GroupBy {
			var c int
			switch d {
			case store.DimKey:
				c = strings.Compare(x.KeyID, y.KeyID)
			case store.DimTeam:
				c = strings.Compare(x.TeamID, y.TeamID)
			case store.DimModel:
				c = strings.Compare(x.Model, y.Model)
			case store.DimUpstreamModel:
				c = strings.Compare(x.UpstreamModel, y.UpstreamModel)
			case store.DimProvider:
				c = strings.Compare(x.Provider, y.Provider)
			case store.DimDay, store.DimHour:
				c = x.Bucket.Compare(y.Bucket)
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	return out
}

func matches(r store.UsageRecord, f store.UsageFilter) bool {
	switch {
	case !f.From.IsZero() && r.Time.Before(f.From),
		!f.To.IsZero() && !r.Time.Before(f.To),
		f.KeyID != "" && r.KeyID != f.KeyID,
		f.TeamID != "" && r.TeamID != f.TeamID,
		f.Model != "" && r.RequestedModel != f.Model,
		f.Provider != "" && r.Provider != f.Provider,
		f.RequestID != "" && r.RequestID != f.RequestID,
		f.Status != 0 && r.Status != f.Status,
		f.ErrorsOnly && !r.Failed():
		return false
	}
	return true
}

// sameAggregates compares rows, allowing for float rounding and for the
// microsecond rounding of averages.
func sameAggregates(t *testing.T, what string, got, want []store.UsageAggregate) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d\n got %+v\nwant %+v", what, len(got), len(want), got, want)
	}
	near := func(a, b time.Duration) bool { return (a - b).Abs() <= time.Microsecond }
	for i := range got {
		g, w := got[i], want[i]
		if !sameFloat(g.CostUSD, w.CostUSD) || !near(g.AvgLatency, w.AvgLatency) || !near(g.AvgTTFT, w.AvgTTFT) ||
			!g.Bucket.Equal(w.Bucket) || (!g.Bucket.IsZero() && g.Bucket.Location() != time.UTC) {
			t.Fatalf("%s: row %d:\n got %+v\nwant %+v", what, i, g, w)
		}
		g.CostUSD, g.AvgLatency, g.AvgTTFT, g.Bucket = w.CostUSD, w.AvgLatency, w.AvgTTFT, w.Bucket
		if g != w {
			t.Fatalf("%s: row %d:\n got %+v\nwant %+v", what, i, got[i], w)
		}
	}
}

func testAggregateReference(t *testing.T, s store.Store) {
	rng := rand.New(rand.NewPCG(1, 2))
	records := make([]store.UsageRecord, 2000)
	for i := range records {
		at := day.Add(time.Duration(rng.Int64N(int64(5 * 24 * time.Hour))))
		if i%50 == 0 { // a few right at midnight
			at = day.Add(time.Duration(rng.IntN(5)) * 24 * time.Hour)
		}
		r := record(i, at)
		switch i % 10 { // names whose byte order differs from a language's order
		case 1:
			r.KeyID = "Key_Upper"
		case 2:
			r.KeyID = "key-dash"
		case 3:
			r.Provider = "Zeta"
		}
		records[i] = r.Normalized()
	}
	insert(t, s, records)

	from, to := day.Add(30*time.Hour), day.Add(90*time.Hour)
	queries := []store.AggregateQuery{
		{},
		{GroupBy: []store.Dimension{store.DimKey}},
		{GroupBy: []store.Dimension{store.DimTeam}},
		{GroupBy: []store.Dimension{store.DimModel}},
		{GroupBy: []store.Dimension{store.DimUpstreamModel}},
		{GroupBy: []store.Dimension{store.DimProvider}},
		{GroupBy: []store.Dimension{store.DimDay}},
		{GroupBy: []store.Dimension{store.DimHour}, Filter: store.UsageFilter{From: from, To: from.Add(6 * time.Hour)}},
		{GroupBy: []store.Dimension{store.DimDay, store.DimModel}},
		{GroupBy: []store.Dimension{store.DimProvider, store.DimKey, store.DimDay}},
		{GroupBy: []store.Dimension{store.DimTeam, store.DimProvider}, Filter: store.UsageFilter{From: from, To: to}},
		{GroupBy: []store.Dimension{store.DimKey}, Filter: store.UsageFilter{TeamID: "team_2", ErrorsOnly: true}},
		{GroupBy: []store.Dimension{store.DimDay}, Filter: store.UsageFilter{KeyID: "key_4", Model: "sonnet"}},
		{Filter: store.UsageFilter{Provider: "openai", Status: 502}},
		{Filter: store.UsageFilter{RequestID: "req-000042"}},
	}
	for _, q := range queries {
		got, err := s.AggregateUsage(ctx(t), q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		sameAggregates(t, fmt.Sprintf("%+v", q), got, reference(records, q))
	}
}

func testAggregateDayBuckets(t *testing.T, s store.Store) {
	tokyo := time.FixedZone("JST", 9*3600)
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return tm
	}
	records := []store.UsageRecord{
		{Time: at("2026-03-14T23:59:59.999999Z"), InputTokens: 1},
		{Time: at("2026-03-15T00:00:00Z"), InputTokens: 2},
		// 08:30 in Tokyo on the 16th is still the 15th in UTC.
		{Time: at("2026-03-16T08:30:00+09:00").In(tokyo), InputTokens: 4},
		{Time: at("2026-03-15T23:00:00-05:00"), InputTokens: 8}, // the 16th, 04:00 UTC
		{Time: at("1999-12-31T23:59:59Z"), InputTokens: 16},
	}
	insert(t, s, records)
	got, err := s.AggregateUsage(ctx(t), store.AggregateQuery{GroupBy: []store.Dimension{store.DimDay}})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		day    string
		tokens int64
	}{{"1999-12-31", 16}, {"2026-03-14", 1}, {"2026-03-15", 6}, {"2026-03-16", 8}}
	if len(got) != len(want) {
		t.Fatalf("got %d days: %+v", len(got), got)
	}
	for i, w := range want {
		if d := got[i].Bucket.Format(time.DateOnly); d != w.day || got[i].InputTokens != w.tokens ||
			got[i].Bucket.Location() != time.UTC || !got[i].Bucket.Equal(got[i].Bucket.Truncate(24*time.Hour)) {
			t.Errorf("day %d = %v with %d tokens, want %s 00:00 UTC with %d", i, got[i].Bucket, got[i].InputTokens, w.day, w.tokens)
		}
	}

	hours, err := s.AggregateUsage(ctx(t), store.AggregateQuery{GroupBy: []store.Dimension{store.DimHour},
		Filter: store.UsageFilter{From: at("2026-03-14T23:00:00Z"), To: at("2026-03-15T01:00:00Z")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(hours) != 2 || !hours[0].Bucket.Equal(at("2026-03-14T23:00:00Z")) || !hours[1].Bucket.Equal(at("2026-03-15T00:00:00Z")) {
		t.Fatalf("hours = %+v", hours)
	}
}

func testAggregateEmpty(t *testing.T, s store.Store) {
	got, err := s.AggregateUsage(ctx(t), store.AggregateQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != (store.UsageAggregate{}) {
		t.Fatalf("no records, no grouping: %+v, want one zero row", got)
	}
	got, err = s.AggregateUsage(ctx(t), store.AggregateQuery{GroupBy: []store.Dimension{store.DimKey}})
	if err != nil || len(got) != 0 {
		t.Fatalf("no records, grouped: %+v, %v; want no rows", got, err)
	}
}

func testAggregateInvalid(t *testing.T, s store.Store) {
	for _, g := range [][]store.Dimension{{"week"}, {store.DimKey, store.DimKey}, {store.DimDay, store.DimHour}} {
		_, err := s.AggregateUsage(ctx(t), store.AggregateQuery{GroupBy: g})
		wantErr(t, err, store.ErrInvalid, "group_by")
	}
}
