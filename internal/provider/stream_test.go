package provider

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/llm"
)

const (
	chunkHi     = `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}` + "\n\n"
	chunkThere  = `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" there"},"finish_reason":null}]}` + "\n\n"
	chunkFinish = `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n"
)

// sseThen writes frames, flushing each, then runs rest (which may be nil).
func sseThen(rest func(w http.ResponseWriter, r *http.Request), frames ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, f := range frames {
			w.Write([]byte(f))
			w.(http.Flusher).Flush()
		}
		if rest != nil {
			rest(w, r)
		}
	}
}

// TestStreamCloseHangsUp: a client that goes away mid-stream must not keep
// the upstream generating (and billing).
func TestStreamCloseHangsUp(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // registered first: runs after the server is closed
	hungUp := make(chan struct{})
	up := newUpstream(t, sseThen(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		close(hungUp)
	}, chunkHi, chunkThere))
	p := newHTTPProvider(t, "openai", up.URL+"/v1", nil)
	spy := spyOn(p)
	s, err := p.Stream(t.Context(), &Call{Request: userRequest("hi"), Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	var text string
	for text != "Hi there" {
		ev, err := s.Next()
		if err != nil {
			t.Fatalf("Next after %q: %v", text, err)
		}
		text += ev.Text
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if spy.last(t).Err() == nil {
		t.Error("closing the stream did not end the call's context")
	}
	waitFor(t, hungUp, "the upstream connection stayed open after the stream was closed")
	if ev, err := s.Next(); err == nil {
		t.Errorf("Next after Close returned %+v", ev)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestStreamFailures: failures after the upstream accepted a stream come
// from Next as *llm.Error, after the events that preceded them.
func TestStreamFailures(t *testing.T) {
	errChunk := func(typ, msg string) string {
		return `data: {"error":{"message":"` + msg + `","type":"` + typ + `","code":null}}` + "\n\n"
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		timeout time.Duration // provider timeout
		cancel  bool          // the caller cancels after the first text
		kind    llm.ErrorKind
		message string
	}{
		{name: "error chunk", handler: sseThen(nil, chunkHi, errChunk("server_error", "The model crashed on replica 10.9.8.7 using key "+testKey)),
			kind: llm.KindUpstream, message: "The model crashed on replica [redacted] using key [redacted]"},
		{name: "rate limit chunk", handler: sseThen(nil, chunkHi, errChunk("rate_limit_error", "Too many tokens")),
			kind: llm.KindRateLimited, message: "Too many tokens"},
		{name: "upstream hangs up mid-answer", handler: sseThen(nil, chunkHi),
			kind: llm.KindUpstream, message: "ended before the answer was complete"},
		{name: "malformed chunk", handler: sseThen(nil, chunkHi, "data: {\"choices\":[{\"index\":\"zero\"}]}\n\n"),
			kind: llm.KindUpstream, message: "malformed"},
		{name: "provider timeout mid-stream", timeout: 200 * time.Millisecond, handler: sseThen(hang(nil), chunkHi),
			kind: llm.KindTimeout, message: "the upstream provider up did not answer in time"},
		{name: "caller cancels mid-stream", cancel: true, handler: sseThen(hang(nil), chunkHi),
			kind: llm.KindCanceled, message: "canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, tt.handler)
			p := newHTTPProvider(t, "openai", up.URL+"/v1", func(pc *config.Provider) { pc.Timeout = config.Duration(tt.timeout) })
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			s, err := p.Stream(ctx, &Call{Request: userRequest("hi"), Model: "m"})
			if err != nil {
				if tt.timeout > 0 && asLLMError(t, err).Kind == llm.KindTimeout {
					t.Skip("the timeout expired before the stream started: too slow a machine to test this")
				}
				t.Fatal(err)
			}
			defer s.Close()
			var types []string
			for {
				ev, err := s.Next()
				if err != nil {
					if errors.Is(err, io.EOF) {
						t.Fatalf("clean end after %v, want a %s error", types, tt.kind)
					}
					e := asLLMError(t, err)
					if e.Kind != tt.kind || !strings.Contains(e.Message, tt.message) {
						t.Errorf("error = %s %q, want %s containing %q", e.Kind, e.Message, tt.kind, tt.message)
					}
					break
				}
				types = append(types, ev.Type.String())
				if ev.Type == llm.EventText && tt.cancel {
					cancel()
				}
			}
			if strings.Join(types, " ") != "start text" {
				t.Errorf("events before the error = %v, want start text", types)
			}
			if _, err := s.Next(); err == nil {
				t.Errorf("Next after the failure returned an event")
			}
		})
	}
}
