// Package config loads llmux's configuration: a YAML (or JSON) file decoded
// strictly, with ${ENV} references expanded, validated with errors that name
// the file, the line, the field and the problem; or, with no file, a
// configuration assembled from well-known environment variables.
//
// It is the only package that reads the process environment. It does not
// know provider types: the caller passes the table of environment-enabled
// providers, and checks of provider types happen where providers are built,
// reporting through Config.Errorf so that they name the file and field too.
//
// A *Config is immutable once loaded; a reload builds a new one.
package config

import (
	"time"
)

// Config is the whole configuration.
type Config struct {
	// Listen is the address to serve on, host:port. Default 127.0.0.1:8080.
	Listen string `yaml:"listen"`
	// AdminKey protects the admin API and console.
	AdminKey string `yaml:"admin_key"`
	// Keys are the static client keys. With none, requests are accepted only
	// on a loopback listener.
	Keys []string `yaml:"keys"`
	// Database is where keys, configuration and usage are stored:
	// sqlite://PATH (default sqlite://./llmux.db) or postgres://….
	Database string `yaml:"database"`
	// Redis, when set, shares limits and state between instances.
	Redis string `yaml:"redis"`
	// LogContent stores prompts and completions with usage records.
	LogContent bool `yaml:"log_content"`
	// LogLevel is debug, info, warn or error. Default info.
	LogLevel string `yaml:"log_level"`
	// LogFormat is text or json. Default text on a terminal, else json.
	LogFormat string `yaml:"log_format"`
	// LogRequests writes one log line per request. Default true.
	LogRequests *bool `yaml:"log_requests"`
	// MaxBodySize caps a request body; bigger bodies get 413. Default 32MiB.
	MaxBodySize ByteSize `yaml:"max_body_size"`
	// DrainTimeout bounds how long a shutdown waits for in-flight requests
	// and streams. Default 30s.
	DrainTimeout Duration `yaml:"drain_timeout"`
	// CORS configures cross-origin access from browsers.
	CORS CORS `yaml:"cors"`
	// Media bounds the downloads of media URLs for upstreams that need
	// inline bytes (Gemini, Ollama).
	Media Media `yaml:"media"`
	// Retry governs trying other candidates after a failure.
	Retry Retry `yaml:"retry"`
	// Health tunes circuit breakers and key cooldowns.
	Health Health `yaml:"health"`
	// Pricing overrides the built-in price table: USD per million tokens,
	// by upstream model name ("gpt-4o") or, for one provider only, by
	// provider/model ("azure/gpt-4o"). A name ending in "*" matches a prefix.
	Pricing map[string]*Price `yaml:"pricing"`
	// Usage governs the per-request usage records.
	Usage Usage `yaml:"usage"`
	// Providers are the upstreams, by id. The id is the first part of a
	// qualified model name ("openai" in "openai/gpt-4o").
	Providers map[string]*Provider `yaml:"providers"`
	// Routes are model aliases spread over several providers.
	Routes map[string]*Route `yaml:"routes"`

	// File is the path the configuration was loaded from ("" when it was
	// assembled from the environment).
	File string `yaml:"-"`
	// Warnings are non-fatal findings of loading (for example a ${VAR} that
	// was unset), for the caller to log.
	Warnings []string `yaml:"-"`

	lines map[string]position
}

// CORS says which browser origins may call the API.
type CORS struct {
	// AllowedOrigins lists origins ("https://app.example.com"), or "*".
	AllowedOrigins []string `yaml:"allowed_origins"`
}

// Media bounds the download of a media URL that must reach an upstream as
// bytes.
type Media struct {
	// MaxBytes caps one download. Default 20MiB.
	MaxBytes ByteSize `yaml:"max_bytes"`
	// Timeout bounds one download. Default 15s.
	Timeout Duration `yaml:"timeout"`
	// AllowPrivate permits URLs that resolve to loopback, private,
	// link-local or otherwise internal addresses. Default false.
	AllowPrivate bool `yaml:"allow_private"`
}

// Defaults of media downloads.
const (
	DefaultMediaMaxBytes = 20 << 20
	DefaultMediaTimeout  = 15 * time.Second
)

// Price is what a model costs, in US dollars per million tokens.
type Price struct {
	// Input is the price of uncached input tokens.
	Input float64 `yaml:"input"`
	// Output is the price of output tokens (reasoning tokens included).
	Output float64 `yaml:"output"`
	// CachedInput is the price of input tokens read from the vendor's
	// prompt cache. Default: Input.
	CachedInput *float64 `yaml:"cached_input"`
}

// Usage governs the usage records written for every request.
type Usage struct {
	// Retention deletes records older than this, checked hourly; 0 keeps
	// them for ever. Default 0.
	Retention Duration `yaml:"retention"`
	// FlushInterval is how long a record may wait in memory before its batch
	// is written. Default 1s.
	FlushInterval Duration `yaml:"flush_interval"`
	// BatchSize is how many records are written in one transaction at most.
	// Default 500.
	BatchSize int `yaml:"batch_size"`
}

// Defaults of usage recording.
const (
	DefaultUsageFlushInterval = time.Second
	DefaultUsageBatchSize     = 500
)

// Provider configures one upstream.
type Provider struct {
	// Type is a protocol type (openai, anthropic, …), a vendor preset
	// (deepseek, groq, …) or mock. Default: the provider's id, when that is
	// a known type.
	Type string `yaml:"type"`
	// BaseURL overrides the type's default endpoint. OpenAI-style types
	// include /v1.
	BaseURL string `yaml:"base_url"`
	// APIKey is a single key; APIKeys a pool. Both may be given.
	APIKey  string   `yaml:"api_key"`
	APIKeys []string `yaml:"api_keys"`
	// Models lists the models served, as a list of upstream names or a map
	// of alias to upstream name. Without it, any model name is passed on.
	Models ModelMap `yaml:"models"`
	// Headers are added to every upstream request.
	Headers map[string]string `yaml:"headers"`
	// Timeout bounds a whole upstream call, stream included. Default 10m.
	Timeout Duration `yaml:"timeout"`
	// ConnectTimeout bounds connecting to the upstream. Default 10s.
	ConnectTimeout Duration `yaml:"connect_timeout"`
	// FirstByteTimeout bounds the wait for the upstream's response headers
	// (and, for a stream, its first event). Default: Timeout.
	FirstByteTimeout Duration `yaml:"first_byte_timeout"`
	// StreamIdleTimeout bounds the silence between two reads of a stream.
	// Default 5m.
	StreamIdleTimeout Duration `yaml:"stream_idle_timeout"`
	// MaxTokens is the output-token limit sent when a request sets none
	// and the upstream protocol requires one (Anthropic), by upstream model
	// name glob ("claude-3-haiku-*"), "*" matching every model. The most
	// specific (longest) matching pattern wins; without a match, a built-in
	// per-model table is used.
	MaxTokens map[string]int `yaml:"max_tokens"`
	// Mock configures a provider of type mock.
	Mock *Mock `yaml:"mock"`
}

// Keys returns api_key followed by api_keys.
func (p *Provider) Keys() []string {
	var keys []string
	if p.APIKey != "" {
		keys = append(keys, p.APIKey)
	}
	return append(keys, p.APIKeys...)
}

// Mock configures the built-in mock upstream.
type Mock struct {
	// Latency is the delay before the first token. Default 0.
	Latency Duration `yaml:"latency"`
	// TokensPerSecond paces streamed output; 0 means as fast as possible.
	TokensPerSecond float64 `yaml:"tokens_per_second"`
	// OutputTokens is how many tokens generated answers have. Default 16.
	OutputTokens int `yaml:"output_tokens"`
}

// Route spreads a model alias over several targets.
type Route struct {
	// Targets are tried by priority (higher first), spread by weight
	// within a priority.
	Targets []Target `yaml:"targets"`
	// Fallbacks are model names tried, in order, after every target failed.
	Fallbacks []string `yaml:"fallbacks"`
	// ContextFallback is tried when a target answers that the request
	// exceeds its context window (usually a model with a larger one).
	ContextFallback string `yaml:"context_fallback"`
	// ContentFilterFallback is tried when a target refuses the request
	// with a content-filter error.
	ContentFilterFallback string `yaml:"content_filter_fallback"`
	// MaxAttempts and Timeout override the retry settings for this route.
	MaxAttempts int      `yaml:"max_attempts"`
	Timeout     Duration `yaml:"timeout"`
}

// Retry says when and how often a failed attempt is tried again on the
// next candidate.
type Retry struct {
	// MaxAttempts bounds the attempts of one request. Default 4.
	MaxAttempts int `yaml:"max_attempts"`
	// Timeout bounds all attempts of one request together, until its
	// answer starts: an attempt still waiting then is canceled, while an
	// answer already streaming runs to its end. Default: none beyond the
	// providers' own.
	Timeout Duration `yaml:"timeout"`
	// Statuses are the upstream HTTP statuses retried elsewhere. Default
	// 408, 409, 429, 500, 502, 503, 504 and 529; connection errors and
	// timeouts before the first byte are always retried.
	Statuses []int `yaml:"statuses"`
}

// Health tunes the circuit breakers and key cooldowns.
type Health struct {
	// FailureThreshold is how many consecutive server errors, timeouts or
	// connection failures open a provider's breaker. Default 5.
	FailureThreshold int `yaml:"failure_threshold"`
	// OpenFor is how long an open breaker refuses calls before one probe
	// is let through; it doubles after a failed probe up to 5m. Default 30s.
	OpenFor Duration `yaml:"open_for"`
	// Cooldown is a rate-limited key's first pause when the upstream gives
	// no hint; it doubles per repeated 429 up to 60s. Default 1s.
	Cooldown Duration `yaml:"cooldown"`
	// ProbeAfter is how long a key refused with 401/403 stays out before it
	// is tried again; it doubles up to 30m. Default 1m.
	ProbeAfter Duration `yaml:"probe_after"`
	// KeyStrategy picks among a provider's usable keys: round_robin
	// (default) or least_recently_limited.
	KeyStrategy string `yaml:"key_strategy"`
}

// Target is one model of a route.
type Target struct {
	// Model is a provider/model name.
	Model string `yaml:"model"`
	// Weight is the relative share of requests. Default 1.
	Weight *int `yaml:"weight"`
	// Priority orders tiers; higher is tried first. Default 0.
	Priority int `yaml:"priority"`
}

// ModelMap maps the names clients use to upstream model ids. A YAML list
// maps each name to itself.
type ModelMap struct {
	// Names in configuration order.
	Names []string
	// Upstream maps each name to its upstream id.
	Upstream map[string]string
}

// Duration is a time.Duration written as "30s", "5m" or a number of seconds.
type Duration time.Duration

// ByteSize is a size written as a number of bytes or with a unit: "32MiB",
// "512KB", "1GiB".
type ByteSize int64

// Defaults applied by Load and FromEnv.
const (
	DefaultListen       = "127.0.0.1:8080"
	DefaultDatabase     = "sqlite://./llmux.db"
	DefaultMaxBodySize  = 32 << 20
	DefaultDrainTimeout = 30 * time.Second
)
