package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/llmux/llmux/internal/keys"
	"github.com/llmux/llmux/internal/limits"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// handler serves one API request. It returns an error instead of writing
// one; the error is rendered in the client's protocol by writeError.
type handler func(w *responseWriter, r *http.Request, rc *reqCtx) error

// reqCtx is what one request carries through the pipeline and reports to
// the access log and metrics.
type reqCtx struct {
	st    *state
	ing   protocol.Ingress
	id    string
	start time.Time
	ctx   context.Context // the request's

	principal *keys.Principal
	ticket    *limits.Ticket // the limiter's admission, until settled
	record    bool           // a model request: it gets a usage record

	model         string // as the client asked
	stream        bool
	provider      string // the provider that served (or failed last)
	upstreamModel string
	attempts      int
	usage         llm.Usage
	hasUsage      bool
	ttft          time.Duration
	err           *llm.Error
	protocolOut   string // the upstream protocol of the last attempt

	capture    capture // the start of a streamed answer, for estimates and content logging
	completion string  // the answer's text, when known whole
	prompt     string  // the request body, with content logging on
}

// routes registers every ingress path of every registered protocol, under
// its plain path and each of its prefixes, plus the operational endpoints.
// Where two protocols claim one path (GET /v1/models), the default ingress
// has it, then the first protocol by ID; the other keeps it under its
// prefixes.
func (s *Server) routes() {
	mux := http.NewServeMux()
	ids := s.reg.IDs()
	sort.SliceStable(ids, func(i, j int) bool { return ids[i] == defaultIngress && ids[j] != defaultIngress })
	taken := map[string]bool{}
	for _, id := range ids {
		ing, ok := s.reg.Ingress(id)
		if !ok {
			continue
		}
		routed, ok := ing.(protocol.Routed)
		if !ok {
			continue
		}
		for _, rt := range routed.Routes() {
			h := s.opHandler(ing, rt)
			if h == nil {
				continue
			}
			api := s.api(ing, rt.Method, h)
			for _, prefix := range append([]string{""}, routed.Prefixes()...) {
				if pattern := prefix + rt.Path; !taken[pattern] {
					taken[pattern] = true
					mux.Handle(pattern, api)
				}
			}
		}
	}
	mux.HandleFunc("/healthz", s.healthz)
	mux.Handle("/admin/api/health", s.admin(http.MethodGet, s.providerHealth))
	mux.Handle("/admin/api/reload", s.admin(http.MethodPost, s.reloadConfig))
	for _, kind := range []string{"providers", "routes"} {
		mux.Handle("/admin/api/"+kind, s.admin("", s.runtimeAPI(kind)))
		mux.Handle("/admin/api/"+kind+"/{id}", s.admin("", s.runtimeAPI(kind)))
	}
	if s.adminAPI != nil {
		mux.Handle("/admin/api/", s.admin("", s.adminAPI.ServeHTTP))
	}
	mux.HandleFunc("/readyz", s.readyz)
	mux.Handle("/metrics", s.metrics.Handler())
	if fallback, ok := s.reg.Ingress(defaultIngress); ok {
		mux.Handle("/", s.api(fallback, "", func(w *responseWriter, r *http.Request, rc *reqCtx) error {
			return &llm.Error{Kind: llm.KindNotFound, Code: "unknown_url",
				Message: fmt.Sprintf("Unknown request URL: %s %s.", r.Method, r.URL.Path)}
		}))
	}
	s.mux = mux
}

// defaultIngress renders errors for paths no protocol claims.
const defaultIngress = "openai"

func (s *Server) opHandler(ing protocol.Ingress, rt protocol.Route) handler {
	switch rt.Op {
	case protocol.OpChat:
		chat := s.chat(ing)
		return func(w *responseWriter, r *http.Request, rc *reqCtx) error { return chat(w, r, rc, nil) }
	case protocol.OpAddressed:
		if ad, ok := ing.(protocol.Addressed); ok {
			return s.addressed(ing, ad, rt.Path)
		}
	case protocol.OpCountTokens:
		if ci, ok := ing.(protocol.CountIngress); ok {
			count := s.count(ing, ci)
			return func(w *responseWriter, r *http.Request, rc *reqCtx) error { return count(w, r, rc, nil) }
		}
	case protocol.OpShow:
		if si, ok := ing.(protocol.ShowIngress); ok {
			return s.show(si)
		}
	case protocol.OpVersion:
		if vi, ok := ing.(protocol.VersionIngress); ok {
			return s.version(vi)
		}
	case protocol.OpEmbeddings:
		if ei, ok := ing.(protocol.EmbeddingIngress); ok {
			return s.embeddings(ing, ei)
		}
	case protocol.OpModels:
		if ml, ok := ing.(protocol.ModelListIngress); ok {
			return s.listModels(ml)
		}
	}
	return nil
}

// ServeHTTP serves the gateway's API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// api wraps an API handler: request id, CORS, method check, authentication,
// error rendering, panic containment, access log and metrics.
func (s *Server) api(ing protocol.Ingress, method string, h handler) http.Handler {
	return http.HandlerFunc(func(hw http.ResponseWriter, r *http.Request) {
		rc := &reqCtx{st: s.state.Load(), ing: ing, id: requestID(r), start: time.Now(), ctx: r.Context()}
		hw.Header().Set("X-Request-Id", rc.id)
		if s.cors(hw, r, rc.st) {
			return
		}
		w := &responseWriter{ResponseWriter: hw}
		s.pending.Add(1)
		defer s.pending.Done()
		s.metrics.InFlight.Inc()
		defer s.metrics.InFlight.Dec()
		defer s.finish(r, w, rc)
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic serving request", "request_id", rc.id, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				s.writeError(w, rc, &llm.Error{Kind: llm.KindInternal, Message: "internal error"})
			}
		}()
		var err error
		switch {
		case method != "" && r.Method != method:
			err = methodNotAllowed(w, r, method)
		default:
			if err = s.authenticate(r, rc); err == nil {
				err = h(w, r, rc)
			}
		}
		if err != nil {
			s.writeError(w, rc, err)
		}
	})
}

// methodNotAllowed is the error of a request whose method the endpoint
// does not serve. (Kept out of api's handler, whose frame every held
// stream keeps on its stack.)
func methodNotAllowed(w *responseWriter, r *http.Request, method string) error {
	w.Header().Set("Allow", method+", OPTIONS")
	return &llm.Error{Kind: llm.KindInvalidRequest, Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
		Message: fmt.Sprintf("%s is not allowed on %s; use %s.", r.Method, r.URL.Path, method)}
}

// writeError renders err in the client's protocol, unless the response has
// already started or the client is gone.
func (s *Server) writeError(w *responseWriter, rc *reqCtx, err error) {
	if errors.Is(err, errAborted) {
		return // a stream was ended with the protocol's error event already
	}
	e := llm.AsError(err)
	rc.err = e
	if e.Kind == llm.KindInternal {
		s.log.Error("internal error", "request_id", rc.id, "error", err)
	}
	if e.Kind == llm.KindCanceled || w.committed {
		return
	}
	status, body := rc.ing.EncodeError(e)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	if rc.attempts > 0 {
		h.Set("X-Llmux-Attempts", strconv.Itoa(rc.attempts))
	}
	w.WriteHeader(status)
	w.Write(body)
}

// errAborted reports a stream that failed after its first byte: the error
// event is already written and nothing else may be.
var errAborted = errors.New("stream aborted after the first byte")

// finish records the request in the metrics and the access log.
func (s *Server) finish(r *http.Request, w *responseWriter, rc *reqCtx) {
	d := time.Since(rc.start)
	status := w.status
	if rc.err != nil && rc.err.Kind == llm.KindCanceled {
		status = 499
	} else if status == 0 {
		status = http.StatusOK
	}
	if rc.ticket != nil || rc.record {
		if s.async {
			s.pending.Add(1)
			go func() {
				defer s.pending.Done()
				s.settle(rc, status, d)
			}()
		} else {
			s.settle(rc, status, d)
		}
	}
	s.metrics.Request(rc.ing.ID(), rc.provider, status, rc.stream, d)
	if rc.hasUsage {
		u := rc.usage
		s.metrics.Usage(rc.provider, rc.upstreamModel, u.InputTokens, u.OutputTokens, u.CachedTokens, u.ReasoningTokens)
	}
	if rc.ttft > 0 {
		s.metrics.TTFT.WithLabelValues(rc.provider).Observe(rc.ttft.Seconds())
	}
	if !rc.st.logReqs {
		return
	}
	attrs := []slog.Attr{
		slog.String("request_id", rc.id),
		slog.String("method", r.Method),
		slog.String("path", logPath(r)),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.String("protocol", rc.ing.ID()),
	}
	if rc.model != "" {
		attrs = append(attrs, slog.String("model", clip(rc.model, 256)), slog.Bool("stream", rc.stream))
	}
	if rc.provider != "" {
		attrs = append(attrs, slog.String("provider", rc.provider), slog.String("upstream_model", clip(rc.upstreamModel, 256)),
			slog.Int("attempts", rc.attempts))
	}
	if rc.hasUsage {
		attrs = append(attrs, slog.Int("input_tokens", rc.usage.InputTokens), slog.Int("output_tokens", rc.usage.OutputTokens))
	}
	if rc.ttft > 0 {
		attrs = append(attrs, slog.Float64("ttft_ms", float64(rc.ttft.Microseconds())/1000))
	}
	level := slog.LevelInfo
	if rc.err != nil {
		attrs = append(attrs, slog.String("error_kind", string(rc.err.Kind)), slog.String("error", rc.err.Message))
		if status >= 500 {
			level = slog.LevelWarn
		}
	}
	s.log.LogAttrs(r.Context(), level, "request", attrs...)
}

// logPath is the request path with a client key carried in it masked.
func logPath(r *http.Request) string {
	if k := r.PathValue("key"); k != "" {
		return strings.Replace(r.URL.Path, "/"+k+"/", "/***/", 1)
	}
	return r.URL.Path
}

// clip shortens client-chosen text for the log.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// clientKey finds the client's key in any of the places the supported
// protocols' SDKs put it.
func clientKey(r *http.Request) string {
	if k := r.PathValue("key"); k != "" {
		return k
	}
	if a := r.Header.Get("Authorization"); a != "" {
		if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
			return strings.TrimSpace(a[7:])
		}
		return strings.TrimSpace(a)
	}
	if k := r.Header.Get("X-Api-Key"); k != "" {
		return k
	}
	if k := r.Header.Get("X-Goog-Api-Key"); k != "" {
		return k
	}
	if strings.Contains(r.URL.Path, "/v1beta/") || strings.Contains(r.URL.Path, "/v1/models") {
		return r.URL.Query().Get("key")
	}
	return ""
}

// cors applies the CORS policy and answers preflight requests; it reports
// whether the request was fully handled.
func (s *Server) cors(w http.ResponseWriter, r *http.Request, st *state) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || len(st.origins) == 0 {
		return false
	}
	allowed := st.origins["*"] || st.origins[origin]
	h := w.Header()
	h.Add("Vary", "Origin")
	if !allowed {
		return false
	}
	if st.origins["*"] {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
	}
	h.Set("Access-Control-Expose-Headers", "X-Request-Id, X-Llmux-Provider, X-Llmux-Model, X-Llmux-Attempts, Retry-After")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		}
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	return false
}

// requestID returns the client's x-request-id when it is a sane token,
// else a new one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 128 && saneID(id) {
		return id
	}
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [24]byte
	copy(b[:], "req_")
	x := rand.Uint64()
	y := rand.Uint64()
	for i := 4; i < len(b); i++ {
		if i == 14 {
			x = y
		}
		b[i] = alphabet[x%36]
		x /= 36
	}
	return string(b[:])
}

func saneID(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// readBody reads the request body into a pooled buffer, refusing bodies
// over the limit with a 413. The caller returns the buffer with putBytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) (*[]byte, error) {
	bp := getBytes()
	buf := (*bp)[:0]
	if r.ContentLength > limit {
		putBytes(bp)
		return nil, tooLarge(limit)
	}
	if r.ContentLength > int64(cap(buf)) {
		buf = make([]byte, 0, r.ContentLength)
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			*bp = buf
			putBytes(bp)
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, tooLarge(limit)
			}
			return nil, &llm.Error{Kind: llm.KindCanceled, Message: "reading the request body failed", Cause: err}
		}
	}
	*bp = buf
	return bp, nil
}

func tooLarge(limit int64) *llm.Error {
	return &llm.Error{Kind: llm.KindTooLarge, Code: "request_too_large",
		Message: fmt.Sprintf("The request body is larger than the gateway's limit of %d bytes.", limit)}
}

// responseWriter records the status and whether the response has started.
type responseWriter struct {
	http.ResponseWriter
	status    int
	committed bool
	started   atomic.Bool // committed, readable from other goroutines
	flusher   http.Flusher
	flushed   bool // the headers went out with a flush
}

func (w *responseWriter) WriteHeader(code int) {
	if w.committed {
		return
	}
	w.committed = true
	w.started.Store(true)
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.committed {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends buffered bytes to the client now.
func (w *responseWriter) Flush() error {
	if w.flusher == nil {
		f, ok := w.ResponseWriter.(http.Flusher)
		if !ok {
			return nil
		}
		w.flusher = f
	}
	if !w.flushed {
		w.flushed = true
		flushAside(w.flusher)
		return nil
	}
	w.flusher.Flush()
	return nil
}

// flushAside flushes f on a goroutine of its own while the caller waits.
// The first flush of a stream writes the response headers, and net/http's
// code for that needs 3 KB of stack: on the handler's goroutine, deep in a
// relay or stream encoder, it would grow that stack from 8 KB to 16 KB,
// which a held stream then keeps for its whole life (a stack shrinks only
// while under a quarter of it is in use). BenchmarkHeldStreams measures the
// difference: 18 KB of stack per held stream before, 10 KB after.
func flushAside(f http.Flusher) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Flush()
	}()
	<-done
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"status":"ok"}`))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"status":"draining"}`))
		return
	}
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			s.log.Warn("not ready", "error", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"status":"unavailable","reason":"the database does not answer"}`))
			return
		}
	}
	w.Write([]byte(`{"status":"ready"}`))
}
