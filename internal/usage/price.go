package usage

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/limits"
	"github.com/llmux/llmux/llm"
)

// Price is what a model costs, in US dollars per million tokens.
type Price struct {
	// Input is the price of input tokens neither read from nor written to
	// the vendor's prompt cache.
	Input float64
	// Output is the price of output tokens, reasoning tokens included.
	Output float64
	// CachedInput is the price of input tokens read from the prompt cache.
	CachedInput float64
	// CacheWrite is the price of input tokens written to the prompt cache
	// (Anthropic charges 1.25 × Input for its default five-minute cache);
	// 0 means Input, as most vendors charge no premium.
	CacheWrite float64
}

// Cost returns what usage u costs at p, rounded to the nano-dollar:
//
//	(input - cached - written) × Input + cached × CachedInput
//	  + written × CacheWrite + output × Output, per million tokens
//
// where cached, written and reasoning tokens are parts of the input and
// output counts (llm.Usage's convention). Counts out of range (negative, or
// parts larger than their whole) are clamped; a cost too large for Money
// saturates.
func (p Price) Cost(u llm.Usage) limits.Money {
	input := max(u.InputTokens, 0)
	cached := min(max(u.CachedTokens, 0), input)
	written := min(max(u.CacheWriteTokens, 0), input-cached)
	plain := input - cached - written
	output := max(u.OutputTokens, 0)
	cacheWrite := p.CacheWrite
	if cacheWrite == 0 {
		cacheWrite = p.Input
	}
	// USD per million tokens is 1000 nano-dollars per token.
	nano := math.Round((float64(plain)*p.Input + float64(cached)*p.CachedInput +
		float64(written)*cacheWrite + float64(output)*p.Output) * 1e3)
	switch {
	case !(nano > 0): // zero, negative or NaN
		return 0
	case nano >= math.MaxInt64:
		return math.MaxInt64
	}
	return limits.Money(nano)
}

// Table resolves a model's price: the configured overrides first, then the
// built-in list. It is immutable once built and safe for concurrent use; a
// configuration reload builds a new one.
type Table struct {
	// exact holds the overrides without "*", by lower-case name ("model" or
	// "provider/model").
	exact map[string]Price
	// patterns holds the overrides ending in "*", longest prefix first.
	patterns []pattern
}

type pattern struct {
	prefix string // lower case, without the "*"
	price  Price
}

// NewTable builds a table of the built-in prices under overrides, the
// configuration's `pricing:` map: keys are an upstream model name ("gpt-4o"),
// or "provider/model" for one provider only, and a trailing "*" makes a key
// a prefix ("gpt-4*", "azure/*", or "*" for every model). Keys are matched
// without regard to case. A nil CachedInput means Input. Nil entries are
// skipped (config validation refuses them).
func NewTable(overrides map[string]*config.Price) *Table {
	t := &Table{exact: make(map[string]Price, len(overrides))}
	names := make([]string, 0, len(overrides))
	for name := range overrides {
		names = append(names, name)
	}
	slices.Sort(names) // keys equal but for case: the same one wins every time
	for _, name := range names {
		cp := overrides[name]
		if cp == nil {
			continue
		}
		p := Price{Input: cp.Input, Output: cp.Output, CachedInput: cp.Input}
		if cp.CachedInput != nil {
			p.CachedInput = *cp.CachedInput
		}
		key := strings.ToLower(strings.TrimSpace(name))
		if prefix, ok := strings.CutSuffix(key, "*"); ok {
			t.patterns = append(t.patterns, pattern{prefix: prefix, price: p})
		} else {
			t.exact[key] = p
		}
	}
	slices.SortStableFunc(t.patterns, func(a, b pattern) int { return cmp.Compare(len(b.prefix), len(a.prefix)) })
	return t
}

// Lookup returns the price of upstream model model served by the provider
// with id provider ("openai", "claude", "mock": the configured id, not its
// type). The order is in the package doc: overrides by exact name
// (provider-qualified first), override patterns (longest first,
// provider-qualified first), built-in by exact name, built-in by longest
// prefix; each step tries the name as given before its normalised forms.
// ok is false when nothing matches: the cost is then unknown.
func (t *Table) Lookup(provider, model string) (Price, bool) {
	var buf [4]string
	names := candidates(model, &buf)
	if len(names) == 0 {
		return Price{}, false
	}
	if t != nil {
		if p, ok := t.override(strings.ToLower(provider), names); ok {
			return p, true
		}
	}
	if m := findBuiltin(names); m != nil {
		return m.price, true
	}
	return Price{}, false
}

// MaxOutput returns the most output tokens the model can produce in one
// response, from the built-in list (overrides carry no limit), to bound the
// cost estimate of a request that sets no max_tokens; 0 when unknown. The
// provider is accepted for symmetry with Lookup; limits are per model.
func (t *Table) MaxOutput(provider, model string) int {
	var buf [4]string
	if m := findBuiltin(candidates(model, &buf)); m != nil {
		return m.maxOutput
	}
	return 0
}

func (t *Table) override(provider string, names []string) (Price, bool) {
	if len(t.exact) == 0 && len(t.patterns) == 0 {
		return Price{}, false
	}
	for _, n := range names {
		if provider != "" {
			if p, ok := t.exact[provider+"/"+n]; ok {
				return p, true
			}
		}
		if p, ok := t.exact[n]; ok {
			return p, true
		}
	}
	for _, n := range names {
		if provider != "" {
			// Only a pattern naming a provider can match a qualified name:
			// "g*" must not price every model of a provider called groq.
			q := provider + "/" + n
			for _, pt := range t.patterns {
				if strings.Contains(pt.prefix, "/") && strings.HasPrefix(q, pt.prefix) {
					return pt.price, true
				}
			}
		}
		for _, pt := range t.patterns {
			if strings.HasPrefix(n, pt.prefix) {
				return pt.price, true
			}
		}
	}
	return Price{}, false
}

// findBuiltin returns the built-in model for the first of names found
// exactly, else for the first with a built-in prefix (longest first).
func findBuiltin(names []string) *builtinModel {
	for _, n := range names {
		if m, ok := builtinIndex[n]; ok {
			return m
		}
	}
	for _, n := range names {
		for _, m := range builtinByLength {
			if prefixMatch(n, m.name) {
				return m
			}
		}
	}
	return nil
}

// prefixMatch reports whether name is the built-in name p followed by a
// suffix that names a variant or snapshot of the same model
// ("gpt-4o-audio-preview", "gemini-2.0-flash-001", "grok-4-0709"), and not
// a newer version or another size ("gpt-5.1", "claude-opus-4-1",
// "command-r7b", "llama-3-8b").
func prefixMatch(name, p string) bool {
	if len(name) <= len(p) || !strings.HasPrefix(name, p) {
		return false
	}
	rest := name[len(p):]
	switch rest[0] {
	case '-', '_':
	case ':', '@':
		return true
	default:
		return false
	}
	digits := 0
	for digits+1 < len(rest) && isDigit(rest[digits+1]) {
		digits++
	}
	if digits == 0 {
		return true // "-mini", "-preview"
	}
	// "-1", "-12" continue a version number; "-8b" is a size; three or
	// more digits are a snapshot ("-001", "-0709", "-20250514").
	next := len(rest) > digits+1 && isLetter(rest[digits+1])
	return digits >= 3 && !next
}

// candidates returns the names to try for model, into buf: the name
// lower-cased, then without a vendor prefix, then without snapshot
// suffixes, then (Claude only) with dots as dashes, each once.
func candidates(model string, buf *[4]string) []string {
	m := strings.ToLower(strings.TrimSpace(model))
	if m == "" {
		return nil
	}
	out := append(buf[:0], m)
	add := func(s string) {
		if s != "" && s != out[len(out)-1] {
			out = append(out, s)
		}
	}
	s := m
	if i := strings.LastIndexByte(s, '/'); i >= 0 { // "openai/gpt-4o", "openrouter/anthropic/…"
		s = s[i+1:]
	}
	s = stripDotVendors(s)
	add(s)
	s = stripSnapshot(s)
	add(s)
	if strings.HasPrefix(s, "claude") && strings.Contains(s, ".") { // OpenRouter: "claude-3.5-sonnet"
		add(strings.ReplaceAll(s, ".", "-"))
	}
	return out
}

// dotVendors are the leading words Bedrock puts before a model name
// ("us.anthropic.claude-…", "deepseek.r1-v1:0").
var dotVendors = []string{
	"us", "eu", "apac", "au", "ca", "jp", "us-gov", "global",
	"anthropic", "amazon", "cohere", "deepseek", "meta", "mistral", "moonshot", "moonshotai",
	"openai", "qwen", "xai", "google", "ai21", "writer",
}

func stripDotVendors(s string) string {
	for {
		i := strings.IndexByte(s, '.')
		if i <= 0 || !slices.Contains(dotVendors, s[:i]) {
			return s
		}
		s = s[i+1:]
	}
}

// stripSnapshot removes what names a snapshot or a channel of a model
// rather than the model: "@…" (Vertex), ":…" (Bedrock "-v1:0", OpenRouter
// ":free"), "-latest", "-v2", and dates: "-2024-08-06", "-20250514",
// "-08-2024" (Cohere), "-0709" or "-2411" (xAI, Mistral, older OpenAI).
func stripSnapshot(s string) string {
	if i := strings.IndexAny(s, "@:"); i > 0 {
		s = s[:i]
	}
	for {
		t := s
		switch {
		case strings.HasSuffix(t, "-latest"):
			t = strings.TrimSuffix(t, "-latest")
		case hasDigitsSuffix(t, "-dddd-dd-dd"):
			t = t[:len(t)-len("-dddd-dd-dd")]
		case hasDigitsSuffix(t, "-dddddddd"):
			t = t[:len(t)-len("-dddddddd")]
		case hasDigitsSuffix(t, "-dd-dddd"):
			t = t[:len(t)-len("-dd-dddd")]
		case hasDigitsSuffix(t, "-dddd"):
			t = t[:len(t)-len("-dddd")]
		case versionSuffix(t) > 0:
			t = t[:len(t)-versionSuffix(t)]
		}
		if t == s || t == "" {
			return s
		}
		s = t
	}
}

// hasDigitsSuffix reports whether s ends in shape, where 'd' stands for a
// digit and every other byte for itself.
func hasDigitsSuffix(s, shape string) bool {
	if len(s) <= len(shape) {
		return false
	}
	tail := s[len(s)-len(shape):]
	for i := range len(shape) {
		if shape[i] == 'd' {
			if !isDigit(tail[i]) {
				return false
			}
		} else if tail[i] != shape[i] {
			return false
		}
	}
	return true
}

// versionSuffix returns the length of a trailing "-v<digits>" ("-v1",
// "-v2"), or 0.
func versionSuffix(s string) int {
	i := len(s)
	for i > 0 && isDigit(s[i-1]) {
		i--
	}
	if i == len(s) || i < 3 || s[i-1] != 'v' || s[i-2] != '-' {
		return 0
	}
	return len(s) - (i - 2)
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c && c <= 'z' }
