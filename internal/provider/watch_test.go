package provider

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/llm"
)

// TestStreamWatch: the idle timeout counts from the last bytes read, not
// from the start (a stream that keeps talking lives longer than it), and
// a stream silent before its first bytes gets the first-byte timeout.
func TestStreamWatch(t *testing.T) {
	const idle = 150 * time.Millisecond
	every := func(n int, d time.Duration, then func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.(http.Flusher).Flush()
			for range n {
				time.Sleep(d)
				w.Write([]byte(chunkHi))
				w.(http.Flusher).Flush()
			}
			if then != nil {
				then(w, r)
			}
		}
	}
	finish := func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(chunkFinish + "data: [DONE]\n\n")) }
	tests := []struct {
		name    string
		first   time.Duration
		handler http.HandlerFunc
		message string // "" for a clean end
	}{
		{"busy stream outlives the idle timeout", 0, every(8, idle/3, finish), ""},
		{"silent after data", 0, every(2, idle/3, hang(nil)), "sent nothing for 150ms"},
		{"silent before data", 0, every(0, 0, hang(nil)), "sent nothing for 150ms"},
		{"silent before data, first-byte timeout", 50 * time.Millisecond, every(0, 0, hang(nil)), "sent no data within 50ms of its headers"},
		{"first-byte timeout passed, then data", 50 * time.Millisecond, every(3, 2*idle/3, finish), "sent no data within 50ms"},
		{"first bytes in time, then slower", 100 * time.Millisecond, every(5, 60*time.Millisecond, finish), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, tt.handler)
			p := newHTTPProvider(t, "openai", up.URL+"/v1", func(pc *config.Provider) {
				pc.StreamIdleTimeout = config.Duration(idle)
				pc.FirstByteTimeout = config.Duration(tt.first)
			})
			start := time.Now()
			resp, err := p.Forward(t.Context(), &Forward{Model: "m", Stream: true, Body: []byte(`{"model":"m","stream":true}`)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if tt.message == "" {
				if err != nil {
					t.Fatalf("stream failed after %v: %v", time.Since(start), err)
				}
				return
			}
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != llm.KindTimeout || !strings.Contains(e.Message, tt.message) {
				t.Fatalf("error = %v, want a timeout saying %q", err, tt.message)
			}
		})
	}
}
