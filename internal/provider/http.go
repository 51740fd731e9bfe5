package provider

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/h1"
	"github.com/llmux/llmux/internal/health"
	"github.com/llmux/llmux/internal/media"
	"github.com/llmux/llmux/internal/redact"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// Limits of upstream bodies read into memory.
const (
	// MaxResponseBody bounds a whole (non-streamed) upstream answer.
	MaxResponseBody = 64 << 20
	maxErrorBody    = 1 << 20
)

// Default timeouts of an upstream call.
const (
	DefaultTimeout           = 10 * time.Minute
	DefaultConnectTimeout    = 10 * time.Second
	DefaultStreamIdleTimeout = 5 * time.Minute
)

// modelListTimeout bounds a model listing, which is quick or broken; a
// shorter configured timeout wins.
const modelListTimeout = 15 * time.Second

// AuthScheme is how a provider's key is sent.
type AuthScheme string

const (
	// AuthBearer sends "Authorization: Bearer KEY".
	AuthBearer AuthScheme = "bearer"
	// AuthXAPIKey sends "x-api-key: KEY" (Anthropic).
	AuthXAPIKey AuthScheme = "x-api-key"
	// AuthGoogAPIKey sends "x-goog-api-key: KEY" (Gemini).
	AuthGoogAPIKey AuthScheme = "x-goog-api-key"
)

// header returns the canonical name of the header that carries a key.
func (s AuthScheme) header() string {
	switch s {
	case AuthBearer:
		return "Authorization"
	case AuthXAPIKey:
		return "X-Api-Key"
	case AuthGoogAPIKey:
		return "X-Goog-Api-Key"
	}
	return ""
}

// value returns the header value that sends key.
func (s AuthScheme) value(key string) string {
	if s == AuthBearer {
		return "Bearer " + key
	}
	return key
}

// HTTP is a provider reached over HTTP with one of the registered
// protocols.
type HTTP struct {
	id       string
	preset   Preset
	base     string // base URL without a trailing slash
	egress   protocol.Egress
	pass     protocol.Passthrough // nil when the protocol has none
	keys     []string
	auth     string           // the header that carries a key; "" for none
	authVals [][]string       // per key, the value of that header (shared by every request, never changed)
	health   *health.Provider // breaker and key pool, kept across reloads
	header   http.Header      // static headers from the configuration
	client   *http.Client
	timeout  time.Duration
	idle     time.Duration // stream idle timeout
	first    time.Duration // first_byte_timeout, also bounding a body's first bytes; 0 for none
	redactor *redact.Redactor
	rewrite  protocol.Rewrite // quirks, without the model
	fetcher  *media.Fetcher   // set when the upstream needs media inline
	maxTok   []maxTokens      // configured max_tokens defaults, most specific first
}

// maxTokens is one configured default output limit.
type maxTokens struct {
	pattern string
	n       int
}

func newHTTP(id string, preset Preset, pc *config.Provider, eg protocol.Egress, reg *protocol.Registry, fetcher *media.Fetcher,
	hr *health.Registry) (*HTTP, error) {
	base := pc.BaseURL
	if base == "" {
		base = preset.BaseURL
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("bad base_url: %v", err)
	}
	p := &HTTP{
		id:      id,
		preset:  preset,
		base:    strings.TrimRight(base, "/"),
		egress:  eg,
		keys:    pc.Keys(),
		header:  http.Header{},
		timeout: pc.Timeout.Std(),
	}
	if p.timeout == 0 {
		p.timeout = DefaultTimeout
	}
	p.idle = pc.StreamIdleTimeout.Std()
	if p.idle == 0 {
		p.idle = DefaultStreamIdleTimeout
	}
	p.first = pc.FirstByteTimeout.Std()
	fps := make([]string, len(p.keys))
	if p.auth = preset.Auth.header(); p.auth != "" {
		p.authVals = make([][]string, len(p.keys))
	}
	for i, k := range p.keys {
		sum := sha256.Sum256([]byte(k))
		fps[i] = hex.EncodeToString(sum[:6])
		if p.auth != "" && k != "" {
			p.authVals[i] = []string{preset.Auth.value(k)}
		}
	}
	p.health = hr.Provider(id, fps)
	p.pass, _ = reg.Passthrough(preset.Protocol)
	for k, v := range preset.Headers {
		p.header.Set(k, v)
	}
	for k, v := range pc.Headers {
		p.header.Set(k, v)
	}
	if me, ok := eg.(protocol.MediaEgress); ok && me.InlineMedia() {
		p.fetcher = fetcher
	}
	for pat, n := range pc.MaxTokens {
		p.maxTok = append(p.maxTok, maxTokens{pat, n})
	}
	sort.Slice(p.maxTok, func(i, j int) bool {
		a, b := p.maxTok[i].pattern, p.maxTok[j].pattern
		return len(a) > len(b) || len(a) == len(b) && a < b
	})
	connect := pc.ConnectTimeout.Std()
	if connect == 0 {
		connect = DefaultConnectTimeout
	}
	p.client = &http.Client{Transport: newTransport(u, connect, pc.FirstByteTimeout.Std())}
	p.redactor = redact.New(p.keys, []string{u.Host, u.Hostname()})
	q := preset.Quirks
	p.rewrite = protocol.Rewrite{StreamUsage: !q.NoStreamOptions, Drop: q.Drop, Refuse: q.Unsupported, Upstream: id}
	if q.NoStreamOptions {
		p.rewrite.Drop = append(append([]string(nil), q.Drop...), "stream_options")
	}
	if q.MaxTokensField != "" {
		p.rewrite.Rename = map[string]string{"max_completion_tokens": q.MaxTokensField}
	}
	return p, nil
}

// newTransport returns the transport of an upstream at base: internal/h1's
// for a plain http:// upstream that no proxy stands before (net/http speaks
// HTTP/1.1 to those too, with two goroutines and a write buffer per
// connection besides), else net/http's (netTransport).
func newTransport(base *url.URL, connect, firstByte time.Duration) http.RoundTripper {
	if base.Scheme == "http" {
		if proxy, err := http.ProxyFromEnvironment(&http.Request{URL: base}); err == nil && proxy == nil {
			d := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
			return &h1.Transport{
				DialContext:           d.DialContext,
				ResponseHeaderTimeout: firstByte,
				IdleConnTimeout:       90 * time.Second,
				MaxIdleConnsPerHost:   1024,
				ReadBufferSize:        1 << 10,
			}
		}
	}
	tr := netTransport(connect)
	tr.ResponseHeaderTimeout = firstByte
	return tr
}

// netTransport returns net/http's transport as every HTTPS (or proxied)
// upstream uses it: pooled keep-alive connections, HTTP/2 where the
// upstream offers it, and a bounded connect and TLS handshake.
//
//   - ForceAttemptHTTP2 only matters for TLS upstreams, which it lets
//     negotiate HTTP/2 despite the custom dialer; plain http:// is always
//     HTTP/1.1 (no h2c). Over HTTP/2 many streams share one connection, so
//     a held stream costs no connection of its own.
//   - MaxIdleConnsPerHost does not bound concurrent connections (nothing
//     does); it bounds how many stay open for reuse when a burst ends.
//     Thousands of streams to one HTTP/1.1 upstream end in bursts, and each
//     connection closed then is a new TCP (and TLS) handshake for the next.
//   - The buffer sizes are net/http's defaults, set here because they are a
//     trade-off: each connection holds both for its whole life (a held
//     stream costs about 3 KB less per buffer at 1 KB), but a request that
//     does not fit the write buffer takes two writes, and a busy stream is
//     read in pieces no larger than the read buffer.
func netTransport(connect time.Duration) *http.Transport {
	d := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   connect,
		ExpectContinueTimeout: time.Second,
		// Streams read through the SSE reader's own buffer, and bodies larger
		// than this go straight into the caller's buffer: 1 KB here saves 3 KB
		// per held stream without more reads.
		ReadBufferSize:  1 << 10,
		WriteBufferSize: 4 << 10,
	}
}

// ID returns the provider id.
func (p *HTTP) ID() string { return p.id }

// CloseIdleConnections closes the provider's idle upstream connections.
func (p *HTTP) CloseIdleConnections() { p.client.CloseIdleConnections() }

// Protocol returns the upstream's protocol ID.
func (p *HTTP) Protocol() string { return p.preset.Protocol }

// ModelPatterns returns the vendor's known model-name patterns.
func (p *HTTP) ModelPatterns() []string { return p.preset.ModelPatterns }

// Rewrite returns the edits a passed-through body needs.
func (p *HTTP) Rewrite(model string) protocol.Rewrite {
	rw := p.rewrite
	rw.Model = model
	return rw
}

// Do performs a non-streaming call.
func (p *HTTP) Do(ctx context.Context, c *Call) (*llm.Response, error) {
	req, body, err := p.encode(ctx, c, false)
	if err != nil {
		return nil, err
	}
	data, err := p.call(ctx, p.egress.Endpoint(c.Model, false), body, p.clientHeaders(req))
	if err != nil {
		return nil, err
	}
	return p.egress.DecodeResponse(data)
}

// Stream performs a streaming call. The returned stream owns the upstream
// connection and the call's deadline.
func (p *HTTP) Stream(ctx context.Context, c *Call) (llm.Stream, error) {
	req, body, err := p.encode(ctx, c, true)
	if err != nil {
		return nil, err
	}
	w := p.watch(ctx)
	resp, err := p.send(w.ctx, p.egress.Endpoint(c.Model, true), body, p.clientHeaders(req), true)
	if err != nil {
		w.stop()
		return nil, err
	}
	return &httpStream{Stream: p.egress.NewStreamDecoder(w.body(resp.Body)), p: p}, nil
}

// encode builds the upstream body of a translated call, with the vendor's
// quirks applied the same way as on the passthrough path. It returns the
// request it encoded, which may be a changed copy of the call's.
func (p *HTTP) encode(ctx context.Context, c *Call, stream bool) (*llm.Request, []byte, error) {
	req, err := p.prepare(ctx, c, stream)
	if err != nil {
		return nil, nil, err
	}
	body, err := p.egress.EncodeRequest(req, c.Model)
	if err != nil {
		return nil, nil, err
	}
	rw := p.rewrite
	if p.pass != nil && (len(rw.Drop) > 0 || len(rw.Rename) > 0 || len(rw.Refuse) > 0) {
		body, err = p.pass.RewriteRequest(nil, body, rw)
	}
	return req, body, err
}

// prepare returns the request to encode for this upstream: the stream
// flag set, the configured output limit where the protocol needs one, and
// media URLs downloaded where the protocol takes only bytes. The call's
// request is never changed: another attempt may go elsewhere.
func (p *HTTP) prepare(ctx context.Context, c *Call, stream bool) (*llm.Request, error) {
	req := c.Request
	copied := false
	own := func() {
		if !copied {
			r := *req
			req, copied = &r, true
		}
	}
	if req.Stream != stream {
		own()
		req.Stream = stream
	}
	if req.MaxTokens == nil && p.preset.NeedsMaxTokens {
		if n, ok := p.defaultMaxTokens(c.Model); ok {
			own()
			req.MaxTokens = &n
		}
	}
	if p.fetcher != nil && media.NeedsFetch(req) {
		return p.fetcher.Inline(ctx, req)
	}
	return req, nil
}

// defaultMaxTokens returns the configured output limit for an upstream
// model: the most specific matching pattern's.
func (p *HTTP) defaultMaxTokens(model string) (int, bool) {
	for _, m := range p.maxTok {
		if ok, _ := path.Match(m.pattern, model); ok {
			return m.n, true
		}
	}
	return 0, false
}

// clientHeaders returns the client's own protocol headers when the
// upstream speaks the client's protocol, else nil.
func (p *HTTP) clientHeaders(req *llm.Request) map[string]string {
	if req.Origin == p.preset.Protocol {
		return req.Headers
	}
	return nil
}

// ErrCannotCount is returned by CountTokens when the upstream has no
// token-counting endpoint.
var ErrCannotCount = errors.New("the upstream cannot count tokens")

// CountTokens asks the upstream to count the input tokens of a request.
func (p *HTTP) CountTokens(ctx context.Context, c *Call) (int, error) {
	ce, ok := p.egress.(protocol.CountEgress)
	if !ok {
		return 0, ErrCannotCount
	}
	req, err := p.prepare(ctx, c, false)
	if err != nil {
		return 0, err
	}
	body, err := ce.EncodeCountRequest(req, c.Model)
	if err != nil {
		return 0, err
	}
	data, err := p.call(ctx, ce.CountEndpoint(c.Model), body, p.clientHeaders(req))
	if err != nil {
		return 0, err
	}
	return ce.DecodeCount(data)
}

// Forward sends a passed-through body.
func (p *HTTP) Forward(ctx context.Context, f *Forward) (*http.Response, error) {
	path := p.egress.Endpoint(f.Model, f.Stream)
	if f.Embeddings {
		ee, ok := p.egress.(protocol.EmbeddingEgress)
		if !ok {
			return nil, llm.Errorf(llm.KindInvalidRequest, "the provider %s has no embeddings endpoint", p.id)
		}
		path = ee.EmbeddingEndpoint(f.Model)
	}
	w := p.watch(ctx)
	resp, err := p.send(w.ctx, path, f.Body, f.Headers, f.Stream)
	if err != nil {
		w.stop()
		return nil, err
	}
	resp.Body = w.body(resp.Body)
	return resp, nil
}

// Embed computes embeddings through the protocol's embeddings endpoint.
func (p *HTTP) Embed(ctx context.Context, req *llm.EmbeddingRequest, model string) (*llm.EmbeddingResponse, error) {
	ee, ok := p.egress.(protocol.EmbeddingEgress)
	if !ok {
		return nil, llm.Errorf(llm.KindInvalidRequest, "the provider %s has no embeddings endpoint", p.id)
	}
	body, err := ee.EncodeEmbeddingRequest(req, model)
	if err != nil {
		return nil, err
	}
	data, err := p.call(ctx, ee.EmbeddingEndpoint(model), body, nil)
	if err != nil {
		return nil, err
	}
	return ee.DecodeEmbeddingResponse(data)
}

// ListModels asks the upstream for its models.
func (p *HTTP) ListModels(ctx context.Context) ([]llm.Model, error) {
	ml, ok := p.egress.(protocol.ModelListEgress)
	if !ok {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, min(p.timeout, modelListTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+ml.ModelsEndpoint(), nil)
	if err != nil {
		return nil, err
	}
	key := -1
	if len(p.keys) > 0 {
		idx, wait, ok := p.health.Pool.Pick(time.Now())
		if !ok {
			return nil, p.noKey(time.Now(), wait)
		}
		key = idx
	}
	p.decorate(req.Header, key)
	resp, err := p.client.Do(req)
	if err != nil {
		e := p.transportError(ctx, err)
		p.report(key, false, outcomeOf(e), 0)
		return nil, e
	}
	defer resp.Body.Close()
	p.report(key, false, health.OutcomeForStatus(resp.StatusCode), 0)
	data, err := readResponse(resp, MaxResponseBody)
	if err != nil {
		return nil, p.transportError(ctx, err)
	}
	if resp.StatusCode >= 300 {
		return nil, p.upstreamError(resp, data)
	}
	return ml.DecodeModels(data)
}

// call POSTs body to path under the provider's timeout and returns the
// whole successful answer.
func (p *HTTP) call(ctx context.Context, path string, body []byte, header map[string]string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	resp, err := p.send(ctx, path, body, header, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := readResponse(resp, MaxResponseBody)
	if err != nil {
		return nil, p.transportError(ctx, err)
	}
	return data, nil
}

// send POSTs body to path, with the client's protocol headers when given,
// and returns a successful response. It asks the provider's breaker and
// key pool first, and reports the outcome to both. A stream's request does
// not keep its body once sent (see sentBody).
func (p *HTTP) send(ctx context.Context, path string, body []byte, header map[string]string, stream bool) (*http.Response, error) {
	now := time.Now()
	allowed, probe := p.health.Breaker.Allow(now)
	if !allowed {
		st := p.health.Breaker.Snapshot(now)
		return nil, &llm.Error{Kind: llm.KindOverloaded, Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
			RetryAfter: max(st.OpenUntil.Sub(now), 0),
			Message:    fmt.Sprintf("the upstream provider %s is failing and is not being called for now", p.id)}
	}
	key := -1
	if len(p.keys) > 0 {
		idx, wait, ok := p.health.Pool.Pick(now)
		if !ok {
			p.health.Breaker.Report(now, health.Neutral, probe)
			return nil, p.noKey(now, wait)
		}
		key = idx
	}
	var rd io.Reader = bytes.NewReader(body)
	retry := body
	if stream && len(body) > 0 {
		rd = &sentBody{b: body}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+path, rd)
	if err != nil {
		p.health.Breaker.Report(now, health.Neutral, probe)
		return nil, &llm.Error{Kind: llm.KindInternal, Message: "building the upstream request failed", Cause: err}
	}
	req.ContentLength = int64(len(body))
	if _, ok := rd.(*sentBody); ok {
		// GetBody lets the transport resend the body on a fresh connection
		// when a reused one turns out dead; it can only do that before
		// RoundTrip returns, after which it no longer refers to the body.
		req.GetBody = func() (io.ReadCloser, error) { return &sentBody{b: retry}, nil }
	}
	req.Header["Content-Type"] = contentTypeJSON
	p.decorate(req.Header, key)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// The transport, not the client: a POST to an LLM API is not redirected,
	// and the client's redirect bookkeeping (a copy of every header) costs
	// more than the rest of this function.
	resp, err := p.client.Transport.RoundTrip(req)
	retry = nil
	if err != nil {
		e := p.transportError(ctx, err)
		p.report(key, probe, outcomeOf(e), 0)
		return nil, e
	}
	if resp.StatusCode < 300 {
		p.report(key, probe, health.Success, 0)
		return resp, nil
	}
	data, _ := readResponse(resp, maxErrorBody)
	resp.Body.Close()
	e := p.upstreamError(resp, data)
	p.report(key, probe, health.OutcomeForStatus(resp.StatusCode), e.RetryAfter)
	return nil, e
}

// sentBody is a stream's request body: it lets go of its bytes once they
// are sent. The transport keeps the request (and so its body) for as long
// as the response body is read, a stream's whole life, and a request body
// is often the largest thing a held stream would hold. (Calls that are not
// streams keep a *bytes.Reader: the transport sends the headers and a body
// it knows to be in memory in one write, but flushes the headers first for
// any other reader, a second write per call.)
type sentBody struct{ b []byte }

func (r *sentBody) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		r.b = nil
		return 0, io.EOF
	}
	n := copy(p, r.b)
	if r.b = r.b[n:]; len(r.b) == 0 {
		r.b = nil
	}
	return n, nil
}

// Close does nothing: the transport may close a body while it still
// reads it, and reading to the end lets go of the bytes already.
func (r *sentBody) Close() error { return nil }

// contentTypeJSON is the Content-Type of every request body, shared.
var contentTypeJSON = []string{"application/json"}

// noKey is the error of a call made while no key may be used: a rate
// limit when some key is only cooling down, else the refusal of the
// gateway's credentials (every key was refused with 401/403 and waits for
// its re-probe).
func (p *HTTP) noKey(now time.Time, wait time.Duration) *llm.Error {
	for _, k := range p.health.Pool.Snapshot(now) {
		if k.State == "cooling_down" {
			return &llm.Error{Kind: llm.KindRateLimited, Code: CodeUnavailable, RetryAfter: wait,
				Message: fmt.Sprintf("every API key of the upstream provider %s is rate-limited; the earliest is usable again in %s", p.id, wait.Round(time.Second))}
		}
	}
	e := credentialsRefused(p.id, http.StatusUnauthorized)
	e.Code = CodeUnavailable
	e.Message = fmt.Sprintf("the upstream provider %s refused every key of the gateway; they are re-tried in %s, and the gateway's operator must check them", p.id, wait.Round(time.Second))
	return e
}

// report records an outcome with the key pool (key-specific outcomes) and
// the breaker (anything but a failure shows the upstream is alive).
func (p *HTTP) report(key int, probe bool, o health.Outcome, retryAfter time.Duration) {
	now := time.Now()
	if key >= 0 {
		p.health.Pool.Report(key, now, o, retryAfter)
	}
	bo := health.Success
	switch o {
	case health.Failure:
		bo = health.Failure
	case health.Neutral:
		bo = health.Neutral
	}
	p.health.Breaker.Report(now, bo, probe)
}

// outcomeOf classifies a failure to get an answer: a canceled call says
// nothing about the upstream.
func outcomeOf(e *llm.Error) health.Outcome {
	if e.Kind == llm.KindCanceled {
		return health.Neutral
	}
	return health.Failure
}

// KeysAvailable is how many of the provider's keys may be used now.
func (p *HTTP) KeysAvailable() int {
	n := 0
	for _, k := range p.health.Pool.Snapshot(time.Now()) {
		if k.State == "ok" {
			n++
		}
	}
	return n
}

// decorate adds the static headers and the credentials of key (an index
// into the pool; -1 for none). The values are shared, not copied: nothing
// changes a request's header values in place.
func (p *HTTP) decorate(h http.Header, key int) {
	for k, v := range p.header {
		h[k] = v
	}
	if key >= 0 && p.auth != "" && p.authVals[key] != nil {
		h[p.auth] = p.authVals[key]
	}
}

// upstreamError turns an error response into an *llm.Error fit for a
// client: the upstream's status and type are kept, its message is
// redacted, and a refusal of the gateway's own credentials becomes a 502
// that cannot be mistaken for the client's key being wrong.
func (p *HTTP) upstreamError(resp *http.Response, body []byte) *llm.Error {
	e := p.egress.DecodeError(resp.StatusCode, body)
	p.Sanitize(e)
	ra := retryAfter(resp.Header) // Retry-After(-Ms), the most precise
	if ra == 0 && resp.StatusCode == http.StatusTooManyRequests {
		ra = health.ResetAfter(resp.Header, time.Now()) // the vendors' rate-limit reset headers
	}
	if ra > 0 {
		e.RetryAfter = ra
	}
	if e.Kind == llm.KindAuth || e.Kind == llm.KindPermission || resp.StatusCode == 401 || resp.StatusCode == 403 {
		ce := credentialsRefused(p.id, resp.StatusCode)
		ce.Cause = fmt.Errorf("upstream %d: %s", resp.StatusCode, e.Message)
		return ce
	}
	return e
}

// credentialsRefused is how an upstream refusing the gateway's own key
// reaches a client: a 502 that cannot be mistaken for the client's key
// being wrong.
func credentialsRefused(id string, status int) *llm.Error {
	return &llm.Error{Kind: llm.KindUpstream, Status: http.StatusBadGateway, Code: CodeCredentialsRefused,
		Message: fmt.Sprintf("the upstream provider %s refused the gateway's credentials (HTTP %d); the gateway's operator must check its key for this provider", id, status)}
}

// transportError classifies a failure to talk to the upstream. The cause
// (which names the upstream's URL) is kept for logs only.
func (p *HTTP) transportError(ctx context.Context, err error) *llm.Error {
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return &llm.Error{Kind: llm.KindCanceled, Message: "the request was canceled", Cause: err}
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &llm.Error{Kind: llm.KindTimeout, Message: fmt.Sprintf("the upstream provider %s did not answer in time", p.id), Cause: err}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &llm.Error{Kind: llm.KindTimeout, Message: fmt.Sprintf("the upstream provider %s did not answer in time", p.id), Cause: err}
	}
	return &llm.Error{Kind: llm.KindUpstream, Message: fmt.Sprintf("could not reach the upstream provider %s", p.id), Cause: err}
}

// retryAfter reads Retry-After (seconds or an HTTP date) and the
// millisecond variant some vendors send.
func retryAfter(h http.Header) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// ReadBody reads a whole upstream answer of at most MaxResponseBody bytes.
// Failures are *llm.Error when r is a provider's body.
func ReadBody(resp *http.Response) ([]byte, error) { return readResponse(resp, MaxResponseBody) }

// readResponse reads a response body of at most limit bytes into one
// buffer sized from Content-Length when the upstream sent one.
func readResponse(resp *http.Response, limit int64) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n <= limit {
		buf := make([]byte, 0, n+1) // +1 sees the EOF without growing
		return readInto(buf, resp.Body, limit)
	}
	return readLimited(resp.Body, limit)
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	return readInto(make([]byte, 0, 4096), r, limit)
}

func readInto(buf []byte, r io.Reader, limit int64) ([]byte, error) {
	lr := io.LimitReader(r, limit+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	data := buf
	if int64(len(data)) > limit {
		return nil, &llm.Error{Kind: llm.KindUpstream, Message: fmt.Sprintf("the upstream answer exceeds %d bytes", limit)}
	}
	return data, nil
}

// Sanitize removes the provider's keys and internal addresses (and
// anything key-shaped) from the client-facing text of an upstream error:
// errors the upstream reports inside a stream never pass upstreamError.
func (p *HTTP) Sanitize(err error) error {
	var e *llm.Error
	if errors.As(err, &e) {
		e.Message = p.redactor.String(e.Message)
		e.Param = p.redactor.String(e.Param)
	}
	return err
}

// httpStream sanitizes the errors of a decoded upstream stream; its body
// classifies read failures and ends the call's deadline on Close.
type httpStream struct {
	llm.Stream
	p *HTTP
}

func (s *httpStream) Next() (llm.Event, error) {
	ev, err := s.Stream.Next()
	if err != nil && !errors.Is(err, io.EOF) {
		err = s.p.Sanitize(err)
	}
	return ev, err
}

var (
	_ Provider      = (*HTTP)(nil)
	_ Passthrougher = (*HTTP)(nil)
	_ Embedder      = (*HTTP)(nil)
	_ ModelLister   = (*HTTP)(nil)
	_ Patterned     = (*HTTP)(nil)
	_ IdleCloser    = (*HTTP)(nil)
	_ Counter       = (*HTTP)(nil)
	_ KeyPooled     = (*HTTP)(nil)
)
