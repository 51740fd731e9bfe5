package provider

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol/all"
)

// call runs a chat call through Do or, when stream is set, through Stream
// read to its end.
func call(t *testing.T, p Provider, c *Call, stream bool) (*llm.Response, error) {
	t.Helper()
	if !stream {
		return p.Do(t.Context(), c)
	}
	s, err := p.Stream(t.Context(), c)
	if err != nil {
		return nil, err
	}
	return llm.Collect(s)
}

func TestHTTPRequest(t *testing.T) {
	tests := []struct {
		name   string
		stream bool
		base   string // appended to the server's URL
	}{
		{"do", false, "/v1"},
		{"stream", true, "/v1"},
		{"do, base URL with a trailing slash", false, "/v1/"},
		{"stream, base URL without /v1", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, chatFixtures(t, "chat-text"))
			p := newHTTPProvider(t, "openai", up.URL+tt.base, func(pc *config.Provider) {
				pc.Headers = map[string]string{"x-team": "blue", "OpenAI-Organization": "org-123"}
			})
			req := userRequest("hi")
			req.Model = "client-alias"
			if _, err := call(t, p, &Call{Request: req, Model: "gpt-4o-mini"}, tt.stream); err != nil {
				t.Fatal(err)
			}
			if req.Stream {
				t.Errorf("the caller's request was modified: Stream = true")
			}
			got := up.last(t)
			wantPath := strings.TrimSuffix(tt.base, "/") + "/chat/completions"
			if got.Method != http.MethodPost || got.Path != wantPath {
				t.Errorf("upstream got %s %s, want POST %s", got.Method, got.Path, wantPath)
			}
			for k, want := range map[string]string{
				"Authorization":       "Bearer " + testKey,
				"Content-Type":        "application/json",
				"X-Team":              "blue",
				"Openai-Organization": "org-123",
			} {
				if v := got.Header.Get(k); v != want {
					t.Errorf("header %s = %q, want %q", k, v, want)
				}
			}
			if got.Body["model"] != "gpt-4o-mini" {
				t.Errorf("upstream model = %v, want gpt-4o-mini", got.Body["model"])
			}
			msgs, _ := got.Body["messages"].([]any)
			if len(msgs) != 1 {
				t.Errorf("messages = %v", got.Body["messages"])
			}
			if tt.stream {
				if got.Body["stream"] != true {
					t.Errorf("stream = %v, want true", got.Body["stream"])
				}
				if want := map[string]any{"include_usage": true}; !reflect.DeepEqual(got.Body["stream_options"], want) {
					t.Errorf("stream_options = %v, want %v", got.Body["stream_options"], want)
				}
			} else {
				for _, k := range []string{"stream", "stream_options"} {
					if v, ok := got.Body[k]; ok && v != false {
						t.Errorf("non-streaming request has %s = %v", k, v)
					}
				}
			}
		})
	}
}

func TestHTTPKeyRotation(t *testing.T) {
	up := newUpstream(t, chatFixtures(t, "chat-text"))
	keys := []string{"key-one", "key-two", "key-three"}
	p := newHTTPProvider(t, "openai", up.URL, func(pc *config.Provider) {
		pc.APIKey, pc.APIKeys = "", keys
	})
	for i := range 7 {
		if _, err := call(t, p, &Call{Request: userRequest("hi"), Model: "m"}, i%2 == 1); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, r := range up.requests() {
		got = append(got, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}
	want := []string{"key-one", "key-two", "key-three", "key-one", "key-two", "key-three", "key-one"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("keys used = %q, want %q", got, want)
	}
}

// TestHTTPKeyRotationConcurrent: under concurrent calls every key still
// gets its share, exactly.
func TestHTTPKeyRotationConcurrent(t *testing.T) {
	up := newUpstream(t, chatFixtures(t, "chat-text"))
	keys := []string{"key-one", "key-two", "key-three"}
	p := newHTTPProvider(t, "openai", up.URL, func(pc *config.Provider) {
		pc.APIKey, pc.APIKeys = "", keys
	})
	const rounds = 8
	var wg sync.WaitGroup
	errs := make(chan error, rounds*len(keys))
	for range rounds * len(keys) {
		wg.Go(func() {
			_, err := p.Do(t.Context(), &Call{Request: userRequest("hi"), Model: "m"})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	count := map[string]int{}
	for _, r := range up.requests() {
		count[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]++
	}
	for _, k := range keys {
		if count[k] != rounds {
			t.Errorf("keys used %v, want each of %q %d times", count, keys, rounds)
			break
		}
	}
}

// TestHTTPRewrite: the edits handed to the passthrough path carry the same
// quirks as the translated path applies.
func TestHTTPRewrite(t *testing.T) {
	body := []byte(`{"model":"client","messages":[{"role":"user","content":"hi"}],"stream":true,` +
		`"max_completion_tokens":5,"store":true,"metadata":{"a":"b"},"user":"u","service_tier":"flex","vendor_x":1}`)
	tests := []struct {
		typ    string
		want   map[string]any
		absent []string
	}{
		{"openai", map[string]any{"model": "up-model", "max_completion_tokens": 5.0, "stream_options": map[string]any{"include_usage": true}, "vendor_x": 1.0}, nil},
		{"mistral", map[string]any{"model": "up-model", "max_tokens": 5.0, "vendor_x": 1.0},
			[]string{"max_completion_tokens", "stream_options", "store", "metadata", "user", "service_tier"}},
		{"deepseek", map[string]any{"model": "up-model", "max_tokens": 5.0, "stream_options": map[string]any{"include_usage": true}, "store": true},
			[]string{"max_completion_tokens"}},
		{"cerebras", map[string]any{"model": "up-model", "max_completion_tokens": 5.0, "user": "u"}, []string{"service_tier"}},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			p := newHTTPProvider(t, tt.typ, "http://127.0.0.1:1/v1", nil)
			pt, ok := all.Registry().Passthrough(p.Protocol())
			if !ok {
				t.Fatalf("protocol %q has no passthrough", p.Protocol())
			}
			out, err := pt.RewriteRequest(nil, body, p.Rewrite("up-model"))
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("rewritten body %s: %v", out, err)
			}
			for k, v := range tt.want {
				if !reflect.DeepEqual(got[k], v) {
					t.Errorf("%s = %#v, want %#v", k, got[k], v)
				}
			}
			for _, k := range tt.absent {
				if v, ok := got[k]; ok {
					t.Errorf("%s = %#v survived the rewrite", k, v)
				}
			}
		})
	}
}

func TestHTTPNoKey(t *testing.T) {
	up := newUpstream(t, chatFixtures(t, "chat-text"))
	p := newHTTPProvider(t, "ollama-openai", up.URL+"/v1", func(pc *config.Provider) { pc.APIKey = "" })
	if _, err := p.Do(t.Context(), &Call{Request: userRequest("hi"), Model: "llama3"}); err != nil {
		t.Fatal(err)
	}
	if h := up.last(t).Header.Get("Authorization"); h != "" {
		t.Errorf("a keyless provider sent Authorization: %q", h)
	}
}

// TestHTTPQuirks checks that a preset's quirks reach the upstream on the
// translated path, not only on passthrough.
func TestHTTPQuirks(t *testing.T) {
	full := func() *llm.Request {
		r := userRequest("hi")
		five, yes := 5, true
		r.MaxTokens, r.Store, r.User, r.ServiceTier = &five, &yes, "u-1", "flex"
		r.Metadata = map[string]string{"team": "a"}
		return r
	}
	withPenalty := func() *llm.Request {
		r := userRequest("hi")
		x := 0.5
		r.FrequencyPenalty = &x
		return r
	}
	withLogprobs := func() *llm.Request {
		r := userRequest("hi")
		r.Logprobs = true
		return r
	}
	withBias := func() *llm.Request {
		r := userRequest("hi")
		r.Origin = "openai"
		r.Extensions = llm.Extensions{"logit_bias": json.RawMessage(`{"50256":-100}`)}
		return r
	}
	usage := map[string]any{"include_usage": true}
	tests := []struct {
		name    string
		typ     string
		stream  bool
		req     *llm.Request
		want    map[string]any // fields the upstream must get
		absent  []string       // fields it must not get
		refused string         // the field refused with a 400, without calling
	}{
		{name: "openai keeps everything", typ: "openai", stream: true, req: full(),
			want:   map[string]any{"max_completion_tokens": 5.0, "store": true, "user": "u-1", "service_tier": "flex", "stream_options": usage},
			absent: []string{"max_tokens"}},
		{name: "mistral stream", typ: "mistral", stream: true, req: full(),
			want:   map[string]any{"max_tokens": 5.0, "stream": true},
			absent: []string{"max_completion_tokens", "stream_options", "store", "metadata", "service_tier", "user"}},
		{name: "mistral do", typ: "mistral", req: full(),
			want:   map[string]any{"max_tokens": 5.0},
			absent: []string{"max_completion_tokens", "stream_options", "store", "metadata", "service_tier", "user"}},
		{name: "mistral refuses logit_bias from extensions", typ: "mistral", req: withBias(), refused: "logit_bias"},
		{name: "deepseek renames and keeps stream usage", typ: "deepseek", stream: true, req: full(),
			want:   map[string]any{"max_tokens": 5.0, "stream_options": usage, "metadata": map[string]any{"team": "a"}, "user": "u-1"},
			absent: []string{"max_completion_tokens"}},
		{name: "cerebras drops service_tier", typ: "cerebras", stream: true, req: full(),
			want:   map[string]any{"max_completion_tokens": 5.0, "stream_options": usage, "store": true},
			absent: []string{"service_tier"}},
		{name: "cerebras refuses frequency_penalty", typ: "cerebras", req: withPenalty(), refused: "frequency_penalty"},
		{name: "cerebras refuses on a stream too", typ: "cerebras", stream: true, req: withPenalty(), refused: "frequency_penalty"},
		{name: "groq refuses logprobs", typ: "groq", req: withLogprobs(), refused: "logprobs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, chatFixtures(t, "chat-text"))
			p := newHTTPProvider(t, tt.typ, up.URL+"/v1", nil)
			_, err := call(t, p, &Call{Request: tt.req, Model: "m"}, tt.stream)
			if tt.refused != "" {
				e := asLLMError(t, err)
				if e.HTTPStatus() != 400 || e.Kind != llm.KindInvalidRequest || e.Param != tt.refused ||
					!strings.Contains(e.Message, tt.refused) || !strings.Contains(e.Message, "up") {
					t.Errorf("error = %+v, want a 400 naming %s and the provider", e, tt.refused)
				}
				if n := len(up.requests()); n != 0 {
					t.Errorf("the refused request reached the upstream (%d calls)", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			body := up.last(t).Body
			for k, v := range tt.want {
				if !reflect.DeepEqual(body[k], v) {
					t.Errorf("%s = %#v, want %#v", k, body[k], v)
				}
			}
			for _, k := range tt.absent {
				if v, ok := body[k]; ok {
					t.Errorf("%s = %#v was sent; the vendor rejects it", k, v)
				}
			}
		})
	}
}

func TestHTTPDoFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		want    llm.Response
	}{
		{"chat-text", llm.Response{ID: "chatcmpl-Dr3KONlJHqM2OKkn7IPxwgC3ZIEZw", Model: "gpt-4o-mini-2024-07-18",
			Created: 1781536548, Usage: llm.Usage{InputTokens: 8, OutputTokens: 9},
			Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant,
				Parts: []llm.Part{llm.TextPart("Hello! How can I assist you today?")}}, FinishReason: llm.FinishStop}}}},
		{"chat-tool", llm.Response{ID: "chatcmpl-BEhL3fZWgTz2Z57jXexYbQPsOBUm3", Model: "gpt-4o-mini-2024-07-18",
			Created: 1742842885, Usage: llm.Usage{InputTokens: 104, OutputTokens: 16},
			Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant,
				Parts: []llm.Part{{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_SkEQ3ZGSJC8m6AvaIGNuuKdm",
					Type: llm.CallFunction, Name: "get_capital", Arguments: `{"country":"England"}`}}}},
				FinishReason: llm.FinishToolCalls}}}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			up := newUpstream(t, chatFixtures(t, tt.fixture))
			p := newHTTPProvider(t, "openai", up.URL+"/v1", nil)
			got, err := p.Do(t.Context(), &Call{Request: userRequest("hi"), Model: "gpt-4o-mini"})
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != tt.want.ID || got.Model != tt.want.Model || got.Created != tt.want.Created || got.Usage != tt.want.Usage {
				t.Errorf("response = %s %s %d %+v, want %s %s %d %+v", got.ID, got.Model, got.Created, got.Usage,
					tt.want.ID, tt.want.Model, tt.want.Created, tt.want.Usage)
			}
			if !reflect.DeepEqual(got.Choices, tt.want.Choices) {
				t.Errorf("choices = %s\nwant %s", dump(got.Choices), dump(tt.want.Choices))
			}
		})
	}
}

// recordedStream is what a recorded SSE body says, read with nothing but
// encoding/json: the oracle for the stream decoder.
type recordedStream struct {
	id, model string
	text      string
	tool      string // name of the first tool call
	args      string
	finish    string
	usage     llm.Usage
}

func readRecordedStream(t *testing.T, sse []byte) recordedStream {
	t.Helper()
	var rs recordedStream
	sc := bufio.NewScanner(bytes.NewReader(sse))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var c struct {
			ID, Model string
			Choices   []struct {
				Delta struct {
					Content   *string
					ToolCalls []struct {
						Function struct{ Name, Arguments string }
					} `json:"tool_calls"`
				}
				FinishReason *string `json:"finish_reason"`
			}
			Usage *struct {
				Prompt     int `json:"prompt_tokens"`
				Completion int `json:"completion_tokens"`
			}
		}
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatalf("recorded chunk %q: %v", data, err)
		}
		if rs.id == "" {
			rs.id, rs.model = c.ID, c.Model
		}
		for _, ch := range c.Choices {
			if ch.Delta.Content != nil {
				rs.text += *ch.Delta.Content
			}
			for _, tc := range ch.Delta.ToolCalls {
				rs.tool += tc.Function.Name
				rs.args += tc.Function.Arguments
			}
			if ch.FinishReason != nil {
				rs.finish = *ch.FinishReason
			}
		}
		if c.Usage != nil {
			rs.usage = llm.Usage{InputTokens: c.Usage.Prompt, OutputTokens: c.Usage.Completion}
		}
	}
	return rs
}

func TestHTTPStreamFixtures(t *testing.T) {
	for _, name := range []string{"chat-text", "chat-tool", "chat-text-after-tool", "chat-text-moderation"} {
		t.Run(name, func(t *testing.T) {
			sse := fixture(t, name+".stream.body.sse")
			want := readRecordedStream(t, sse)
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				w.Write(sse)
			})
			p := newHTTPProvider(t, "openai", up.URL+"/v1", nil)
			s, err := p.Stream(t.Context(), &Call{Request: userRequest("hi"), Model: "m"})
			if err != nil {
				t.Fatal(err)
			}
			evs, err := drain(s)
			if err != nil {
				t.Fatalf("stream failed after %d events: %v", len(evs), err)
			}
			if len(evs) == 0 || evs[0].Type != llm.EventStart || evs[0].ID != want.id || evs[0].Model != want.model {
				t.Fatalf("first event = %+v, want start of %s %s", first(evs), want.id, want.model)
			}
			var got recordedStream
			finished := false
			for _, ev := range evs[1:] {
				switch ev.Type {
				case llm.EventStart:
					t.Errorf("a second start event: %+v", ev)
				case llm.EventText:
					got.text += ev.Text
				case llm.EventToolCall:
					got.tool += ev.Name
					got.args += ev.Text
				case llm.EventToolArgs:
					got.args += ev.Text
				case llm.EventFinish:
					got.finish, finished = string(ev.FinishReason), true
				case llm.EventUsage:
					got.usage = *ev.Usage
					if !finished {
						t.Errorf("usage before finish; the recording has it last")
					}
				}
				if finished && ev.Type != llm.EventFinish && ev.Type != llm.EventUsage {
					t.Errorf("%s event after finish", ev.Type)
				}
			}
			got.id, got.model = want.id, want.model
			if got != want {
				t.Errorf("stream = %+v\nwant %+v", got, want)
			}
		})
	}
}

func first(evs []llm.Event) any {
	if len(evs) == 0 {
		return "none"
	}
	return evs[0]
}

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
