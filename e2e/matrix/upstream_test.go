package matrix

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

	"github.com/llmux/llmux/llm"
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

// upstreamKind is one upstream protocol of the matrix: the provider type
// that speaks it, the recorded answers it replays, and the checks that the
// requests it gets are valid for it.
type upstreamKind struct {
	typ      string // provider type
	id       string // provider id in the configuration
	model    string // upstream model name asked for
	protocol string // registry ID of the wire protocol
	baseURL  func(srv string) string
	// fixtures by text/tool and stream/non-stream, relative to fixtureDir.
	text, textStream, tool, toolStream string
	streamType                         string
	// stream reports whether a request asks for a stream.
	stream func(r *recorded) bool
	// validate checks a request field by field against the protocol.
	validate func(t *testing.T, r *recorded, c *matrixCase)
}

// recorded is one request an upstream got.
type recorded struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

// fakeUpstream replays recorded answers of one protocol and keeps every
// request it got.
type fakeUpstream struct {
	*httptest.Server
	kind     *upstreamKind
	mu       sync.Mutex
	requests []*recorded
}

func newFakeUpstream(t *testing.T, k *upstreamKind) *fakeUpstream {
	u := &fakeUpstream{kind: k}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := &recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
		_ = json.Unmarshal(body, &rec.JSON)
		u.mu.Lock()
		u.requests = append(u.requests, rec)
		u.mu.Unlock()
		tools, _ := rec.JSON["tools"].([]any)
		stream := k.stream(rec)
		name := k.text
		switch {
		case len(tools) > 0 && stream:
			name = k.toolStream
		case len(tools) > 0:
			name = k.tool
		case stream:
			name = k.textStream
		}
		if stream {
			w.Header().Set("Content-Type", k.streamType)
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		w.Write(fixture(t, name))
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *fakeUpstream) take() []*recorded {
	u.mu.Lock()
	defer u.mu.Unlock()
	r := u.requests
	u.requests = nil
	return r
}

// expected is what a client must see, taken from the replayed fixture by
// the upstream protocol's own decoder.
type expected struct {
	text     string
	toolName string
	toolArgs string
	finish   llm.FinishReason
	usage    llm.Usage
}

func expect(t *testing.T, k *upstreamKind, name string, stream bool) expected {
	t.Helper()
	eg, ok := all.Registry().Egress(k.protocol)
	if !ok {
		t.Fatalf("no egress %q", k.protocol)
	}
	raw := fixture(t, name)
	var resp *llm.Response
	var err error
	if stream {
		resp, err = llm.Collect(eg.NewStreamDecoder(io.NopCloser(bytes.NewReader(raw))))
	} else {
		resp, err = eg.DecodeResponse(raw)
	}
	if err != nil {
		t.Fatalf("decoding fixture %s: %v", name, err)
	}
	if len(resp.Choices) == 0 {
		t.Fatalf("fixture %s has no choice", name)
	}
	ch := resp.Choices[0]
	var e expected
	e.finish = ch.FinishReason
	e.usage = resp.Usage
	for _, p := range ch.Message.Parts {
		switch p.Type {
		case llm.PartText:
			e.text += p.Text
		case llm.PartToolCall:
			if e.toolName == "" {
				e.toolName, e.toolArgs = p.ToolCall.Name, p.ToolCall.Arguments
			}
		}
	}
	return e
}

var upstreams = []*upstreamKind{
	{
		typ: "openai", id: "oa", model: "gpt-4o-mini", protocol: "openai",
		baseURL: func(s string) string { return s + "/v1" },
		text:    "openai/chat-text.body.json", textStream: "openai/chat-text.stream.body.sse",
		tool: "openai/chat-tool.body.json", toolStream: "openai/chat-tool.stream.body.sse",
		streamType: "text/event-stream",
		stream:     func(r *recorded) bool { return r.JSON["stream"] == true },
		validate:   validateOpenAI,
	},
	{
		typ: "openai-responses", id: "resp", model: "gpt-4.1-mini", protocol: "responses",
		baseURL: func(s string) string { return s + "/v1" },
		text:    "openai/responses-text.body.json", textStream: "openai/responses-text.stream.body.sse",
		tool: "openai/responses-tool.body.json", toolStream: "openai/responses-tool.stream.body.sse",
		streamType: "text/event-stream",
		stream:     func(r *recorded) bool { return r.JSON["stream"] == true },
		validate:   validateResponses,
	},
	{
		typ: "anthropic", id: "claude", model: "claude-sonnet-4-5", protocol: "anthropic",
		baseURL: func(s string) string { return s },
		text:    "anthropic/messages-text.body.json", textStream: "anthropic/messages-text.stream.body.sse",
		tool: "anthropic/messages-tool.body.json", toolStream: "anthropic/messages-tool.stream.body.sse",
		streamType: "text/event-stream",
		stream:     func(r *recorded) bool { return r.JSON["stream"] == true },
		validate:   validateAnthropic,
	},
	{
		typ: "gemini", id: "gem", model: "gemini-2.0-flash", protocol: "gemini",
		baseURL: func(s string) string { return s },
		text:    "gemini/generate-text.body.json", textStream: "gemini/generate-text.stream.body.sse",
		tool: "gemini/generate-tool.body.json", toolStream: "gemini/generate-tool.stream.body.sse",
		streamType: "text/event-stream",
		stream:     func(r *recorded) bool { return strings.HasSuffix(r.Path, ":streamGenerateContent") },
		validate:   validateGemini,
	},
	{
		typ: "ollama", id: "oll", model: "llama3.2", protocol: "ollama",
		baseURL: func(s string) string { return s },
		text:    "ollama/chat-text.body.json", textStream: "ollama/chat-text.stream.body.ndjson",
		tool: "ollama/chat-tool.body.json", toolStream: "ollama/chat-tool.stream.body.ndjson",
		streamType: "application/x-ndjson",
		stream:     func(r *recorded) bool { s, ok := r.JSON["stream"].(bool); return !ok || s },
		validate:   validateOllama,
	},
}

func registry() *protocol.Registry { return all.Registry() }
