package gateway

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/llmux/llmux/internal/config"
)

const errorsConfig = `
keys: [ test-key ]
max_body_size: 2KiB
providers:
  openai:
    type: openai
    base_url: ${UPSTREAM}/v1
    api_key: sk-upstream-secret-0123456789
  mock:
    type: mock
routes:
  smart:
    targets: [ { model: openai/gpt-4o-mini } ]
`

// TestBadInput sends each kind of bad request and checks the status and the
// OpenAI error body: type, code and the field named in param and message.
func TestBadInput(t *testing.T) {
	up := newUpstream(t)
	ts, _ := newGateway(t, errorsConfig, up.URL)
	msgs := `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name       string
		key        string
		body       string
		status     int
		typ, code  string
		param      string
		msgHas     string
		upstreamOK bool // whether the request may reach the upstream
	}{
		{"missing key", "", `{"model":"mock/echo",` + msgs + `}`, 401, "invalid_request_error", "missing_api_key", "", "API key", false},
		{"wrong key", "nope", `{"model":"mock/echo",` + msgs + `}`, 401, "invalid_request_error", "invalid_api_key", "", "Incorrect API key", false},
		{"unknown model", "test-key", `{"model":"no-such-model",` + msgs + `}`, 404, "invalid_request_error", "model_not_found", "model", "`no-such-model` does not exist", false},
		{"unknown model of a provider", "test-key", `{"model":"claude/sonnet",` + msgs + `}`, 404, "invalid_request_error", "model_not_found", "model", "`claude/sonnet`", false},
		{"malformed JSON", "test-key", `{"model":"openai/gpt-4o", "messages": [`, 400, "invalid_request_error", "", "", "not valid JSON", false},
		{"not an object", "test-key", `["model"]`, 400, "invalid_request_error", "", "", "JSON object", false},
		{"model of the wrong type (passthrough)", "test-key", `{"model":5,` + msgs + `}`, 400, "invalid_request_error", "", "model", "model: expected a string", false},
		{"messages of the wrong type (passthrough)", "test-key", `{"model":"openai/gpt-4o","messages":"hi"}`, 400, "invalid_request_error", "", "messages", "messages: expected an array", false},
		{"stream of the wrong type (passthrough)", "test-key", `{"model":"openai/gpt-4o","stream":"yes",` + msgs + `}`, 400, "invalid_request_error", "", "stream", "stream: expected a boolean", false},
		{"no messages", "test-key", `{"model":"openai/gpt-4o","messages":[]}`, 400, "invalid_request_error", "", "messages", "at least one message", false},
		{"no model", "test-key", `{` + msgs + `}`, 400, "invalid_request_error", "", "model", "model", false},
		{"temperature of the wrong type (translated)", "test-key", `{"model":"mock/echo","temperature":"hot",` + msgs + `}`, 400, "invalid_request_error", "", "temperature", "temperature: expected a number, got a string", false},
		{"content of the wrong type (translated)", "test-key", `{"model":"mock/echo","messages":[{"role":"user","content":42}]}`, 400, "invalid_request_error", "", "messages[0].content", "messages[0].content: expected a string or an array", false},
		{"bad role (translated)", "test-key", `{"model":"mock/echo","messages":[{"role":"robot","content":"x"}]}`, 400, "invalid_request_error", "", "messages[0].role", "robot", false},
		{"temperature out of range (translated)", "test-key", `{"model":"mock/echo","temperature":3,` + msgs + `}`, 400, "invalid_request_error", "", "temperature", "between 0 and 2", false},
		{"body too large", "test-key", `{"model":"mock/echo","messages":[{"role":"user","content":"` + strings.Repeat("x", 4096) + `"}]}`, 413, "invalid_request_error", "request_too_large", "", "larger than", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := up.count()
			resp, body := postRaw(t, ts, "/v1/chat/completions", tt.key, tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			e := decodeError(t, body)
			if e.Error.Type != tt.typ {
				t.Errorf("type %q, want %q", e.Error.Type, tt.typ)
			}
			if code := deref(e.Error.Code); code != tt.code {
				t.Errorf("code %q, want %q", code, tt.code)
			}
			if param := deref(e.Error.Param); param != tt.param {
				t.Errorf("param %q, want %q", param, tt.param)
			}
			if !strings.Contains(e.Error.Message, tt.msgHas) {
				t.Errorf("message %q does not contain %q", e.Error.Message, tt.msgHas)
			}
			if !tt.upstreamOK && up.count() != before {
				t.Errorf("a bad request reached the upstream")
			}
			if strings.Contains(string(body), "sk-upstream") || strings.Contains(string(body), up.URL) {
				t.Errorf("the error leaks configuration: %s", body)
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestUpstreamErrors checks how upstream failures reach the client. Each
// case has its own gateway: a 429 or 401 takes the provider's only key out
// for a while, which TestKeyPools checks.
func TestUpstreamErrors(t *testing.T) {
	up := newUpstream(t)
	tests := []struct {
		name        string
		status      int
		body        string
		header      map[string]string
		wantStatus  int
		wantType    string
		wantCode    string
		msgHas      string
		retryAfter  string
		mustNotLeak []string
	}{
		{"server error passed on", 500, `{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}`,
			nil, 500, "server_error", "", "server had an error", "", nil},
		{"rate limit passed on with Retry-After", 429, string(fixture(t, "openai/chat-error-429.body.json")),
			map[string]string{"Retry-After": "7"}, 429, "insufficient_quota", "insufficient_quota", "exceeded your current quota", "7", nil},
		{"invalid request passed on", 400, string(fixture(t, "openai/chat-error-400.body.json")),
			nil, 400, "invalid_request_error", "unsupported_value", "does not support 'system'", "", nil},
		{"gateway key refused becomes 502", 401, string(fixture(t, "openai/chat-error-401.body.json")),
			nil, 502, "upstream_error", "upstream_auth_failed", "refused the gateway's credentials", "", []string{"Incorrect API key", "sk-XXXX"}},
		{"forbidden becomes 502", 403, `{"error":{"message":"Project does not have access","type":"invalid_request_error"}}`,
			nil, 502, "upstream_error", "upstream_auth_failed", "refused the gateway's credentials", "", nil},
		{"secrets and internal addresses stripped", 400,
			`{"error":{"message":"key sk-upstream-secret-0123456789 rejected by http://10.0.0.7:8000/v1/chat/completions","type":"invalid_request_error"}}`,
			nil, 400, "invalid_request_error", "", "rejected by", "", []string{"sk-upstream-secret", "10.0.0.7"}},
		{"non-JSON gateway page", 502, `<html><body>Bad Gateway</body></html>`, nil, 502, "upstream_error", "", "HTTP 502", "", []string{"<html>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, _ := newGateway(t, errorsConfig, up.URL)
			up.handle = func(w http.ResponseWriter, r *http.Request, body []byte) bool {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
				return true
			}
			resp, body := postRaw(t, ts, "/v1/chat/completions", "test-key", `{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			e := decodeError(t, body)
			if e.Error.Type != tt.wantType || deref(e.Error.Code) != tt.wantCode {
				t.Errorf("type/code = %q/%q, want %q/%q", e.Error.Type, deref(e.Error.Code), tt.wantType, tt.wantCode)
			}
			if !strings.Contains(e.Error.Message, tt.msgHas) {
				t.Errorf("message %q does not contain %q", e.Error.Message, tt.msgHas)
			}
			if got := resp.Header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tt.retryAfter)
			}
			for _, s := range append(tt.mustNotLeak, up.URL, "127.0.0.1") {
				if strings.Contains(string(body), s) {
					t.Errorf("the error leaks %q: %s", s, body)
				}
			}
		})
	}
	up.handle = nil
}

// TestSDKSeesErrors checks that the official SDK raises typed errors with
// the status and fields of the gateway's answers.
func TestSDKSeesErrors(t *testing.T) {
	up := newUpstream(t)
	ts, _ := newGateway(t, errorsConfig, up.URL)
	params := openai.ChatCompletionNewParams{Model: "mock/echo", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}
	wrong, right := sdk(ts, "wrong"), sdk(ts, "test-key")
	_, err := wrong.Chat.Completions.New(context.Background(), params)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Code != "invalid_api_key" {
		t.Fatalf("err = %v", err)
	}
	params.Model = "nope"
	_, err = right.Chat.Completions.New(context.Background(), params)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "model_not_found" || apiErr.Param != "model" {
		t.Fatalf("err = %v", err)
	}
	params.Model = "mock/error-503"
	_, err = right.Chat.Completions.New(context.Background(), params)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Fatalf("err = %v", err)
	}
}

func TestFailoverToNextCandidate(t *testing.T) {
	broken := newUpstream(t)
	broken.handle = func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		w.WriteHeader(503)
		w.Write([]byte(`{"error":{"message":"overloaded","type":"server_error"}}`))
		return true
	}
	good := newUpstream(t)
	ts, _ := newGateway(t, `
keys: [ k ]
providers:
  a: { type: openai, base_url: "${UPSTREAM}/v1", api_key: x, models: [ m ] }
  b: { type: openai, base_url: "`+good.URL+`/v1", api_key: y, models: [ m ] }
routes:
  r:
    targets: [ { model: a/m, priority: 1 }, { model: b/m } ]
`, broken.URL)
	resp, body := postRaw(t, ts, "/v1/chat/completions", "k", `{"model":"r","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 || resp.Header.Get("X-Llmux-Provider") != "b" || resp.Header.Get("X-Llmux-Attempts") != "2" {
		t.Fatalf("status %d provider %q attempts %q: %s", resp.StatusCode, resp.Header.Get("X-Llmux-Provider"), resp.Header.Get("X-Llmux-Attempts"), body)
	}
	if broken.count() != 1 || good.count() != 1 {
		t.Fatalf("calls: broken %d good %d", broken.count(), good.count())
	}
	// A request error is not retried elsewhere.
	broken.handle = func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		w.WriteHeader(400)
		w.Write([]byte(`{"error":{"message":"bad","type":"invalid_request_error"}}`))
		return true
	}
	resp, _ = postRaw(t, ts, "/v1/chat/completions", "k", `{"model":"r","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 400 || good.count() != 1 {
		t.Fatalf("status %d, good calls %d", resp.StatusCode, good.count())
	}
}

func TestLoopbackOnlyWithoutKeys(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte("providers: {}\n"), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg, Options{Registry: registry()})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"model":"mock/echo","messages":[{"role":"user","content":"hi"}]}`
	for _, tt := range []struct {
		remote string
		want   int
	}{{"127.0.0.1:5555", 200}, {"[::1]:5555", 200}, {"192.0.2.10:5555", 401}} {
		req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(body))
		req.RemoteAddr = tt.remote
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("from %s: status %d, want %d: %s", tt.remote, rec.Code, tt.want, rec.Body)
		}
	}
	for _, tt := range []struct {
		addr string
		ok   bool
	}{{"127.0.0.1:8080", true}, {"localhost:8080", true}, {"[::1]:8080", true}, {"0.0.0.0:8080", false}, {":8080", false}, {"192.0.2.1:80", false}} {
		if err := CheckListen(cfg, tt.addr, false); (err == nil) != tt.ok {
			t.Errorf("CheckListen(%s) = %v", tt.addr, err)
		}
	}
}

// TestProviderTimeout: an upstream that stops answering is cut at the
// provider's timeout, reported as a timeout, before and after the stream
// started.
func TestProviderTimeout(t *testing.T) {
	up := newUpstream(t)
	release := make(chan struct{})
	defer close(release)
	up.handle = func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		if strings.Contains(string(body), `"stream":true`) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.Write([]byte("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\n"))
			w.(http.Flusher).Flush()
		} else {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(200)
			w.Write([]byte(`{"id":"x",`))
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return true
	}
	ts, _ := newGateway(t, `
keys: [ k ]
providers:
  slow: { type: openai, base_url: "${UPSTREAM}/v1", api_key: x, timeout: 300ms }
`, up.URL)
	resp, body := postRaw(t, ts, "/v1/chat/completions", "k", `{"model":"slow/m","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 504 || decodeError(t, body).Error.Type != "timeout_error" {
		t.Fatalf("non-streamed: %d %s", resp.StatusCode, body)
	}
	resp, body = postRaw(t, ts, "/v1/chat/completions", "k", `{"model":"slow/m","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"content":"hi"`) ||
		!strings.Contains(string(body), `"type":"timeout_error"`) || strings.Contains(string(body), "[DONE]") {
		t.Fatalf("streamed: %d %s", resp.StatusCode, body)
	}
}

// TestStreamErrorRedacted: an error the upstream reports inside a stream
// (passed through or translated) reaches the client without the gateway's
// key or internal addresses in it.
func TestStreamErrorRedacted(t *testing.T) {
	up := newUpstream(t)
	up.handle = func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\n"))
		w.Write([]byte(`data: {"error":{"message":"key sk-upstream-secret-0123456789 failed at http://10.0.0.7:8000/v1","type":"server_error"}}` + "\n\n"))
		return true
	}
	ts, _ := newGateway(t, openaiConfig, up.URL)
	resp, body := postRaw(t, ts, "/v1/chat/completions", "test-key", `{"model":"openai/fast","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"content":"hi"`) || !strings.Contains(string(body), `"error"`) {
		t.Fatalf("stream: %d %s", resp.StatusCode, body)
	}
	for _, leak := range []string{"sk-upstream", "10.0.0.7"} {
		if strings.Contains(string(body), leak) {
			t.Errorf("the in-stream error leaks %q: %s", leak, body)
		}
	}
}
