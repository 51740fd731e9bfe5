// Package provider turns configured upstreams into callable providers. A
// provider is a protocol (found in the protocol registry by ID), an
// endpoint, an auth hook and a set of quirks: vendor types are data
// (presets.go), not code paths, and nothing here switches on a protocol's
// name.
//
// The core interface has two methods; passthrough, embeddings and model
// listing are optional capabilities found by type assertion. Providers see
// context.Context, *llm.Request and net/http client types, never the
// gateway's server state.
//
// It imports llm, protocol (and protocol/openai for its ID constant),
// internal/config, internal/redact and the standard library.
package provider

import (
	"context"
	"fmt"
	"net/http"
	"sort"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/health"
	"github.com/llmux/llmux/internal/media"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// Provider is one configured upstream.
type Provider interface {
	// ID is the provider id from the configuration.
	ID() string
	// Do performs a non-streaming chat call.
	Do(ctx context.Context, c *Call) (*llm.Response, error)
	// Stream performs a streaming chat call. It returns once the upstream
	// accepted the request; failures after that come from the stream.
	Stream(ctx context.Context, c *Call) (llm.Stream, error)
}

// Call is one chat call.
type Call struct {
	// Request is the canonical request.
	Request *llm.Request
	// Model is the upstream model id to ask for.
	Model string
}

// Passthrougher is implemented by providers that accept a client's body in
// their upstream's own protocol.
type Passthrougher interface {
	// Protocol is the registry ID of the upstream's protocol.
	Protocol() string
	// Rewrite returns the edits a passed-through body needs for this
	// upstream and model.
	Rewrite(model string) protocol.Rewrite
	// Forward sends an already-encoded body and returns the upstream's
	// successful response; the caller closes its body, whose read failures
	// are *llm.Error. Upstream errors are returned as *llm.Error.
	Forward(ctx context.Context, f *Forward) (*http.Response, error)
	// Sanitize removes secrets and internal addresses from the
	// client-facing text of an error found in a passed-through answer.
	Sanitize(err error) error
}

// Forward is one passed-through call.
type Forward struct {
	// Embeddings selects the embeddings endpoint instead of chat.
	Embeddings bool
	// Model is the upstream model id; Stream whether the body asks for a
	// stream.
	Model  string
	Stream bool
	// Body is the request body to send.
	Body []byte
	// Headers are the client's own protocol headers (anthropic-beta, …),
	// sent on as they are.
	Headers map[string]string
}

// Counter is implemented by providers that can count a request's input
// tokens; ErrCannotCount says this upstream cannot.
type Counter interface {
	CountTokens(ctx context.Context, c *Call) (int, error)
}

// Embedder is implemented by providers that compute embeddings.
type Embedder interface {
	Embed(ctx context.Context, req *llm.EmbeddingRequest, model string) (*llm.EmbeddingResponse, error)
}

// ModelLister is implemented by providers that can list their models.
type ModelLister interface {
	ListModels(ctx context.Context) ([]llm.Model, error)
}

// IdleCloser is implemented by providers that keep idle connections; the
// gateway closes them when a reload replaces the provider.
type IdleCloser interface {
	CloseIdleConnections()
}

// Patterned is implemented by providers whose vendor is known to serve
// model names matching some glob patterns.
type Patterned interface {
	ModelPatterns() []string
}

// KeyPooled is implemented by providers with a pool of API keys.
type KeyPooled interface {
	// KeysAvailable is how many keys may be used now (not cooling down
	// after a 429, not taken out after a 401/403).
	KeysAvailable() int
}

// Error codes of failures that the provider reports without an upstream
// call, or that concern the gateway's own credentials.
const (
	// CodeUnavailable: the provider was not called — its circuit breaker is
	// open, or every key is cooling down.
	CodeUnavailable = "provider_unavailable"
	// CodeCredentialsRefused: the upstream refused the gateway's key.
	CodeCredentialsRefused = "upstream_auth_failed"
)

// Build creates every provider of cfg, plus the built-in mock provider when
// cfg has none named "mock". Errors name the configuration field.
func Build(cfg *config.Config, reg *protocol.Registry) (map[string]Provider, error) {
	return BuildWithHealth(cfg, reg, nil)
}

// BuildWithHealth is Build with the health registry that keeps breaker and
// key states across reloads; nil gives the providers a private one.
func BuildWithHealth(cfg *config.Config, reg *protocol.Registry, hr *health.Registry) (map[string]Provider, error) {
	if hr == nil {
		hr = health.NewRegistry(HealthPolicy(cfg))
	}
	out := make(map[string]Provider, len(cfg.Providers)+1)
	var errs config.Errors
	fetcher := media.New(int64(cfg.Media.MaxBytes), cfg.Media.Timeout.Std(), cfg.Media.AllowPrivate)
	for _, id := range cfg.ProviderIDs() {
		p, err := build(cfg, id, cfg.Providers[id], reg, fetcher, hr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[id] = p
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if _, ok := out[MockType]; !ok {
		out[MockType] = NewMock(MockType, nil)
	}
	return out, nil
}

// HealthPolicy is the breaker and key-cooldown policy of cfg.
func HealthPolicy(cfg *config.Config) health.Policy {
	h := cfg.Health
	return health.Policy{FailureThreshold: h.FailureThreshold, OpenFor: h.OpenFor.Std(),
		CooldownBase: h.Cooldown.Std(), ProbeAfter: h.ProbeAfter.Std(), Strategy: health.Strategy(h.KeyStrategy)}.WithDefaults()
}

func build(cfg *config.Config, id string, pc *config.Provider, reg *protocol.Registry, fetcher *media.Fetcher, hr *health.Registry) (Provider, *config.FieldError) {
	base := "providers." + id
	if pc.Type == MockType {
		return NewMock(id, pc.Mock), nil
	}
	preset, ok := Lookup(pc.Type)
	if !ok {
		path := base + ".type"
		if pc.Type == id {
			path = base // the type was defaulted from the id
		}
		return nil, cfg.Errorf(path, "unknown provider type %q; known types: %s", pc.Type, typeList())
	}
	eg, ok := reg.Egress(preset.Protocol)
	if !ok {
		return nil, cfg.Errorf(base+".type", "provider type %q needs protocol %q, which this build lacks", pc.Type, preset.Protocol)
	}
	keys := pc.Keys()
	if len(keys) == 0 && !preset.KeyOptional {
		hint := ""
		if len(preset.KeyEnv) > 0 {
			hint = fmt.Sprintf(" (for example api_key: ${%s})", preset.KeyEnv[0])
		}
		return nil, cfg.Errorf(base, "no API key: set api_key or api_keys%s", hint)
	}
	p, err := newHTTP(id, preset, pc, eg, reg, fetcher, hr)
	if err != nil {
		return nil, cfg.Errorf(base, "%v", err)
	}
	return p, nil
}

func typeList() string {
	types := Types()
	sort.Strings(types)
	s := ""
	for i, t := range types {
		if i > 0 {
			s += ", "
		}
		s += t
	}
	return s
}

// EnvTable returns the environment variables that enable providers with no
// configuration file, for config.FromEnv.
func EnvTable() []config.EnvProvider {
	var out []config.EnvProvider
	for _, p := range presets {
		if len(p.KeyEnv) == 0 && p.BaseURLEnv == "" {
			continue
		}
		id := p.EnvID
		if id == "" {
			id = p.Type
		}
		out = append(out, config.EnvProvider{ID: id, Type: p.Type, KeyEnv: p.KeyEnv,
			BaseURLEnv: p.BaseURLEnv, BaseURLSuffix: p.BaseURLSuffix})
	}
	return out
}
