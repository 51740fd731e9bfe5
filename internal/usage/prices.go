package usage

import (
	"cmp"
	"slices"
)

// builtinModel is one row of the built-in price list.
type builtinModel struct {
	// name is the vendor's model id, lower case, without snapshot date.
	name  string
	price Price
	// maxOutput is the most output tokens of one response: the vendor's
	// published output limit or, where it publishes none, the context
	// window. 0 for embedding models.
	maxOutput int
}

// builtinModels are list prices in USD per million tokens, standard tier,
// as published by each vendor for its own API, written 2026-11-22. They go
// stale: every entry can be overridden in the configuration (`pricing:`),
// and a model missing here has no price until it is added there. Where a
// vendor has several tiers, the row holds the common one:
//
//   - Anthropic: CacheWrite is the five-minute cache (1.25 × Input); the
//     one-hour cache costs 2 × Input and is not told apart in usage.
//   - Gemini 2.5 Pro: prompts up to 200k tokens; longer prompts cost
//     2.50 / 0.25 / 15.00.
//   - Qwen: the international (Singapore) endpoint, non-thinking output;
//     cached input is the implicit cache (20 % of Input).
//   - Groq, Mistral and Cohere publish no cached-input discount: CachedInput
//     is Input.
//
// Checked against the vendors' pricing pages where a copy could be read
// (Anthropic, DeepSeek, xAI, Moonshot, OpenAI and Google through pages
// quoting them); the others are the best-known list prices.
var builtinModels = []builtinModel{
	// OpenAI
	{"gpt-4o", Price{Input: 2.50, CachedInput: 1.25, Output: 10.00}, 16_384},
	{"gpt-4o-mini", Price{Input: 0.15, CachedInput: 0.075, Output: 0.60}, 16_384},
	{"gpt-4.1", Price{Input: 2.00, CachedInput: 0.50, Output: 8.00}, 32_768},
	{"gpt-4.1-mini", Price{Input: 0.40, CachedInput: 0.10, Output: 1.60}, 32_768},
	{"gpt-4.1-nano", Price{Input: 0.10, CachedInput: 0.025, Output: 0.40}, 32_768},
	{"gpt-4-turbo", Price{Input: 10.00, CachedInput: 10.00, Output: 30.00}, 4_096},
	{"gpt-3.5-turbo", Price{Input: 0.50, CachedInput: 0.50, Output: 1.50}, 4_096},
	{"o1", Price{Input: 15.00, CachedInput: 7.50, Output: 60.00}, 100_000},
	{"o1-mini", Price{Input: 1.10, CachedInput: 0.55, Output: 4.40}, 65_536},
	{"o1-pro", Price{Input: 150.00, CachedInput: 150.00, Output: 600.00}, 100_000},
	{"o3", Price{Input: 2.00, CachedInput: 0.50, Output: 8.00}, 100_000},
	{"o3-mini", Price{Input: 1.10, CachedInput: 0.55, Output: 4.40}, 100_000},
	{"o3-pro", Price{Input: 20.00, CachedInput: 20.00, Output: 80.00}, 100_000},
	{"o4-mini", Price{Input: 1.10, CachedInput: 0.275, Output: 4.40}, 100_000},
	{"gpt-5", Price{Input: 1.25, CachedInput: 0.125, Output: 10.00}, 128_000},
	{"gpt-5-mini", Price{Input: 0.25, CachedInput: 0.025, Output: 2.00}, 128_000},
	{"gpt-5-nano", Price{Input: 0.05, CachedInput: 0.005, Output: 0.40}, 128_000},
	{"gpt-5-pro", Price{Input: 15.00, CachedInput: 15.00, Output: 120.00}, 272_000},
	{"gpt-5.1", Price{Input: 1.25, CachedInput: 0.125, Output: 10.00}, 128_000},
	{"text-embedding-3-small", Price{Input: 0.02, CachedInput: 0.02}, 0},
	{"text-embedding-3-large", Price{Input: 0.13, CachedInput: 0.13}, 0},
	{"text-embedding-ada-002", Price{Input: 0.10, CachedInput: 0.10}, 0},

	// Anthropic
	{"claude-opus-4-1", Price{Input: 15.00, CachedInput: 1.50, CacheWrite: 18.75, Output: 75.00}, 32_000},
	{"claude-opus-4", Price{Input: 15.00, CachedInput: 1.50, CacheWrite: 18.75, Output: 75.00}, 32_000},
	{"claude-opus-4-0", Price{Input: 15.00, CachedInput: 1.50, CacheWrite: 18.75, Output: 75.00}, 32_000},
	{"claude-opus-4-5", Price{Input: 5.00, CachedInput: 0.50, CacheWrite: 6.25, Output: 25.00}, 64_000},
	{"claude-opus-4-6", Price{Input: 5.00, CachedInput: 0.50, CacheWrite: 6.25, Output: 25.00}, 64_000},
	{"claude-sonnet-4-6", Price{Input: 3.00, CachedInput: 0.30, CacheWrite: 3.75, Output: 15.00}, 64_000},
	{"claude-sonnet-4-5", Price{Input: 3.00, CachedInput: 0.30, CacheWrite: 3.75, Output: 15.00}, 64_000},
	{"claude-sonnet-4", Price{Input: 3.00, CachedInput: 0.30, CacheWrite: 3.75, Output: 15.00}, 64_000},
	{"claude-sonnet-4-0", Price{Input: 3.00, CachedInput: 0.30, CacheWrite: 3.75, Output: 15.00}, 64_000},
	{"claude-3-7-sonnet", Price{Input: 3.00, CachedInput: 0.30, CacheWrite: 3.75, Output: 15.00}, 64_000},
	{"claude-3-5-sonnet", Price{Input: 3.00, CachedInput: 0.30, CacheWrite: 3.75, Output: 15.00}, 8_192},
	{"claude-haiku-4-5", Price{Input: 1.00, CachedInput: 0.10, CacheWrite: 1.25, Output: 5.00}, 64_000},
	{"claude-3-5-haiku", Price{Input: 0.80, CachedInput: 0.08, CacheWrite: 1.00, Output: 4.00}, 8_192},
	{"claude-3-haiku", Price{Input: 0.25, CachedInput: 0.03, CacheWrite: 0.30, Output: 1.25}, 4_096},
	{"claude-3-opus", Price{Input: 15.00, CachedInput: 1.50, CacheWrite: 18.75, Output: 75.00}, 4_096},

	// Google Gemini
	{"gemini-2.5-pro", Price{Input: 1.25, CachedInput: 0.125, Output: 10.00}, 65_536},
	{"gemini-2.5-flash", Price{Input: 0.30, CachedInput: 0.03, Output: 2.50}, 65_536},
	{"gemini-2.5-flash-lite", Price{Input: 0.10, CachedInput: 0.01, Output: 0.40}, 65_536},
	{"gemini-2.0-flash", Price{Input: 0.10, CachedInput: 0.025, Output: 0.40}, 8_192},
	{"gemini-2.0-flash-lite", Price{Input: 0.075, CachedInput: 0.075, Output: 0.30}, 8_192},

	// DeepSeek (one price for both modes since 2025-09-05)
	{"deepseek-chat", Price{Input: 0.56, CachedInput: 0.07, Output: 1.68}, 8_192},
	{"deepseek-reasoner", Price{Input: 0.56, CachedInput: 0.07, Output: 1.68}, 65_536},

	// Mistral ("mistral-large" is Large 3; the 24.11 snapshot kept its price)
	{"mistral-large", Price{Input: 0.50, CachedInput: 0.50, Output: 1.50}, 131_072},
	{"mistral-large-2411", Price{Input: 2.00, CachedInput: 2.00, Output: 6.00}, 131_072},
	{"mistral-medium", Price{Input: 0.40, CachedInput: 0.40, Output: 2.00}, 131_072},
	{"mistral-small", Price{Input: 0.10, CachedInput: 0.10, Output: 0.30}, 131_072},
	{"codestral", Price{Input: 0.30, CachedInput: 0.30, Output: 0.90}, 262_144},

	// xAI
	{"grok-4", Price{Input: 3.00, CachedInput: 0.75, Output: 15.00}, 256_000},
	{"grok-4-fast", Price{Input: 0.20, CachedInput: 0.05, Output: 0.50}, 2_000_000},
	{"grok-3", Price{Input: 3.00, CachedInput: 0.75, Output: 15.00}, 131_072},
	{"grok-3-fast", Price{Input: 5.00, CachedInput: 1.25, Output: 25.00}, 131_072},
	{"grok-3-mini", Price{Input: 0.30, CachedInput: 0.075, Output: 0.50}, 131_072},
	{"grok-3-mini-fast", Price{Input: 0.60, CachedInput: 0.15, Output: 4.00}, 131_072},

	// Groq-hosted
	{"llama-3.3-70b-versatile", Price{Input: 0.59, CachedInput: 0.59, Output: 0.79}, 32_768},
	{"llama-3.1-8b-instant", Price{Input: 0.05, CachedInput: 0.05, Output: 0.08}, 131_072},

	// Moonshot
	{"kimi-k2", Price{Input: 0.60, CachedInput: 0.15, Output: 2.50}, 262_144},

	// Qwen (Alibaba Cloud Model Studio)
	{"qwen-max", Price{Input: 1.60, CachedInput: 0.32, Output: 6.40}, 8_192},
	{"qwen-plus", Price{Input: 0.40, CachedInput: 0.08, Output: 1.20}, 32_768},
	{"qwen-turbo", Price{Input: 0.05, CachedInput: 0.01, Output: 0.20}, 16_384},

	// Cohere
	{"command-a", Price{Input: 2.50, CachedInput: 2.50, Output: 10.00}, 8_000},
	{"command-r-plus", Price{Input: 2.50, CachedInput: 2.50, Output: 10.00}, 4_000},
	{"command-r", Price{Input: 0.15, CachedInput: 0.15, Output: 0.60}, 4_000},
	{"command-r7b", Price{Input: 0.0375, CachedInput: 0.0375, Output: 0.15}, 4_000},
}

// builtinIndex finds a built-in model by exact name.
var builtinIndex = func() map[string]*builtinModel {
	m := make(map[string]*builtinModel, len(builtinModels))
	for i := range builtinModels {
		m[builtinModels[i].name] = &builtinModels[i]
	}
	return m
}()

// builtinByLength lists the built-in models longest name first, for prefix
// matches (the longest prefix wins).
var builtinByLength = func() []*builtinModel {
	out := make([]*builtinModel, len(builtinModels))
	for i := range builtinModels {
		out[i] = &builtinModels[i]
	}
	slices.SortStableFunc(out, func(a, b *builtinModel) int { return cmp.Compare(len(b.name), len(a.name)) })
	return out
}()
