package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/sse"
	"github.com/llmux/llmux/protocol"
	"github.com/llmux/llmux/protocol/all"
)

// fixtureDir holds the recorded real provider responses.
const fixtureDir = "../../testdata/fixtures"

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newGateway starts llmux on a real loopback listener with the given YAML
// configuration; ${UPSTREAM} in it is replaced by upstream's URL.
func newGateway(t testing.TB, yaml string, upstream string) (*httptest.Server, *Server) {
	t.Helper()
	yaml = strings.ReplaceAll(yaml, "${UPSTREAM}", upstream)
	cfg, err := config.Parse("test.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	srv, err := New(cfg, Options{Registry: all.Registry()})
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts, srv
}

// sdk returns the official OpenAI client pointed at the gateway.
func sdk(ts *httptest.Server, key string) openai.Client {
	return openai.NewClient(
		option.WithBaseURL(ts.URL+"/v1"),
		option.WithAPIKey(key),
		option.WithMaxRetries(0),
		option.WithHTTPClient(ts.Client()),
	)
}

// upstream is a fake OpenAI-compatible server. By default it replays the
// recorded fixture that fits the request (text or tool call, streamed or
// not); handle overrides that per test. It records every request it gets.
type upstream struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	handle   func(w http.ResponseWriter, r *http.Request, body []byte) bool
}

type recorded struct {
	Path   string
	Header http.Header
	Body   []byte
}

func newUpstream(t testing.TB) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.requests = append(u.requests, recorded{Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		h := u.handle
		u.mu.Unlock()
		if h != nil && h(w, r, body) {
			return
		}
		replay(t, w, body)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) last(t testing.TB) recorded {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.requests) == 0 {
		t.Fatal("the upstream got no request")
	}
	return u.requests[len(u.requests)-1]
}

func (u *upstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.requests)
}

// replay answers with the recorded OpenAI fixture matching the request.
func replay(t testing.TB, w http.ResponseWriter, body []byte) {
	var req struct {
		Stream bool              `json:"stream"`
		Tools  []json.RawMessage `json:"tools"`
	}
	_ = json.Unmarshal(body, &req)
	name := "openai/chat-text"
	if len(req.Tools) > 0 {
		name = "openai/chat-tool"
	}
	if req.Stream {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		w.Write(fixture(t, name+".stream.body.sse"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(fixture(t, name+".body.json"))
}

// streamText returns the concatenated content deltas and the usage chunk
// (if any) of a recorded OpenAI stream.
func streamText(t testing.TB, raw []byte) (text string, toolName, toolArgs string) {
	t.Helper()
	r := sse.NewReader(bytes.NewReader(raw))
	var b, args strings.Builder
	for {
		ev, err := r.Next()
		if err != nil {
			break
		}
		if string(ev.Data) == "[DONE]" {
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct {
					Content   string `json:"content"`
					ToolCalls []struct {
						Function struct {
							Name      string `json:"name"`
							Arguments string `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(ev.Data, &c); err != nil {
			t.Fatalf("fixture chunk: %v", err)
		}
		for _, ch := range c.Choices {
			b.WriteString(ch.Delta.Content)
			for _, tc := range ch.Delta.ToolCalls {
				if tc.Function.Name != "" {
					toolName = tc.Function.Name
				}
				args.WriteString(tc.Function.Arguments)
			}
		}
	}
	return b.String(), toolName, args.String()
}

// postRaw sends body to the gateway without an SDK, for checking exact
// bytes and statuses.
func postRaw(t testing.TB, ts *httptest.Server, path, key, body string) (*http.Response, []byte) {
	t.Helper()
	h := map[string]string{}
	if key != "" {
		h["Authorization"] = "Bearer " + key
	}
	return send(t, ts, http.MethodPost, path, body, h)
}

// errorBody decodes an OpenAI error envelope.
type errorBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func decodeError(t testing.TB, b []byte) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Message == "" {
		t.Fatalf("not an OpenAI error body: %s", b)
	}
	return e
}

func registry() *protocol.Registry { return all.Registry() }
