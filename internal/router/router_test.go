package router

import (
	"errors"
	"strings"
	"testing"

	"github.com/llmux/llmux/llm"
)

func testTable(t *testing.T) *Table {
	t.Helper()
	tb, err := New([]Provider{
		{ID: "openai", Names: []string{"gpt-4o-mini", "gpt-4.1"}, Models: map[string]string{"gpt-4o-mini": "gpt-4o-mini", "gpt-4.1": "gpt-4.1"}},
		{ID: "claude", Names: []string{"sonnet"}, Models: map[string]string{"sonnet": "claude-sonnet-4-5"}},
		{ID: "openrouter"},
		{ID: "deepseek", Patterns: []string{"deepseek-*"}},
		{ID: "groq", Names: []string{"gpt-4.1"}, Models: map[string]string{"gpt-4.1": "openai/gpt-4.1"}},
		{ID: "mock"},
		{ID: "mock.v2"},
	}, []Route{
		{Name: "smart", Targets: []Target{{Model: "claude/sonnet", Weight: 3}, {Model: "openai/gpt-4.1", Weight: 1}},
			Fallbacks: []string{"openai/gpt-4o-mini"}},
		{Name: "tiered", Targets: []Target{{Model: "openai/gpt-4o-mini", Weight: 1}, {Model: "claude/sonnet", Weight: 1, Priority: 5}},
			Fallbacks: []string{"smart"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestResolve(t *testing.T) {
	tb := testTable(t)
	tb.RandIntN = func(n int) int { return 0 } // always the first by weight
	tests := []struct {
		name    string
		want    string // provider:model,… in order
		wantErr string
	}{
		{"claude/sonnet", "claude:claude-sonnet-4-5", ""},
		{"claude.sonnet", "claude:claude-sonnet-4-5", ""},
		{"openai/gpt-4.1", "openai:gpt-4.1", ""},
		{"openai.gpt-4.1", "openai:gpt-4.1", ""},
		{"openrouter/anthropic/claude-3.5-sonnet", "openrouter:anthropic/claude-3.5-sonnet", ""},
		{"openrouter.anthropic/claude-3.5-sonnet", "openrouter:anthropic/claude-3.5-sonnet", ""},
		{"mock.v2/echo", "mock.v2:echo", ""},
		{"mock.v2.echo", "mock.v2:echo", ""},
		{"mock/echo", "mock:echo", ""},
		{"sonnet", "claude:claude-sonnet-4-5", ""},
		{"gpt-4o-mini", "openai:gpt-4o-mini", ""},
		{"deepseek-chat", "deepseek:deepseek-chat", ""},
		{"smart", "claude:claude-sonnet-4-5,openai:gpt-4.1,openai:gpt-4o-mini", ""},
		{"tiered", "claude:claude-sonnet-4-5,openai:gpt-4o-mini,openai:gpt-4.1", ""},
		{"gpt-4.1", "", "served by several providers; name one of: openai/gpt-4.1, groq/gpt-4.1"},
		{"claude/opus", "", "The model `claude/opus` does not exist"},
		{"nope", "", "The model `nope` does not exist"},
		{"unknown/x", "", "The model `unknown/x` does not exist"},
		{"", "", "does not exist"},
		{"openai/", "", "does not exist"},
	}
	for _, tt := range tests {
		cs, err := tb.Resolve(tt.name)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Resolve(%q) err = %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Resolve(%q): %v", tt.name, err)
			continue
		}
		var got []string
		for _, c := range cs {
			got = append(got, c.Provider+":"+c.Model)
		}
		if g := strings.Join(got, ","); g != tt.want {
			t.Errorf("Resolve(%q) = %s, want %s", tt.name, g, tt.want)
		}
	}
}

func TestNotFoundIsTyped(t *testing.T) {
	_, err := testTable(t).Resolve("claude/opus")
	var e *llm.Error
	if !errors.As(err, &e) || e.Kind != llm.KindNotFound || e.Code != "model_not_found" {
		t.Fatalf("err = %#v", err)
	}
}

func TestFallbackMarked(t *testing.T) {
	tb := testTable(t)
	cs, _ := tb.Resolve("smart")
	if cs[len(cs)-1].Fallback != true || cs[0].Fallback {
		t.Fatalf("fallback flags = %+v", cs)
	}
}

func TestWeightsSpreadFirstPicks(t *testing.T) {
	tb := testTable(t) // real random source
	const n = 20000
	first := map[string]int{}
	for i := 0; i < n; i++ {
		cs, err := tb.Resolve("smart")
		if err != nil {
			t.Fatal(err)
		}
		first[cs[0].Provider]++
		if len(cs) != 3 {
			t.Fatalf("candidates = %d, want every target plus the fallback", len(cs))
		}
	}
	// Weights 3:1 → 75% ± 1.5% (more than 6 standard deviations at n=20000).
	share := float64(first["claude"]) / n
	if share < 0.735 || share > 0.765 {
		t.Fatalf("claude share = %.3f, want 0.75", share)
	}
}

func TestBadTargets(t *testing.T) {
	provs := []Provider{{ID: "openai", Names: []string{"a"}, Models: map[string]string{"a": "a"}}}
	for _, tt := range []struct {
		routes []Route
		want   string
	}{
		{[]Route{{Name: "r", Targets: []Target{{Model: "nope/x", Weight: 1}}}}, `no provider "nope"`},
		{[]Route{{Name: "r", Targets: []Target{{Model: "openai/b", Weight: 1}}}}, `does not serve the model "b"`},
		{[]Route{{Name: "r", Targets: []Target{{Model: "openai/a", Weight: 1}}, Fallbacks: []string{"zzz"}}}, "does not exist"},
	} {
		_, err := New(provs, tt.routes)
		var te *TargetError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New err = %v, want %q", err, tt.want)
		}
	}
}

func TestModels(t *testing.T) {
	var ids []string
	for _, m := range testTable(t).Models() {
		ids = append(ids, m.ID+"@"+m.OwnedBy)
	}
	got := strings.Join(ids, " ")
	for _, want := range []string{"smart@llmux", "claude/sonnet@claude", "openai/gpt-4.1@openai", "groq/gpt-4.1@groq", "sonnet@claude", "gpt-4o-mini@openai"} {
		if !strings.Contains(got, want) {
			t.Errorf("Models() = %s, missing %s", got, want)
		}
	}
	if strings.Contains(got, " gpt-4.1@") {
		t.Errorf("ambiguous bare name listed: %s", got)
	}
}

func BenchmarkResolve(b *testing.B) {
	var provs []Provider
	for i := 0; i < 100; i++ {
		id := "p" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		provs = append(provs, Provider{ID: id, Names: []string{"m1", "m2"}, Models: map[string]string{"m1": "u1", "m2": "u2"}})
	}
	var routes []Route
	for i := 0; i < 50; i++ {
		routes = append(routes, Route{Name: "r" + string(rune('a'+i%26)) + string(rune('a'+i/26)),
			Targets:   []Target{{Model: provs[i].ID + "/m1", Weight: 3}, {Model: provs[i+1].ID + "/m2", Weight: 1}},
			Fallbacks: []string{provs[i+2].ID + "/m1"}})
	}
	tb, err := New(provs, routes)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("route", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := tb.Resolve("rba"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("qualified", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := tb.Resolve("pzc/m2"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
