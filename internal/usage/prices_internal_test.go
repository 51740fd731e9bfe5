package usage

import (
	"math"
	"strings"
	"testing"
)

// TestBuiltinTable keeps the built-in list well formed: one lower-case row
// per model, sane prices, every vendor of the supported providers present,
// and every row reachable by its own name.
func TestBuiltinTable(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range builtinModels {
		if m.name != strings.ToLower(strings.TrimSpace(m.name)) || m.name == "" {
			t.Errorf("%q: names are lower case and trimmed", m.name)
		}
		if seen[m.name] {
			t.Errorf("%q is listed twice", m.name)
		}
		seen[m.name] = true
		p := m.price
		for _, v := range []float64{p.Input, p.Output, p.CachedInput, p.CacheWrite} {
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("%s: price %+v out of range", m.name, p)
			}
		}
		if p.Input <= 0 || p.CachedInput > p.Input || (p.CacheWrite != 0 && p.CacheWrite < p.Input) {
			t.Errorf("%s: price %+v: want input > 0, cached ≤ input, cache write 0 or ≥ input", m.name, p)
		}
		embedding := strings.Contains(m.name, "embedding")
		if embedding != (p.Output == 0) || embedding != (m.maxOutput == 0) {
			t.Errorf("%s: only embedding models lack an output price and limit (%+v, %d)", m.name, p, m.maxOutput)
		}
		var buf [4]string
		if got := findBuiltin(candidates(m.name, &buf)); got != builtinIndex[m.name] {
			t.Errorf("%s resolves to %v", m.name, got)
		}
	}
	for _, name := range []string{
		"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o1", "o3", "o3-mini", "o4-mini",
		"gpt-5", "gpt-5-mini", "gpt-5-nano", "text-embedding-3-small", "text-embedding-3-large",
		"claude-opus-4-1", "claude-opus-4", "claude-sonnet-4-5", "claude-sonnet-4", "claude-3-7-sonnet",
		"claude-3-5-haiku", "claude-haiku-4-5", "claude-3-haiku",
		"gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.0-flash", "gemini-2.0-flash-lite",
		"deepseek-chat", "deepseek-reasoner", "mistral-large", "mistral-medium", "mistral-small", "codestral",
		"grok-4", "grok-3", "grok-3-mini", "llama-3.3-70b-versatile", "llama-3.1-8b-instant", "kimi-k2",
		"qwen-max", "qwen-plus", "qwen-turbo", "command-r", "command-r-plus", "command-a",
	} {
		if !seen[name] {
			t.Errorf("the built-in list lacks %s", name)
		}
	}
}

func TestStripSnapshot(t *testing.T) {
	for in, want := range map[string]string{
		"gpt-4o-2024-08-06":               "gpt-4o",
		"claude-sonnet-4-20250514":        "claude-sonnet-4",
		"claude-3-5-sonnet-20240620-v1:0": "claude-3-5-sonnet",
		"claude-3-5-sonnet-v2@20241022":   "claude-3-5-sonnet",
		"command-r-08-2024":               "command-r",
		"grok-4-0709":                     "grok-4",
		"claude-3-7-sonnet-latest":        "claude-3-7-sonnet",
		"kimi-k2:free":                    "kimi-k2",
		"gemini-2.5-flash-preview-05-20":  "gemini-2.5-flash-preview-05-20",
		"2024-08-06":                      "2024-08-06",
		"-v1":                             "-v1",
		"o1":                              "o1",
		"qwen-plus-latest-2025-07-28":     "qwen-plus",
		"llama-3.3-70b-versatile":         "llama-3.3-70b-versatile",
	} {
		if got := stripSnapshot(in); got != want {
			t.Errorf("stripSnapshot(%q) = %q, want %q", in, got, want)
		}
	}
}
