package usage_test

import (
	"math"
	"testing"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/limits"
	"github.com/llmux/llmux/internal/usage"
	"github.com/llmux/llmux/llm"
)

func TestCost(t *testing.T) {
	gpt4o := usage.Price{Input: 2.50, Output: 10, CachedInput: 1.25}
	sonnet := usage.Price{Input: 3, Output: 15, CachedInput: 0.30, CacheWrite: 3.75}
	tests := []struct {
		name  string
		price usage.Price
		u     llm.Usage
		want  limits.Money
	}{
		{"uncached input", gpt4o, llm.Usage{InputTokens: 1_000_000}, 2_500_000_000},
		{"output, reasoning counted once", gpt4o, llm.Usage{OutputTokens: 1000, ReasoningTokens: 900}, 10_000_000},
		// 600 × 2.50 + 400 × 1.25 + 500 × 10 = 7000 per million tokens.
		{"cached and uncached input and output", gpt4o,
			llm.Usage{InputTokens: 1000, CachedTokens: 400, OutputTokens: 500, ReasoningTokens: 200}, 7_000_000},
		// 5000 × 3 + 2000 × 0.30 + 3000 × 3.75 + 100 × 15 = 28350.
		{"cache writes at their own price", sonnet,
			llm.Usage{InputTokens: 10_000, CachedTokens: 2000, CacheWriteTokens: 3000, OutputTokens: 100}, 28_350_000},
		{"cache write price 0 means input", gpt4o, llm.Usage{InputTokens: 1000, CacheWriteTokens: 1000}, 2_500_000},
		{"rounded to the nano-dollar", usage.Price{Input: 0.0375}, llm.Usage{InputTokens: 1}, 38},
		{"no float drift", usage.Price{Input: 0.10}, llm.Usage{InputTokens: 3}, 300},
		{"cached larger than input is clamped", gpt4o, llm.Usage{InputTokens: 1000, CachedTokens: 5000}, 1_250_000},
		{"negative counts are zero", gpt4o, llm.Usage{InputTokens: -5, OutputTokens: -1}, 0},
		{"nothing", gpt4o, llm.Usage{}, 0},
		{"free model", usage.Price{}, llm.Usage{InputTokens: 1e6, OutputTokens: 1e6}, 0},
		{"saturates", usage.Price{Input: 1e9}, llm.Usage{InputTokens: math.MaxInt32}, math.MaxInt64},
	}
	for _, tt := range tests {
		if got := tt.price.Cost(tt.u); got != tt.want {
			t.Errorf("%s: Cost = %d (%v), want %d (%v)", tt.name, got, got, tt.want, tt.want)
		}
	}
	if got := gpt4o.Cost(llm.Usage{InputTokens: 1000, CachedTokens: 400, OutputTokens: 500}); got != limits.Dollars(0.007) {
		t.Errorf("Cost = %v, want $0.007", got)
	}
}

func ptr(f float64) *float64 { return &f }

// TestLookupOverridePrecedence: provider/model beats model beats prefix
// beats built-in; among prefixes the provider-qualified beat the bare and
// the longer beat the shorter.
func TestLookupOverridePrecedence(t *testing.T) {
	tb := usage.NewTable(map[string]*config.Price{
		"azure/gpt-4o":                {Input: 1, Output: 1},
		"gpt-4o":                      {Input: 2, Output: 2, CachedInput: ptr(0.5)},
		"gpt-4*":                      {Input: 3, Output: 3},
		"gpt-4o*":                     {Input: 4, Output: 4},
		"azure/gpt-4*":                {Input: 5, Output: 5},
		"My-Model":                    {Input: 6, Output: 6},
		"anthropic/claude-3.5-sonnet": {Input: 7, Output: 7},
		"g*":                          {Input: 9, Output: 9},
	})
	tests := []struct {
		provider, model string
		want            float64 // Input of the price found
	}{
		{"azure", "gpt-4o", 1},
		{"openai", "gpt-4o", 2},
		{"azure", "gpt-4o-2024-08-06", 1}, // the override covers the family's snapshots
		{"openai", "gpt-4o-2024-08-06", 2},
		{"openai", "gpt-4o-mini", 4}, // longest prefix
		{"azure", "gpt-4o-mini", 5},  // provider-qualified prefix before a longer bare one
		{"openai", "gpt-4.1", 3},
		{"openai", "o3", 2.00}, // built-in
		{"x", "my-model", 6},   // case-insensitive
		{"x", "MY-MODEL", 6},
		{"openrouter", "anthropic/claude-3.5-sonnet", 7}, // an aggregator's model name holding a slash
		{"openrouter", "anthropic/claude-3-5-haiku", 0.80},
		{"groq", "llama-3.3-70b-versatile", 0.59}, // "g*" prices models named g…, not provider groq's
		{"google", "gemini-2.5-pro", 9},
	}
	for _, tt := range tests {
		p, ok := tb.Lookup(tt.provider, tt.model)
		if !ok || p.Input != tt.want {
			t.Errorf("Lookup(%q, %q) = %+v, %v; want Input %v", tt.provider, tt.model, p, ok, tt.want)
		}
	}
	if p, _ := tb.Lookup("openai", "gpt-4.1"); p.CachedInput != 3 {
		t.Errorf("an override without cached_input charges cached tokens %v, want the input price 3", p.CachedInput)
	}
	if p, _ := tb.Lookup("openai", "gpt-4o"); p.CachedInput != 0.5 {
		t.Errorf("cached_input override = %v, want 0.5", p.CachedInput)
	}

	free := usage.NewTable(map[string]*config.Price{"mock/*": {}, "nil-entry": nil})
	if p, ok := free.Lookup("mock", "gpt-4o"); !ok || p != (usage.Price{}) {
		t.Errorf("mock/* = %+v, %v; want free", p, ok)
	}
	if p, ok := free.Lookup("openai", "gpt-4o"); !ok || p.Input != 2.50 {
		t.Errorf("openai gpt-4o under mock/* = %+v, %v; want the built-in price", p, ok)
	}
	if _, ok := free.Lookup("x", "nil-entry"); ok {
		t.Error("a nil override was used")
	}
	all := usage.NewTable(map[string]*config.Price{"*": {Input: 1, Output: 2}})
	if p, ok := all.Lookup("any", "unknown-model"); !ok || p.Output != 2 {
		t.Errorf(`"*" = %+v, %v; want it to price every model`, p, ok)
	}
}

// TestLookupNormalisation: dated snapshots, channels and aggregator or
// cloud names find their family's built-in price.
func TestLookupNormalisation(t *testing.T) {
	tb := usage.NewTable(nil)
	tests := []struct{ provider, model, base string }{
		{"openai", "gpt-4o-2024-08-06", "gpt-4o"},
		{"openai", "GPT-4o", "gpt-4o"},
		{"openai", " gpt-4o ", "gpt-4o"},
		{"openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"},
		{"openai", "o3-mini-2025-01-31", "o3-mini"},
		{"openai", "gpt-4o-audio-preview", "gpt-4o"},
		{"openai", "gpt-5-chat-latest", "gpt-5"},
		{"openai", "gpt-3.5-turbo-0125", "gpt-3.5-turbo"},
		{"azure", "gpt-4.1-mini", "gpt-4.1-mini"},
		{"claude", "claude-sonnet-4-20250514", "claude-sonnet-4"},
		{"claude", "claude-opus-4-1-20250805", "claude-opus-4-1"},
		{"claude", "claude-3-5-haiku-latest", "claude-3-5-haiku"},
		{"claude", "claude-3-haiku-20240307", "claude-3-haiku"},
		{"claude", "claude-opus-4-0", "claude-opus-4"},
		{"openrouter", "openai/gpt-4o-mini", "gpt-4o-mini"},
		{"openrouter", "anthropic/claude-3.5-sonnet", "claude-3-5-sonnet"},
		{"openrouter", "anthropic/claude-sonnet-4.5", "claude-sonnet-4-5"},
		{"openrouter", "anthropic/claude-3.7-sonnet:thinking", "claude-3-7-sonnet"},
		{"openrouter", "google/gemini-2.5-flash", "gemini-2.5-flash"},
		{"openrouter", "deepseek/deepseek-chat", "deepseek-chat"},
		{"openrouter", "x-ai/grok-3-mini", "grok-3-mini"},
		{"openrouter", "moonshotai/kimi-k2:free", "kimi-k2"},
		{"openrouter", "qwen/qwen-max", "qwen-max"},
		{"vertex", "claude-3-5-sonnet-v2@20241022", "claude-3-5-sonnet"},
		{"vertex", "claude-sonnet-4@20250514", "claude-sonnet-4"},
		{"bedrock", "anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku"},
		{"bedrock", "us.anthropic.claude-sonnet-4-20250514-v1:0", "claude-sonnet-4"},
		{"gemini", "gemini-2.5-flash-preview-05-20", "gemini-2.5-flash"},
		{"gemini", "gemini-2.0-flash-001", "gemini-2.0-flash"},
		{"gemini", "gemini-2.5-flash-lite-preview-09-2025", "gemini-2.5-flash-lite"},
		{"cohere", "command-r-plus-08-2024", "command-r-plus"},
		{"cohere", "command-a-03-2025", "command-a"},
		{"cohere", "command-r7b-12-2024", "command-r7b"},
		{"xai", "grok-4-0709", "grok-4"},
		{"xai", "grok-4-fast-reasoning", "grok-4-fast"},
		{"moonshot", "kimi-k2-0905-preview", "kimi-k2"},
		{"mistral", "mistral-large-latest", "mistral-large"},
		{"mistral", "mistral-medium-2508", "mistral-medium"},
		{"mistral", "mistral-large-2411", "mistral-large-2411"}, // a snapshot with a price of its own
		{"qwen", "qwen-plus-2025-07-28", "qwen-plus"},
		{"groq", "llama-3.1-8b-instant", "llama-3.1-8b-instant"},
	}
	for _, tt := range tests {
		want, ok := tb.Lookup("", tt.base)
		if !ok {
			t.Fatalf("no built-in price for %q", tt.base)
		}
		got, ok := tb.Lookup(tt.provider, tt.model)
		if !ok || got != want {
			t.Errorf("Lookup(%q, %q) = %+v, %v; want %s's %+v", tt.provider, tt.model, got, ok, tt.base, want)
		}
	}
	if a, _ := tb.Lookup("", "mistral-large-2411"); a.Input != 2 {
		t.Errorf("mistral-large-2411 input = %v, want its own 2.00", a.Input)
	}
}

// TestLookupUnknown: what is not in the list has no price, rather than a
// wrong one borrowed from a neighbour.
func TestLookupUnknown(t *testing.T) {
	tb := usage.NewTable(nil)
	var nilTable *usage.Table
	for _, m := range []struct{ provider, model string }{
		{"mock", "mock-1"},
		{"mock", "echo"},
		{"openai", "gpt-5.9"},         // a newer version, not gpt-5
		{"claude", "claude-opus-4-9"}, // not claude-opus-4
		{"openai", "gpt-4"},
		{"openai", "o3x"},
		{"cohere", "command-r-12b"}, // another size, not command-r
		{"groq", "llama-3-8b-8192"},
		{"ollama", "llama3.2:3b"},
		{"openai", ""},
		{"openai", "/"},
	} {
		if p, ok := tb.Lookup(m.provider, m.model); ok {
			t.Errorf("Lookup(%q, %q) = %+v, want unknown", m.provider, m.model, p)
		}
	}
	if p, ok := nilTable.Lookup("openai", "gpt-4o"); !ok || p.Input != 2.50 {
		t.Errorf("a nil table gives %+v, %v; want the built-in price", p, ok)
	}
}

func TestMaxOutput(t *testing.T) {
	tb := usage.NewTable(map[string]*config.Price{"gpt-4o": {Input: 1, Output: 1}})
	for _, tt := range []struct {
		model string
		want  int
	}{
		{"gpt-4o", 16_384},
		{"gpt-4o-2024-08-06", 16_384},
		{"claude-sonnet-4-5-20250929", 64_000},
		{"deepseek-reasoner", 65_536},
		{"text-embedding-3-small", 0},
		{"no-such-model", 0},
	} {
		if got := tb.MaxOutput("p", tt.model); got != tt.want {
			t.Errorf("MaxOutput(%q) = %d, want %d", tt.model, got, tt.want)
		}
	}
}
