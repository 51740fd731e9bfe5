package storetest

import (
	"context"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/store"
)

var usageTests = []test{
	{"UsageRoundTrip", testUsageRoundTrip},
	{"UsageNormalized", testUsageNormalized},
	{"UsageInvalidBatchWritesNothing", testUsageInvalidBatch},
	{"UsageEmptyBatch", testUsageEmptyBatch},
	{"UsageCanceledContext", testUsageCanceled},
	{"UsageListFilters", testUsageListFilters},
	{"UsageListPaging", testUsageListPaging},
	{"UsageBigBatch", testUsageBigBatch},
	{"UsageRetention", testUsageRetention},
}

func insert(t *testing.T, s store.Store, records []store.UsageRecord) {
	t.Helper()
	if err := s.InsertUsage(ctx(t), records); err != nil {
		t.Fatalf("InsertUsage(%d records): %v", len(records), err)
	}
}

func list(t *testing.T, s store.Store, q store.ListQuery) []store.UsageRecord {
	t.Helper()
	out, err := s.ListUsage(ctx(t), q)
	if err != nil {
		t.Fatalf("ListUsage: %v", err)
	}
	return out
}

func requestIDs(records []store.UsageRecord) []string {
	var out []string
	for _, r := range records {
		out = append(out, r.RequestID)
	}
	return out
}

func testUsageRoundTrip(t *testing.T, s store.Store) {
	in := store.UsageRecord{
		Time:            time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.FixedZone("PDT", -7*3600)),
		RequestID:       "req-1",
		KeyID:           "key_abc",
		TeamID:          "team_xyz",
		RequestedModel:  "smart",
		Provider:        "claude",
		UpstreamModel:   "claude-sonnet-4-5",
		ProtocolIn:      "openai",
		ProtocolOut:     "anthropic",
		InputTokens:     1234,
		OutputTokens:    567,
		CachedTokens:    1000,
		ReasoningTokens: 89,
		CostUSD:         0.0123456789,
		Latency:         1234567891 * time.Nanosecond,
		TTFT:            345678912 * time.Nanosecond,
		Status:          200,
		ErrorType:       "",
		Attempts:        2,
		Estimated:       true,
		Prompt:          "What is 2+2? ünïcödé 🚀",
		Completion:      "4",
	}
	second := record(2, day)
	insert(t, s, []store.UsageRecord{in, second})

	got := list(t, s, store.ListQuery{WithContent: true})
	if len(got) != 2 {
		t.Fatalf("ListUsage returned %d records, want 2", len(got))
	}
	if got[0].ID <= got[1].ID || got[1].ID <= 0 {
		t.Errorf("IDs %d, %d: want positive, newest first", got[0].ID, got[1].ID)
	}
	want := in.Normalized()
	want.ID = got[1].ID
	if !reflect.DeepEqual(got[1], want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got[1], want)
	}
	if got[1].Time.Location() != time.UTC || got[1].Latency != 1234567*time.Microsecond {
		t.Errorf("Time %v, Latency %v: want UTC and microseconds", got[1].Time, got[1].Latency)
	}

	noContent := list(t, s, store.ListQuery{})
	if noContent[1].Prompt != "" || noContent[1].Completion != "" {
		t.Errorf("content returned without WithContent: %q, %q", noContent[1].Prompt, noContent[1].Completion)
	}
	want.Prompt, want.Completion = "", ""
	if !reflect.DeepEqual(noContent[1], want) {
		t.Fatalf("without content:\n got %+v\nwant %+v", noContent[1], want)
	}
}

// Issue: a client may send any bytes as a model name; PostgreSQL refuses NUL
// and invalid UTF-8, which must not lose the batch the record is in.
func testUsageNormalized(t *testing.T, s store.Store) {
	bad := record(1, day)
	bad.RequestedModel = "gpt\x00-4o\xff"
	bad.RequestID = "\xc3\x28"
	bad.Prompt = "nul\x00here"
	bad.CostUSD = math.NaN()
	insert(t, s, []store.UsageRecord{bad, record(2, day)})
	got := list(t, s, store.ListQuery{WithContent: true, Filter: store.UsageFilter{RequestID: "\uFFFD("}})
	if len(got) != 1 {
		t.Fatalf("found %d records by the cleaned request id", len(got))
	}
	r := got[0]
	if r.RequestedModel != "gpt-4o\uFFFD" || r.Prompt != "nulhere" || r.CostUSD != 0 {
		t.Errorf("stored %q, %q, cost %v", r.RequestedModel, r.Prompt, r.CostUSD)
	}
}

func testUsageInvalidBatch(t *testing.T, s store.Store) {
	records := []store.UsageRecord{record(1, day), {RequestID: "no time"}, record(3, day)}
	err := s.InsertUsage(ctx(t), records)
	wantErr(t, err, store.ErrInvalid, "record 1", "time")
	if n := countUsage(t, s, store.UsageFilter{}); n != 0 {
		t.Fatalf("%d records written from an invalid batch", n)
	}
}

func testUsageEmptyBatch(t *testing.T, s store.Store) {
	insert(t, s, nil)
	insert(t, s, []store.UsageRecord{})
	if n := countUsage(t, s, store.UsageFilter{}); n != 0 {
		t.Fatalf("count = %d", n)
	}
}

func testUsageCanceled(t *testing.T, s store.Store) {
	c, cancel := context.WithCancel(ctx(t))
	cancel()
	records := make([]store.UsageRecord, 500)
	for i := range records {
		records[i] = record(i, day)
	}
	if err := s.InsertUsage(c, records); err == nil {
		t.Fatal("InsertUsage with a canceled context succeeded")
	}
	if n := countUsage(t, s, store.UsageFilter{}); n != 0 {
		t.Fatalf("%d records written under a canceled context", n)
	}
	// The store is still usable.
	insert(t, s, records[:3])
}

func testUsageListFilters(t *testing.T, s store.Store) {
	var records []store.UsageRecord
	for i := range 24 {
		records = append(records, record(i, day.Add(time.Duration(i)*time.Hour)))
	}
	insert(t, s, records)
	// want lists request numbers, newest written first.
	pick := func(keep func(r store.UsageRecord) bool) []string {
		var out []string
		for i := len(records) - 1; i >= 0; i-- {
			if keep(records[i]) {
				out = append(out, records[i].RequestID)
			}
		}
		return out
	}
	tests := []struct {
		name string
		f    store.UsageFilter
		want []string
	}{
		{"all", store.UsageFilter{}, pick(func(store.UsageRecord) bool { return true })},
		{"key", store.UsageFilter{KeyID: "key_3"}, pick(func(r store.UsageRecord) bool { return r.KeyID == "key_3" })},
		{"team", store.UsageFilter{TeamID: "team_1"}, pick(func(r store.UsageRecord) bool { return r.TeamID == "team_1" })},
		{"model", store.UsageFilter{Model: "sonnet"}, pick(func(r store.UsageRecord) bool { return r.RequestedModel == "sonnet" })},
		{"provider", store.UsageFilter{Provider: "gemini"}, pick(func(r store.UsageRecord) bool { return r.Provider == "gemini" })},
		{"status", store.UsageFilter{Status: 429}, pick(func(r store.UsageRecord) bool { return r.Status == 429 })},
		{"errors", store.UsageFilter{ErrorsOnly: true}, pick(func(r store.UsageRecord) bool { return r.Failed() })},
		{"request", store.UsageFilter{RequestID: "req-000007"}, []string{"req-000007"}},
		{"from inclusive, to exclusive", store.UsageFilter{From: day.Add(3 * time.Hour), To: day.Add(6 * time.Hour)},
			[]string{"req-000005", "req-000004", "req-000003"}},
		{"from in another zone", store.UsageFilter{From: day.Add(22 * time.Hour).In(time.FixedZone("X", 5*3600))},
			[]string{"req-000023", "req-000022"}},
		{"combined", store.UsageFilter{KeyID: "key_1", Provider: "claude", To: day.Add(12 * time.Hour)},
			pick(func(r store.UsageRecord) bool {
				return r.KeyID == "key_1" && r.Provider == "claude" && r.Time.Before(day.Add(12*time.Hour))
			})},
		{"nothing", store.UsageFilter{KeyID: "key_none"}, nil},
	}
	for _, tt := range tests {
		got := requestIDs(list(t, s, store.ListQuery{Filter: tt.f}))
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func testUsageListPaging(t *testing.T, s store.Store) {
	var records []store.UsageRecord
	for i := range 250 {
		records = append(records, record(i, day))
	}
	insert(t, s, records[:100])
	insert(t, s, records[100:])

	if got := list(t, s, store.ListQuery{}); len(got) != 100 {
		t.Errorf("default limit gave %d records, want 100", len(got))
	}
	var seen []string
	var before int64
	for page := 0; ; page++ {
		got := list(t, s, store.ListQuery{Limit: 64, BeforeID: before})
		if len(got) == 0 {
			break
		}
		if page > 10 {
			t.Fatal("paging does not end")
		}
		for _, r := range got {
			if before != 0 && r.ID >= before {
				t.Fatalf("page %d: ID %d not before %d", page, r.ID, before)
			}
			before = r.ID
			seen = append(seen, r.RequestID)
		}
	}
	var want []string
	for i := len(records) - 1; i >= 0; i-- {
		want = append(want, records[i].RequestID)
	}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("paged through %d records, want all %d newest first", len(seen), len(want))
	}
}

func testUsageBigBatch(t *testing.T, s store.Store) {
	const n = 10000
	records := make([]store.UsageRecord, n)
	var tokens int64
	for i := range records {
		records[i] = record(i, day.Add(time.Duration(i)*time.Second))
		tokens += records[i].InputTokens
	}
	insert(t, s, records)
	a, err := s.AggregateUsage(ctx(t), store.AggregateQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if a[0].Requests != n || a[0].InputTokens != tokens {
		t.Fatalf("after a batch of %d: %d records, %d input tokens (want %d)", n, a[0].Requests, a[0].InputTokens, tokens)
	}
	last := list(t, s, store.ListQuery{Limit: 1})
	if len(last) != 1 || last[0].RequestID != records[n-1].RequestID {
		t.Fatalf("newest record = %v, want %s", requestIDs(last), records[n-1].RequestID)
	}
}

func testUsageRetention(t *testing.T, s store.Store) {
	// 6000 old records (more than one deletion chunk of the implementations
	// here), 50 at the cutoff and after.
	cutoff := day.Add(30 * 24 * time.Hour)
	var old, recent []store.UsageRecord
	for i := range 6000 {
		old = append(old, record(i, cutoff.Add(-time.Duration(i+1)*time.Minute)))
	}
	for i := range 50 {
		recent = append(recent, record(100000+i, cutoff.Add(time.Duration(i)*time.Minute)))
	}
	insert(t, s, old)
	insert(t, s, recent)

	n, err := s.DeleteUsageBefore(ctx(t), cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(old)) {
		t.Errorf("DeleteUsageBefore deleted %d, want %d", n, len(old))
	}
	if got := countUsage(t, s, store.UsageFilter{}); got != int64(len(recent)) {
		t.Errorf("%d records left, want %d", got, len(recent))
	}
	left := list(t, s, store.ListQuery{Limit: 1000})
	if !slices.ContainsFunc(left, func(r store.UsageRecord) bool { return r.Time.Equal(cutoff) }) {
		t.Error("the record exactly at the cutoff was deleted")
	}
	if n, err = s.DeleteUsageBefore(ctx(t), cutoff); err != nil || n != 0 {
		t.Errorf("second DeleteUsageBefore = %d, %v", n, err)
	}
}

// sameFloat compares sums whose rounding depends on the order of addition.
func sameFloat(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}
