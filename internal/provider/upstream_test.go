package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/h1"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol/all"
)

// testKey is the configured upstream key of most tests. It is not shaped
// like any vendor's key, so only the configured-secret redaction can hide
// it.
const testKey = "plainsecret-KEY-0123456789"

// upstream is an httptest server standing in for a vendor's API. It records
// every request it receives and answers with its handler.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

// recorded is one request as the upstream saw it.
type recorded struct {
	Method, Path string
	Header       http.Header
	Raw          []byte
	Body         map[string]any // Raw decoded, when it is a JSON object
}

// newUpstream starts an upstream answering with h; it is closed when the
// test ends. The requests' contexts are canceled then too, so a handler
// that waits for r.Context() never outlives its test.
func newUpstream(t testing.TB, h http.HandlerFunc) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		rec := recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Raw: raw}
		_ = json.Unmarshal(raw, &rec.Body)
		u.mu.Lock()
		u.reqs = append(u.reqs, rec)
		u.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(raw))
		h(w, r)
	}))
	ctx, cancel := context.WithCancel(context.Background())
	u.Config.BaseContext = func(net.Listener) context.Context { return ctx }
	u.Start()
	t.Cleanup(func() {
		cancel()
		u.Close()
	})
	return u
}

// routeTo makes p reach up whatever host its base URL names, so that a
// provider can be configured with an internal-looking host name.
func routeTo(p *HTTP, up *upstream) {
	addr := up.Listener.Addr().String()
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	switch tr := p.client.Transport.(type) {
	case *http.Transport:
		tr.Proxy = nil
		tr.DialContext = dial
	case *h1.Transport:
		tr.DialContext = dial
	}
}

// hang is an upstream that accepts the request and never answers. It
// reports each arrival on arrived, when that is not nil.
func hang(arrived chan<- struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if arrived != nil {
			arrived <- struct{}{}
		}
		<-r.Context().Done()
	}
}

// requests returns what the upstream received so far.
func (u *upstream) requests() []recorded {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]recorded(nil), u.reqs...)
}

// last returns the last request received, failing the test when there was
// none.
func (u *upstream) last(t *testing.T) recorded {
	t.Helper()
	reqs := u.requests()
	if len(reqs) == 0 {
		t.Fatal("the upstream received no request")
	}
	return reqs[len(reqs)-1]
}

// reply answers every request with status and body as JSON.
func reply(status int, body []byte, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}
}

// chatFixtures answers chat calls like OpenAI did in the recordings: the
// recorded JSON body for a non-streaming request, the recorded SSE body for
// a streaming one.
func chatFixtures(t *testing.T, name string) http.HandlerFunc {
	body, stream := fixture(t, name+".body.json"), fixture(t, name+".stream.body.sse")
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Stream bool `json:"stream"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		if req.Stream {
			w.Header().Set("Content-Type", "text/event-stream")
			w.Write(stream)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}
}

// fixture reads a recorded OpenAI body.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "fixtures", "openai", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newHTTPProvider builds a provider of type typ against base through Build,
// the way the gateway does. edit may change the configuration first.
func newHTTPProvider(t testing.TB, typ, base string, edit func(*config.Provider)) *HTTP {
	t.Helper()
	pc := &config.Provider{Type: typ, BaseURL: base, APIKey: testKey}
	if edit != nil {
		edit(pc)
	}
	provs, err := Build(&config.Config{Providers: map[string]*config.Provider{"up": pc}}, all.Registry())
	if err != nil {
		t.Fatal(err)
	}
	p, ok := provs["up"].(*HTTP)
	if !ok {
		t.Fatalf("provider is %T, want *HTTP", provs["up"])
	}
	t.Cleanup(p.client.CloseIdleConnections)
	return p
}

// userRequest is a one-message chat request.
func userRequest(text string) *llm.Request {
	return &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(text)}}}}
}

// drain reads s to its end and closes it. It returns the events and the
// error that ended the stream (nil at a clean end).
func drain(s llm.Stream) ([]llm.Event, error) {
	defer s.Close()
	var evs []llm.Event
	for {
		ev, err := s.Next()
		if errors.Is(err, io.EOF) {
			return evs, nil
		}
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
}

// asLLMError returns err as an *llm.Error, failing the test when it is
// not one.
func asLLMError(t *testing.T, err error) *llm.Error {
	t.Helper()
	var e *llm.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
	}
	return e
}

// waitFor waits until ch is closed. The generous limit only keeps a broken
// build from hanging until the test binary's own timeout; it says nothing
// about speed.
func waitFor(t *testing.T, ch <-chan struct{}, failure string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatal(failure)
	}
}

// contextSpy records the context of every request a provider sends, to
// check the deadline a call runs under and that it is released.
type contextSpy struct {
	tr   idleRoundTripper
	mu   sync.Mutex
	ctxs []context.Context
}

func spyOn(p *HTTP) *contextSpy {
	s := &contextSpy{tr: p.client.Transport.(idleRoundTripper)}
	p.client.Transport = s
	return s
}

type idleRoundTripper interface {
	http.RoundTripper
	CloseIdleConnections()
}

func (s *contextSpy) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.ctxs = append(s.ctxs, r.Context())
	s.mu.Unlock()
	return s.tr.RoundTrip(r)
}

func (s *contextSpy) CloseIdleConnections() { s.tr.CloseIdleConnections() }

// last returns the context of the last request sent.
func (s *contextSpy) last(t *testing.T) context.Context {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ctxs) == 0 {
		t.Fatal("the provider sent no request")
	}
	return s.ctxs[len(s.ctxs)-1]
}
