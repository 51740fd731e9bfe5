package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/llmux/llmux/internal/config"
)

// recorder is an upstream of any protocol: answer decides the reply, and
// every request is kept.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func newRecorder(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, body []byte)) *recorder {
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, recorded{Path: r.URL.Path + "?" + r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		rec.mu.Unlock()
		answer(w, r, body)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) only(t *testing.T) recorded {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.reqs) != 1 {
		t.Fatalf("upstream got %d requests, want 1", len(rec.reqs))
	}
	return rec.reqs[0]
}

// replayFixture answers every request with one recorded body.
func replayFixture(t *testing.T, name string, status int) func(http.ResponseWriter, *http.Request, []byte) {
	body := fixture(t, name)
	return func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(name, ".sse") {
			w.Header().Set("Content-Type", "text/event-stream")
		}
		w.WriteHeader(status)
		w.Write(body)
	}
}

// send posts body to the gateway with the given headers.
func send(t testing.TB, ts *httptest.Server, method, path, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func jsonOf(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	return m
}

const anthropicBody = `{"model":"%s","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`

func TestOllamaKeyInPathIsAcceptedAndNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	cfg, err := config.Parse("t.yaml", []byte("keys: [sk-path-key-123]\n"), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg, Options{Registry: registry(), Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	body := `{"model":"mock/echo","stream":false,"messages":[{"role":"user","content":"hello"}]}`
	resp, b := send(t, ts, "POST", "/ollama/sk-path-key-123/api/chat", body, nil)
	if resp.StatusCode != 200 || jsonOf(t, b)["done"] != true {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	resp, b = send(t, ts, "POST", "/ollama/wrong-key/api/chat", body, nil)
	if resp.StatusCode != 401 {
		t.Fatalf("wrong key: status %d: %s", resp.StatusCode, b)
	}
	if msg, ok := jsonOf(t, b)["error"].(string); !ok || msg == "" {
		t.Errorf("a wrong key must get Ollama's error shape {\"error\": \"…\"}, got %s", b)
	}
	resp, _ = send(t, ts, "GET", "/ollama/sk-path-key-123/api/version", "", nil)
	if resp.StatusCode != 200 {
		t.Errorf("version under the key prefix: %d", resp.StatusCode)
	}
	if strings.Contains(logs.String(), "sk-path-key-123") || strings.Contains(logs.String(), "wrong-key") {
		t.Errorf("a key from the path reached the log:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `"/ollama/***/api/chat"`) {
		t.Errorf("the access log lacks the masked path:\n%s", logs.String())
	}
}

func TestOllamaInformationEndpoints(t *testing.T) {
	ts, _ := newGateway(t, "providers:\n  mock:\n    type: mock\n    models: [echo]\n", "")
	resp, b := send(t, ts, "GET", "/api/version", "", nil)
	if resp.StatusCode != 200 || jsonOf(t, b)["version"] == "" {
		t.Errorf("version: %d %s", resp.StatusCode, b)
	}
	resp, b = send(t, ts, "GET", "/api/tags", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"mock/echo"`) {
		t.Errorf("tags: %d %s", resp.StatusCode, b)
	}
	resp, b = send(t, ts, "POST", "/api/show", `{"model":"mock/echo"}`, nil)
	if resp.StatusCode != 200 || jsonOf(t, b)["details"] == nil {
		t.Errorf("show: %d %s", resp.StatusCode, b)
	}
	resp, b = send(t, ts, "POST", "/api/show", `{"model":"nope/nothing"}`, nil)
	if resp.StatusCode != 404 || jsonOf(t, b)["error"] == nil {
		t.Errorf("show of an unknown model: %d %s", resp.StatusCode, b)
	}
	resp, b = send(t, ts, "POST", "/api/generate", `{"model":"mock/echo","prompt":"say this","stream":false}`, nil)
	if resp.StatusCode != 200 || !strings.Contains(jsonOf(t, b)["response"].(string), "say this") {
		t.Errorf("generate: %d %s", resp.StatusCode, b)
	}
}

func TestGeminiAddressedPaths(t *testing.T) {
	up := newRecorder(t, replayFixture(t, "gemini/generate-text.body.json", 200))
	ts, _ := newGateway(t, "providers:\n  gem:\n    type: gemini\n    base_url: ${UPSTREAM}\n    api_key: gk\n", up.URL)
	body := `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`
	// The model segment holds a '/': the method is what follows the last ':'.
	resp, b := send(t, ts, "POST", "/gemini/v1beta/models/gem/gemini-2.0-flash:generateContent", body, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	if got := up.only(t).Path; got != "/v1beta/models/gemini-2.0-flash:generateContent?" {
		t.Errorf("upstream path %q", got)
	}
	if resp.Header.Get("X-Llmux-Provider") != "gem" {
		t.Errorf("provider header %q", resp.Header.Get("X-Llmux-Provider"))
	}
	resp, b = send(t, ts, "POST", "/v1beta/models/gem/gemini-2.0-flash:embedContent", body, nil)
	e := jsonOf(t, b)["error"]
	if resp.StatusCode != 404 || e == nil || e.(map[string]any)["status"] != "NOT_FOUND" {
		t.Errorf("unknown method: %d %s", resp.StatusCode, b)
	}
	resp, b = send(t, ts, "POST", "/v1beta/models/nope/x:generateContent", body, nil)
	if resp.StatusCode != 404 || jsonOf(t, b)["error"].(map[string]any)["status"] != "NOT_FOUND" {
		t.Errorf("unknown model: %d %s", resp.StatusCode, b)
	}
}

func TestCountTokens(t *testing.T) {
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"input_tokens":1234}`))
	})
	ts, _ := newGateway(t, "providers:\n  claude:\n    type: anthropic\n    base_url: ${UPSTREAM}\n    api_key: ak\n  mock:\n    type: mock\n", up.URL)

	// An Anthropic upstream counts itself.
	resp, b := send(t, ts, "POST", "/v1/messages/count_tokens", `{"model":"claude/claude-sonnet-4-5","messages":[{"role":"user","content":"hello world"}]}`,
		map[string]string{"anthropic-beta": "token-counting-2024-11-01"})
	if resp.StatusCode != 200 || jsonOf(t, b)["input_tokens"] != 1234.0 || resp.Header.Get(estimatedHeader) != "" {
		t.Fatalf("status %d %s, estimated=%q", resp.StatusCode, b, resp.Header.Get(estimatedHeader))
	}
	r := up.only(t)
	if r.Path != "/v1/messages/count_tokens?" || r.Header.Get("Anthropic-Beta") != "token-counting-2024-11-01" {
		t.Errorf("upstream got %s with beta %q", r.Path, r.Header.Get("Anthropic-Beta"))
	}
	if jsonOf(t, r.Body)["model"] != "claude-sonnet-4-5" {
		t.Errorf("upstream body %s", r.Body)
	}

	// The mock cannot: the gateway estimates, and says so.
	resp, b = send(t, ts, "POST", "/anthropic/v1/messages/count_tokens", `{"model":"mock/echo","messages":[{"role":"user","content":"hello world"}]}`, nil)
	n, _ := jsonOf(t, b)["input_tokens"].(float64)
	if resp.StatusCode != 200 || n < 3 || n > 20 || resp.Header.Get(estimatedHeader) != "true" {
		t.Fatalf("estimate: status %d %s, estimated=%q", resp.StatusCode, b, resp.Header.Get(estimatedHeader))
	}

	// Gemini's countTokens, model in the path, estimated against the mock.
	resp, b = send(t, ts, "POST", "/v1beta/models/mock/echo:countTokens", `{"contents":[{"parts":[{"text":"hello world"}]}]}`, nil)
	if resp.StatusCode != 200 || jsonOf(t, b)["totalTokens"] == nil || resp.Header.Get(estimatedHeader) != "true" {
		t.Fatalf("gemini count: status %d %s", resp.StatusCode, b)
	}
}

func TestAnthropicHeadersReachOnlyAnthropicUpstreams(t *testing.T) {
	claude := newRecorder(t, replayFixture(t, "anthropic/messages-text.body.json", 200))
	oa := newRecorder(t, replayFixture(t, "openai/chat-text.body.json", 200))
	cfg := "providers:\n  claude:\n    type: anthropic\n    base_url: " + claude.URL + "\n    api_key: ak\n" +
		"  oa:\n    type: openai\n    base_url: " + oa.URL + "/v1\n    api_key: ok\n"
	ts, _ := newGateway(t, cfg, "")
	h := map[string]string{"anthropic-version": "2023-06-01", "anthropic-beta": "interleaved-thinking-2025-05-14,context-1m-2025-08-07"}
	for _, model := range []string{"claude/claude-sonnet-4-5", "oa/gpt-4o-mini"} {
		resp, b := send(t, ts, "POST", "/v1/messages", strings.Replace(anthropicBody, "%s", model, 1), h)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", model, resp.StatusCode, b)
		}
	}
	if got := claude.only(t).Header.Get("Anthropic-Beta"); got != h["anthropic-beta"] {
		t.Errorf("anthropic upstream got beta %q", got)
	}
	if got := claude.only(t).Header.Get("X-Api-Key"); got != "ak" {
		t.Errorf("anthropic upstream got x-api-key %q", got)
	}
	if got := oa.only(t).Header.Get("Anthropic-Beta"); got != "" {
		t.Errorf("an OpenAI upstream got anthropic-beta %q", got)
	}
}

func TestMaxTokensDefaultForAnthropic(t *testing.T) {
	claude := newRecorder(t, replayFixture(t, "anthropic/messages-text.body.json", 200))
	cfg := "providers:\n  claude:\n    type: anthropic\n    base_url: ${UPSTREAM}\n    api_key: ak\n" +
		"    max_tokens: {\"*\": 1000, \"claude-3-haiku-*\": 333}\n  bare:\n    type: anthropic\n    base_url: ${UPSTREAM}\n    api_key: ak\n"
	ts, _ := newGateway(t, strings.ReplaceAll(cfg, "${UPSTREAM}", claude.URL), "")
	body := `{"model":"%s","messages":[{"role":"user","content":"hi"}]}`
	for model, want := range map[string]float64{
		"claude/claude-sonnet-4-5":       1000,
		"claude/claude-3-haiku-20240307": 333,
		"bare/claude-3-haiku-20240307":   4096, // the built-in table
	} {
		claude.mu.Lock()
		claude.reqs = nil
		claude.mu.Unlock()
		resp, b := send(t, ts, "POST", "/v1/chat/completions", strings.Replace(body, "%s", model, 1), nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", model, resp.StatusCode, b)
		}
		if got := jsonOf(t, claude.only(t).Body)["max_tokens"]; got != want {
			t.Errorf("%s: upstream max_tokens = %v, want %v", model, got, want)
		}
	}
}

func TestImageURLsBecomeBytesForGemini(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	img := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(png) }))
	defer img.Close()
	up := newRecorder(t, replayFixture(t, "gemini/generate-text.body.json", 200))
	body := `{"model":"gem/gemini-2.0-flash","messages":[{"role":"user","content":[{"type":"text","text":"what is it?"},{"type":"image_url","image_url":{"url":"` + img.URL + `/cat.png"}}]}]}`
	base := "providers:\n  gem:\n    type: gemini\n    base_url: " + up.URL + "\n    api_key: gk\n"

	// By default a loopback URL is refused, in the client's protocol.
	ts, _ := newGateway(t, base, "")
	resp, b := send(t, ts, "POST", "/v1/chat/completions", body, nil)
	e := decodeError(t, b)
	if resp.StatusCode != 400 || !strings.Contains(e.Error.Message, "private or local address") {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	if strings.Contains(e.Error.Message, img.URL) {
		t.Errorf("the error repeats the internal URL: %s", e.Error.Message)
	}

	ts, _ = newGateway(t, base+"media:\n  allow_private: true\n", "")
	resp, b = send(t, ts, "POST", "/v1/chat/completions", body, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	sent := string(up.only(t).Body)
	if !strings.Contains(sent, base64.StdEncoding.EncodeToString(png)) || !strings.Contains(sent, `"image/png"`) {
		t.Errorf("the upstream did not get the image inline: %s", sent)
	}
}

// TestErrorsInEachClientsProtocol: one upstream failure, rendered in each
// client protocol's own error shape and status.
func TestErrorsInEachClientsProtocol(t *testing.T) {
	up := newRecorder(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(429)
		w.Write(fixture(t, "anthropic/messages-error-429.body.json"))
	})
	ts, _ := newGateway(t, "providers:\n  claude:\n    type: anthropic\n    base_url: ${UPSTREAM}\n    api_key: ak\n", up.URL)
	msgs := `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name, path, body string
		check            func(m map[string]any) bool
	}{
		{"openai", "/v1/chat/completions", `{"model":"claude/x",` + msgs + `}`,
			func(m map[string]any) bool { return m["error"].(map[string]any)["type"] != nil }},
		{"responses", "/v1/responses", `{"model":"claude/x","input":"hi"}`,
			func(m map[string]any) bool { return m["error"].(map[string]any)["message"] != nil }},
		{"anthropic", "/v1/messages", `{"model":"claude/x","max_tokens":5,` + msgs + `}`,
			func(m map[string]any) bool {
				return m["type"] == "error" && m["error"].(map[string]any)["type"] == "rate_limit_error"
			}},
		{"gemini", "/v1beta/models/claude/x:generateContent", `{"contents":[{"parts":[{"text":"hi"}]}]}`,
			func(m map[string]any) bool { return m["error"].(map[string]any)["status"] == "RESOURCE_EXHAUSTED" }},
		{"ollama", "/api/chat", `{"model":"claude/x","stream":false,` + msgs + `}`,
			func(m map[string]any) bool { _, ok := m["error"].(string); return ok }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := send(t, ts, "POST", tt.path, tt.body, nil)
			if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
				t.Errorf("status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
			}
			m := jsonOf(t, b)
			func() {
				defer func() {
					if recover() != nil {
						t.Errorf("error body is not in %s's shape: %s", tt.name, b)
					}
				}()
				if !tt.check(m) {
					t.Errorf("error body is not in %s's shape: %s", tt.name, b)
				}
			}()
		})
	}
}

// TestSharedPathsGoToTheDefaultProtocol: GET /v1/models is OpenAI's at the
// root and Anthropic's under the Anthropic prefixes.
func TestSharedPathsGoToTheDefaultProtocol(t *testing.T) {
	ts, _ := newGateway(t, "providers:\n  mock:\n    type: mock\n    models: [echo]\n", "")
	_, b := send(t, ts, "GET", "/v1/models", "", nil)
	if jsonOf(t, b)["object"] != "list" {
		t.Errorf("root /v1/models is not OpenAI's: %s", b)
	}
	for _, p := range []string{"/anthropic/v1/models", "/claude/v1/models"} {
		_, b = send(t, ts, "GET", p, "", nil)
		m := jsonOf(t, b)
		if _, ok := m["has_more"]; !ok || m["object"] != nil {
			t.Errorf("%s is not Anthropic's list: %s", p, b)
		}
	}
}
