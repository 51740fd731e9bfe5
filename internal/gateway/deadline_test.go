package gateway

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRetryTimeoutBoundsAttemptsNotAnswers: a route's timeout cuts an
// attempt that hangs before answering (504), but not a stream that already
// started, however long it runs past the deadline.
func TestRetryTimeoutBoundsAttemptsNotAnswers(t *testing.T) {
	hang := newRecorder(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { <-r.Context().Done() })
	slow := newRecorder(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "text/event-stream")
		f := w.(http.Flusher)
		for i := 0; i < 6; i++ {
			w.Write([]byte(`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"x"}}]}` + "\n\n"))
			f.Flush()
			time.Sleep(100 * time.Millisecond)
		}
		w.Write([]byte(`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\ndata: [DONE]\n\n"))
	})
	cfg := "providers:\n  hang:\n    type: openai\n    base_url: " + hang.URL + "/v1\n    api_key: k\n" +
		"  slow:\n    type: openai\n    base_url: " + slow.URL + "/v1\n    api_key: k\n" +
		"routes:\n  r-hang:\n    targets: [{model: hang/m}]\n    timeout: 300ms\n" +
		"  r-slow:\n    targets: [{model: slow/m}]\n    timeout: 300ms\n"
	ts, _ := newGateway(t, cfg, "")

	start := time.Now()
	resp, b := send(t, ts, "POST", "/v1/chat/completions", `{"model":"r-hang","messages":[{"role":"user","content":"hi"}]}`, nil)
	if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(string(b), "no upstream answered within 300ms") {
		t.Errorf("hanging upstream: %d %s", resp.StatusCode, b)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the deadline did not cut the attempt: %s", d)
	}

	resp, b = send(t, ts, "POST", "/v1/chat/completions", `{"model":"r-slow","stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
	if resp.StatusCode != 200 || strings.Count(string(b), `"content":"x"`) != 6 || !strings.HasSuffix(strings.TrimSpace(string(b)), "data: [DONE]") {
		t.Errorf("a stream running past the deadline was cut: %d %s", resp.StatusCode, b)
	}
}
