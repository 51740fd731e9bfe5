package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // substrings of the error, in order
	}{
		{"unknown top-level field", "listn: 1.2.3.4:80\n", []string{"cfg.yaml:1:1: listn: unknown field (did you mean listen?)"}},
		{"unknown provider field", "providers:\n  openai:\n    bsae_url: https://x\n",
			[]string{"cfg.yaml:3:5: providers.openai.bsae_url: unknown field (did you mean base_url?)"}},
		{"wrong type", "providers:\n  openai:\n    api_keys: abc\n",
			[]string{"cfg.yaml:3:15: providers.openai.api_keys: expected a list, got a scalar"}},
		{"bad listen", "listen: nowhere\n", []string{"cfg.yaml:1:9: listen: must be host:port"}},
		{"bad port", "listen: 127.0.0.1:99999\n", []string{"listen: port must be a number"}},
		{"bad base url", "providers:\n  p:\n    type: openai\n    base_url: api.example.com\n",
			[]string{"cfg.yaml:4:15: providers.p.base_url: must be an absolute http:// or https:// URL"}},
		{"credentials in url", "providers:\n  p:\n    base_url: https://u:pw@h/v1\n", []string{"providers.p.base_url: must not contain credentials"}},
		{"bad provider id", "providers:\n  my.provider:\n    type: openai\n", []string{"providers.my.provider: provider ids may hold only"}},
		{"duration", "drain_timeout: soon\n", []string{"drain_timeout: expected a duration"}},
		{"size", "max_body_size: big\n", []string{"max_body_size: expected a size"}},
		{"bool", "log_content: maybe\n", []string{"log_content: expected true or false"}},
		{"log level", "log_level: loud\n", []string{"log_level: must be debug, info, warn or error"}},
		{"route without targets", "routes:\n  smart: {}\n", []string{"routes.smart.targets: a route needs at least one target"}},
		{"route target unqualified", "routes:\n  smart:\n    targets: [{model: gpt-4o}]\n", []string{"routes.smart.targets[0].model: must be provider/model"}},
		{"negative weight", "routes:\n  s:\n    targets: [{model: a/b, weight: -1}]\n", []string{"routes.s.targets[0].weight: must not be negative"}},
		{"duplicate key", "listen: a:1\nlisten: b:2\n", []string{"cfg.yaml:2:1: listen: field given twice"}},
		{"model listed twice", "providers:\n  p:\n    models: [a, a]\n", []string{"providers.p.models[1]: model \"a\" listed twice"}},
		{"mock options on other type", "providers:\n  p:\n    type: openai\n    mock: {latency: 1s}\n", []string{"providers.p.mock: only for providers of type mock"}},
		{"cors origin", "cors:\n  allowed_origins: [example.com]\n", []string{"cors.allowed_origins[0]: must be an origin"}},
		{"empty file", "", []string{"the file is empty"}},
		{"not yaml", "{{{", []string{"not valid YAML or JSON"}},
		{"several errors at once", "listn: x\nlog_levl: loud\n", []string{"listn: unknown field", "log_levl: unknown field (did you mean log_level?)"}},
		{"negative input price", "pricing:\n  gpt-4o:\n    input: -1\n    output: 1\n",
			[]string{"cfg.yaml:3:12: pricing.gpt-4o.input: must be a finite number ≥ 0 (USD per million tokens)"}},
		{"negative output price", "pricing:\n  gpt-4o: {input: 1, output: -2}\n", []string{"cfg.yaml:2:30: pricing.gpt-4o.output: must be a finite number ≥ 0"}},
		{"negative cached price", "pricing:\n  gpt-4o: {input: 1, output: 2, cached_input: -0.5}\n",
			[]string{"cfg.yaml:2:47: pricing.gpt-4o.cached_input: must be a finite number ≥ 0"}},
		{"price without prices", "pricing:\n  gpt-4o:\n", []string{"cfg.yaml:2:10: pricing.gpt-4o: needs input and output prices"}},
		{"price not a number", "pricing:\n  gpt-4o: {input: cheap, output: 2}\n", []string{"pricing.gpt-4o.input: expected a number, got \"cheap\""}},
		{"price not finite", "pricing:\n  gpt-4o: {input: .inf, output: 2}\n", []string{"cfg.yaml:2:19: pricing.gpt-4o.input: expected a number, got \".inf\""}},
		{"price field misspelt", "pricing:\n  gpt-4o: {input: 1, outptu: 2}\n", []string{"pricing.gpt-4o.outptu: unknown field (did you mean output?)"}},
		{"empty model name in pricing", "pricing:\n  \"\": {input: 1, output: 1}\n", []string{"cfg.yaml:2:3: pricing", "empty"}},
		{"two bad prices", "pricing:\n  b/y: {input: 1, output: -1}\n  a*: {input: -1, output: 1}\n",
			[]string{"cfg.yaml:2:27: pricing.b/y.output: must be", "cfg.yaml:3:15: pricing.a*.input: must be"}}, // in file order
		{"negative batch size", "usage:\n  batch_size: -1\n", []string{"cfg.yaml:2:15: usage.batch_size: must not be negative"}},
		{"negative flush interval", "usage:\n  flush_interval: -1s\n", []string{"cfg.yaml:2:19: usage.flush_interval: must not be negative"}},
		{"retention not a duration", "usage:\n  retention: forever\n", []string{"usage.retention: expected a duration such as 30s or 5m"}},
		{"usage field misspelt", "usage:\n  batchsize: 3\n", []string{"usage.batchsize: unknown field (did you mean batch_size?)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("cfg.yaml", []byte(tt.in), env(nil))
			if err == nil {
				t.Fatalf("no error for %q", tt.in)
			}
			msg := err.Error()
			pos := 0
			for _, w := range tt.want {
				i := strings.Index(msg[pos:], w)
				if i < 0 {
					t.Fatalf("error %q\ndoes not contain %q", msg, w)
				}
				pos += i + len(w)
			}
		})
	}
}

func TestParseFull(t *testing.T) {
	in := `
listen: 0.0.0.0:9000
admin_key: ${ADMIN}
keys: [ "${LLMUX_KEY}", "${MISSING}" ]
log_content: true
max_body_size: 1MiB
drain_timeout: 45s
providers:
  openai:
    type: openai
    base_url: https://api.openai.com/v1
    api_keys: [ "${OPENAI_API_KEY}" ]
    models: [ gpt-4o-mini, gpt-4.1 ]
  claude:
    type: anthropic
    api_key: ${ANTHROPIC_API_KEY:-fallback}
    models: { sonnet: claude-sonnet-4-5 }
  local:
    type: mock
    mock: { latency: 250ms, tokens_per_second: 40, output_tokens: 100 }
routes:
  smart:
    targets: [ { model: claude/sonnet, weight: 3 }, { model: openai/gpt-4.1, weight: 1, priority: 1 } ]
    fallbacks: [ openai/gpt-4o-mini ]
`
	cfg, err := Parse("llmux.yaml", []byte(in), env(map[string]string{
		"ADMIN": "adm", "LLMUX_KEY": "k1", "OPENAI_API_KEY": "sk-1",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "0.0.0.0:9000" || cfg.AdminKey != "adm" || !cfg.LogContent {
		t.Errorf("top level = %+v", cfg)
	}
	if len(cfg.Keys) != 1 || cfg.Keys[0] != "k1" {
		t.Errorf("keys = %q (the unset one must be dropped)", cfg.Keys)
	}
	if len(cfg.Warnings) == 0 || !strings.Contains(strings.Join(cfg.Warnings, "\n"), "MISSING is not set") {
		t.Errorf("warnings = %q", cfg.Warnings)
	}
	if cfg.MaxBodySize != 1<<20 || cfg.DrainTimeout.Std() != 45*time.Second {
		t.Errorf("size/drain = %d %v", cfg.MaxBodySize, cfg.DrainTimeout)
	}
	oa := cfg.Providers["openai"]
	if got := oa.Keys(); len(got) != 1 || got[0] != "sk-1" {
		t.Errorf("openai keys = %q", got)
	}
	if strings.Join(oa.Models.Names, ",") != "gpt-4o-mini,gpt-4.1" || oa.Models.Upstream["gpt-4.1"] != "gpt-4.1" {
		t.Errorf("openai models = %+v", oa.Models)
	}
	cl := cfg.Providers["claude"]
	if cl.APIKey != "fallback" || cl.Models.Upstream["sonnet"] != "claude-sonnet-4-5" {
		t.Errorf("claude = %+v", cl)
	}
	m := cfg.Providers["local"].Mock
	if m.Latency.Std() != 250*time.Millisecond || m.TokensPerSecond != 40 || m.OutputTokens != 100 {
		t.Errorf("mock = %+v", m)
	}
	r := cfg.Routes["smart"]
	if len(r.Targets) != 2 || *r.Targets[0].Weight != 3 || r.Targets[1].Priority != 1 || r.Fallbacks[0] != "openai/gpt-4o-mini" {
		t.Errorf("route = %+v", r)
	}
	if e := cfg.Errorf("providers.openai.base_url", "x"); e.Line != 11 {
		t.Errorf("Errorf position = %d, want line 11", e.Line)
	}
}

// TestParsePricingAndUsage: pricing overrides keep their keys as written
// (provider-qualified and patterns alike), cached_input stays unset when not
// given, and the usage settings take their defaults.
func TestParsePricingAndUsage(t *testing.T) {
	cfg, err := Parse("cfg.yaml", []byte(`
pricing:
  azure/gpt-4o: { input: 2, output: 8, cached_input: 0.5 }
  gpt-4*: { input: 1, output: 2 }
  free-model: { input: 0, output: 0 }
usage:
  retention: 720h
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	az := cfg.Pricing["azure/gpt-4o"]
	if az == nil || az.Input != 2 || az.Output != 8 || az.CachedInput == nil || *az.CachedInput != 0.5 {
		t.Errorf("azure/gpt-4o = %+v", az)
	}
	if p := cfg.Pricing["gpt-4*"]; p == nil || p.Input != 1 || p.Output != 2 || p.CachedInput != nil {
		t.Errorf("gpt-4* = %+v (cached_input must stay unset: it defaults to input where prices are used)", p)
	}
	if p := cfg.Pricing["free-model"]; p == nil || p.Input != 0 || p.Output != 0 {
		t.Errorf("a free model = %+v", p)
	}
	if u := cfg.Usage; u.Retention.Std() != 720*time.Hour || u.FlushInterval.Std() != DefaultUsageFlushInterval ||
		u.BatchSize != DefaultUsageBatchSize {
		t.Errorf("usage = %+v, want retention 720h and the defaults", u)
	}
	if cfg, err := Parse("cfg.yaml", []byte("usage: {flush_interval: 250ms, batch_size: 50}\n"), env(nil)); err != nil ||
		cfg.Usage.FlushInterval.Std() != 250*time.Millisecond || cfg.Usage.BatchSize != 50 || cfg.Usage.Retention != 0 {
		t.Errorf("usage = %+v, %v", cfg.Usage, err)
	}
}

func TestParseJSON(t *testing.T) {
	cfg, err := Parse("llmux.json", []byte(`{"listen":"127.0.0.1:1","providers":{"deepseek":{"api_key":"k"}}}`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Providers["deepseek"].Type != "deepseek" {
		t.Errorf("type defaults to the id, got %q", cfg.Providers["deepseek"].Type)
	}
}

func TestExpand(t *testing.T) {
	e := env(map[string]string{"A": "1", "EMPTY": ""})
	tests := []struct{ in, want, unset string }{
		{"plain", "plain", ""},
		{"${A}", "1", ""},
		{"x${A}y${A}", "x1y1", ""},
		{"${B:-def}", "def", ""},
		{"${EMPTY:-def}", "def", ""},
		{"${EMPTY}", "", ""},
		{"${B}", "", "B"},
		{"$$A and $A", "$A and $A", ""},
		{"${unterminated", "${unterminated", ""},
	}
	for _, tt := range tests {
		got, unset := expand(tt.in, e)
		if got != tt.want || strings.Join(unset, ",") != tt.unset {
			t.Errorf("expand(%q) = %q %q, want %q %q", tt.in, got, unset, tt.want, tt.unset)
		}
	}
}

func TestFromEnv(t *testing.T) {
	table := []EnvProvider{
		{ID: "openai", KeyEnv: []string{"OPENAI_API_KEY"}},
		{ID: "groq", KeyEnv: []string{"GROQ_API_KEY"}},
		{ID: "ollama", Type: "ollama-openai", BaseURLEnv: "OLLAMA_BASE_URL", BaseURLSuffix: "/v1"},
	}
	cfg, err := FromEnv(table, env(map[string]string{
		"OPENAI_API_KEY": "sk-x", "OLLAMA_BASE_URL": "http://localhost:11434/", "LLMUX_KEYS": "a, b,",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.ProviderIDs(), ","); got != "ollama,openai" {
		t.Fatalf("providers = %s", got)
	}
	if p := cfg.Providers["ollama"]; p.Type != "ollama-openai" || p.BaseURL != "http://localhost:11434/v1" {
		t.Errorf("ollama = %+v", p)
	}
	if strings.Join(cfg.Keys, ",") != "a,b" || cfg.Listen != DefaultListen || cfg.Database != DefaultDatabase {
		t.Errorf("cfg = %+v", cfg)
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "llmux.yaml")
	if err := os.WriteFile(path, []byte("providers:\n  x:\n    timeout: forever\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path+":3:14: providers.x.timeout: expected a duration") {
		t.Fatalf("err = %v", err)
	}
}

// FuzzParse: any configuration text is either accepted or refused with
// field errors; it never panics.
func FuzzParse(f *testing.F) {
	f.Add([]byte("listen: 127.0.0.1:8080\nproviders:\n  openai: { api_key: k, models: [a] }\n"))
	f.Add([]byte(`{"providers":{"x":{"type":"mock","mock":{"latency":"1s"}}},"routes":{"r":{"targets":[{"model":"x/y","weight":2}]}}}`))
	f.Add([]byte("keys: [${A:-b}]\nmax_body_size: 1MiB\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 1<<14 {
			return
		}
		cfg, err := Parse("f.yaml", in, env(map[string]string{"A": "x"}))
		if err != nil {
			if _, ok := err.(Errors); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if cfg.Listen == "" || cfg.Database == "" || cfg.MaxBodySize < 1024 {
			t.Fatalf("defaults missing: %+v", cfg)
		}
	})
}

// FuzzOverlay: whatever an admin sends as a provider or a route, laying it
// over a valid configuration gives a valid configuration or errors that
// name a field under the entry; it never panics.
func FuzzOverlay(f *testing.F) {
	for _, s := range []string{
		`{"type":"openai","base_url":"https://api.example.com/v1","api_key":"k","models":["m"]}`,
		`{"type":"anthropic","models":{"sonnet":"claude-sonnet-4-5"},"max_tokens":{"*":1024}}`,
		`{"targets":[{"model":"a/m","weight":2}],"fallbacks":["b/m"]}`,
		`{"type":"nope"}`, `{"targets":[]}`, `[]`, `{`, `null`, `{"timeout":"-1s"}`, `{"api_key":"${HOME}"}`,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	base, err := Parse("base.yaml", []byte("providers:\n  a: { type: mock }\n  b: { type: mock }\n"), noEnv)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, value string, route bool) {
		o := Overlay{Providers: map[string][]byte{"x": []byte(value)}}
		prefix := "providers.x"
		if route {
			o = Overlay{Routes: map[string][]byte{"r": []byte(value)}}
			prefix = "routes.r"
		}
		cfg, err := base.WithOverlay(o, noEnv)
		if err == nil {
			if cfg == nil || (route && cfg.Routes["r"] == nil) || (!route && cfg.Providers["x"] == nil) {
				t.Fatalf("no error and no entry for %q", value)
			}
			return
		}
		errs, ok := err.(Errors)
		if !ok || len(errs) == 0 {
			t.Fatalf("error %T %v", err, err)
		}
		for _, e := range errs {
			if !strings.HasPrefix(e.Path, prefix) {
				t.Fatalf("an error outside the entry: %v", e)
			}
		}
	})
}

func noEnv(string) (string, bool) { return "", false }
