// Package gateway is the HTTP server: ingress routes taken from the protocol
// registry, authentication, the attempt loop that walks the router's
// candidates, the passthrough and translation paths, and the one function
// that renders errors in the client's protocol.
//
// It is the only package that knows about all the others, and it holds no
// protocol or provider specifics: a request is decoded by its ingress
// protocol, routed, and either passed through (same protocol on both sides)
// or translated through the canonical model.
//
// The server's configuration is an immutable snapshot swapped atomically on
// reload; a request keeps the snapshot it started with.
package gateway

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/health"
	"github.com/llmux/llmux/internal/keys"
	"github.com/llmux/llmux/internal/limits"
	"github.com/llmux/llmux/internal/metrics"
	"github.com/llmux/llmux/internal/provider"
	"github.com/llmux/llmux/internal/router"
	"github.com/llmux/llmux/internal/store"
	"github.com/llmux/llmux/internal/usage"
	"github.com/llmux/llmux/protocol"
)

// Options are the server's collaborators.
type Options struct {
	// Registry holds the protocols; required.
	Registry *protocol.Registry
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Metrics receives measurements; nil creates a private set.
	Metrics *metrics.Metrics
	// Keys resolves client keys, virtual ones included; nil knows only the
	// configuration's static keys. The server keeps its static keys up to
	// date on every reload.
	Keys *keys.Resolver
	// Limiter enforces the limits and budgets of virtual keys and teams;
	// nil enforces none.
	Limiter limits.Limiter
	// Usage receives one record per model request; nil keeps none.
	Usage UsageSink
	// Admin serves the admin API below /admin/api/ (keys, teams, usage,
	// logs) behind the server's admin-key check; nil serves only the
	// server's own admin endpoints.
	Admin http.Handler
	// SettleAsync settles admissions and queues usage records on a goroutine
	// of their own once a response is complete, so that a remote limiter's
	// round trip (Redis) does not delay the end of the response.
	SettleAsync bool
	// AdminKeyHash is the SHA-256 of the admin key to require when the
	// configuration sets no admin_key (the key llmux generated and keeps in
	// the store); nil leaves such a gateway's admin API to loopback clients.
	AdminKeyHash *[32]byte
	// Settings keeps the providers and routes changed through the admin API
	// (shared by every instance of one database); nil disables such changes.
	Settings store.ConfigStore
	// Ready reports whether the server's dependencies (the database) answer,
	// for /readyz; nil means always.
	Ready func(ctx context.Context) error
}

// UsageSink takes usage records off the request path (usage.Writer).
type UsageSink interface {
	Add(store.UsageRecord)
}

// Server serves the gateway's HTTP API. Create it with New; it is safe for
// concurrent use.
type Server struct {
	reg      *protocol.Registry
	health   *health.Registry // breaker and key states, kept across reloads
	log      *slog.Logger
	metrics  *metrics.Metrics
	keys     *keys.Resolver
	limiter  limits.Limiter
	usage    UsageSink
	adminAPI http.Handler
	ready    func(ctx context.Context) error
	adminSum *[32]byte
	async    bool
	pending  sync.WaitGroup // handlers and settlements still running
	rt       runtimeConfig
	state    atomic.Pointer[state]
	draining atomic.Bool
	mux      *http.ServeMux
}

// state is everything derived from one configuration.
type state struct {
	cfg        *config.Config
	providers  map[string]provider.Provider
	router     *router.Table
	origins    map[string]bool // CORS; "*" allows any
	maxBody    int64
	logReqs    bool
	models     *modelCache
	retry      retryPolicy
	prices     *usage.Table
	logContent bool
	adminKey   [32]byte // SHA-256 of the admin key; zero when none is set
	hasAdmin   bool
}

// New builds a server for cfg. Configuration problems that only show when
// providers and routes are built are returned as config.Errors naming the
// field.
func New(cfg *config.Config, opts Options) (*Server, error) {
	s := &Server{reg: opts.Registry, log: opts.Logger, metrics: opts.Metrics, health: health.NewRegistry(provider.HealthPolicy(cfg)),
		keys: opts.Keys, limiter: opts.Limiter, usage: opts.Usage, adminAPI: opts.Admin, ready: opts.Ready,
		adminSum: opts.AdminKeyHash, async: opts.SettleAsync}
	if s.keys == nil {
		s.keys = keys.New(nil, keys.Options{})
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.metrics == nil {
		s.metrics = metrics.New()
	}
	s.rt.st = opts.Settings
	var o config.Overlay
	if s.rt.st != nil {
		var err error
		if o, s.rt.rev, err = s.loadOverlay(context.Background()); err != nil {
			return nil, fmt.Errorf("reading the configuration changed through the admin API: %w", err)
		}
	}
	if err := s.apply(cfg, o); err != nil {
		if len(o.Providers)+len(o.Routes) == 0 {
			return nil, err
		}
		s.log.Error("the configuration changed through the admin API does not apply to this configuration file; ignoring it", "error", err)
		if err := s.apply(cfg, config.Overlay{}); err != nil {
			return nil, err
		}
	}
	s.routes()
	return s, nil
}

// Reload swaps in a new configuration. Requests in flight finish with the
// configuration they started with.
func (s *Server) Reload(cfg *config.Config) error {
	s.rt.mu.Lock()
	defer s.rt.mu.Unlock()
	return s.apply(cfg, s.rt.overlay)
}

// swap makes st the running state.
func (s *Server) swap(st *state) {
	s.keys.SetStatic(st.cfg.Keys)
	old := s.state.Swap(st)
	if old == nil {
		return
	}
	s.health.Retain(s.Providers())
	// Requests still using the old providers keep their connections; the
	// idle ones would otherwise linger until their timeout.
	for _, p := range old.providers {
		if ic, ok := p.(provider.IdleCloser); ok {
			ic.CloseIdleConnections()
		}
	}
}

// ReloadFile reloads the configuration from the file the running one came
// from. The listen address stays (a new one needs a restart); a file that
// does not load, or that would leave a reachable listener without client
// keys, is refused and the running configuration kept.
func (s *Server) ReloadFile() error {
	s.rt.mu.Lock()
	cur := s.rt.base
	s.rt.mu.Unlock()
	if cur.File == "" {
		return errors.New("the configuration came from the environment, not from a file; there is nothing to reload")
	}
	cfg, err := config.Load(cur.File)
	if err != nil {
		return err
	}
	cfg.Listen = cur.Listen
	if cfg.Database != cur.Database || cfg.Redis != cur.Redis {
		s.log.Warn("database and redis changes apply at the next restart; the running instance keeps its connections")
	}
	if err := CheckListen(cfg, cfg.Listen, s.keys.HasVirtual()); err != nil {
		return err
	}
	return s.Reload(cfg)
}

// Providers returns the ids of the providers in effect, mock included.
func (s *Server) Providers() []string {
	st := s.state.Load()
	ids := make([]string, 0, len(st.providers))
	for id := range st.providers {
		ids = append(ids, id)
	}
	return ids
}

// SetDraining makes /readyz fail so that load balancers stop sending
// traffic; requests are still served.
func (s *Server) SetDraining(v bool) { s.draining.Store(v) }

func (s *Server) build(cfg *config.Config) (*state, error) {
	provs, err := provider.BuildWithHealth(cfg, s.reg, s.health)
	if err != nil {
		return nil, err
	}
	table, err := buildRouter(cfg, provs)
	if err != nil {
		return nil, err
	}
	st := &state{
		cfg:        cfg,
		providers:  provs,
		router:     table,
		origins:    map[string]bool{},
		maxBody:    int64(cfg.MaxBodySize),
		logReqs:    cfg.RequestLogging(),
		models:     &modelCache{entries: map[string]*modelEntry{}},
		retry:      newRetryPolicy(cfg.Retry),
		prices:     usage.NewTable(cfg.Pricing),
		logContent: cfg.LogContent,
	}
	if cfg.AdminKey != "" {
		st.adminKey, st.hasAdmin = sha256.Sum256([]byte(cfg.AdminKey)), true
	} else if s.adminSum != nil {
		st.adminKey, st.hasAdmin = *s.adminSum, true
	}
	for _, o := range cfg.CORS.AllowedOrigins {
		st.origins[strings.TrimRight(o, "/")] = true
	}
	return st, nil
}

// buildRouter builds the routing table of cfg over the built providers.
func buildRouter(cfg *config.Config, provs map[string]provider.Provider) (*router.Table, error) {
	var rps []router.Provider
	for id, p := range provs {
		rp := router.Provider{ID: id}
		if pc := cfg.Providers[id]; pc != nil {
			rp.Names, rp.Models = pc.Models.Names, pc.Models.Upstream
		}
		if pp, ok := p.(provider.Patterned); ok {
			rp.Patterns = pp.ModelPatterns()
		}
		rps = append(rps, rp)
	}
	var routes []router.Route
	for name, r := range cfg.Routes {
		rr := router.Route{Name: name, Fallbacks: r.Fallbacks, ContextFallback: r.ContextFallback,
			FilterFallback: r.ContentFilterFallback, MaxAttempts: r.MaxAttempts, Timeout: r.Timeout.Std()}
		for _, t := range r.Targets {
			w := 1
			if t.Weight != nil {
				w = *t.Weight
			}
			rr.Targets = append(rr.Targets, router.Target{Model: t.Model, Weight: w, Priority: t.Priority})
		}
		routes = append(routes, rr)
	}
	table, err := router.New(rps, routes)
	if te, ok := err.(*router.TargetError); ok {
		path := "routes." + te.Route + "." + te.Field
		if te.Index >= 0 {
			path += "[" + strconv.Itoa(te.Index) + "]"
		}
		if te.Field == "targets" {
			path += ".model"
		}
		return nil, config.Errors{cfg.Errorf(path, "%v", te.Err)}
	}
	return table, err
}

// CheckListen refuses to serve without client keys on an address other
// hosts can reach; virtualKeys says whether the store holds keys.
func CheckListen(cfg *config.Config, addr string, virtualKeys bool) error {
	if len(cfg.Keys) > 0 || virtualKeys {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if isLoopbackHost(host) {
		return nil
	}
	return &config.FieldError{File: cfg.File, Path: "keys",
		Msg: "no client keys are configured, so llmux serves only on a loopback address (127.0.0.1, ::1, localhost); " +
			"set keys (or LLMUX_KEYS), or create a virtual key with 'llmux keys create', to listen on " + addr}
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// bytesPool recycles the buffers of request bodies and of rewritten
// upstream bodies; getBytes and putBytes use it, dropping oversized ones.
var bytesPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func getBytes() *[]byte { return bytesPool.Get().(*[]byte) }

func putBytes(bp *[]byte) {
	if cap(*bp) > maxPooledBody {
		return
	}
	*bp = (*bp)[:0]
	bytesPool.Put(bp)
}

const maxPooledBody = 1 << 20
