package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FieldError is a problem with one configuration field.
type FieldError struct {
	File         string
	Line, Column int
	// Path is the field in dotted form, e.g. "providers.openai.base_url".
	Path string
	Msg  string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(display(e.Path))
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// display shows the root path as "(top level)".
func display(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}

// Errors is every problem found, in file order.
type Errors []*FieldError

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Load reads, expands, decodes and validates the configuration file at
// path. Every problem found is returned at once, as Errors.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	return Parse(path, data, Getenv)
}

// Parse decodes and validates configuration text; file names it in errors.
// getenv resolves ${NAME} references.
func Parse(file string, data []byte, getenv func(string) (string, bool)) (*Config, error) {
	cfg := &Config{File: file, lines: map[string]position{}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Errors{{File: file, Msg: "not valid YAML or JSON: " + strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	if root.Kind == 0 || (root.Kind == yaml.DocumentNode && len(root.Content) == 0) {
		return nil, Errors{{File: file, Msg: "the file is empty"}}
	}
	d := &decoder{cfg: cfg, getenv: getenv}
	d.decode(&root, reflect.ValueOf(cfg).Elem(), "")
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	cfg.applyDefaults()
	if errs := cfg.validate(); len(errs) > 0 {
		return nil, errs
	}
	return cfg, nil
}

// EnvProvider says how to enable one provider from environment variables.
type EnvProvider struct {
	// ID is the provider id (and, unless Type is set, its type).
	ID   string
	Type string
	// KeyEnv lists variables holding the API key; the first one set wins.
	KeyEnv []string
	// BaseURLEnv names a variable holding the base URL; a provider with
	// only this variable set needs no key (a local server).
	BaseURLEnv string
	// BaseURLSuffix is appended to BaseURLEnv's value ("/v1").
	BaseURLSuffix string
}

// FromEnv assembles the zero-configuration setup: one provider for every
// entry of table whose variables are set, plus listen address and keys from
// LLMUX_* variables.
func FromEnv(table []EnvProvider, getenv func(string) (string, bool)) (*Config, error) {
	cfg := &Config{lines: map[string]position{}, Providers: map[string]*Provider{}}
	val := func(name string) string {
		v, _ := getenv(name)
		return strings.TrimSpace(v)
	}
	cfg.Listen = val(EnvListen)
	cfg.AdminKey = val(EnvAdminKey)
	for _, k := range strings.Split(val(EnvKeys), ",") {
		if k = strings.TrimSpace(k); k != "" {
			cfg.Keys = append(cfg.Keys, k)
		}
	}
	for _, e := range table {
		p := &Provider{Type: e.Type}
		if p.Type == "" {
			p.Type = e.ID
		}
		for _, name := range e.KeyEnv {
			if k := val(name); k != "" {
				p.APIKey = k
				break
			}
		}
		if e.BaseURLEnv != "" {
			if u := val(e.BaseURLEnv); u != "" {
				p.BaseURL = strings.TrimRight(u, "/") + e.BaseURLSuffix
			}
		}
		if p.APIKey != "" || p.BaseURL != "" {
			cfg.Providers[e.ID] = p
		}
	}
	cfg.applyDefaults()
	if errs := cfg.validate(); len(errs) > 0 {
		return nil, errs
	}
	return cfg, nil
}

// Errorf returns a FieldError for path, positioned where the file set it.
func (c *Config) Errorf(path, format string, args ...any) *FieldError {
	e := &FieldError{File: c.File, Path: path, Msg: fmt.Sprintf(format, args...)}
	if pos, ok := c.lines[path]; ok {
		e.Line, e.Column = pos.line, pos.col
	}
	return e
}

// RequestLogging reports whether per-request log lines are on.
func (c *Config) RequestLogging() bool { return c.LogRequests == nil || *c.LogRequests }

// ProviderIDs returns the provider ids, sorted.
func (c *Config) ProviderIDs() []string {
	ids := make([]string, 0, len(c.Providers))
	for id := range c.Providers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (c *Config) applyDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if c.MaxBodySize == 0 {
		c.MaxBodySize = DefaultMaxBodySize
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = Duration(DefaultDrainTimeout)
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.Usage.FlushInterval == 0 {
		c.Usage.FlushInterval = Duration(DefaultUsageFlushInterval)
	}
	if c.Usage.BatchSize == 0 {
		c.Usage.BatchSize = DefaultUsageBatchSize
	}
	if c.Media.MaxBytes == 0 {
		c.Media.MaxBytes = DefaultMediaMaxBytes
	}
	if c.Media.Timeout == 0 {
		c.Media.Timeout = Duration(DefaultMediaTimeout)
	}
	if c.Providers == nil {
		c.Providers = map[string]*Provider{}
	}
	c.Keys = c.nonEmpty("keys", c.Keys)
	for id, p := range c.Providers {
		if p == nil {
			p = &Provider{}
			c.Providers[id] = p
		}
		if p.Type == "" {
			p.Type = id
		}
		p.APIKeys = c.nonEmpty("providers."+id+".api_keys", p.APIKeys)
	}
}

// nonEmpty drops empty entries (a ${VAR} that was unset), with a warning.
func (c *Config) nonEmpty(path string, list []string) []string {
	out := list[:0]
	for i, s := range list {
		if strings.TrimSpace(s) == "" {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s[%d] is empty and was ignored", path, i))
			continue
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

func (c *Config) validate() Errors {
	var errs Errors
	add := func(path, format string, args ...any) { errs = append(errs, c.Errorf(path, format, args...)) }

	if err := checkListen(c.Listen); err != nil {
		add("listen", "%v", err)
	}
	if !strings.HasPrefix(c.Database, "sqlite://") && !strings.HasPrefix(c.Database, "postgres://") &&
		!strings.HasPrefix(c.Database, "postgresql://") {
		add("database", "must be sqlite://PATH or postgres://…")
	}
	if c.Redis != "" && !strings.HasPrefix(c.Redis, "redis://") && !strings.HasPrefix(c.Redis, "rediss://") {
		add("redis", "must be redis://… or rediss://…")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		add("log_level", "must be debug, info, warn or error, got %q", c.LogLevel)
	}
	switch c.LogFormat {
	case "", "text", "json":
	default:
		add("log_format", "must be text or json, got %q", c.LogFormat)
	}
	if c.Retry.MaxAttempts < 0 {
		add("retry.max_attempts", "must not be negative")
	}
	if c.Retry.Timeout < 0 {
		add("retry.timeout", "must not be negative")
	}
	for i, st := range c.Retry.Statuses {
		if st < 400 || st > 599 {
			add("retry.statuses["+strconv.Itoa(i)+"]", "must be an HTTP error status (400-599), got %d", st)
		}
	}
	switch c.Health.KeyStrategy {
	case "", "round_robin", "least_recently_limited":
	default:
		add("health.key_strategy", "must be round_robin or least_recently_limited, got %q", c.Health.KeyStrategy)
	}
	if c.Health.FailureThreshold < 0 {
		add("health.failure_threshold", "must not be negative")
	}
	for path, d := range map[string]Duration{"health.open_for": c.Health.OpenFor, "health.cooldown": c.Health.Cooldown,
		"health.probe_after": c.Health.ProbeAfter} {
		if d < 0 {
			add(path, "must not be negative")
		}
	}
	if c.Media.MaxBytes < 0 {
		add("media.max_bytes", "must not be negative")
	}
	if c.Media.Timeout < 0 {
		add("media.timeout", "must not be negative")
	}
	if c.Usage.BatchSize < 0 {
		add("usage.batch_size", "must not be negative")
	}
	for _, name := range sortedKeys(c.Pricing) {
		p, path := c.Pricing[name], "pricing."+name
		switch {
		case strings.TrimSpace(name) == "":
			add("pricing", "a model name is empty")
		case p == nil:
			add(path, "needs input and output prices")
		case p.Input < 0 || math.IsNaN(p.Input) || math.IsInf(p.Input, 0):
			add(path+".input", "must be a finite number ≥ 0 (USD per million tokens)")
		case p.Output < 0 || math.IsNaN(p.Output) || math.IsInf(p.Output, 0):
			add(path+".output", "must be a finite number ≥ 0 (USD per million tokens)")
		case p.CachedInput != nil && (*p.CachedInput < 0 || math.IsNaN(*p.CachedInput) || math.IsInf(*p.CachedInput, 0)):
			add(path+".cached_input", "must be a finite number ≥ 0 (USD per million tokens)")
		}
	}
	if c.MaxBodySize < 1024 {
		add("max_body_size", "must be at least 1KiB")
	}
	for i, o := range c.CORS.AllowedOrigins {
		if o == "*" {
			continue
		}
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			add("cors.allowed_origins["+strconv.Itoa(i)+"]", "must be an origin such as https://app.example.com, or *, got %q", o)
		}
	}
	for _, id := range c.ProviderIDs() {
		errs = append(errs, c.validateProvider(id, c.Providers[id])...)
	}
	names := make([]string, 0, len(c.Routes))
	for name := range c.Routes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		errs = append(errs, c.validateRoute(name, c.Routes[name])...)
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	return errs
}

func checkListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("must be host:port, got %q", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port must be a number from 0 to 65535, got %q", port)
	}
	return nil
}

func (c *Config) validateProvider(id string, p *Provider) Errors {
	var errs Errors
	base := "providers." + id
	add := func(path, format string, args ...any) { errs = append(errs, c.Errorf(path, format, args...)) }
	if !idPattern.MatchString(id) {
		add(base, "provider ids may hold only letters, digits, '-' and '_' (no '/' or '.'), got %q", id)
	}
	if p.BaseURL != "" {
		u, err := url.Parse(p.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add(base+".base_url", "must be an absolute http:// or https:// URL")
		} else if u.User != nil {
			add(base+".base_url", "must not contain credentials; use api_key")
		}
	}
	for i, k := range p.APIKeys {
		if strings.ContainsAny(k, "\r\n") {
			add(base+".api_keys["+strconv.Itoa(i)+"]", "must not contain line breaks")
		}
	}
	if strings.ContainsAny(p.APIKey, "\r\n") {
		add(base+".api_key", "must not contain line breaks")
	}
	for _, name := range p.Models.Names {
		if strings.TrimSpace(name) != name || name == "" {
			add(base+".models", "model name %q has surrounding spaces", name)
		}
	}
	for h := range p.Headers {
		if h == "" || strings.ContainsAny(h, " :\r\n") {
			add(base+".headers."+h, "not a valid header name")
		}
	}
	if p.FirstByteTimeout < 0 {
		add(base+".first_byte_timeout", "must not be negative")
	}
	if p.StreamIdleTimeout < 0 {
		add(base+".stream_idle_timeout", "must not be negative")
	}
	for _, pat := range sortedKeys(p.MaxTokens) {
		if p.MaxTokens[pat] <= 0 {
			add(base+".max_tokens."+pat, "must be a positive number of tokens, got %d", p.MaxTokens[pat])
		}
		if _, err := path.Match(pat, ""); err != nil || pat == "" {
			add(base+".max_tokens."+pat, "not a valid model pattern")
		}
	}
	if p.Mock != nil {
		if p.Type != "mock" {
			add(base+".mock", "only for providers of type mock")
		}
		if p.Mock.TokensPerSecond < 0 {
			add(base+".mock.tokens_per_second", "must not be negative")
		}
		if p.Mock.OutputTokens < 0 {
			add(base+".mock.output_tokens", "must not be negative")
		}
	}
	return errs
}

func (c *Config) validateRoute(name string, r *Route) Errors {
	var errs Errors
	base := "routes." + name
	add := func(path, format string, args ...any) { errs = append(errs, c.Errorf(path, format, args...)) }
	if r == nil || len(r.Targets) == 0 {
		add(base+".targets", "a route needs at least one target")
		return errs
	}
	total := 0
	for i, t := range r.Targets {
		tp := base + ".targets[" + strconv.Itoa(i) + "]"
		if t.Model == "" {
			add(tp+".model", "required")
			continue
		}
		if err := c.checkQualified(t.Model); err != nil {
			add(tp+".model", "%v", err)
		}
		w := 1
		if t.Weight != nil {
			w = *t.Weight
		}
		if w < 0 {
			add(tp+".weight", "must not be negative")
		}
		total += w
	}
	if total == 0 && len(errs) == 0 {
		add(base+".targets", "at least one target needs a weight above 0")
	}
	for i, f := range r.Fallbacks {
		if strings.TrimSpace(f) == "" {
			add(base+".fallbacks["+strconv.Itoa(i)+"]", "empty model name")
		}
	}
	if r.MaxAttempts < 0 {
		add(base+".max_attempts", "must not be negative")
	}
	if r.Timeout < 0 {
		add(base+".timeout", "must not be negative")
	}
	return errs
}

// checkQualified checks that name is provider/model with a configured
// provider. Whether the provider serves the model is checked by the router,
// which knows about built-in providers.
func (c *Config) checkQualified(name string) error {
	pid, model, ok := strings.Cut(name, "/")
	if !ok || pid == "" || model == "" {
		return errors.New("must be provider/model, got " + strconv.Quote(name))
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
