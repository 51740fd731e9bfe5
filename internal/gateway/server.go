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
	"crypto/sha256"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/health"
	"github.com/llmux/llmux/internal/metrics"
	"github.com/llmux/llmux/internal/provider"
	"github.com/llmux/llmux/internal/router"
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
}

// Server serves the gateway's HTTP API. Create it with New; it is safe for
// concurrent use.
type Server struct {
	reg      *protocol.Registry
	health   *health.Registry // breaker and key states, kept across reloads
	log      *slog.Logger
	metrics  *metrics.Metrics
	state    atomic.Pointer[state]
	draining atomic.Bool
	mux      *http.ServeMux
}

// state is everything derived from one configuration.
type state struct {
	cfg       *config.Config
	providers map[string]provider.Provider
	router    *router.Table
	keys      map[[32]byte]struct{}
	origins   map[string]bool // CORS; "*" allows any
	maxBody   int64
	logReqs   bool
	models    *modelCache
	retry     retryPolicy
	adminKey  [32]byte // SHA-256 of the admin key; zero when none is set
	hasAdmin  bool
}

// New builds a server for cfg. Configuration problems that only show when
// providers and routes are built are returned as config.Errors naming the
// field.
func New(cfg *config.Config, opts Options) (*Server, error) {
	s := &Server{reg: opts.Registry, log: opts.Logger, metrics: opts.Metrics, health: health.NewRegistry(provider.HealthPolicy(cfg))}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.metrics == nil {
		s.metrics = metrics.New()
	}
	st, err := s.build(cfg)
	if err != nil {
		return nil, err
	}
	s.state.Store(st)
	s.routes()
	return s, nil
}

// Reload swaps in a new configuration. Requests in flight finish with the
// configuration they started with.
func (s *Server) Reload(cfg *config.Config) error {
	st, err := s.build(cfg)
	if err != nil {
		return err
	}
	old := s.state.Swap(st)
	s.health.Retain(s.Providers())
	// Requests still using the old providers keep their connections; the
	// idle ones would otherwise linger until their timeout.
	for _, p := range old.providers {
		if ic, ok := p.(provider.IdleCloser); ok {
			ic.CloseIdleConnections()
		}
	}
	return nil
}

// ReloadFile reloads the configuration from the file the running one came
// from. The listen address stays (a new one needs a restart); a file that
// does not load, or that would leave a reachable listener without client
// keys, is refused and the running configuration kept.
func (s *Server) ReloadFile() error {
	cur := s.state.Load().cfg
	if cur.File == "" {
		return errors.New("the configuration came from the environment, not from a file; there is nothing to reload")
	}
	cfg, err := config.Load(cur.File)
	if err != nil {
		return err
	}
	cfg.Listen = cur.Listen
	if err := CheckListen(cfg, cfg.Listen); err != nil {
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
		cfg:       cfg,
		providers: provs,
		router:    table,
		keys:      map[[32]byte]struct{}{},
		origins:   map[string]bool{},
		maxBody:   int64(cfg.MaxBodySize),
		logReqs:   cfg.RequestLogging(),
		models:    &modelCache{entries: map[string]*modelEntry{}},
		retry:     newRetryPolicy(cfg.Retry),
	}
	if cfg.AdminKey != "" {
		st.adminKey, st.hasAdmin = sha256.Sum256([]byte(cfg.AdminKey)), true
	}
	for _, k := range cfg.Keys {
		st.keys[sha256.Sum256([]byte(k))] = struct{}{}
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
// hosts can reach.
func CheckListen(cfg *config.Config, addr string) error {
	if len(cfg.Keys) > 0 {
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
			"set keys (or LLMUX_KEYS) to listen on " + addr}
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
