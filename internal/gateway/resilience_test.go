package gateway

// The resilience suite: llmux in front of a fake upstream that fails on
// purpose (rate limits, refused keys, 5xx, connection resets before and
// during a stream, malformed bodies, hangs and stalls), driven by the
// official OpenAI and Anthropic SDKs. Each test checks who served
// (x-llmux-provider), what the client saw, how many attempts were made
// (x-llmux-attempts), that usage was recorded once, and that no goroutine
// outlives it.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/llmux/llmux/internal/health"
)

// ---- The fault-injecting upstream ----

// fault is what the fake upstream does with one request; stream is the
// request's "stream" flag. A fault that waits must end when r.Context()
// does, which the fake also cancels when the test ends.
type fault func(w http.ResponseWriter, r *http.Request, stream bool)

// faultUpstream is a fake upstream of any protocol, scripted per request: a
// key's standing fault comes first, then the next fault of the script, then
// the default. It records the credential each request carried.
type faultUpstream struct {
	*httptest.Server
	quit context.Context

	mu     sync.Mutex
	byKey  map[string]fault
	script []fault
	dflt   fault
	n      int
	hits   []hit // the first maxHits requests
}

type hit struct {
	Key    string // Authorization bearer, x-api-key or x-goog-api-key
	Path   string
	Stream bool
}

const maxHits = 10000 // benchmarks send more; then only the count matters

func newFaultUpstream(t testing.TB, dflt fault) *faultUpstream {
	quit, stop := context.WithCancel(context.Background())
	u := &faultUpstream{quit: quit, byKey: map[string]fault{}, dflt: dflt}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(func() { stop(); u.Close() })
	return u
}

func (u *faultUpstream) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var peek struct {
		Stream bool `json:"stream"`
	}
	_ = json.Unmarshal(body, &peek)
	key := credential(r.Header)
	u.mu.Lock()
	u.n++
	if len(u.hits) < maxHits {
		u.hits = append(u.hits, hit{Key: key, Path: r.URL.Path, Stream: peek.Stream})
	}
	f := u.byKey[key]
	if f == nil && len(u.script) > 0 {
		f, u.script = u.script[0], u.script[1:]
	}
	if f == nil {
		f = u.dflt
	}
	u.mu.Unlock()
	if f == nil {
		f = reply(http.StatusInternalServerError, `{"error":{"message":"the fake has no behaviour scripted","type":"server_error"}}`)
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(u.quit, cancel)()
	f(w, r.WithContext(ctx), peek.Stream)
}

// push appends faults to the script, one per request.
func (u *faultUpstream) push(fs ...fault) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.script = append(u.script, fs...)
}

// onKey gives requests with key a standing fault; nil removes it.
func (u *faultUpstream) onKey(key string, f fault) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if f == nil {
		delete(u.byKey, key)
		return
	}
	u.byKey[key] = f
}

func (u *faultUpstream) setDefault(f fault) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.dflt = f
}

func (u *faultUpstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.n
}

// keys returns the credential of every request, in order.
func (u *faultUpstream) keys() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]string, len(u.hits))
	for i, h := range u.hits {
		out[i] = h.Key
	}
	return out
}

func (u *faultUpstream) keyCount(key string) int {
	n := 0
	for _, k := range u.keys() {
		if k == key {
			n++
		}
	}
	return n
}

func credential(h http.Header) string {
	if a := h.Get("Authorization"); a != "" {
		return strings.TrimPrefix(a, "Bearer ")
	}
	if k := h.Get("X-Api-Key"); k != "" {
		return k
	}
	return h.Get("X-Goog-Api-Key")
}

// answer replays the recorded fixture base ("openai/chat-text"): its
// .body.json, or its .stream.body.sse for a streamed request.
func answer(t testing.TB, base string) fault {
	whole, stream := fixture(t, base+".body.json"), fixture(t, base+".stream.body.sse")
	return func(w http.ResponseWriter, r *http.Request, s bool) {
		if s {
			w.Header().Set("Content-Type", "text/event-stream")
			w.Write(stream)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(whole)
	}
}

// reply answers with status and a JSON body in which {key} is replaced by
// the request's credential (a careless upstream that echoes the key), and
// header as name/value pairs.
func reply(status int, body string, header ...string) fault {
	return func(w http.ResponseWriter, r *http.Request, _ bool) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, strings.ReplaceAll(body, "{key}", credential(r.Header)))
	}
}

// rateLimited is a 429, with the given hint headers (none, Retry-After,
// OpenAI's x-ratelimit-reset-*).
func rateLimited(header ...string) fault {
	return reply(http.StatusTooManyRequests,
		`{"error":{"message":"Rate limit reached for key {key} on requests per min","type":"requests","param":null,"code":"rate_limit_exceeded"}}`, header...)
}

func refused() fault {
	return reply(http.StatusUnauthorized,
		`{"error":{"message":"Incorrect API key provided: {key}.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
}

func serverError(status int) fault {
	return reply(status, `{"error":{"message":"The server had an error processing your request with key {key}","type":"server_error","param":null,"code":null}}`)
}

// after delays f by d, or until the request ends.
func after(d time.Duration, f fault) fault {
	return func(w http.ResponseWriter, r *http.Request, s bool) {
		select {
		case <-time.After(d):
			f(w, r, s)
		case <-r.Context().Done():
		}
	}
}

// resetBeforeHeaders drops the connection with a TCP reset before any
// answer.
func resetBeforeHeaders() fault {
	return func(w http.ResponseWriter, r *http.Request, _ bool) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		conn.Close()
	}
}

// resetMidStream sends the first n events of a recorded stream, flushed,
// then closes the connection without ending the chunked body (a reset
// here could discard the flushed bytes before the gateway read them).
func resetMidStream(t testing.TB, name string, n int) fault {
	evs := sseEvents(t, name, n)
	return func(w http.ResponseWriter, r *http.Request, _ bool) {
		writeEvents(w, evs)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		conn.Close()
	}
}

// stallMidStream sends the first n events of a recorded stream, then
// nothing more until the request ends.
func stallMidStream(t testing.TB, name string, n int) fault {
	evs := sseEvents(t, name, n)
	return func(w http.ResponseWriter, r *http.Request, _ bool) {
		if n > 0 {
			writeEvents(w, evs)
		} else {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			http.NewResponseController(w).Flush()
		}
		<-r.Context().Done()
	}
}

// hang never answers: not even the headers.
func hang() fault {
	return func(w http.ResponseWriter, r *http.Request, _ bool) { <-r.Context().Done() }
}

// malformedJSON answers 200 with a truncated JSON body.
func malformedJSON() fault {
	return reply(http.StatusOK, `{"id":"chatcmpl-1","object":"chat.completion","type":"message","choices":[{"index":0,"message":{"role":"assistant","content":"Hel`)
}

// malformedSSE sends the first n events of a recorded stream, then an
// event whose data is truncated JSON, and ends the body.
func malformedSSE(t testing.TB, name string, n int) fault {
	evs := sseEvents(t, name, n)
	return func(w http.ResponseWriter, r *http.Request, _ bool) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.Write(evs)
		io.WriteString(w, "event: content_block_delta\ndata: {\"id\":\"chatcmpl-1\",\"type\":\"content_block_delta\",\"choices\":[{\"delta\":{\"content\":\"Hel\n\n")
	}
}

// sseEvents returns the first n events of a recorded stream.
func sseEvents(t testing.TB, name string, n int) []byte {
	evs := bytes.SplitAfter(fixture(t, name), []byte("\n\n"))
	if n > len(evs) {
		t.Fatalf("%s has %d events, not %d", name, len(evs), n)
	}
	return bytes.Join(evs[:n], nil)
}

func writeEvents(w http.ResponseWriter, evs []byte) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	w.Write(evs)
	http.NewResponseController(w).Flush()
}

// ---- Clients and checks ----

// clients are the official SDKs pointed at the gateway (the harness's sdk
// for OpenAI); every response they get is kept for the leak check.
type clients struct {
	openai    openai.Client
	anthropic anthropic.Client
	mu        sync.Mutex
	seen      bytes.Buffer // headers and bodies of every response
}

func newClients(ts *httptest.Server, key string) *clients {
	c := &clients{openai: sdk(ts, key)}
	c.anthropic = anthropic.NewClient(aoption.WithoutEnvironmentDefaults(), aoption.WithBaseURL(ts.URL),
		aoption.WithAPIKey(key), aoption.WithMaxRetries(0), aoption.WithHTTPClient(ts.Client()), aoption.WithMiddleware(c.keep))
	return c
}

func (c *clients) keep(req *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	resp, err := next(req)
	if resp != nil {
		c.mu.Lock()
		resp.Header.Write(&c.seen)
		c.mu.Unlock()
		resp.Body = &keptBody{ReadCloser: resp.Body, c: c}
	}
	return resp, err
}

type keptBody struct {
	io.ReadCloser
	c *clients
}

func (b *keptBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.c.mu.Lock()
	b.c.seen.Write(p[:n])
	b.c.mu.Unlock()
	return n, err
}

func chatParams(model string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{Model: model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}
}

func messageParams(model string) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{Model: anthropic.Model(model), MaxTokens: 64,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}}
}

// chat sends a non-streamed request with the OpenAI SDK and returns the
// answer's text and the response headers (of the error too).
func (c *clients) chat(ctx context.Context, model string) (string, http.Header, error) {
	var resp *http.Response
	out, err := c.openai.Chat.Completions.New(ctx, chatParams(model), option.WithResponseInto(&resp), option.WithMiddleware(c.keep))
	if err != nil {
		return "", errHeader(resp, err), err
	}
	return out.Choices[0].Message.Content, resp.Header, nil
}

// chatStream reads a whole OpenAI SDK stream.
func (c *clients) chatStream(ctx context.Context, model string) (string, http.Header, error) {
	var resp *http.Response
	s := c.openai.Chat.Completions.NewStreaming(ctx, chatParams(model), option.WithResponseInto(&resp), option.WithMiddleware(c.keep))
	defer s.Close()
	var b strings.Builder
	for s.Next() {
		for _, ch := range s.Current().Choices {
			b.WriteString(ch.Delta.Content)
		}
	}
	return b.String(), errHeader(resp, s.Err()), s.Err()
}

// message sends a non-streamed request with the Anthropic SDK.
func (c *clients) message(ctx context.Context, model string) (string, http.Header, error) {
	var resp *http.Response
	m, err := c.anthropic.Messages.New(ctx, messageParams(model), aoption.WithResponseInto(&resp))
	if err != nil {
		return "", errHeader(resp, err), err
	}
	var b strings.Builder
	for _, blk := range m.Content {
		b.WriteString(blk.Text)
	}
	return b.String(), resp.Header, nil
}

// messageStream reads a whole Anthropic SDK stream.
func (c *clients) messageStream(ctx context.Context, model string) (string, http.Header, error) {
	var resp *http.Response
	s := c.anthropic.Messages.NewStreaming(ctx, messageParams(model), aoption.WithResponseInto(&resp))
	defer s.Close()
	var b strings.Builder
	for s.Next() {
		if ev := s.Current(); ev.Type == "content_block_delta" {
			b.WriteString(ev.Delta.Text)
		}
	}
	return b.String(), errHeader(resp, s.Err()), s.Err()
}

// stream reads a whole stream with the named SDK.
func (c *clients) stream(ctx context.Context, sdk, model string) (string, http.Header, error) {
	if sdk == "anthropic" {
		return c.messageStream(ctx, model)
	}
	return c.chatStream(ctx, model)
}

// errHeader returns the headers of the response, taken from the SDK's
// error when the request failed.
func errHeader(resp *http.Response, err error) http.Header {
	var oe *openai.Error
	var ae *anthropic.Error
	switch {
	case errors.As(err, &oe) && oe.Response != nil:
		return oe.Response.Header
	case errors.As(err, &ae) && ae.Response != nil:
		return ae.Response.Header
	case resp != nil:
		return resp.Header
	}
	return http.Header{}
}

// noKeys checks that no upstream key reached a client, in any response
// header or body, nor the admin health view.
func (c *clients) noKeys(t *testing.T, ts *httptest.Server, keys ...string) {
	t.Helper()
	_, raw := adminHealth(t, ts)
	c.mu.Lock()
	seen := c.seen.String()
	c.mu.Unlock()
	if seen == "" {
		t.Fatal("no response was kept for the leak check")
	}
	for _, k := range keys {
		if strings.Contains(seen, k) {
			t.Errorf("the key %s reached a client", k)
		}
		if strings.Contains(raw, k) {
			t.Errorf("the key %s is in /admin/api/health", k)
		}
	}
}

// noLeaks fails the test if it leaves goroutines behind. Call it first:
// it checks after every later cleanup (servers, connections) has run.
func noLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// wantServed checks who served a request and after how many attempts.
func wantServed(t *testing.T, h http.Header, provider string, attempts int) {
	t.Helper()
	if got := h.Get("X-Llmux-Provider"); got != provider {
		t.Errorf("served by %q, want %q", got, provider)
	}
	if got := h.Get("X-Llmux-Attempts"); got != strconv.Itoa(attempts) {
		t.Errorf("x-llmux-attempts = %q, want %d", got, attempts)
	}
}

// wantStatus checks that err is an SDK error with the given status and
// returns its message.
func wantStatus(t *testing.T, err error, status int) string {
	t.Helper()
	var oe *openai.Error
	var ae *anthropic.Error
	switch {
	case errors.As(err, &oe):
		if oe.StatusCode != status {
			t.Errorf("status %d, want %d: %v", oe.StatusCode, status, err)
		}
		return oe.Message
	case errors.As(err, &ae):
		if ae.StatusCode != status {
			t.Errorf("status %d, want %d: %v", ae.StatusCode, status, err)
		}
		return ae.RawJSON()
	}
	t.Fatalf("want an API error with status %d, got %v", status, err)
	return ""
}

// wantErrorEvent checks that a stream ended with the protocol's error
// event carrying the gateway's message: OpenAI's SDK reports a chunk with
// an "error" member as a StreamError, Anthropic's an "event: error" as an
// API error.
func wantErrorEvent(t *testing.T, client string, err error, message string) {
	t.Helper()
	var se *ssestream.StreamError
	var ae *anthropic.Error
	switch {
	case err == nil:
		t.Fatal("the stream ended without an error")
	case client == "openai" && !errors.As(err, &se), client == "anthropic" && !errors.As(err, &ae):
		t.Fatalf("the stream did not end with an error event: %v (%T)", err, err)
	case !strings.Contains(err.Error(), message):
		t.Fatalf("error event %v, want %q in it", err, message)
	}
}

// retryAfterSeconds reads a Retry-After header that must be there.
func retryAfterSeconds(t *testing.T, h http.Header, lo, hi int) {
	t.Helper()
	n, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || n < lo || n > hi {
		t.Errorf("Retry-After %q, want %d..%d seconds", h.Get("Retry-After"), lo, hi)
	}
}

func count(c *prometheus.CounterVec, labels ...string) float64 {
	return testutil.ToFloat64(c.WithLabelValues(labels...))
}

// wantCount waits for a counter to reach want, failing at once if it
// passes it: the client of a stream may see its end before the gateway has
// finished recording the request.
func wantCount(t *testing.T, c *prometheus.CounterVec, want float64, labels ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := count(c, labels...)
		if got == want {
			return
		}
		if got > want || time.Now().After(deadline) {
			t.Errorf("counter %q = %v, want %v", labels, got, want)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// adminHealth reads GET /admin/api/health: each provider's state by id,
// and the raw body.
func adminHealth(t *testing.T, ts *httptest.Server) (map[string]health.ProviderState, string) {
	t.Helper()
	resp, err := ts.Client().Get(ts.URL + "/admin/api/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body struct {
		Providers []health.ProviderState `json:"providers"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(raw, &body) != nil {
		t.Fatalf("admin health: %d %s", resp.StatusCode, raw)
	}
	out := map[string]health.ProviderState{}
	for _, p := range body.Providers {
		out[p.ID] = p
	}
	return out, string(raw)
}

// eventually polls cond until it holds, failing after 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func fingerprint(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:6])
}

// ---- 1. Key pools ----

const (
	keyA = "sk-pool-aaaaaaaaaaaaaaaaaaaaaaaa"
	keyB = "sk-pool-bbbbbbbbbbbbbbbbbbbbbbbb"
	keyC = "sk-pool-cccccccccccccccccccccccc"
)

const poolConfig = `
keys: [ ck ]
health: { cooldown: 20s, probe_after: 200ms }
providers:
  pool:
    type: openai
    base_url: ${UPSTREAM}/v1
    api_keys: [ ` + keyA + `, ` + keyB + `, ` + keyC + ` ]
    models: [ m ]
`

// TestKeyPoolRateLimitedKeyCoolsDown: a 429 on one key retries the same
// request on the next key of the provider; the limited key is avoided while
// it cools down; with every key limited the client gets 429 with
// Retry-After, and then fails fast without the upstream being called.
func TestKeyPoolRateLimitedKeyCoolsDown(t *testing.T) {
	noLeaks(t)
	ctx := context.Background()
	up := newFaultUpstream(t, answer(t, "openai/chat-text"))
	up.onKey(keyA, rateLimited("Retry-After", "30"))
	ts, srv := newGateway(t, poolConfig, up.URL)
	c := newClients(ts, "ck")

	text, h, err := c.chat(ctx, "pool/m")
	if err != nil || text != "Hello! How can I assist you today?" {
		t.Fatalf("first request: %q, %v", text, err)
	}
	wantServed(t, h, "pool", 2)
	if got := up.keys(); len(got) != 2 || got[0] != keyA || got[1] == keyA {
		t.Fatalf("keys used %q, want A then another", got)
	}
	if n := count(srv.metrics.Tokens, "pool", "m", "input"); n != 8 {
		t.Errorf("input tokens recorded %v, want 8 (once)", n)
	}
	if n := count(srv.metrics.Requests, "openai", "pool", "200"); n != 1 {
		t.Errorf("requests recorded %v, want 1", n)
	}
	if ok, limited := count(srv.metrics.Attempts, "pool", "ok"), count(srv.metrics.Attempts, "pool", "rate_limited"); ok != 1 || limited != 1 {
		t.Errorf("attempts ok %v rate_limited %v, want 1 and 1", ok, limited)
	}

	// While A cools down, B and C serve, each at the first attempt.
	for i := 0; i < 4; i++ {
		if _, h, err := c.chat(ctx, "pool/m"); err != nil {
			t.Fatal(err)
		} else {
			wantServed(t, h, "pool", 1)
		}
	}
	if up.keyCount(keyA) != 1 || up.keyCount(keyB) < 2 || up.keyCount(keyC) < 2 {
		t.Fatalf("keys used %q: A must be avoided, B and C take turns", up.keys())
	}

	// Every key limited, one with OpenAI's reset headers and one with no
	// hint at all: the client gets 429 with Retry-After in its protocol.
	up.onKey(keyB, rateLimited("X-Ratelimit-Limit-Requests", "500", "X-Ratelimit-Remaining-Requests", "0", "X-Ratelimit-Reset-Requests", "20s",
		"X-Ratelimit-Remaining-Tokens", "9000", "X-Ratelimit-Reset-Tokens", "150ms"))
	up.onKey(keyC, rateLimited())
	before := up.count()
	_, h, err = c.chat(ctx, "pool/m")
	wantStatus(t, err, 429)
	retryAfterSeconds(t, h, 1, 30)
	if got := h.Get("X-Llmux-Attempts"); got != "2" || up.count()-before != 2 {
		t.Errorf("attempts %q with %d upstream calls, want B and C once each", got, up.count()-before)
	}

	// Then requests fail fast, without reaching the upstream, in each
	// client's protocol.
	before = up.count()
	_, h, err = c.chat(ctx, "pool/m")
	var oe *openai.Error
	if wantStatus(t, err, 429); !errors.As(err, &oe) || oe.Code != "provider_unavailable" || oe.Type != "rate_limit_error" {
		t.Errorf("fail-fast error: %v", err)
	}
	retryAfterSeconds(t, h, 1, 20)
	if got := h.Get("X-Llmux-Attempts"); got != "" {
		t.Errorf("x-llmux-attempts %q on a request that made no upstream call", got)
	}
	_, h, err = c.message(ctx, "pool/m")
	var ae *anthropic.Error
	if wantStatus(t, err, 429); !errors.As(err, &ae) || ae.Type() != "rate_limit_error" {
		t.Errorf("fail-fast error for an Anthropic client: %v", err)
	}
	retryAfterSeconds(t, h, 1, 20)
	if up.count() != before {
		t.Errorf("the upstream got %d calls while every key cooled down", up.count()-before)
	}
	if n := count(srv.metrics.Attempts, "pool", "skipped"); n != 2 {
		t.Errorf("skipped attempts %v, want 2", n)
	}

	// The admin view names keys by fingerprint; no key reached anyone.
	hs, _ := adminHealth(t, ts)
	for i, k := range []string{keyA, keyB, keyC} {
		ks := hs["pool"].Keys[i]
		if ks.Fingerprint != fingerprint(k) || ks.State != "cooling_down" {
			t.Errorf("key %d: fingerprint %q state %q, want %q cooling_down", i, ks.Fingerprint, ks.State, fingerprint(k))
		}
	}
	c.noKeys(t, ts, keyA, keyB, keyC)
}

// TestKeyLimitedWithoutHintFailsFastWithRetryAfter: a 429 with no hint of
// its own is passed on as it came (a spent quota looks the same), but the
// key cools down for health.cooldown, and the requests that fail fast
// meanwhile tell the client how long that is.
func TestKeyLimitedWithoutHintFailsFastWithRetryAfter(t *testing.T) {
	noLeaks(t)
	up := newFaultUpstream(t, rateLimited())
	ts, _ := newGateway(t, `
keys: [ ck ]
health: { cooldown: 20s }
providers:
  one: { type: openai, base_url: "${UPSTREAM}/v1", api_key: sk-one-0123456789abcdef, models: [ m ] }
`, up.URL)
	c := newClients(ts, "ck")
	_, h, err := c.chat(context.Background(), "one/m")
	wantStatus(t, err, 429)
	if got := h.Get("X-Llmux-Attempts"); got != "1" {
		t.Errorf("attempts %q", got)
	}
	_, h, err = c.chat(context.Background(), "one/m")
	wantStatus(t, err, 429)
	retryAfterSeconds(t, h, 19, 20)
	if up.count() != 1 {
		t.Errorf("%d upstream calls, want 1: the second request must fail fast", up.count())
	}
}

// TestKeyPoolRefusedKeyIsProbedOnce: a key answered with 401 is taken out
// (the request goes on with another key), and once its probe delay has
// passed exactly one request probes it; a repaired key comes back.
func TestKeyPoolRefusedKeyIsProbedOnce(t *testing.T) {
	noLeaks(t)
	ctx := context.Background()
	up := newFaultUpstream(t, answer(t, "openai/chat-text"))
	up.onKey(keyA, refused())
	ts, srv := newGateway(t, poolConfig, up.URL)
	c := newClients(ts, "ck")
	keyState := func() health.KeyState {
		hs, _ := adminHealth(t, ts)
		return hs["pool"].Keys[0]
	}

	_, h, err := c.chat(ctx, "pool/m")
	if err != nil {
		t.Fatal(err)
	}
	wantServed(t, h, "pool", 2)
	for i := 0; i < 4; i++ {
		if _, h, err := c.chat(ctx, "pool/m"); err != nil {
			t.Fatal(err)
		} else {
			wantServed(t, h, "pool", 1)
		}
	}
	if up.keyCount(keyA) != 1 {
		t.Fatalf("keys used %q: A must be out after its 401", up.keys())
	}
	st := keyState()
	if st.State != "disabled" || st.LastOutcome != "auth_failed" {
		t.Fatalf("key A: %+v", st)
	}

	// Past the probe delay, six requests at once: one of them probes A
	// (refused again, so it goes on to another key); all succeed.
	sent := 5 + 6
	eventually(t, "A's probe time", func() bool { return time.Now().After(st.Until) })
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := c.chat(ctx, "pool/m"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := up.keyCount(keyA); n != 2 {
		t.Fatalf("A was tried %d times after its probe delay, want exactly 1", n-1)
	}

	// Repaired, A comes back at its next probe (the delay has doubled).
	up.onKey(keyA, nil)
	st = keyState()
	eventually(t, "A's second probe time", func() bool { return time.Now().After(st.Until) })
	for i := 0; i < 4 && up.keyCount(keyA) == 2; i++ {
		sent++
		if _, h, err := c.chat(ctx, "pool/m"); err != nil {
			t.Fatal(err)
		} else {
			wantServed(t, h, "pool", 1)
		}
	}
	if st := keyState(); st.State != "ok" || up.keyCount(keyA) != 3 {
		t.Fatalf("after a successful probe: A %+v, used %d times", st, up.keyCount(keyA))
	}
	if n := count(srv.metrics.Requests, "openai", "pool", "200"); n != float64(sent) {
		t.Errorf("requests recorded %v, want %d", n, sent)
	}
	c.noKeys(t, ts, keyA, keyB, keyC)
}

// ---- 2. Failover across providers and protocols ----

// TestFailoverAcrossProtocols: an OpenAI upstream failing with 503 falls
// over to an Anthropic upstream; the OpenAI client notices nothing.
func TestFailoverAcrossProtocols(t *testing.T) {
	noLeaks(t)
	ctx := context.Background()
	oa := newFaultUpstream(t, serverError(503))
	claude := newFaultUpstream(t, answer(t, "anthropic/messages-text"))
	ts, srv := newGateway(t, `
keys: [ ck ]
providers:
  oa: { type: openai, base_url: "${UPSTREAM}/v1", api_key: sk-oa-0123456789abcdefghij, models: [ m ] }
  claude: { type: anthropic, base_url: "`+claude.URL+`", api_key: sk-ant-0123456789abcdefghij, models: [ claude-sonnet-4-5 ] }
routes:
  smart:
    targets: [ { model: oa/m } ]
    fallbacks: [ claude/claude-sonnet-4-5 ]
`, oa.URL)
	c := newClients(ts, "ck")

	text, h, err := c.chat(ctx, "smart")
	if err != nil || text != "The capital of France is Paris." {
		t.Fatalf("non-streamed: %q, %v", text, err)
	}
	wantServed(t, h, "claude", 2)
	if in, out := count(srv.metrics.Tokens, "claude", "claude-sonnet-4-5", "input"), count(srv.metrics.Tokens, "claude", "claude-sonnet-4-5", "output"); in != 20 || out != 10 {
		t.Errorf("tokens recorded in %v out %v, want 20 and 10 (once)", in, out)
	}

	text, h, err = c.chatStream(ctx, "smart")
	if want := anthropicStreamText(t, fixture(t, "anthropic/messages-text.stream.body.sse")); err != nil || text != want {
		t.Fatalf("streamed: %q (want %q), %v", text, want, err)
	}
	wantServed(t, h, "claude", 2)
	if oa.count() != 2 || claude.count() != 2 {
		t.Errorf("upstream calls: openai %d, anthropic %d; want 2 each", oa.count(), claude.count())
	}
	if got := claude.keys(); got[0] != "sk-ant-0123456789abcdefghij" {
		t.Errorf("the Anthropic upstream got key %q", got[0])
	}
	wantCount(t, srv.metrics.Requests, 2, "openai", "claude", "200")
	if n := count(srv.metrics.Attempts, "oa", "overloaded"); n != 2 {
		t.Errorf("failed attempts recorded %v, want 2", n)
	}
	c.noKeys(t, ts, "sk-oa-0123456789abcdefghij", "sk-ant-0123456789abcdefghij")
}

// anthropicStreamText concatenates the text deltas of an Anthropic stream.
func anthropicStreamText(t *testing.T, raw []byte) string {
	var b strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var ev struct {
			Delta struct {
				Text string `json:"text"`
			} `json:"delta"`
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatal(err)
		}
		b.WriteString(ev.Delta.Text)
	}
	return b.String()
}

// ---- 3. Circuit breaker ----

// TestCircuitBreakerSkipsAndProbes: two failures open the provider's
// breaker; while open it is skipped without a call; after open_for exactly
// one probe goes through, and its success closes the breaker.
func TestCircuitBreakerSkipsAndProbes(t *testing.T) {
	noLeaks(t)
	ctx := context.Background()
	flaky := newFaultUpstream(t, serverError(500))
	steady := newFaultUpstream(t, answer(t, "openai/chat-text"))
	ts, srv := newGateway(t, `
keys: [ ck ]
health: { failure_threshold: 2, open_for: 300ms }
providers:
  flaky: { type: openai, base_url: "${UPSTREAM}/v1", api_key: sk-flaky-0123456789abcdef, models: [ m ] }
  steady: { type: openai, base_url: "`+steady.URL+`/v1", api_key: sk-steady-0123456789abcdef, models: [ m ] }
routes:
  r: { targets: [ { model: flaky/m, priority: 1 }, { model: steady/m } ] }
`, flaky.URL)
	c := newClients(ts, "ck")
	breaker := func() string {
		hs, _ := adminHealth(t, ts)
		return hs["flaky"].Breaker.State
	}

	for i := 0; i < 2; i++ {
		if _, h, err := c.chat(ctx, "r"); err != nil {
			t.Fatal(err)
		} else {
			wantServed(t, h, "steady", 2)
		}
	}
	if got := breaker(); got != "open" {
		t.Fatalf("after 2 failures the breaker is %q", got)
	}

	// Open: flaky is skipped without a call, and not counted as an attempt.
	_, h, err := c.chat(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	wantServed(t, h, "steady", 1)
	if flaky.count() != 2 || count(srv.metrics.Attempts, "flaky", "skipped") != 1 {
		t.Fatalf("flaky got %d calls, %v skips; want 2 and 1", flaky.count(), count(srv.metrics.Attempts, "flaky", "skipped"))
	}

	// Half-open: of six requests at once, one probes flaky (now healthy but
	// slow); the others still skip it.
	eventually(t, "the breaker to half-open", func() bool { return breaker() == "half_open" })
	flaky.setDefault(after(300*time.Millisecond, answer(t, "openai/chat-text")))
	var wg sync.WaitGroup
	var byFlaky, bySteady atomic.Int32
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, h, err := c.chat(ctx, "r")
			switch {
			case err != nil:
				t.Error(err)
			case h.Get("X-Llmux-Provider") == "flaky":
				byFlaky.Add(1)
			default:
				bySteady.Add(1)
				wantServed(t, h, "steady", 1)
			}
		}()
	}
	wg.Wait()
	if byFlaky.Load() != 1 || bySteady.Load() != 5 || flaky.count() != 3 {
		t.Fatalf("served by flaky %d, steady %d, flaky calls %d; want one probe", byFlaky.Load(), bySteady.Load(), flaky.count())
	}
	if got := breaker(); got != "closed" {
		t.Fatalf("after a successful probe the breaker is %q", got)
	}
	flaky.setDefault(answer(t, "openai/chat-text"))
	if _, h, err := c.chat(ctx, "r"); err != nil {
		t.Fatal(err)
	} else {
		wantServed(t, h, "flaky", 1)
	}
	if n := count(srv.metrics.Tokens, "flaky", "m", "input") + count(srv.metrics.Tokens, "steady", "m", "input"); n != 8*10 {
		t.Errorf("input tokens recorded %v, want 8 for each of 10 requests", n)
	}
}

// ---- 4. Connection resets ----

// TestResetBeforeHeadersFailsOver: a connection dropped before any answer
// goes to the next candidate, streamed or not.
func TestResetBeforeHeadersFailsOver(t *testing.T) {
	noLeaks(t)
	ctx := context.Background()
	bad := newFaultUpstream(t, resetBeforeHeaders())
	good := newFaultUpstream(t, answer(t, "openai/chat-text"))
	ts, srv := newGateway(t, `
keys: [ ck ]
providers:
  bad: { type: openai, base_url: "${UPSTREAM}/v1", api_key: sk-bad-0123456789abcdef, models: [ m ] }
  good: { type: openai, base_url: "`+good.URL+`/v1", api_key: sk-good-0123456789abcdef, models: [ m ] }
routes:
  r: { targets: [ { model: bad/m, priority: 1 }, { model: good/m } ] }
`, bad.URL)
	c := newClients(ts, "ck")

	if _, h, err := c.chat(ctx, "r"); err != nil {
		t.Fatal(err)
	} else {
		wantServed(t, h, "good", 2)
	}
	text, h, err := c.chatStream(ctx, "r")
	if want, _, _ := streamText(t, fixture(t, "openai/chat-text.stream.body.sse")); err != nil || text != want {
		t.Fatalf("stream: %q, %v", text, err)
	}
	wantServed(t, h, "good", 2)
	if bad.count() != 2 || good.count() != 2 {
		t.Errorf("calls: bad %d good %d, want 2 each (no transport-level replay)", bad.count(), good.count())
	}
	// Alone, the reset is a 502 for the client.
	_, _, err = c.chat(ctx, "bad/m")
	if msg := wantStatus(t, err, 502); !strings.Contains(msg, "could not reach the upstream provider bad") {
		t.Errorf("message %q", msg)
	}
	if n := count(srv.metrics.Attempts, "bad", "upstream"); n != 3 {
		t.Errorf("failed attempts recorded %v, want 3", n)
	}
}

// TestResetMidStreamEndsWithErrorEvent: once the first byte has gone to the
// client, a broken upstream connection ends the client's stream with its
// protocol's error event, without a retry and without hanging.
func TestResetMidStreamEndsWithErrorEvent(t *testing.T) {
	for _, tc := range []struct {
		name, client, upstream string
	}{
		{"openai client, openai upstream (passthrough)", "openai", "openai"},
		{"openai client, anthropic upstream (translated)", "openai", "anthropic"},
		{"anthropic client, anthropic upstream (passthrough)", "anthropic", "anthropic"},
		{"anthropic client, openai upstream (translated)", "anthropic", "openai"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			a, b, ts, srv := brokenStreamRoute(t, tc.upstream, func(name string, events int) fault { return resetMidStream(t, name, events) }, "")
			c := newClients(ts, "ck")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			text, h, err := c.stream(ctx, tc.client, "r")
			if ctx.Err() != nil {
				t.Fatal("the client's stream hung")
			}
			wantErrorEvent(t, tc.client, err, "the connection to the upstream provider a broke")
			if text == "" {
				t.Error("no content arrived before the break")
			}
			wantServed(t, h, "a", 1)
			if a.count() != 1 || b.count() != 0 {
				t.Errorf("calls: a %d b %d; nothing may be retried after the first byte", a.count(), b.count())
			}
			wantCount(t, srv.metrics.Requests, 1, tc.client, "a", "200")
			wantCount(t, srv.metrics.Attempts, 1, "a", "upstream")
		})
	}
}

// brokenStreamRoute starts a gateway with route r: provider a (of the
// given type, answering with broken(fixture, events)) and then provider b
// of the same type, answering normally. With idle set, a has that
// stream_idle_timeout.
func brokenStreamRoute(t *testing.T, typ string, broken func(name string, events int) fault, idle string) (a, b *faultUpstream, ts *httptest.Server, srv *Server) {
	t.Helper()
	name, events, suffix := "openai/chat-text", 3, "/v1"
	if typ == "anthropic" {
		name, events, suffix = "anthropic/messages-text", 4, ""
	}
	a = newFaultUpstream(t, broken(name+".stream.body.sse", events))
	b = newFaultUpstream(t, answer(t, name))
	extra := ""
	if idle != "" {
		extra = ", stream_idle_timeout: " + idle
	}
	ts, srv = newGateway(t, `
keys: [ ck ]
providers:
  a: { type: `+typ+`, base_url: "${UPSTREAM}`+suffix+`", api_key: sk-a-0123456789abcdefghij, models: [ m ]`+extra+` }
  b: { type: `+typ+`, base_url: "`+b.URL+suffix+`", api_key: sk-b-0123456789abcdefghij, models: [ m ] }
routes:
  r: { targets: [ { model: a/m, priority: 1 }, { model: b/m } ] }
`, a.URL)
	return a, b, ts, srv
}

// ---- 5. Malformed answers ----

// TestMalformedUpstreamAnswers: a 200 whose body is not JSON, or a stream
// with a broken event, reaches the client as a clean upstream error: a 502
// before the first byte, the protocol's error event after it. A passed-
// through stream is relayed byte for byte (validating every event would
// cost more than the relay itself), so there the broken event reaches the
// client as it came, and the stream then ends with the gateway's error
// event: never a hang, a panic or a truncated success.
func TestMalformedUpstreamAnswers(t *testing.T) {
	for _, client := range []string{"openai", "anthropic"} {
		for _, upstream := range []string{"openai", "anthropic"} {
			pass := client == upstream
			for _, tc := range []struct {
				name   string
				stream bool
				events int // good events before the broken one
			}{{"json", false, 0}, {"sse first event", true, 0}, {"sse mid-stream", true, 4}} {
				t.Run(client+" client, "+upstream+" upstream, "+tc.name, func(t *testing.T) {
					noLeaks(t)
					f := func(name string, _ int) fault { return malformedSSE(t, name, tc.events) }
					if !tc.stream {
						f = func(string, int) fault { return malformedJSON() }
					}
					_, _, ts, srv := brokenStreamRoute(t, upstream, f, "")
					c := newClients(ts, "ck")
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					var h http.Header
					var err error
					switch {
					case !tc.stream && client == "openai":
						_, h, err = c.chat(ctx, "a/m")
					case !tc.stream:
						_, h, err = c.message(ctx, "a/m")
					default:
						_, h, err = c.stream(ctx, client, "a/m")
					}
					if ctx.Err() != nil {
						t.Fatal("the request hung")
					}
					switch {
					case !tc.stream || !pass && tc.events == 0:
						if msg := wantStatus(t, err, 502); !strings.Contains(msg, "malformed") {
							t.Errorf("message %q", msg)
						}
						if got := h.Get("X-Llmux-Attempts"); got != "1" {
							t.Errorf("attempts %q", got)
						}
					case !pass:
						wantErrorEvent(t, client, err, "malformed")
						wantServed(t, h, "a", 1)
					default:
						if err == nil {
							t.Fatal("a broken passed-through stream looked like a success")
						}
						wantServed(t, h, "a", 1)
						wantErrorEventLast(t, ts, client)
					}
					if n := count(srv.metrics.Requests, client, "a", "500"); n != 0 {
						t.Errorf("a malformed answer became an internal error")
					}
				})
			}
		}
	}
}

// wantErrorEventLast streams model a/m without an SDK and checks that the
// stream ends with the client protocol's error event and no terminator.
func wantErrorEventLast(t *testing.T, ts *httptest.Server, client string) {
	t.Helper()
	path, body, last := "/v1/chat/completions", `{"model":"a/m","stream":true,"messages":[{"role":"user","content":"hi"}]}`, `data: {"error":`
	if client == "anthropic" {
		path, body, last = "/v1/messages", `{"model":"a/m","stream":true,"max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`, "event: error\n"
	}
	_, raw := send(t, ts, "POST", path, body, map[string]string{"Authorization": "Bearer ck"})
	evs := strings.Split(strings.TrimSpace(string(raw)), "\n\n")
	if tail := evs[len(evs)-1]; !strings.HasPrefix(tail, last) || strings.Contains(string(raw), "[DONE]") {
		t.Errorf("the stream does not end with the error event: ...%q", tail)
	}
}

// ---- 6. Hangs and stalls ----

// TestHangingUpstreamTimesOut: an upstream that never answers is cut at
// its first_byte_timeout and the request goes to the next candidate;
// alone, the client gets a 504.
func TestHangingUpstreamTimesOut(t *testing.T) {
	noLeaks(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	slow := newFaultUpstream(t, hang())
	good := newFaultUpstream(t, answer(t, "openai/chat-text"))
	ts, srv := newGateway(t, `
keys: [ ck ]
providers:
  slow: { type: openai, base_url: "${UPSTREAM}/v1", api_key: sk-slow-0123456789abcdef, models: [ m ], first_byte_timeout: 200ms }
  good: { type: openai, base_url: "`+good.URL+`/v1", api_key: sk-good-0123456789abcdef, models: [ m ] }
routes:
  r: { targets: [ { model: slow/m, priority: 1 }, { model: good/m } ] }
`, slow.URL)
	c := newClients(ts, "ck")

	if _, h, err := c.chat(ctx, "r"); err != nil {
		t.Fatal(err)
	} else {
		wantServed(t, h, "good", 2)
	}
	if _, h, err := c.chatStream(ctx, "r"); err != nil {
		t.Fatal(err)
	} else {
		wantServed(t, h, "good", 2)
	}
	_, h, err := c.chat(ctx, "slow/m")
	var oe *openai.Error
	if wantStatus(t, err, 504); !errors.As(err, &oe) || oe.Type != "timeout_error" {
		t.Errorf("alone: %v", err)
	}
	if got := h.Get("X-Llmux-Attempts"); got != "1" {
		t.Errorf("attempts %q", got)
	}
	if slow.count() != 3 || count(srv.metrics.Attempts, "slow", "timeout") != 3 {
		t.Errorf("slow calls %d, timeouts recorded %v; want 3 and 3", slow.count(), count(srv.metrics.Attempts, "slow", "timeout"))
	}
	if ctx.Err() != nil {
		t.Fatal("took too long")
	}
}

// TestHeadersThenSilenceIsAFirstByteTimeout: first_byte_timeout bounds a
// stream's first event too, not only the headers: an upstream that sends
// its headers and then nothing is cut and the next candidate serves.
func TestHeadersThenSilenceIsAFirstByteTimeout(t *testing.T) {
	noLeaks(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	silent := newFaultUpstream(t, stallMidStream(t, "openai/chat-text.stream.body.sse", 0))
	good := newFaultUpstream(t, answer(t, "openai/chat-text"))
	ts, srv := newGateway(t, `
keys: [ ck ]
providers:
  silent: { type: openai, base_url: "${UPSTREAM}/v1", api_key: sk-silent-0123456789abcdef, models: [ m ], first_byte_timeout: 200ms }
  good: { type: openai, base_url: "`+good.URL+`/v1", api_key: sk-good-0123456789abcdef, models: [ m ] }
routes:
  r: { targets: [ { model: silent/m, priority: 1 }, { model: good/m } ] }
`, silent.URL)
	c := newClients(ts, "ck")
	for _, sdk := range []string{"openai", "anthropic"} {
		_, h, err := c.stream(ctx, sdk, "r")
		if ctx.Err() != nil {
			t.Fatalf("%s: the stream hung after the upstream's headers", sdk)
		}
		if err != nil {
			t.Fatalf("%s: %v", sdk, err)
		}
		wantServed(t, h, "good", 2)
	}
	wantCount(t, srv.metrics.Attempts, 2, "silent", "timeout")
}

// TestStalledStreamEndsWithErrorEvent: a stream that falls silent half-way
// ends, at its stream_idle_timeout, with the protocol's error event.
func TestStalledStreamEndsWithErrorEvent(t *testing.T) {
	for _, tc := range []struct{ client, upstream string }{
		{"openai", "openai"}, {"anthropic", "openai"}, {"openai", "anthropic"},
	} {
		t.Run(tc.client+" client, "+tc.upstream+" upstream", func(t *testing.T) {
			noLeaks(t)
			a, b, ts, _ := brokenStreamRoute(t, tc.upstream, func(name string, events int) fault { return stallMidStream(t, name, events) }, "200ms")
			c := newClients(ts, "ck")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			text, h, err := c.stream(ctx, tc.client, "r")
			if ctx.Err() != nil || time.Since(start) > 5*time.Second {
				t.Fatalf("the stalled stream took %v to end", time.Since(start))
			}
			wantErrorEvent(t, tc.client, err, "the upstream provider a sent nothing for 200ms")
			if text == "" {
				t.Error("no content arrived before the stall")
			}
			wantServed(t, h, "a", 1)
			if a.count() != 1 || b.count() != 0 {
				t.Errorf("calls: a %d b %d", a.count(), b.count())
			}
		})
	}
}

// ---- 7. Special fallbacks ----

// TestSpecialFallbacks: a context-window error goes to the route's context
// fallback, a content-filter refusal to its content-filter fallback; any
// other 400 is the client's problem and is not retried.
func TestSpecialFallbacks(t *testing.T) {
	noLeaks(t)
	ctx := context.Background()
	main := newFaultUpstream(t, nil)
	big := newFaultUpstream(t, answer(t, "openai/chat-text"))
	safe := newFaultUpstream(t, answer(t, "openai/chat-text"))
	other := newFaultUpstream(t, answer(t, "openai/chat-text"))
	ts, _ := newGateway(t, `
keys: [ ck ]
providers:
  main: { type: openai, base_url: "${UPSTREAM}/v1", api_key: sk-main-0123456789abcdef, models: [ m ] }
  big: { type: openai, base_url: "`+big.URL+`/v1", api_key: sk-big-0123456789abcdef, models: [ m ] }
  safe: { type: openai, base_url: "`+safe.URL+`/v1", api_key: sk-safe-0123456789abcdef, models: [ m ] }
  other: { type: openai, base_url: "`+other.URL+`/v1", api_key: sk-other-0123456789abcdef, models: [ m ] }
routes:
  r:
    targets: [ { model: main/m } ]
    fallbacks: [ other/m ]
    context_fallback: big/m
    content_filter_fallback: safe/m
`, main.URL)
	c := newClients(ts, "ck")
	main.push(
		reply(400, `{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 200000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`),
		reply(400, `{"error":{"message":"The response was filtered due to the prompt triggering content management policy.","type":null,"param":"prompt","code":"content_filter"}}`),
		reply(400, `{"error":{"message":"Invalid value for 'temperature'.","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}`),
	)

	if _, h, err := c.chat(ctx, "r"); err != nil {
		t.Fatal(err)
	} else {
		wantServed(t, h, "big", 2)
	}
	if _, h, err := c.chat(ctx, "r"); err != nil {
		t.Fatal(err)
	} else {
		wantServed(t, h, "safe", 2)
	}
	_, h, err := c.chat(ctx, "r")
	if msg := wantStatus(t, err, 400); !strings.Contains(msg, "temperature") {
		t.Errorf("message %q", msg)
	}
	if got := h.Get("X-Llmux-Attempts"); got != "1" {
		t.Errorf("a plain 400 made %q attempts, want 1", got)
	}
	if main.count() != 3 || big.count() != 1 || safe.count() != 1 || other.count() != 0 {
		t.Errorf("calls: main %d big %d safe %d other %d; want 3 1 1 0", main.count(), big.count(), safe.count(), other.count())
	}
}

// ---- 8. Retry policy ----

// TestRetryPolicy: retry.max_attempts bounds the attempts and the error
// says how many failed; only retry.statuses are retried; a route's
// max_attempts overrides the global one.
func TestRetryPolicy(t *testing.T) {
	noLeaks(t)
	ctx := context.Background()
	ups := map[string]*faultUpstream{}
	var y strings.Builder
	y.WriteString("keys: [ ck ]\nretry: { max_attempts: 2, statuses: [ 503 ] }\nproviders:\n")
	for _, p := range []struct {
		id string
		f  fault
	}{{"p1", serverError(503)}, {"p2", serverError(503)}, {"p3", serverError(503)}, {"q", serverError(500)}, {"ok", answer(t, "openai/chat-text")}} {
		ups[p.id] = newFaultUpstream(t, p.f)
		y.WriteString("  " + p.id + ": { type: openai, base_url: \"" + ups[p.id].URL + "/v1\", api_key: sk-" + p.id + "-0123456789abcdef, models: [ m ] }\n")
	}
	y.WriteString(`routes:
  two: { targets: [ { model: p1/m, priority: 3 }, { model: p2/m, priority: 2 }, { model: p3/m, priority: 1 } ] }
  three: { max_attempts: 3, targets: [ { model: p1/m, priority: 3 }, { model: p2/m, priority: 2 }, { model: p3/m, priority: 1 } ] }
  five_hundred: { targets: [ { model: q/m, priority: 1 }, { model: ok/m } ] }
  five_oh_three: { targets: [ { model: p1/m, priority: 1 }, { model: ok/m } ] }
`)
	ts, _ := newGateway(t, y.String(), "")
	c := newClients(ts, "ck")

	_, h, err := c.chat(ctx, "two")
	if msg := wantStatus(t, err, 503); !strings.HasPrefix(msg, "all 2 upstream candidates failed; the last one said: ") {
		t.Errorf("message %q", msg)
	}
	if h.Get("X-Llmux-Attempts") != "2" || ups["p3"].count() != 0 {
		t.Errorf("attempts %q, p3 calls %d; want 2 and 0", h.Get("X-Llmux-Attempts"), ups["p3"].count())
	}

	_, h, err = c.chat(ctx, "three")
	if msg := wantStatus(t, err, 503); !strings.HasPrefix(msg, "all 3 upstream candidates failed; the last one said: ") {
		t.Errorf("route max_attempts: message %q", msg)
	}
	if h.Get("X-Llmux-Attempts") != "3" || ups["p3"].count() != 1 {
		t.Errorf("route max_attempts: attempts %q, p3 calls %d; want 3 and 1", h.Get("X-Llmux-Attempts"), ups["p3"].count())
	}

	_, h, err = c.chat(ctx, "five_hundred")
	wantStatus(t, err, 500)
	if h.Get("X-Llmux-Attempts") != "1" || ups["ok"].count() != 0 {
		t.Errorf("a 500 outside retry.statuses was retried: attempts %q, ok calls %d", h.Get("X-Llmux-Attempts"), ups["ok"].count())
	}

	if _, h, err := c.chat(ctx, "five_oh_three"); err != nil {
		t.Fatal(err)
	} else {
		wantServed(t, h, "ok", 2)
	}
	c.noKeys(t, ts, "sk-p1-0123456789abcdef", "sk-p2-0123456789abcdef", "sk-p3-0123456789abcdef", "sk-q-0123456789abcdef")
}

// ---- 9. Weighted routes ----

// TestWeightedRouteShares: 2000 requests over targets weighted 1/2/7 land
// on each in proportion, within four standard deviations of the binomial
// and a chi-square bound.
func TestWeightedRouteShares(t *testing.T) {
	noLeaks(t)
	ts, _ := newGateway(t, `
keys: [ ck ]
log_requests: false
providers:
  w1: { type: mock }
  w2: { type: mock }
  w7: { type: mock }
routes:
  r: { targets: [ { model: w1/echo, weight: 1 }, { model: w2/echo, weight: 2 }, { model: w7/echo, weight: 7 } ] }
`, "")
	c := newClients(ts, "ck")
	const n, workers = 2000, 8
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/workers; i++ {
				_, h, err := c.chat(context.Background(), "r")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got[h.Get("X-Llmux-Provider")]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	chi2 := 0.0
	for _, w := range []struct {
		id string
		p  float64
	}{{"w1", 0.1}, {"w2", 0.2}, {"w7", 0.7}} {
		exp, sigma := n*w.p, math.Sqrt(n*w.p*(1-w.p))
		if d := math.Abs(float64(got[w.id]) - exp); d > 4*sigma {
			t.Errorf("%s served %d of %d, expected %.0f ± %.0f", w.id, got[w.id], n, exp, 4*sigma)
		}
		chi2 += math.Pow(float64(got[w.id])-exp, 2) / exp
	}
	if chi2 > 18.4 { // 2 degrees of freedom, p = 1e-4
		t.Errorf("chi-square %.1f for %v", chi2, got)
	}
}

// ---- 10. Reload under load ----

// TestReloadUnderLoad: eight clients send requests, streamed and not,
// while the configuration is swapped twenty times (a provider added and
// removed, the route's targets changed): nothing fails, and streams that
// were in flight across a reload complete.
func TestReloadUnderLoad(t *testing.T) {
	noLeaks(t)
	up := newFaultUpstream(t, answer(t, "openai/chat-text"))
	const mocks = `
  m1: { type: mock, mock: { tokens_per_second: 400, output_tokens: 8 } }
  m2: { type: mock, mock: { tokens_per_second: 400, output_tokens: 8 } }`
	yamlA := "keys: [ ck ]\nlog_requests: false\nproviders:" + mocks + `
routes:
  r: { targets: [ { model: m1/chat }, { model: m2/chat } ] }
`
	yamlB := "keys: [ ck ]\nlog_requests: false\nproviders:" + mocks + `
  up: { type: openai, base_url: "${UPSTREAM}/v1", api_key: sk-up-0123456789abcdef, models: [ chat ] }
routes:
  r: { targets: [ { model: up/chat, weight: 3 }, { model: m2/chat } ], fallbacks: [ m1/chat ] }
`
	ts, srv := newGateway(t, yamlA, up.URL)
	cfgs := [2]string{yamlA, strings.ReplaceAll(yamlB, "${UPSTREAM}", up.URL)}
	c := newClients(ts, "ck")

	var done, streamsAcross atomic.Int64
	var gen atomic.Int64
	var failures sync.Map
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				g := gen.Load()
				var err error
				if (w+i)%2 == 0 {
					var text string
					text, _, err = c.chatStream(context.Background(), "r")
					if err == nil && text == "" {
						err = errors.New("an empty stream")
					}
					if err == nil && gen.Load() != g {
						streamsAcross.Add(1)
					}
				} else {
					_, _, err = c.chat(context.Background(), "r")
				}
				if err != nil {
					failures.Store(err.Error(), true)
				}
				done.Add(1)
			}
		}()
	}
	for i := 0; i < 20; i++ {
		// Let some requests finish under each configuration.
		from := done.Load()
		eventually(t, "requests under the new configuration", func() bool { return done.Load() >= from+8 })
		if err := srv.Reload(mustConfig(t, cfgs[(i+1)%2])); err != nil {
			t.Fatal(err)
		}
		gen.Add(1)
	}
	close(stop)
	wg.Wait()
	failures.Range(func(k, _ any) bool {
		t.Errorf("a request failed during reloads: %v", k)
		return true
	})
	if streamsAcross.Load() == 0 {
		t.Error("no stream was in flight across a reload")
	}
	if up.count() == 0 {
		t.Error("the provider added by a reload never served")
	}
	t.Logf("%d requests, %d streams across a reload, %d to the added provider", done.Load(), streamsAcross.Load(), up.count())
}
