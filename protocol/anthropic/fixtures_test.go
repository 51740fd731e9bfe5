package anthropic_test

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

// wireEvent is what the tests read from a recorded stream event,
// independently of the package's own wire structs.
type wireEvent struct {
	Type    string `json:"type"`
	Message struct {
		Usage *wireUsage `json:"usage"`
	} `json:"message"`
	Delta struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		PartialJSON string `json:"partial_json"`
	} `json:"delta"`
	Usage *wireUsage `json:"usage"`
}

type wireUsage struct {
	InputTokens              *int `json:"input_tokens"`
	OutputTokens             *int `json:"output_tokens"`
	CacheReadInputTokens     *int `json:"cache_read_input_tokens"`
	CacheCreationInputTokens *int `json:"cache_creation_input_tokens"`
}

// wireEvents parses the data lines of a recorded stream.
func wireEvents(t testing.TB, body []byte) []wireEvent {
	t.Helper()
	var out []wireEvent
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(strings.TrimSuffix(sc.Text(), "\r"), "data: ")
		if !ok {
			continue
		}
		var e wireEvent
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			t.Fatalf("fixture event %s: %v", data, err)
		}
		out = append(out, e)
	}
	return out
}

// wireStreamUsage folds a stream's usage as the API documents it: the
// message_start counts, overridden by each message_delta's (cumulative)
// ones, with the cache counts added to the input.
func wireStreamUsage(t testing.TB, body []byte) *llm.Usage {
	t.Helper()
	var in, out, read, write *int
	var found bool
	apply := func(u *wireUsage) {
		if u == nil {
			return
		}
		found = true
		for _, f := range []struct {
			dst **int
			src *int
		}{{&in, u.InputTokens}, {&out, u.OutputTokens},
			{&read, u.CacheReadInputTokens}, {&write, u.CacheCreationInputTokens}} {
			if f.src != nil {
				*f.dst = f.src
			}
		}
	}
	for _, e := range wireEvents(t, body) {
		switch e.Type {
		case "message_start":
			apply(e.Message.Usage)
		case "message_delta":
			apply(e.Usage)
		}
	}
	if !found {
		return nil
	}
	v := func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	}
	return &llm.Usage{InputTokens: v(in) + v(read) + v(write), OutputTokens: v(out), CachedTokens: v(read), CacheWriteTokens: v(write)}
}

// TestStreamFixtures checks every recorded stream against the file itself:
// the text is the concatenation of the text deltas, the arguments of the
// calls those of the input_json deltas, and usage the folded counts.
func TestStreamFixtures(t *testing.T) {
	for _, file := range fixtures(t, true, true) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			body := testkit.ReadFile(t, file)
			var text, args strings.Builder
			for _, e := range wireEvents(t, body) {
				switch e.Delta.Type {
				case "text_delta":
					text.WriteString(e.Delta.Text)
				case "input_json_delta":
					args.WriteString(e.Delta.PartialJSON)
				}
			}
			resp, err := llm.Collect(proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(body))))
			if err != nil {
				t.Fatalf("Collect: %v", err)
			}
			if resp.Text() != text.String() {
				t.Errorf("text = %q, want %q", resp.Text(), text.String())
			}
			var gotArgs strings.Builder
			for _, c := range resp.Choices[0].Message.ToolCalls() {
				gotArgs.WriteString(c.Arguments)
			}
			if gotArgs.String() != args.String() {
				t.Errorf("arguments = %q, want %q", gotArgs.String(), args.String())
			}
			if want := wireStreamUsage(t, body); want == nil || resp.Usage != *want {
				t.Errorf("usage = %+v, want %+v", resp.Usage, want)
			}
		})
	}
}

func TestFixtureTextThenTool(t *testing.T) {
	body := testkit.ReadFile(t, filepath.Join(fixtureDir, "messages-text-then-tool.stream.body.sse"))
	resp, err := llm.Collect(proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(body))))
	if err != nil {
		t.Fatal(err)
	}
	if resp.ID != "msg_01GE2RKp1VYsPzdFs3sS9z5S" || resp.Model != "claude-sonnet-4-5-20250929" {
		t.Errorf("id, model = %q, %q", resp.ID, resp.Model)
	}
	c := resp.Choices[0]
	if c.FinishReason != llm.FinishToolCalls || resp.Text() != "I'll update the issue list for you." {
		t.Errorf("finish %q text %q", c.FinishReason, resp.Text())
	}
	calls := c.Message.ToolCalls()
	if len(calls) != 1 || calls[0].ID != "toolu_01QE1WLsSVp5hy5Q3GmGTmjP" || calls[0].Name != "updateIssueList" || calls[0].Arguments != "" {
		t.Errorf("calls = %s", testkit.Dump(calls))
	}
	if want := (llm.Usage{InputTokens: 565, OutputTokens: 48}); resp.Usage != want {
		t.Errorf("usage = %+v, want %+v", resp.Usage, want)
	}
}

func TestResponseFixtures(t *testing.T) {
	t.Run("text", func(t *testing.T) {
		resp, err := proto.DecodeResponse(testkit.ReadFile(t, filepath.Join(fixtureDir, "messages-text.body.json")))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Text() != "The capital of France is Paris." || resp.ID != "msg_01Fg1JVgvCYUHWsxrj9GkpEv" || resp.Model != "claude-3-opus-20240229" {
			t.Errorf("response = %s", testkit.Dump(resp))
		}
		if resp.Choices[0].FinishReason != llm.FinishStop || resp.Usage != (llm.Usage{InputTokens: 20, OutputTokens: 10}) {
			t.Errorf("finish %q usage %+v", resp.Choices[0].FinishReason, resp.Usage)
		}
		if resp.Origin != "anthropic" {
			t.Errorf("origin %q", resp.Origin)
		}
	})
	t.Run("tool", func(t *testing.T) {
		resp, err := proto.DecodeResponse(testkit.ReadFile(t, filepath.Join(fixtureDir, "messages-tool.body.json")))
		if err != nil {
			t.Fatal(err)
		}
		calls := resp.Choices[0].Message.ToolCalls()
		if len(calls) != 1 || calls[0].ID != "toolu_01X9wcHKKAZD9tBC711xipPa" || calls[0].Name != "get_user_country" || calls[0].Arguments != "{}" {
			t.Errorf("calls = %s", testkit.Dump(calls))
		}
		if resp.Choices[0].FinishReason != llm.FinishToolCalls || resp.Usage != (llm.Usage{InputTokens: 445, OutputTokens: 23}) {
			t.Errorf("finish %q usage %+v", resp.Choices[0].FinishReason, resp.Usage)
		}
	})
}

func TestDecodeResponse(t *testing.T) {
	tests := []struct {
		name, body string
		want       llm.Response
	}{
		{
			name: "cache usage, thinking, stop sequence",
			body: `{"id":"msg_1","type":"message","role":"assistant","model":"c","content":[
				{"type":"thinking","thinking":"t","signature":"s"},{"type":"redacted_thinking","data":"d"},
				{"type":"text","text":"a","citations":[{"type":"char_location"}]},{"type":"server_tool_use","id":"x","name":"web_search","input":{}}],
				"stop_reason":"stop_sequence","stop_sequence":"END","container":{"id":"c1"},
				"usage":{"input_tokens":5,"cache_read_input_tokens":100,"cache_creation_input_tokens":20,"output_tokens":9,"output_tokens_details":{"thinking_tokens":4}}}`,
			want: llm.Response{ID: "msg_1", Model: "c", Origin: "anthropic", Extensions: llm.Extensions{"container": json.RawMessage(`{"id":"c1"}`)},
				Usage: llm.Usage{InputTokens: 125, CachedTokens: 100, CacheWriteTokens: 20, OutputTokens: 9, ReasoningTokens: 4},
				Choices: []llm.Choice{{FinishReason: llm.FinishStop, StopSequence: "END", Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
					{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: "t", Signature: "s", Origin: "anthropic"}},
					{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Redacted: true, Data: "d", Origin: "anthropic"}},
					{Type: llm.PartText, Text: "a", Extensions: llm.Extensions{"citations": json.RawMessage(`[{"type":"char_location"}]`)}},
				}}}}},
		},
		{
			name: "emulated JSON output becomes text",
			body: `{"id":"msg_2","type":"message","role":"assistant","model":"c","content":[{"type":"tool_use","id":"toolu_1","name":"llmux_json_response","input":{"name":"Ann"}}],
				"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":2}}`,
			want: llm.Response{ID: "msg_2", Model: "c", Origin: "anthropic", Usage: llm.Usage{InputTokens: 1, OutputTokens: 2},
				Choices: []llm.Choice{{FinishReason: llm.FinishStop, Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart(`{"name":"Ann"}`)}}}}},
		},
		{
			name: "refusal, pause and context window",
			body: `{"id":"m","type":"message","content":[],"stop_reason":"refusal"}`,
			want: llm.Response{ID: "m", Origin: "anthropic", Choices: []llm.Choice{{FinishReason: llm.FinishContentFilter, Message: llm.Message{Role: llm.RoleAssistant}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := proto.DecodeResponse([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			normalize(got)
			normalize(&want)
			if testkit.Dump(got) != testkit.Dump(&want) {
				t.Errorf("got  %s\nwant %s", testkit.Dump(got), testkit.Dump(&want))
			}
		})
	}
	for reason, want := range map[string]llm.FinishReason{"end_turn": llm.FinishStop, "max_tokens": llm.FinishLength,
		"model_context_window_exceeded": llm.FinishLength, "tool_use": llm.FinishToolCalls, "pause_turn": llm.FinishPause,
		"refusal": llm.FinishContentFilter, "compaction": llm.FinishStop} {
		resp, err := proto.DecodeResponse([]byte(`{"type":"message","content":[{"type":"tool_use","id":"t","name":"f","input":{}}],"stop_reason":"` + reason + `"}`))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Choices[0].FinishReason != want {
			t.Errorf("stop_reason %s: finish %q, want %q", reason, resp.Choices[0].FinishReason, want)
		}
	}
	for _, bad := range []string{`{"content":"x"}`, `[]`, `{"type":"error","error":{"type":"api_error","message":"x"}}`, ``} {
		if _, err := proto.DecodeResponse([]byte(bad)); err == nil || llm.AsError(err).Kind != llm.KindUpstream {
			t.Errorf("DecodeResponse(%s) = %v, want an upstream error", bad, err)
		}
	}
}
