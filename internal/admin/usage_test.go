package admin_test

import (
	"fmt"
	"math"
	"net/url"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/store"
)

var day0 = time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)

// usageRecords inserts five records over three days and returns the team's
// id. Keys A and B; A is in team "research".
func usageRecords(t *testing.T, e *env) string {
	t.Helper()
	team := str(e.ok(201, "POST", "/admin/api/teams", `{"name":"research"}`).body["id"])
	rec := func(at time.Time, key, teamID, model, upstream, provider string, in, out int64, cost float64, lat, ttft time.Duration, status int, errType string) store.UsageRecord {
		return store.UsageRecord{Time: at, KeyID: key, TeamID: teamID, RequestedModel: model, UpstreamModel: upstream,
			Provider: provider, InputTokens: in, OutputTokens: out, CachedTokens: in / 10, ReasoningTokens: out / 5,
			CostUSD: cost, Latency: lat, TTFT: ttft, Status: status, ErrorType: errType, Attempts: 1}
	}
	records := []store.UsageRecord{
		rec(day0.Add(10*time.Hour), "A", team, "gpt-4o", "gpt-4o-2024-08-06", "openai", 100, 50, 0.01, 200*time.Millisecond, 0, 200, ""),
		rec(day0.Add(11*time.Hour+30*time.Minute), "A", team, "gpt-4o", "gpt-4o-2024-08-06", "openai", 200, 100, 0.02, 400*time.Millisecond, 100*time.Millisecond, 200, ""),
		rec(day0.Add(24*time.Hour-time.Second), "B", "", "claude", "claude-sonnet-4-5", "anthropic", 300, 10, 0.03, 300*time.Millisecond, 0, 500, "upstream"),
		rec(day0.Add(24*time.Hour), "B", "", "claude", "claude-sonnet-4-5", "anthropic", 1, 1, 0.001, 10*time.Millisecond, 0, 429, "rate_limited"),
		rec(day0.Add(60*time.Hour), "A", team, "gpt-4o", "gpt-4o", "azure", 10, 10, 0.002, 600*time.Millisecond, 0, 200, ""),
	}
	if err := e.store.InsertUsage(t.Context(), records); err != nil {
		t.Fatal(err)
	}
	return team
}

// rows asks for usage and returns its rows.
func rows(t *testing.T, e *env, query string) []map[string]any {
	t.Helper()
	a := e.ok(200, "GET", "/admin/api/usage"+query, "")
	list, ok := a.body["rows"].([]any)
	if !ok {
		t.Fatalf("no rows: %s", a.raw)
	}
	out := make([]map[string]any, len(list))
	for i, r := range list {
		out[i] = r.(map[string]any)
	}
	return out
}

// summary prints rows' dimension fields and request counts, e.g.
// "A:3 B:2".
func summary(rows []map[string]any, dims ...string) string {
	s := ""
	for i, r := range rows {
		if i > 0 {
			s += " "
		}
		for j, d := range dims {
			if j > 0 {
				s += "/"
			}
			s += fmt.Sprint(r[d])
		}
		s += fmt.Sprintf(":%d", int(num(r["requests"])))
	}
	return s
}

func TestUsage(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		e := newEnv(t, s)
		team := usageRecords(t, e)

		all := e.ok(200, "GET", "/admin/api/usage", "").body
		if all["from"] != nil || all["to"] != nil || fmt.Sprint(all["group_by"]) != "[]" {
			t.Errorf("unbounded: %v", all)
		}
		total := all["rows"].([]any)[0].(map[string]any)
		want := map[string]float64{"requests": 5, "errors": 2, "input_tokens": 611, "output_tokens": 171,
			"cached_tokens": 10 + 20 + 30 + 0 + 1, "reasoning_tokens": 10 + 20 + 2 + 0 + 2}
		for f, w := range want {
			if num(total[f]) != w {
				t.Errorf("total %s = %v, want %v", f, total[f], w)
			}
		}
		if math.Abs(num(total["cost_usd"])-0.063) > 1e-9 || math.Abs(num(total["avg_latency_ms"])-302) > 1e-6 || num(total["avg_ttft_ms"]) != 100 {
			t.Errorf("total: %v", total)
		}
		for _, d := range []string{"key", "team", "model", "upstream_model", "provider", "day", "hour"} {
			if _, has := total[d]; has {
				t.Errorf("ungrouped row has %q: %v", d, total)
			}
		}

		byKey := rows(t, e, "?group_by=key")
		if got := summary(byKey, "key"); got != "A:3 B:2" {
			t.Errorf("group_by=key: %s", got)
		}
		if _, has := byKey[0]["model"]; has || num(byKey[0]["avg_latency_ms"]) != 400 || num(byKey[0]["avg_ttft_ms"]) != 100 {
			t.Errorf("group_by=key row: %v", byKey[0])
		}
		if got := summary(rows(t, e, "?group_by=model,provider"), "model", "provider"); got != "claude/anthropic:2 gpt-4o/azure:1 gpt-4o/openai:2" {
			t.Errorf("group_by=model,provider: %s", got)
		}
		if got := summary(rows(t, e, "?group_by=provider&group_by=key"), "provider", "key"); got != "anthropic/B:2 azure/A:1 openai/A:2" {
			t.Errorf("repeated group_by: %s", got)
		}
		if got := summary(rows(t, e, "?group_by=day"), "day"); got != "2025-03-10T00:00:00Z:3 2025-03-11T00:00:00Z:1 2025-03-12T00:00:00Z:1" {
			t.Errorf("group_by=day: %s", got)
		}
		if got := summary(rows(t, e, "?group_by=hour&key=A"), "hour"); got != "2025-03-10T10:00:00Z:1 2025-03-10T11:00:00Z:1 2025-03-12T12:00:00Z:1" {
			t.Errorf("group_by=hour: %s", got)
		}
		if got := summary(rows(t, e, "?group_by=team"), "team"); got != ":2 "+team+":3" {
			t.Errorf("group_by=team: %s", got)
		}
		if got := summary(rows(t, e, "?group_by=upstream_model&provider=openai"), "upstream_model"); got != "gpt-4o-2024-08-06:2" {
			t.Errorf("group_by=upstream_model: %s", got)
		}

		// Filters and dates: a date-only "to" includes its whole day; an
		// RFC 3339 "to" is exclusive.
		for _, tt := range []struct{ query, want string }{
			{"?key=A", "3"},
			{"?team=research", "3"},
			{"?team=" + team, "3"},
			{"?team=team_gone", "0"},
			{"?model=claude", "2"},
			{"?provider=azure", "1"},
			{"?key=A&provider=openai&model=gpt-4o", "2"},
			{"?from=2025-03-10&to=2025-03-10", "3"},
			{"?from=2025-03-10&to=2025-03-11", "4"},
			{"?from=2025-03-11", "2"},
			{"?to=2025-03-10T23:59:59Z", "2"},
			{"?to=2025-03-11T01:00:00%2B01:00", "3"},
			{"?from=2025-03-10T11:30:00Z&to=2025-03-10T11:30:00.000001Z", "1"},
			{"?from=2025-03-10&to=2025-03-10T00:00:00Z", "0"},
		} {
			r := rows(t, e, tt.query)
			if got := fmt.Sprint(num(r[0]["requests"])); got != tt.want {
				t.Errorf("%s: %s requests, want %s", tt.query, got, tt.want)
			}
		}
		a := e.ok(200, "GET", "/admin/api/usage?from=2025-03-10&to=2025-03-11&group_by=key", "").body
		if a["from"] != "2025-03-10T00:00:00Z" || a["to"] != "2025-03-12T00:00:00Z" || fmt.Sprint(a["group_by"]) != "[key]" {
			t.Errorf("echoed range: %v %v %v", a["from"], a["to"], a["group_by"])
		}
	})
}

func TestLogs(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		e := newEnv(t, s)
		team := str(e.ok(201, "POST", "/admin/api/teams", `{"name":"research"}`).body["id"])
		var records []store.UsageRecord
		for i := range 25 {
			r := store.UsageRecord{
				Time: day0.Add(time.Duration(i) * time.Minute), RequestID: fmt.Sprintf("req-%d", i),
				KeyID: []string{"A", "B"}[i%2], RequestedModel: []string{"gpt-4o", "claude"}[i%2],
				Provider: []string{"openai", "anthropic"}[i%2], UpstreamModel: "up", ProtocolIn: "openai", ProtocolOut: "anthropic",
				InputTokens: int64(i), OutputTokens: 2 * int64(i), CachedTokens: 1, ReasoningTokens: 2, CostUSD: 0.5,
				Latency: 1500 * time.Microsecond, TTFT: 250 * time.Microsecond, Status: 200, Attempts: 1 + i%3, Estimated: i == 3,
			}
			if i%2 == 0 {
				r.TeamID = team
			}
			if i%5 == 0 {
				r.Status, r.ErrorType = 500, "upstream"
			}
			if i == 7 {
				r.Prompt, r.Completion = "what is 2+2?", "4"
			}
			records = append(records, r)
		}
		if err := s.InsertUsage(t.Context(), records); err != nil {
			t.Fatal(err)
		}

		// Paging: newest first, next_before until the last page.
		var seen []string
		before := ""
		for page := 0; ; page++ {
			a := e.ok(200, "GET", "/admin/api/logs?limit=10"+before, "").body
			recs := a["records"].([]any)
			for _, r := range recs {
				seen = append(seen, str(r.(map[string]any)["request_id"]))
			}
			if a["next_before"] == nil {
				if page != 2 || len(recs) != 5 {
					t.Errorf("the last page is page %d with %d records", page, len(recs))
				}
				break
			}
			last := recs[len(recs)-1].(map[string]any)
			if num(a["next_before"]) != num(last["id"]) {
				t.Errorf("next_before %v, last id %v", a["next_before"], last["id"])
			}
			before = fmt.Sprintf("&before=%d", int64(num(a["next_before"])))
			if page > 3 {
				t.Fatal("paging does not end")
			}
		}
		if len(seen) != 25 || seen[0] != "req-24" || seen[24] != "req-0" {
			t.Errorf("pages: %v", seen)
		}
		if a := e.ok(200, "GET", "/admin/api/logs?limit=25", "").body; len(a["records"].([]any)) != 25 || a["next_before"] != nil {
			t.Errorf("an exact last page still offers next_before: %v", a["next_before"])
		}
		if a := e.ok(200, "GET", "/admin/api/logs", "").body; len(a["records"].([]any)) != 25 || a["next_before"] != nil {
			t.Errorf("default limit: %d records", len(a["records"].([]any)))
		}

		// One record, every field.
		one := e.ok(200, "GET", "/admin/api/logs?request_id=req-3", "").body["records"].([]any)
		if len(one) != 1 {
			t.Fatalf("request_id: %v", one)
		}
		r := one[0].(map[string]any)
		want := map[string]any{"time": "2025-03-10T00:03:00Z", "request_id": "req-3", "key_id": "B", "team_id": "",
			"requested_model": "claude", "provider": "anthropic", "upstream_model": "up", "protocol_in": "openai",
			"protocol_out": "anthropic", "input_tokens": 3.0, "output_tokens": 6.0, "cached_tokens": 1.0, "reasoning_tokens": 2.0,
			"cost_usd": 0.5, "latency_ms": 1.5, "ttft_ms": 0.25, "status": 200.0, "error_type": "", "attempts": 1.0, "estimated": true}
		for f, w := range want {
			if r[f] != w {
				t.Errorf("%s = %#v, want %#v", f, r[f], w)
			}
		}
		if num(r["id"]) < 1 || len(r) != len(want)+1 {
			t.Errorf("fields: %v", r)
		}

		// Content only on request, and only where stored.
		plain := e.ok(200, "GET", "/admin/api/logs?request_id=req-7", "").body["records"].([]any)[0].(map[string]any)
		if _, has := plain["prompt"]; has {
			t.Errorf("prompt without content=true: %v", plain)
		}
		withContent := e.ok(200, "GET", "/admin/api/logs?content=true&key=B", "").body["records"].([]any)
		prompts := 0
		for _, x := range withContent {
			m := x.(map[string]any)
			if _, has := m["prompt"]; has {
				prompts++
				if m["prompt"] != "what is 2+2?" || m["completion"] != "4" || m["request_id"] != "req-7" {
					t.Errorf("content: %v", m)
				}
			}
		}
		if prompts != 1 {
			t.Errorf("%d records with a prompt, want 1", prompts)
		}

		// Filters.
		count := func(query string) int {
			return len(e.ok(200, "GET", "/admin/api/logs?limit=100&"+query, "").body["records"].([]any))
		}
		for _, tt := range []struct {
			query string
			want  int
		}{
			{"key=A", 13}, {"team=research", 13}, {"team=" + team, 13}, {"model=claude", 12}, {"provider=openai", 13},
			{"status=500", 5}, {"status=200", 20}, {"errors=true", 5}, {"errors=false", 25}, {"errors=true&key=B", 2},
			{"from=2025-03-10T00:10:00Z", 15}, {"to=2025-03-10T00:10:00Z", 10}, {"from=2025-03-10&to=2025-03-10", 25},
			{"from=2025-03-11", 0}, {"request_id=nope", 0}, {"key=A&status=500&model=gpt-4o&provider=openai", 3},
			{"from=" + url.QueryEscape("2025-03-10T01:05:00+01:00"), 20},
		} {
			if got := count(tt.query); got != tt.want {
				t.Errorf("%s: %d records, want %d", tt.query, got, tt.want)
			}
		}
		// Paging combines with filters.
		a := e.ok(200, "GET", "/admin/api/logs?key=A&limit=5", "").body
		next := int64(num(a["next_before"]))
		b := e.ok(200, "GET", fmt.Sprintf("/admin/api/logs?key=A&limit=100&before=%d", next), "").body["records"].([]any)
		if len(b) != 8 {
			t.Errorf("second filtered page: %d records, want 8", len(b))
		}
	})
}
