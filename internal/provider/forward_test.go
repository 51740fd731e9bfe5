package provider

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"go.uber.org/goleak"

	"github.com/llmux/llmux/internal/config"
)

func TestForward(t *testing.T) {
	chat := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"x_vendor_field":{"kept":true}}`)
	tests := []struct {
		name     string
		fwd      Forward
		path     string
		response []byte
	}{
		{"chat", Forward{Model: "gpt-4o-mini", Body: chat}, "/v1/chat/completions", fixture(t, "chat-text.body.json")},
		{"chat stream", Forward{Model: "gpt-4o-mini", Stream: true, Body: chat}, "/v1/chat/completions", fixture(t, "chat-text.stream.body.sse")},
		{"embeddings", Forward{Embeddings: true, Model: "text-embedding-3-small", Body: []byte(`{"model":"text-embedding-3-small","input":"hi"}`)},
			"/v1/embeddings", []byte(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":1,"total_tokens":1}}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Request-Id", "req-upstream-1")
				w.Write(tt.response)
			})
			p := newHTTPProvider(t, "openai", up.URL+"/v1", func(pc *config.Provider) {
				pc.Headers = map[string]string{"X-Team": "blue"}
			})
			resp, err := p.Forward(t.Context(), &tt.fwd)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			if cerr := resp.Body.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, tt.response) || resp.Header.Get("X-Request-Id") != "req-upstream-1" {
				t.Errorf("response = %d %q (request id %q), want the upstream's", resp.StatusCode, body, resp.Header.Get("X-Request-Id"))
			}
			got := up.last(t)
			if got.Method != http.MethodPost || got.Path != tt.path || !bytes.Equal(got.Raw, tt.fwd.Body) {
				t.Errorf("upstream got %s %s %q, want POST %s with the body unchanged", got.Method, got.Path, got.Raw, tt.path)
			}
			for k, want := range map[string]string{"Authorization": "Bearer " + testKey, "Content-Type": "application/json", "X-Team": "blue"} {
				if v := got.Header.Get(k); v != want {
					t.Errorf("header %s = %q, want %q", k, v, want)
				}
			}
		})
	}
}

// TestForwardCloseReleasesCall: closing a forwarded body before its end
// hangs up on the upstream and leaves nothing running.
func TestForwardCloseReleasesCall(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // registered first: runs after the server is closed
	hungUp := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte("data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(hungUp)
	})
	p := newHTTPProvider(t, "openai", up.URL+"/v1", nil)
	spy := spyOn(p)
	resp, err := p.Forward(t.Context(), &Forward{Model: "m", Stream: true, Body: []byte(`{"model":"m","stream":true}`)})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	if spy.last(t).Err() != nil {
		t.Fatal("the call ended before its body was closed")
	}
	if err := resp.Body.Close(); err != nil {
		t.Fatal(err)
	}
	if spy.last(t).Err() == nil {
		t.Error("closing the body did not end the call's context")
	}
	waitFor(t, hungUp, "the upstream connection stayed open after the forwarded body was closed")
}
