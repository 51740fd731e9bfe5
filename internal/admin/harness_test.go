package admin_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/llmux/llmux/internal/admin"
	"github.com/llmux/llmux/internal/limits"
	"github.com/llmux/llmux/internal/store"
	"github.com/llmux/llmux/internal/store/testdb"
)

// forEachStore runs test once over a fresh SQLite store and once over a
// fresh PostgreSQL schema (skipped loudly without LLMUX_TEST_POSTGRES_DSN).
func forEachStore(t *testing.T, test func(t *testing.T, s store.Store)) {
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s, _ := testdb.Open(t, backend)
			test(t, s)
		})
	}
}

// env is the admin API served over real HTTP on a real store.
type env struct {
	t       *testing.T
	store   store.Store
	limiter *limits.Memory
	srv     *httptest.Server
	logs    *syncBuffer

	mu     sync.Mutex
	bodies []string // every answer, to check that no secret leaks
}

// newEnv serves the admin API over s, with a Memory limiter and a logger
// that writes into env.logs.
func newEnv(t *testing.T, s store.Store) *env {
	e := &env{t: t, store: s, limiter: limits.NewMemory(limits.Options{}), logs: &syncBuffer{}}
	h := admin.New(admin.Options{
		Store: s, Limiter: e.limiter,
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

// answer is one HTTP answer, its body decoded when it is JSON.
type answer struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

// do sends a request; headers come in name, value pairs.
func (e *env) do(method, path, body string, headers ...string) answer {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if method != http.MethodHead {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			e.t.Errorf("%s %s: Content-Type %q, want application/json", method, path, ct)
		}
		if err := json.Unmarshal(b, &a.body); err != nil {
			e.t.Fatalf("%s %s: the answer is not a JSON object: %v: %s", method, path, err, b)
		}
	}
	e.mu.Lock()
	e.bodies = append(e.bodies, a.raw)
	e.mu.Unlock()
	return a
}

// ok sends a request and fails the test unless it gets status.
func (e *env) ok(status int, method, path, body string, headers ...string) answer {
	e.t.Helper()
	a := e.do(method, path, body, headers...)
	if a.status != status {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, a.status, status, a.raw)
	}
	return a
}

// fails sends a request and checks the error answer: status, param ("" for
// null) and a substring of the message.
func (e *env) fails(status int, param, msg, method, path, body string, headers ...string) answer {
	e.t.Helper()
	a := e.do(method, path, body, headers...)
	if a.status != status {
		e.t.Errorf("%s %s %s: status %d, want %d: %s", method, path, body, a.status, status, a.raw)
		return a
	}
	errObj, _ := a.body["error"].(map[string]any)
	if errObj == nil {
		e.t.Errorf("%s %s: no error object: %s", method, path, a.raw)
		return a
	}
	got, _ := errObj["param"].(string)
	if got != param {
		e.t.Errorf("%s %s %s: param %q, want %q: %s", method, path, body, got, param, a.raw)
	}
	if m, _ := errObj["message"].(string); !strings.Contains(m, msg) {
		e.t.Errorf("%s %s %s: message %q does not contain %q", method, path, body, m, msg)
	}
	if typ, _ := errObj["type"].(string); typ != "invalid_request_error" && status < 500 {
		e.t.Errorf("%s %s: type %q", method, path, typ)
	}
	if _, has := errObj["code"]; !has {
		e.t.Errorf("%s %s: no code: %s", method, path, a.raw)
	}
	return a
}

// noSecret fails if raw appears in any answer after the first one that
// carried it, or in the log.
func (e *env) noSecret(raw string) {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	seen := 0
	for _, b := range e.bodies {
		if strings.Contains(b, raw) {
			seen++
		}
	}
	if seen != 1 {
		e.t.Errorf("the raw key appeared in %d answers, want exactly 1 (the POST)", seen)
	}
	if strings.Contains(e.logs.String(), raw) {
		e.t.Errorf("the raw key appeared in the log")
	}
}

func str(v any) string { s, _ := v.(string); return s }

func num(v any) float64 { f, _ := v.(float64); return f }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
