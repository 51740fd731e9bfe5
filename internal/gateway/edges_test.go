package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
)

func TestAuthHeaders(t *testing.T) {
	ts, _ := newGateway(t, mockConfig, "")
	body := `{"model":"mock/echo","messages":[{"role":"user","content":"hi"}]}`
	for _, tt := range []struct {
		header, value string
		want          int
	}{
		{"Authorization", "Bearer test-key", 200},
		{"Authorization", "bearer test-key", 200},
		{"Authorization", "test-key", 200},
		{"X-Api-Key", "test-key", 200},
		{"X-Goog-Api-Key", "test-key", 200},
		{"Authorization", "Bearer test-key2", 401},
		{"X-Api-Key", "", 401},
	} {
		req, _ := http.NewRequest("POST", ts.URL+"/v1/chat/completions", strings.NewReader(body))
		if tt.value != "" {
			req.Header.Set(tt.header, tt.value)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %q → %d, want %d", tt.header, tt.value, resp.StatusCode, tt.want)
		}
	}
}

func TestRequestID(t *testing.T) {
	ts, _ := newGateway(t, mockConfig, "")
	req, _ := http.NewRequest("POST", ts.URL+"/v1/chat/completions", strings.NewReader(`{"model":"mock/echo","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer test-key")
	req.Header.Set("X-Request-Id", "trace-123.abc")
	resp, _ := ts.Client().Do(req)
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "trace-123.abc" {
		t.Fatalf("client request id not echoed: %q", got)
	}
	req, _ = http.NewRequest("POST", ts.URL+"/v1/chat/completions", strings.NewReader(`{"model":"mock/echo","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer test-key")
	req.Header.Set("X-Request-Id", "bad id\twith junk")
	resp, _ = ts.Client().Do(req)
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); !strings.HasPrefix(got, "req_") || len(got) != 24 {
		t.Fatalf("unsafe request id not replaced: %q", got)
	}
	// Errors carry one too.
	resp, _ = postRaw(t, ts, "/v1/chat/completions", "", `{}`)
	if resp.Header.Get("X-Request-Id") == "" {
		t.Fatal("error response without a request id")
	}
}

func TestCORS(t *testing.T) {
	ts, _ := newGateway(t, mockConfig+`
cors:
  allowed_origins: [ "https://app.example.com" ]
`, "")
	pre, _ := http.NewRequest("OPTIONS", ts.URL+"/v1/chat/completions", nil)
	pre.Header.Set("Origin", "https://app.example.com")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	pre.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	resp, err := ts.Client().Do(pre)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || h.Get("Access-Control-Allow-Headers") != "authorization, content-type" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, h)
	}
	pre.Header.Set("Origin", "https://evil.example.com")
	resp, err = ts.Client().Do(pre)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.StatusCode == 204 {
		t.Fatalf("a foreign origin was allowed: %d %v", resp.StatusCode, resp.Header)
	}
	req, _ := http.NewRequest("POST", ts.URL+"/v1/chat/completions", strings.NewReader(`{"model":"mock/echo","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Authorization", "Bearer test-key")
	resp, _ = ts.Client().Do(req)
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "X-Llmux-Provider") {
		t.Fatalf("actual request CORS headers: %v", resp.Header)
	}
}

func TestPathsAndMethods(t *testing.T) {
	ts, _ := newGateway(t, mockConfig, "")
	body := `{"model":"mock/echo","messages":[{"role":"user","content":"hi"}]}`
	for _, path := range []string{"/v1/chat/completions", "/openai/v1/chat/completions", "/chat/completions"} {
		resp, b := postRaw(t, ts, path, "test-key", body)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", path, resp.StatusCode, b)
		}
	}
	resp, b := postRaw(t, ts, "/v1/nothing/here", "test-key", body)
	if resp.StatusCode != 404 || decodeError(t, b).Error.Type != "invalid_request_error" {
		t.Errorf("unknown path: %d %s", resp.StatusCode, b)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/v1/chat/completions", nil)
	req.Header.Set("Authorization", "Bearer test-key")
	r, _ := ts.Client().Do(req)
	b, _ = io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 405 || !strings.Contains(decodeError(t, b).Error.Message, "use POST") {
		t.Errorf("GET on a POST path: %d %s", r.StatusCode, b)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		r, err := ts.Client().Get(ts.URL + p)
		if err != nil || r.StatusCode != 200 {
			t.Errorf("%s: %v %v", p, err, r.StatusCode)
		}
		r.Body.Close()
	}
}

func TestModelsList(t *testing.T) {
	up := newUpstream(t)
	up.handle = func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		if r.URL.Path != "/v1/models" {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1,"owned_by":"system"},{"id":"o3","object":"model","created":2,"owned_by":"system"}]}`))
		return true
	}
	ts, _ := newGateway(t, `
keys: [ k ]
providers:
  listed: { type: openai, base_url: "${UPSTREAM}/v1", api_key: x, models: { fast: gpt-4o-mini, big: gpt-4.1 } }
  open: { type: openai, base_url: "${UPSTREAM}/v1", api_key: y }
routes:
  smart: { targets: [ { model: listed/big } ] }
`, up.URL)
	client := sdk(ts, "k")
	page, err := client.Models.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range page.Data {
		got = append(got, m.ID+"@"+m.OwnedBy)
	}
	sort.Strings(got)
	want := []string{"big@listed", "fast@listed", "listed/big@listed", "listed/fast@listed",
		"mock/chat@mock", "mock/echo@mock", "open/gpt-4o@open", "open/o3@open", "smart@llmux"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("models\n got %v\nwant %v", got, want)
	}
	// Every listed name is usable.
	for _, m := range page.Data {
		resp, b := postRaw(t, ts, "/v1/chat/completions", "k", `{"model":"`+m.ID+`","messages":[{"role":"user","content":"hi"}]}`)
		if resp.StatusCode != 200 {
			t.Errorf("listed model %s: %d %s", m.ID, resp.StatusCode, b)
		}
	}
	if n := upstreamListCalls(up); n != 1 {
		t.Errorf("the upstream list was fetched %d times for one /v1/models, want once (cached)", n)
	}
	client.Models.List(context.Background())
	if n := upstreamListCalls(up); n != 1 {
		t.Errorf("the upstream list was not cached: %d fetches", n)
	}
}

func upstreamListCalls(u *upstream) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, r := range u.requests {
		if r.Path == "/v1/models" {
			n++
		}
	}
	return n
}

func TestMetricsEndpoint(t *testing.T) {
	ts, _ := newGateway(t, mockConfig, "")
	client := sdk(ts, "test-key")
	_, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "mock/echo", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("count me")},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ts.Client().Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`llmux_gateway_requests_total{code="200",protocol="openai",provider="mock"} 1`,
		`llmux_gateway_tokens_total{kind="input",model="echo",provider="mock"}`,
		`llmux_gateway_upstream_attempts_total{outcome="ok",provider="mock"} 1`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestEmbeddingsMock(t *testing.T) {
	ts, _ := newGateway(t, mockConfig, "")
	client := sdk(ts, "test-key")
	resp, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
		Model: "mock/embed", Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b"}},
		Dimensions: openai.Int(8),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Data) != 2 || len(resp.Data[0].Embedding) != 8 || resp.Data[1].Index != 1 {
		t.Fatalf("embeddings = %+v", resp.Data)
	}
	// base64 as the SDK asks by default decodes to the same vectors.
	raw, b := postRaw(t, ts, "/v1/embeddings", "test-key", `{"model":"mock/embed","input":["a","b"],"dimensions":8,"encoding_format":"base64"}`)
	var out struct {
		Data []struct{ Embedding string }
	}
	if raw.StatusCode != 200 || json.Unmarshal(b, &out) != nil || len(out.Data) != 2 || out.Data[0].Embedding == "" {
		t.Fatalf("base64 embeddings: %d %s", raw.StatusCode, b)
	}
}
