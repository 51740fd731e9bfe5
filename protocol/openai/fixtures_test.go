package openai_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// wireChunk is what the tests read from a recorded chunk, independently of
// the package's own wire structs.
type wireChunk struct {
	Choices []struct {
		Delta struct {
			Content   *string `json:"content"`
			ToolCalls []struct {
				Index    int    `json:"index"`
				ID       string `json:"id"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
}

type wireUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

func (u *wireUsage) canonical() llm.Usage {
	return llm.Usage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens,
		CachedTokens: u.PromptTokensDetails.CachedTokens, ReasoningTokens: u.CompletionTokensDetails.ReasoningTokens}
}

// wireChunks parses the data lines of a recorded stream, skipping [DONE].
func wireChunks(t *testing.T, body []byte) []wireChunk {
	t.Helper()
	var out []wireChunk
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var c wireChunk
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatalf("fixture chunk %s: %v", data, err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// lastWireUsage returns the canonical form of the last top-level usage
// object in a stream, read independently of the package's decoder.
func lastWireUsage(t *testing.T, body []byte) *llm.Usage {
	t.Helper()
	var last *llm.Usage
	for _, line := range strings.Split(string(body), "\n") {
		data, ok := strings.CutPrefix(strings.TrimSuffix(line, "\r"), "data:")
		if !ok {
			continue
		}
		var c struct{ Usage *wireUsage }
		if json.Unmarshal([]byte(data), &c) == nil && c.Usage != nil {
			u := c.Usage.canonical()
			last = &u
		}
	}
	return last
}

// TestStreamFixtureText checks that the text decoded from every recorded
// stream is the concatenation of the content deltas in the file, and that
// folding the events gives the same answer.
func TestStreamFixtureText(t *testing.T) {
	for _, file := range chatFixtures(t, true, true) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			body := testkit.ReadFile(t, file)
			var want strings.Builder
			for _, c := range wireChunks(t, body) {
				for _, ch := range c.Choices {
					if ch.Delta.Content != nil {
						want.WriteString(*ch.Delta.Content)
					}
				}
			}
			evs, err := decodeStream(t, body)
			if err != nil {
				t.Fatalf("stream error: %v", err)
			}
			var got strings.Builder
			for _, ev := range evs {
				if ev.Type == llm.EventText {
					got.WriteString(ev.Text)
				}
			}
			if got.String() != want.String() {
				t.Errorf("text = %q\nwant   %q", got.String(), want.String())
			}
			resp, err := llm.Collect(proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(body))))
			if err != nil {
				t.Fatalf("Collect: %v", err)
			}
			if resp.Text() != want.String() {
				t.Errorf("collected text = %q\nwant %q", resp.Text(), want.String())
			}
		})
	}
}

func TestStreamFixtureChatText(t *testing.T) {
	body := testkit.ReadFile(t, filepath.Join(fixtureDir, "chat-text.stream.body.sse"))
	resp, err := llm.Collect(proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(body))))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(resp.Text(), "**Holiday Name:** Harmony Day\n\n") {
		t.Errorf("text starts %q", resp.Text()[:40])
	}
	if resp.ID != "chatcmpl-D8Z5oo6uDh67AD85p73ksdT1KxhE0" || resp.Model != "gpt-4.1-nano-2025-04-14" || resp.Created != 1770933892 {
		t.Errorf("id, model, created = %q, %q, %d", resp.ID, resp.Model, resp.Created)
	}
	if want := (llm.Usage{InputTokens: 16, OutputTokens: 300}); resp.Usage != want {
		t.Errorf("usage = %+v, want %+v", resp.Usage, want)
	}
	if resp.Choices[0].FinishReason != llm.FinishStop {
		t.Errorf("finish = %q", resp.Choices[0].FinishReason)
	}
}

func TestToolCallFixtures(t *testing.T) {
	t.Run("response", func(t *testing.T) {
		resp, err := proto.DecodeResponse(testkit.ReadFile(t, filepath.Join(fixtureDir, "chat-tool.body.json")))
		if err != nil {
			t.Fatal(err)
		}
		checkToolCall(t, resp, "call_SkEQ3ZGSJC8m6AvaIGNuuKdm", "get_capital", `{"country":"England"}`)
		if resp.Text() != "" {
			t.Errorf("text = %q, want none (content is null)", resp.Text())
		}
	})
	t.Run("stream", func(t *testing.T) {
		body := testkit.ReadFile(t, filepath.Join(fixtureDir, "chat-tool.stream.body.sse"))
		// The arguments are the concatenated fragments of the file.
		var args strings.Builder
		for _, c := range wireChunks(t, body) {
			for _, ch := range c.Choices {
				for _, tc := range ch.Delta.ToolCalls {
					args.WriteString(tc.Function.Arguments)
				}
			}
		}
		if args.String() != `{"country":"UK"}` {
			t.Fatalf("fixture arguments = %q", args.String())
		}
		resp, err := llm.Collect(proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(body))))
		if err != nil {
			t.Fatal(err)
		}
		checkToolCall(t, resp, "call_ZR5UUuTt3pf61kjwAJIYdVMj", "get_capital", args.String())
	})
}

func checkToolCall(t *testing.T, resp *llm.Response, id, name, args string) {
	t.Helper()
	if len(resp.Choices) != 1 {
		t.Fatalf("%d choices, want 1", len(resp.Choices))
	}
	c := resp.Choices[0]
	if c.FinishReason != llm.FinishToolCalls {
		t.Errorf("finish = %q, want %q", c.FinishReason, llm.FinishToolCalls)
	}
	calls := c.Message.ToolCalls()
	if len(calls) != 1 {
		t.Fatalf("%d tool calls, want 1", len(calls))
	}
	tc := calls[0]
	if tc.ID != id || tc.Name != name || tc.Arguments != args {
		t.Errorf("tool call = %+v, want id %q name %q arguments %s", tc, id, name, args)
	}
	if !json.Valid([]byte(tc.Arguments)) {
		t.Errorf("arguments %q are not JSON", tc.Arguments)
	}
}

// TestFixtureUsage checks the usage of every recorded 200 body against the
// numbers in the file.
func TestFixtureUsage(t *testing.T) {
	for _, file := range chatFixtures(t, false, true) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			body := testkit.ReadFile(t, file)
			var wire struct{ Usage wireUsage }
			if err := json.Unmarshal(body, &wire); err != nil {
				t.Fatal(err)
			}
			want := wire.Usage.canonical()
			if want.InputTokens == 0 || want.OutputTokens == 0 {
				t.Fatalf("fixture has no usage: %+v", want)
			}
			resp, err := proto.DecodeResponse(body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Usage != want {
				t.Errorf("DecodeResponse usage = %+v, want %+v", resp.Usage, want)
			}
			got, ok := proto.TapResponse(body)
			if !ok || got != want {
				t.Errorf("TapResponse = %+v, %v, want %+v", got, ok, want)
			}
		})
	}
	for _, file := range chatFixtures(t, true, true) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			body := testkit.ReadFile(t, file)
			want := lastWireUsage(t, body)
			if want == nil {
				t.Fatal("fixture has no usage chunk")
			}
			resp, err := llm.Collect(proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(body))))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Usage != *want {
				t.Errorf("stream usage = %+v, want %+v", resp.Usage, *want)
			}
		})
	}
}

// TestModerationChunkTolerated: gpt-5 streams send a chunk with empty
// choices and a "moderation" member after the usage chunk.
func TestModerationChunkTolerated(t *testing.T) {
	body := testkit.ReadFile(t, filepath.Join(fixtureDir, "chat-text-moderation.stream.body.sse"))
	if !bytes.Contains(body, []byte(`"moderation":{`)) {
		t.Fatal("fixture lost its moderation chunk")
	}
	evs, err := decodeStream(t, body)
	if err != nil {
		t.Fatalf("stream error: %v", err)
	}
	var lines []string
	for _, ev := range evs {
		lines = append(lines, formatEvent(ev))
	}
	want := []string{
		`start id="chatcmpl-E4Rjs6IxaJVge9Ntk5keJsaeDy6vS" model="gpt-5-2025-08-07" created=1784728648`,
		`text choice=0 "Paris"`,
		`text choice=0 "."`,
		`finish choice=0 reason=stop`,
		`usage input=13 output=11 cached=0 cache_write=0 reasoning=0`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestDecodeUsage(t *testing.T) {
	tests := []struct {
		name  string
		usage string
		want  llm.Usage
	}{
		{"openai details",
			`{"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":1024,"cache_write_tokens":100,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":256,"audio_tokens":0}}`,
			llm.Usage{InputTokens: 1200, OutputTokens: 300, CachedTokens: 1024, CacheWriteTokens: 100, ReasoningTokens: 256}},
		{"no details", `{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}`,
			llm.Usage{InputTokens: 10, OutputTokens: 5}},
		{"null details", `{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":null,"completion_tokens_details":null}`,
			llm.Usage{InputTokens: 10, OutputTokens: 5}},
		{"deepseek cache hits", `{"prompt_tokens":100,"completion_tokens":5,"total_tokens":105,"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":36}`,
			llm.Usage{InputTokens: 100, OutputTokens: 5, CachedTokens: 64}},
		{"completion from total", `{"prompt_tokens":10,"total_tokens":25}`,
			llm.Usage{InputTokens: 10, OutputTokens: 15}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":` + tt.usage + `}`
			resp, err := proto.DecodeResponse([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Usage != tt.want {
				t.Errorf("DecodeResponse usage = %+v, want %+v", resp.Usage, tt.want)
			}
			if got, ok := proto.TapResponse([]byte(body)); !ok || got != tt.want {
				t.Errorf("TapResponse = %+v, %v, want %+v", got, ok, tt.want)
			}
			stream := "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
				"data: {\"id\":\"x\",\"choices\":[],\"usage\":" + tt.usage + "}\n\ndata: [DONE]\n\n"
			resp, err = llm.Collect(proto.NewStreamDecoder(io.NopCloser(strings.NewReader(stream))))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Usage != tt.want {
				t.Errorf("stream usage = %+v, want %+v", resp.Usage, tt.want)
			}
		})
	}
}

func TestFinishReasons(t *testing.T) {
	tests := []struct {
		wire  string // JSON value of finish_reason
		tools bool   // the answer holds a tool call
		want  llm.FinishReason
	}{
		{`"stop"`, false, llm.FinishStop},
		{`"length"`, false, llm.FinishLength},
		{`"tool_calls"`, true, llm.FinishToolCalls},
		{`"function_call"`, true, llm.FinishToolCalls},
		{`"content_filter"`, false, llm.FinishContentFilter},
		{`"eos"`, false, llm.FinishStop},      // vendor-specific: a natural end
		{`"stop"`, true, llm.FinishToolCalls}, // Ollama and others say stop after calls
		{`null`, false, llm.FinishStop},       // missing in a complete response
		{`"length"`, true, llm.FinishLength},  // a cut-off call stays a cut-off
		{`"content_filter"`, true, llm.FinishContentFilter},
	}
	for _, tt := range tests {
		calls, delta := "", `{"content":"x"}`
		if tt.tools {
			calls = `,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]`
			delta = `{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]}`
		}
		body := `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null` +
			calls + `},"finish_reason":` + tt.wire + `}]}`
		resp, err := proto.DecodeResponse([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if got := resp.Choices[0].FinishReason; got != tt.want {
			t.Errorf("response finish_reason %s (tools %v) = %q, want %q", tt.wire, tt.tools, got, tt.want)
		}
		if tt.wire == "null" {
			continue // a stream chunk with a null finish_reason does not finish
		}
		stream := `data: {"id":"x","choices":[{"index":0,"delta":` + delta + `,"finish_reason":null}]}` + "\n\n" +
			`data: {"id":"x","choices":[{"index":0,"delta":{},"finish_reason":` + tt.wire + `}]}` + "\n\ndata: [DONE]\n\n"
		evs, err := decodeStream(t, []byte(stream))
		if err != nil {
			t.Fatalf("%s: %v", stream, err)
		}
		last := evs[len(evs)-1]
		if last.Type != llm.EventFinish || last.FinishReason != tt.want {
			t.Errorf("stream finish_reason %s (tools %v) = %s, want %q", tt.wire, tt.tools, formatEvent(last), tt.want)
		}
	}
}

// TestEncodeFinishReasons checks the canonical reasons OpenAI has no word
// for: they become "stop" in responses and streams alike.
func TestEncodeFinishReasons(t *testing.T) {
	tests := []struct {
		in   llm.FinishReason
		want string
	}{
		{llm.FinishStop, "stop"},
		{llm.FinishLength, "length"},
		{llm.FinishToolCalls, "tool_calls"},
		{llm.FinishContentFilter, "content_filter"},
		{llm.FinishPause, "stop"},
		{llm.FinishError, "stop"},
		{"", "stop"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		resp := &llm.Response{ID: "x", Created: 1, Model: "m", Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant}, FinishReason: tt.in}}}
		if err := proto.EncodeResponse(&out, nil, resp); err != nil {
			t.Fatal(err)
		}
		var wire struct {
			Choices []struct {
				FinishReason string `json:"finish_reason"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(out.Bytes(), &wire); err != nil {
			t.Fatal(err)
		}
		if got := wire.Choices[0].FinishReason; got != tt.want {
			t.Errorf("response finish %q = %q, want %q", tt.in, got, tt.want)
		}
		out.Reset()
		enc := proto.NewStreamEncoder(&out, &llm.Request{Model: "m"})
		if err := enc.Encode(llm.Event{Type: llm.EventFinish, FinishReason: tt.in}); err != nil {
			t.Fatal(err)
		}
		if want := `"finish_reason":"` + tt.want + `"`; !strings.Contains(out.String(), want) {
			t.Errorf("stream finish %q: %s does not contain %s", tt.in, out.String(), want)
		}
	}
}
