package provider

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/protocol"
	"github.com/llmux/llmux/protocol/all"
)

// TestMain fails the package when any test leaves a goroutine behind: an
// upstream call, stream or forwarded body that is not released when its
// owner is done with it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func parseConfig(t *testing.T, yaml string, env map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("cfg.yaml", []byte(yaml), func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	return cfg
}

func TestBuild(t *testing.T) {
	cfg := parseConfig(t, `
providers:
  openai:
    api_keys: ["${OPENAI_API_KEY}", "sk-second"]
    models: [gpt-4o-mini]
  deep:
    type: deepseek
    api_key: ${DEEPSEEK_API_KEY}
  mistral:
    api_key: m-key
    base_url: https://eu.mistral.example/v1/
  local:
    type: ollama-openai
    base_url: http://127.0.0.1:11434/v1
  fake:
    type: mock
`, map[string]string{"OPENAI_API_KEY": "sk-first", "DEEPSEEK_API_KEY": "ds-key"})

	provs, err := Build(cfg, all.Registry())
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	tests := []struct {
		id, typ string
		base    string // for HTTP providers
		keys    []string
	}{
		{id: "openai", typ: "openai", base: "https://api.openai.com/v1", keys: []string{"sk-first", "sk-second"}},
		{id: "deep", typ: "deepseek", base: "https://api.deepseek.com/v1", keys: []string{"ds-key"}},
		{id: "mistral", typ: "mistral", base: "https://eu.mistral.example/v1", keys: []string{"m-key"}},
		{id: "local", typ: "ollama-openai", base: "http://127.0.0.1:11434/v1"},
		{id: "fake", typ: MockType},
		{id: "mock", typ: MockType}, // always added
	}
	if len(provs) != len(tests) {
		t.Errorf("Build returned %d providers, want %d", len(provs), len(tests))
	}
	for _, tt := range tests {
		p, ok := provs[tt.id]
		if !ok {
			t.Errorf("provider %q missing", tt.id)
			continue
		}
		if p.ID() != tt.id {
			t.Errorf("provider %q has ID %q", tt.id, p.ID())
		}
		if tt.typ == MockType {
			if _, ok := p.(*Mock); !ok {
				t.Errorf("provider %q is %T, want *Mock", tt.id, p)
			}
			continue
		}
		h, ok := p.(*HTTP)
		if !ok {
			t.Errorf("provider %q is %T, want *HTTP", tt.id, p)
			continue
		}
		if h.preset.Type != tt.typ || h.base != tt.base || !slices.Equal(h.keys, tt.keys) {
			t.Errorf("provider %q = type %q base %q keys %q, want %q %q %q",
				tt.id, h.preset.Type, h.base, h.keys, tt.typ, tt.base, tt.keys)
		}
		if h.Protocol() != "openai" {
			t.Errorf("provider %q speaks %q", tt.id, h.Protocol())
		}
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		reg  *protocol.Registry // nil: every protocol
		want []string           // substrings of the error, in order
		not  []string           // must not appear
	}{
		{"unknown explicit type", "providers:\n  foo:\n    type: bogus\n    api_key: k\n",
			nil, []string{"cfg.yaml:3:11: providers.foo.type: unknown provider type \"bogus\"; known types: anthropic, bailian, cerebras"},
			nil},
		{"unknown type defaulted from the id", "providers:\n  bogus:\n    api_key: k\n",
			nil, []string{"providers.bogus: unknown provider type \"bogus\"", "known types: ", "mock", "openai", "xai, yi"},
			[]string{"providers.bogus.type"}},
		{"missing key names the variable", "providers:\n  deepseek: {}\n",
			nil, []string{"providers.deepseek: no API key: set api_key or api_keys (for example api_key: ${DEEPSEEK_API_KEY})"},
			nil},
		{"missing key after unset variable", "providers:\n  work:\n    type: groq\n    api_keys: [\"${GROQ_API_KEY}\"]\n",
			nil, []string{"providers.work: no API key", "${GROQ_API_KEY}"},
			nil},
		{"first of several variables is suggested", "providers:\n  bailian: {}\n",
			nil, []string{"api_key: ${DASHSCOPE_API_KEY}"},
			nil},
		{"every bad provider is reported", "providers:\n  a:\n    type: nope\n  deepseek: {}\n",
			nil, []string{"providers.a.type: unknown provider type", "providers.deepseek: no API key"},
			nil},
		{"protocol missing from the build", "providers:\n  openai:\n    api_key: k\n",
			protocol.NewRegistry(), []string{"providers.openai.type: provider type \"openai\" needs protocol \"openai\", which this build lacks"},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := tt.reg
			if reg == nil {
				reg = all.Registry()
			}
			provs, err := Build(parseConfig(t, tt.yaml, nil), reg)
			if err == nil {
				t.Fatalf("Build succeeded with %d providers", len(provs))
			}
			if provs != nil {
				t.Errorf("Build returned providers along with an error")
			}
			msg := err.Error()
			pos := 0
			for _, w := range tt.want {
				i := strings.Index(msg[pos:], w)
				if i < 0 {
					t.Fatalf("error %q\ndoes not contain %q (in order)", msg, w)
				}
				pos += i + len(w)
			}
			for _, n := range tt.not {
				if strings.Contains(msg, n) {
					t.Errorf("error %q contains %q", msg, n)
				}
			}
		})
	}
}

func TestBuildMock(t *testing.T) {
	tests := []struct {
		name   string
		yaml   string
		want   string // type of providers["mock"]
		tokens int    // output tokens of the mock, when it is one
	}{
		{"added when absent", "providers: {}\n", "*provider.Mock", 16},
		{"configured mock is used", "providers:\n  mock:\n    type: mock\n    mock: {output_tokens: 3, tokens_per_second: 1000}\n", "*provider.Mock", 3},
		{"mock type defaulted from the id", "providers:\n  mock:\n    mock: {output_tokens: 5}\n", "*provider.Mock", 5},
		{"a provider named mock of another type replaces it", "providers:\n  mock:\n    type: openai\n    api_key: k\n", "*provider.HTTP", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			provs, err := Build(parseConfig(t, tt.yaml, nil), all.Registry())
			if err != nil {
				t.Fatal(err)
			}
			p := provs[MockType]
			if got := fmt.Sprintf("%T", p); got != tt.want {
				t.Fatalf("providers[mock] is %s, want %s", got, tt.want)
			}
			m, ok := p.(*Mock)
			if !ok {
				return
			}
			resp, err := m.Do(t.Context(), &Call{Request: userRequest("hello"), Model: "chat"})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(strings.Fields(resp.Text())); n != tt.tokens {
				t.Errorf("the mock answered %d words (%q), want %d", n, resp.Text(), tt.tokens)
			}
		})
	}
}

func TestEnvTable(t *testing.T) {
	table := EnvTable()
	byID := map[string]config.EnvProvider{}
	for _, e := range table {
		if _, dup := byID[e.ID]; dup {
			t.Errorf("EnvTable lists %q twice", e.ID)
		}
		byID[e.ID] = e
	}
	for _, p := range Presets() {
		if len(p.KeyEnv) == 0 && p.BaseURLEnv == "" {
			continue
		}
		id := p.Type
		if p.EnvID != "" {
			id = p.EnvID
		}
		e, ok := byID[id]
		if !ok {
			t.Errorf("preset %q (env %q %q) is missing from EnvTable as %q", p.Type, p.KeyEnv, p.BaseURLEnv, id)
			continue
		}
		if e.Type != p.Type || !slices.Equal(e.KeyEnv, p.KeyEnv) || e.BaseURLEnv != p.BaseURLEnv || e.BaseURLSuffix != p.BaseURLSuffix {
			t.Errorf("EnvTable[%q] = %+v, does not match preset %q", id, e, p.Type)
		}
		delete(byID, id)
	}
	for id := range byID {
		t.Errorf("EnvTable has %q, which no preset enables", id)
	}
	ollama := false
	for _, e := range table {
		if e.ID == "ollama" {
			ollama = e.Type == "ollama" && e.BaseURLEnv == "OLLAMA_BASE_URL" && e.BaseURLSuffix == ""
		}
	}
	if !ollama {
		t.Errorf("EnvTable has no ollama entry of the native type on OLLAMA_BASE_URL: %+v", table)
	}
}

// TestEnvTableBuilds runs the zero-configuration path end to end: the
// variables a user sets give providers that build.
func TestEnvTableBuilds(t *testing.T) {
	env := map[string]string{
		"OLLAMA_BASE_URL":  "http://127.0.0.1:11434/",
		"DEEPSEEK_API_KEY": "ds-key",
		"PPLX_API_KEY":     "pplx-key",
	}
	cfg, err := config.FromEnv(EnvTable(), func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	provs, err := Build(cfg, all.Registry())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ // id → base URL
		"ollama":     "http://127.0.0.1:11434",
		"deepseek":   "https://api.deepseek.com/v1",
		"perplexity": "https://api.perplexity.ai",
	}
	for id, base := range want {
		h, ok := provs[id].(*HTTP)
		if !ok {
			t.Errorf("provider %q is %T", id, provs[id])
			continue
		}
		if h.base != base {
			t.Errorf("provider %q base = %q, want %q", id, h.base, base)
		}
	}
	if _, ok := provs[MockType].(*Mock); !ok || len(provs) != len(want)+1 {
		t.Errorf("providers = %v, want %v and mock", keysOf(provs), keysOf(want))
	}
}

// TestPresets checks the list itself: the native protocol types first, the
// OpenAI-compatible vendors after them sorted by type, as its comment
// promises; no type twice; and every preset buildable against the
// protocols this build has.
func TestPresets(t *testing.T) {
	ps := Presets()
	native := []string{"openai", "openai-responses", "anthropic", "gemini", "ollama"}
	for i, typ := range native {
		if ps[i].Type != typ {
			t.Errorf("preset %d is %q, want %q", i, ps[i].Type, typ)
		}
	}
	rest := make([]string, 0, len(ps)-len(native))
	for _, p := range ps[len(native):] {
		rest = append(rest, p.Type)
	}
	if !sort.StringsAreSorted(rest) {
		t.Errorf("vendor presets are not sorted: %q", rest)
	}
	seen := map[string]bool{MockType: true}
	for _, p := range ps {
		if seen[p.Type] {
			t.Errorf("type %q defined twice (or shadows mock)", p.Type)
		}
		seen[p.Type] = true
		if got, ok := Lookup(p.Type); !ok || got.Type != p.Type {
			t.Errorf("Lookup(%q) = %v, %v", p.Type, got.Type, ok)
		}
		if p.Title == "" || p.BaseURL == "" || p.Auth == "" {
			t.Errorf("preset %q lacks a title, base URL or auth scheme", p.Type)
		}
		cfg := &config.Config{Providers: map[string]*config.Provider{"x": {Type: p.Type, APIKey: "k"}}}
		if _, err := Build(cfg, all.Registry()); err != nil {
			t.Errorf("preset %q does not build: %v", p.Type, err)
		}
	}
	if types := Types(); len(types) != len(ps)+1 || types[len(types)-1] != MockType {
		t.Errorf("Types() = %q, want every preset and mock", types)
	}
	if _, ok := Lookup(MockType); ok {
		t.Errorf("Lookup(mock) found a preset; mock is built in")
	}
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
