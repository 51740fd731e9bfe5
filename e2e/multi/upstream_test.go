package multi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// fixtureDir holds the recorded real provider responses.
const fixtureDir = "../../testdata/fixtures/openai"

// usage is a fixture's token counts.
type usage struct{ In, Out int64 }

// fixtures are the recorded OpenAI chat completions the upstream replays:
// one answer and one stream, with the text and token counts each carries.
type fixtures struct {
	plain, stream           []byte
	streamEvents            [][]byte // the stream's events, each ending in its blank line
	plainText, streamText   string
	plainUsage, streamUsage usage
}

func loadFixtures(t *testing.T) *fixtures {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(fixtureDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	fx := &fixtures{plain: read("chat-text.body.json"), stream: read("chat-text.stream.body.sse")}
	var resp struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
		Usage *struct {
			Prompt     int64 `json:"prompt_tokens"`
			Completion int64 `json:"completion_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(fx.plain, &resp); err != nil || len(resp.Choices) == 0 || resp.Usage == nil {
		t.Fatalf("chat-text.body.json: %v", err)
	}
	fx.plainText, fx.plainUsage = resp.Choices[0].Message.Content, usage{resp.Usage.Prompt, resp.Usage.Completion}
	var text bytes.Buffer
	for _, ev := range sseEvents(fx.stream) {
		fx.streamEvents = append(fx.streamEvents, append(bytes.Clone(ev), '\n', '\n'))
		data, ok := bytes.CutPrefix(ev, []byte("data: "))
		if !ok || string(data) == "[DONE]" {
			continue
		}
		var chunk struct {
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
			Usage *struct {
				Prompt     int64 `json:"prompt_tokens"`
				Completion int64 `json:"completion_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal(data, &chunk); err != nil {
			t.Fatalf("chat-text.stream.body.sse: %v", err)
		}
		for _, c := range chunk.Choices {
			text.WriteString(c.Delta.Content)
		}
		if chunk.Usage != nil {
			fx.streamUsage = usage{chunk.Usage.Prompt, chunk.Usage.Completion}
		}
	}
	fx.streamText = text.String()
	if fx.plainText == "" || fx.streamText == "" || fx.plainUsage.Out == 0 || fx.streamUsage.Out == 0 {
		t.Fatalf("the fixtures lack text or usage: %+v %+v", fx.plainUsage, fx.streamUsage)
	}
	return fx
}

// sseEvents splits an SSE body into its events, without the blank lines.
func sseEvents(b []byte) [][]byte {
	var out [][]byte
	for _, ev := range bytes.Split(b, []byte("\n\n")) {
		if ev = bytes.TrimSpace(ev); len(ev) > 0 {
			out = append(out, ev)
		}
	}
	return out
}

// upstream is a fake OpenAI Chat Completions server that replays the
// fixtures after a delay drawn from [minDelay, maxDelay], so that requests
// overlap in the gateways. A stream is sent one flushed event at a time.
type upstream struct {
	*httptest.Server
	fx                 *fixtures
	minDelay, maxDelay atomic.Int64 // nanoseconds
	requests           atomic.Int64 // chat requests answered or being answered
}

// upstreamKey is the API key the gateways are configured to send.
const upstreamKey = "dummy"

func newUpstream(t *testing.T, fx *fixtures) *upstream {
	u := &upstream{fx: fx}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.Close)
	return u
}

// setDelay makes every answer wait between lo and hi first.
func (u *upstream) setDelay(lo, hi time.Duration) {
	u.minDelay.Store(int64(lo))
	u.maxDelay.Store(int64(max(lo, hi)))
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer "+upstreamKey {
		// Said loudly: the gateway passes this on and the test shows it.
		http.Error(w, fmt.Sprintf(`{"error":{"message":"fake upstream: unexpected %s %s","type":"invalid_request_error"}}`,
			r.Method, r.URL.Path), http.StatusBadRequest)
		return
	}
	u.requests.Add(1)
	var req struct {
		Stream bool `json:"stream"`
	}
	_ = json.Unmarshal(body, &req)
	lo, hi := u.minDelay.Load(), u.maxDelay.Load()
	if d := time.Duration(lo + rand.Int64N(hi-lo+1)); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		w.Write(u.fx.plain)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	f, _ := w.(http.Flusher)
	for _, ev := range u.fx.streamEvents {
		if _, err := w.Write(ev); err != nil {
			return
		}
		if f != nil {
			f.Flush()
		}
	}
}
