package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/sse"
)

// A client body with fields llmux knows nothing about, odd spacing and key
// order: all of it must reach the upstream untouched except the model.
const oddBody = `{ "messages" : [ {"role":"user","content":"hi \u00e9"} ],
  "x_vendor_flag": {"nested": [1, 2.50, "three"], "keep": null},
  "model": "fast",   "temperature": 0.2, "prediction": {"type":"content","content":"x"} }`

func TestPassthroughKeepsUnknownFieldsByteForByte(t *testing.T) {
	up := newUpstream(t)
	ts, _ := newGateway(t, openaiConfig, up.URL)
	resp, body := postRaw(t, ts, "/v1/chat/completions", "test-key", oddBody)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	got := string(up.last(t).Body)
	want := strings.Replace(oddBody, `"model": "fast"`, `"model": "gpt-4o-mini"`, 1)
	if got != want {
		t.Fatalf("upstream body\n got: %s\nwant: %s", got, want)
	}
	// The answer is the upstream's body, unchanged.
	if !bytes.Equal(body, fixture(t, "openai/chat-text.body.json")) {
		t.Fatalf("client got a modified body: %s", body)
	}
	h := resp.Header
	if h.Get("X-Llmux-Provider") != "openai" || h.Get("X-Llmux-Model") != "gpt-4o-mini" || h.Get("X-Llmux-Attempts") != "1" || h.Get("X-Request-Id") == "" {
		t.Fatalf("routing headers = %v", h)
	}
}

// TestPassthroughStreamUsage checks that llmux always asks the upstream for
// usage, and hides the extra chunk from a client that did not ask for it.
func TestPassthroughStreamUsage(t *testing.T) {
	up := newUpstream(t)
	ts, _ := newGateway(t, openaiConfig, up.URL)
	raw := fixture(t, "openai/chat-text.stream.body.sse")
	for _, tt := range []struct {
		name, body string
		wantUsage  bool
	}{
		{"client did not ask", `{"model":"fast","stream":true,"messages":[{"role":"user","content":"hi"}]}`, false},
		{"client asked", `{"model":"fast","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`, true},
		{"client refused", `{"model":"fast","stream":true,"stream_options":{"include_usage":false,"include_obfuscation":false},"messages":[{"role":"user","content":"hi"}]}`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := postRaw(t, ts, "/v1/chat/completions", "test-key", tt.body)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
				t.Fatalf("status %d type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			var sent struct {
				StreamOptions map[string]any `json:"stream_options"`
			}
			json.Unmarshal(up.last(t).Body, &sent)
			if sent.StreamOptions["include_usage"] != true {
				t.Fatalf("upstream was not asked for usage: %s", up.last(t).Body)
			}
			if tt.name == "client refused" && sent.StreamOptions["include_obfuscation"] != false {
				t.Fatalf("other stream options were lost: %s", up.last(t).Body)
			}
			hasUsage := bytes.Contains(body, []byte(`"usage":{`))
			if hasUsage != tt.wantUsage {
				t.Fatalf("usage chunk forwarded = %v, want %v", hasUsage, tt.wantUsage)
			}
			// Everything else is forwarded byte for byte, in order.
			want := raw
			if !tt.wantUsage {
				want = withoutUsageChunk(t, raw)
			}
			if !bytes.Equal(body, want) {
				t.Fatalf("client stream differs from the upstream's\n got: %.300s\nwant: %.300s", body, want)
			}
		})
	}
}

func withoutUsageChunk(t *testing.T, raw []byte) []byte {
	r := sse.NewReader(bytes.NewReader(raw))
	var out []byte
	for {
		ev, err := r.Next()
		if err != nil {
			return out
		}
		if bytes.Contains(ev.Data, []byte(`"choices":[],"usage":{`)) {
			continue
		}
		out = append(out, ev.Raw...)
	}
}

func TestPassthroughQuirks(t *testing.T) {
	up := newUpstream(t)
	ts, _ := newGateway(t, `
keys: [ test-key ]
providers:
  mistral:
    base_url: ${UPSTREAM}/v1
    api_key: k
`, up.URL)
	resp, body := postRaw(t, ts, "/v1/chat/completions", "test-key",
		`{"model":"mistral/mistral-small-latest","stream":true,"max_completion_tokens":50,"user":"u1","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	got := string(up.last(t).Body)
	want := `{"model":"mistral-small-latest","stream":true,"max_tokens":50,"messages":[{"role":"user","content":"hi"}]}`
	if got != want {
		t.Fatalf("mistral got %s, want %s", got, want)
	}
	resp, body = postRaw(t, ts, "/v1/chat/completions", "test-key",
		`{"model":"mistral/mistral-small-latest","logit_bias":{"1":5},"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "logit_bias") {
		t.Fatalf("unsupported field: status %d %s", resp.StatusCode, body)
	}
}

func TestEmbeddingsThroughUpstream(t *testing.T) {
	up := newUpstream(t)
	up.handle = func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-0.25]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":3,"total_tokens":3}}`))
		return true
	}
	ts, _ := newGateway(t, `
keys: [ test-key ]
providers:
  openai:
    base_url: ${UPSTREAM}/v1
    api_key: k
`, up.URL)
	resp, body := postRaw(t, ts, "/v1/embeddings", "test-key", `{"model":"openai/text-embedding-3-small","input":["a"],"x_extra":1}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if got := up.last(t); got.Path != "/v1/embeddings" || !strings.Contains(string(got.Body), `"x_extra":1`) {
		t.Fatalf("upstream got %s %s", got.Path, got.Body)
	}
	var out struct {
		Data []struct{ Embedding []float64 }
	}
	json.Unmarshal(body, &out)
	if len(out.Data) != 1 || out.Data[0].Embedding[0] != 0.5 {
		t.Fatalf("embeddings = %s", body)
	}
}
