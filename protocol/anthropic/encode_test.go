package anthropic_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol/anthropic"
)

func hi() []llm.Message { return []llm.Message{userMsg("Hi")} }

const hiWire = `"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]`

func TestEncodeRequest(t *testing.T) {
	call := func(id, args string) llm.Part {
		return llm.Part{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: id, Name: "f", Arguments: args}}
	}
	result := func(id, text string) llm.Message {
		return llm.Message{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult,
			ToolResult: &llm.ToolResult{CallID: id, Content: []llm.Part{llm.TextPart(text)}}}}}
	}
	fn := llm.Tool{Type: llm.ToolFunction, Name: "f", Parameters: json.RawMessage(`{"type":"object"}`)}
	tests := []struct {
		name  string
		req   llm.Request
		want  string // JSON; "" with param set for refusals
		param string
	}{
		{
			name: "default max_tokens by model family",
			req:  llm.Request{Model: "alias", Messages: hi()},
			want: `{"model":"upstream","max_tokens":4096,` + hiWire + `}`,
		},
		{
			name: "client max_tokens, stop, user and tier",
			req: llm.Request{Model: "m", Messages: hi(), MaxTokens: ptr(10), Stop: []string{"a", "b", "c", "d", "e"},
				User: "u", ServiceTier: "auto", Seed: ptr[int64](1), Store: ptr(true), Metadata: map[string]string{"k": "v"}},
			want: `{"model":"upstream","max_tokens":10,` + hiWire + `,"stop_sequences":["a","b","c","d","e"],"metadata":{"user_id":"u"},"service_tier":"auto"}`,
		},
		{
			name: "other service tiers dropped",
			req:  llm.Request{Model: "m", Messages: hi(), MaxTokens: ptr(1), ServiceTier: "flex"},
			want: `{"model":"upstream","max_tokens":1,` + hiWire + `}`,
		},
		{
			name: "system and developer hoisted from anywhere",
			req: llm.Request{Model: "m", MaxTokens: ptr(1), Origin: "openai", Messages: []llm.Message{sysMsg("A"), userMsg("Hi"),
				{Role: llm.RoleDeveloper, Parts: []llm.Part{llm.TextPart("B")}}, {Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart("ok")}}}},
			want: `{"model":"upstream","max_tokens":1,"system":[{"type":"text","text":"A"},{"type":"text","text":"B"}],` +
				`"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]},{"role":"assistant","content":[{"type":"text","text":"ok"}]}]}`,
		},
		{
			name: "an Anthropic client's system message stays in place",
			req: llm.Request{Model: "m", MaxTokens: ptr(1), Origin: "anthropic", Messages: []llm.Message{sysMsg("A"), userMsg("Hi"),
				sysMsg("B"), userMsg("again")}},
			want: `{"model":"upstream","max_tokens":1,"system":[{"type":"text","text":"A"}],"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]},` +
				`{"role":"system","content":[{"type":"text","text":"B"}]},{"role":"user","content":[{"type":"text","text":"again"}]}]}`,
		},
		{
			name: "tool results merged into one user turn, first",
			req: llm.Request{Model: "m", MaxTokens: ptr(1), Messages: []llm.Message{userMsg("q"),
				{Role: llm.RoleAssistant, Parts: []llm.Part{call("c1", `{"a":1}`), call("c2", "")}},
				userMsg("also"), result("c1", "r1"), result("c2", "")}},
			want: `{"model":"upstream","max_tokens":1,"messages":[{"role":"user","content":[{"type":"text","text":"q"}]},` +
				`{"role":"assistant","content":[{"type":"tool_use","id":"c1","name":"f","input":{"a":1}},{"type":"tool_use","id":"c2","name":"f","input":{}}]},` +
				`{"role":"user","content":[{"type":"tool_result","tool_use_id":"c1","content":"r1"},{"type":"tool_result","tool_use_id":"c2"},{"type":"text","text":"also"}]}]}`,
		},
		{
			name: "same-role turns merged, empty text dropped, prefill trimmed",
			req: llm.Request{Model: "m", MaxTokens: ptr(1), Messages: []llm.Message{userMsg("a"), userMsg(""), userMsg("b"),
				{Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart("Sure: ")}}}},
			want: `{"model":"upstream","max_tokens":1,"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},` +
				`{"role":"assistant","content":[{"type":"text","text":"Sure:"}]}]}`,
		},
		{
			name: "reasoning only from Anthropic with its signature",
			req: llm.Request{Model: "m", MaxTokens: ptr(1), Messages: []llm.Message{userMsg("q"), {Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: "own", Signature: "s1", Origin: "anthropic"}},
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Redacted: true, Data: "d1", Origin: "anthropic"}},
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: "unsigned", Origin: "anthropic"}},
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: "gemini", Signature: "g", Origin: "gemini"}},
				llm.TextPart("a")}}}},
			want: `{"model":"upstream","max_tokens":1,"messages":[{"role":"user","content":[{"type":"text","text":"q"}]},{"role":"assistant","content":[` +
				`{"type":"thinking","thinking":"own","signature":"s1"},{"type":"redacted_thinking","data":"d1"},{"type":"text","text":"a"}]}]}`,
		},
		{
			name: "effort becomes a budget; thinking drops temperature and top_k; max_tokens raised",
			req: llm.Request{Model: "m", Messages: hi(), MaxTokens: ptr(100), Temperature: ptr(0.7), TopK: ptr(5), TopP: ptr(0.97),
				Reasoning: &llm.ReasoningConfig{Effort: "low"}},
			want: `{"model":"upstream","max_tokens":2148,` + hiWire + `,"thinking":{"type":"enabled","budget_tokens":2048},"top_p":0.97}`,
		},
		{
			name: "a forced tool wins over reasoning from another protocol",
			req: llm.Request{Model: "m", Messages: hi(), MaxTokens: ptr(1), Tools: []llm.Tool{fn}, Temperature: ptr(0.5),
				ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "f"}, Reasoning: &llm.ReasoningConfig{Effort: "high"}},
			want: `{"model":"upstream","max_tokens":1,` + hiWire + `,"tools":[{"name":"f","input_schema":{"type":"object"}}],` +
				`"tool_choice":{"type":"tool","name":"f"},"temperature":0.5}`,
		},
		{
			name: "effort none disables thinking",
			req:  llm.Request{Model: "m", Messages: hi(), MaxTokens: ptr(1), Reasoning: &llm.ReasoningConfig{Effort: "none", Mode: llm.ReasoningDisabled}},
			want: `{"model":"upstream","max_tokens":1,` + hiWire + `,"thinking":{"type":"disabled"}}`,
		},
		{
			name: "small budget raised to the minimum",
			req:  llm.Request{Model: "claude-3-7-sonnet-latest", Messages: hi(), Reasoning: &llm.ReasoningConfig{BudgetTokens: ptr(100)}},
			want: `{"model":"upstream","max_tokens":4096,` + hiWire + `,"thinking":{"type":"enabled","budget_tokens":1024}}`,
		},
		{
			name: "adaptive and effort for an Anthropic client",
			req: llm.Request{Model: "m", Messages: hi(), MaxTokens: ptr(1), Origin: "anthropic", Temperature: ptr(0.5),
				Reasoning: &llm.ReasoningConfig{Mode: llm.ReasoningAdaptive, Effort: "xhigh", Display: "omitted"}},
			want: `{"model":"upstream","max_tokens":1,` + hiWire + `,"thinking":{"type":"adaptive","display":"omitted"},"output_config":{"effort":"xhigh"}}`,
		},
		{
			name: "adaptive from another protocol gets the medium budget",
			req:  llm.Request{Model: "m", Messages: hi(), MaxTokens: ptr(1), Reasoning: &llm.ReasoningConfig{Mode: llm.ReasoningAdaptive}},
			want: `{"model":"upstream","max_tokens":8193,` + hiWire + `,"thinking":{"type":"enabled","budget_tokens":8192}}`,
		},
		{
			name: "temperature clamped; top_p dropped beside it",
			req:  llm.Request{Model: "m", Messages: hi(), MaxTokens: ptr(1), Temperature: ptr(1.8), TopP: ptr(0.5)},
			want: `{"model":"upstream","max_tokens":1,` + hiWire + `,"temperature":1}`,
		},
		{
			name: "tools, hosted tools of others dropped, allowed subset, choice",
			req: llm.Request{Model: "m", Messages: hi(), MaxTokens: ptr(1), Origin: "openai",
				Tools: []llm.Tool{fn, {Type: llm.ToolFunction, Name: "g", Strict: ptr(true)},
					{Type: "web_search", Raw: json.RawMessage(`{"type":"web_search"}`)}},
				ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceRequired, Allowed: []string{"g", "web_search"}}, ParallelToolCalls: ptr(false)},
			want: `{"model":"upstream","max_tokens":1,` + hiWire + `,"tools":[{"name":"g","input_schema":{"type":"object","properties":{}}}],` +
				`"tool_choice":{"type":"any","disable_parallel_tool_use":true}}`,
		},
		{
			name: "server tools and tool extensions for an Anthropic upstream",
			req: llm.Request{Model: "m", Messages: hi(), MaxTokens: ptr(1), Origin: "anthropic",
				Tools: []llm.Tool{{Type: llm.ToolFunction, Name: "f", Parameters: json.RawMessage(`{"type":"object"}`), Strict: ptr(true),
					CacheControl: &llm.CacheControl{Type: "ephemeral"}, Extensions: llm.Extensions{"defer_loading": json.RawMessage(`true`)}},
					{Type: "bash_20250124", Name: "bash", Raw: json.RawMessage(`{"type":"bash_20250124","name":"bash"}`)}},
				ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceNone}},
			want: `{"model":"upstream","max_tokens":1,` + hiWire + `,"tools":[{"name":"f","input_schema":{"type":"object"},"strict":true,` +
				`"cache_control":{"type":"ephemeral"},"defer_loading":true},{"type":"bash_20250124","name":"bash"}],"tool_choice":{"type":"none"}}`,
		},
		{
			name: "tool choice without tools left out",
			req:  llm.Request{Model: "m", Messages: hi(), MaxTokens: ptr(1), ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceRequired}},
			want: `{"model":"upstream","max_tokens":1,` + hiWire + `}`,
		},
		{
			name: "json object through the forced tool",
			req:  llm.Request{Model: "m", Messages: hi(), MaxTokens: ptr(1), ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONObject}},
			want: `{"model":"upstream","max_tokens":1,` + hiWire + `,"tools":[{"name":"llmux_json_response",` +
				`"description":"Give your answer by calling this tool: its input is the answer, as a JSON object.","input_schema":{"type":"object"}}],` +
				`"tool_choice":{"type":"tool","name":"llmux_json_response"}}`,
		},
		{
			name: "json schema with thinking uses output_config",
			req: llm.Request{Model: "m", Messages: hi(), MaxTokens: ptr(5000), Reasoning: &llm.ReasoningConfig{BudgetTokens: ptr(2000)},
				ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONSchema, Schema: json.RawMessage(`{"type":"array"}`)}},
			want: `{"model":"upstream","max_tokens":5000,` + hiWire + `,"thinking":{"type":"enabled","budget_tokens":2000},` +
				`"output_config":{"format":{"type":"json_schema","schema":{"type":"array"}}}}`,
		},
		{
			name: "extensions only from Anthropic clients",
			req: llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "Hi",
				Extensions: llm.Extensions{"citations": json.RawMessage(`[]`)}}}}}, MaxTokens: ptr(1), Origin: "openai",
				Extensions: llm.Extensions{"verbosity": json.RawMessage(`"low"`)}},
			want: `{"model":"upstream","max_tokens":1,` + hiWire + `}`,
		},
		{
			name: "own extensions merged into output_config",
			req: llm.Request{Model: "m", Messages: hi(), MaxTokens: ptr(1), Origin: "anthropic",
				Extensions: llm.Extensions{"container": json.RawMessage(`"c"`), "output_config": json.RawMessage(`{"task_budget":{"total":1}}`)}},
			want: `{"model":"upstream","max_tokens":1,` + hiWire + `,"output_config":{"task_budget":{"total":1}},"container":"c"}`,
		},
		{
			name: "tool ids reduced to the allowed characters",
			req: llm.Request{Model: "m", MaxTokens: ptr(1), Messages: []llm.Message{userMsg("q"),
				{Role: llm.RoleAssistant, Parts: []llm.Part{call("fc.1:x", `{}`)}}, result("fc.1:x", "r")}},
			want: `{"model":"upstream","max_tokens":1,"messages":[{"role":"user","content":[{"type":"text","text":"q"}]},` +
				`{"role":"assistant","content":[{"type":"tool_use","id":"fc_1_x","name":"f","input":{}}]},` +
				`{"role":"user","content":[{"type":"tool_result","tool_use_id":"fc_1_x","content":"r"}]}]}`,
		},

		{name: "n", req: llm.Request{Model: "m", Messages: hi(), N: 2}, param: "n"},
		{name: "logprobs", req: llm.Request{Model: "m", Messages: hi(), Logprobs: true}, param: "logprobs"},
		{name: "top logprobs", req: llm.Request{Model: "m", Messages: hi(), TopLogprobs: ptr(2)}, param: "logprobs"},
		{name: "frequency penalty", req: llm.Request{Model: "m", Messages: hi(), FrequencyPenalty: ptr(0.1)}, param: "frequency_penalty"},
		{name: "presence penalty", req: llm.Request{Model: "m", Messages: hi(), PresencePenalty: ptr(0.1)}, param: "presence_penalty"},
		{name: "audio", req: llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
			{Type: llm.PartAudio, Media: &llm.Media{Data: "UklG", MIMEType: "audio/wav"}}}}}}, param: "messages[0].content[0]"},
		{name: "custom tool", req: llm.Request{Model: "m", Messages: hi(), Tools: []llm.Tool{{Type: llm.ToolCustom, Name: "patch"}}},
			param: "tools[0].type"},
		{name: "reserved tool name", req: llm.Request{Model: "m", Messages: hi(), Tools: []llm.Tool{{Type: llm.ToolFunction, Name: anthropic.JSONToolName}}},
			param: "tools[0].name"},
		{name: "arguments not an object", req: llm.Request{Model: "m", Messages: []llm.Message{userMsg("q"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{call("c", `[1]`)}}}}, param: "messages[1].tool_calls[0].function.arguments"},
		{name: "arguments invalid", req: llm.Request{Model: "m", Messages: []llm.Message{userMsg("q"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{call("c", `{"a":`)}}}}, param: "messages[1].tool_calls[0].function.arguments"},
		{name: "json object with thinking", req: llm.Request{Model: "m", Messages: hi(), Reasoning: &llm.ReasoningConfig{Effort: "high"},
			ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONObject}}, param: "response_format"},
		{name: "schema root not an object", req: llm.Request{Model: "m", Messages: hi(),
			ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONSchema, Schema: json.RawMessage(`{"type":"array"}`)}}, param: "response_format.json_schema.schema"},
		{name: "foreign file id", req: llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
			{Type: llm.PartFile, Media: &llm.Media{FileID: "file-abc"}}}}}}, param: "messages[0].content[0]"},
		{name: "unsupported file type", req: llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
			{Type: llm.PartFile, Media: &llm.Media{MIMEType: "video/mp4", Data: "AAAA"}}}}}}, param: "messages[0].content[0]"},
		{name: "system image", req: llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleSystem, Parts: []llm.Part{
			{Type: llm.PartImage, Media: &llm.Media{URL: "https://x"}}}}}}, param: "messages[0].content[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := proto.EncodeRequest(&tt.req, "upstream")
			if tt.param != "" {
				if err == nil {
					t.Fatalf("EncodeRequest = %s, want a refusal naming %s", got, tt.param)
				}
				e := asError(t, err)
				if e.Kind != llm.KindInvalidRequest || e.Param != tt.param || !strings.Contains(e.Message, tt.param) {
					t.Errorf("refusal %q kind %q param %q, want a 400 naming %q", e.Message, e.Kind, e.Param, tt.param)
				}
				return
			}
			if err != nil {
				t.Fatalf("EncodeRequest: %v", err)
			}
			if !testkit.JSONEqual(got, []byte(tt.want)) {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestDefaultMaxTokens(t *testing.T) {
	for model, want := range map[string]int{
		"claude-opus-4-1-20250805": 32000, "claude-opus-4-6": 32000, "claude-sonnet-4-5": 64000,
		"claude-haiku-4-5-20251001": 64000, "claude-3-7-sonnet-latest": 64000, "claude-3-5-haiku-latest": 8192,
		"claude-3-haiku-20240307": 4096, "anthropic.claude-3-5-sonnet-20240620-v1:0": 8192,
		"claude-sonnet-4@20250514": 64000, "gpt-4o": 4096, "": 4096,
	} {
		if got := anthropic.DefaultMaxTokens(model); got != want {
			t.Errorf("DefaultMaxTokens(%q) = %d, want %d", model, got, want)
		}
	}
}

func TestEncodeCountRequest(t *testing.T) {
	req := &llm.Request{Model: "m", Messages: hi(), MaxTokens: ptr(5), Stream: true, Temperature: ptr(0.5), Stop: []string{"x"}, User: "u",
		Tools: []llm.Tool{{Type: llm.ToolFunction, Name: "f"}}, Reasoning: &llm.ReasoningConfig{BudgetTokens: ptr(2000)}}
	got, err := proto.EncodeCountRequest(req, "up")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"model":"up",` + hiWire + `,"tools":[{"name":"f","input_schema":{"type":"object","properties":{}}}],"thinking":{"type":"enabled","budget_tokens":2000}}`
	if !testkit.JSONEqual(got, []byte(want)) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestEncodeResponse(t *testing.T) {
	resp := &llm.Response{ID: "chatcmpl-1", Model: "gpt-4.1", Usage: llm.Usage{InputTokens: 100, CachedTokens: 60, CacheWriteTokens: 10, OutputTokens: 7},
		Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
			{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: "think", Origin: "openai"}},
			llm.TextPart("Hello"),
			{Type: llm.PartRefusal, Text: " (refused part)"},
			{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_1", Name: "f", Arguments: `{"a":1}`}},
			{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_2", Name: "g", Arguments: `not json`}},
		}}, FinishReason: llm.FinishToolCalls}}}
	var out bytes.Buffer
	if err := proto.EncodeResponse(&out, &llm.Request{Model: "client"}, resp); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	id, _ := got["id"].(string)
	if !strings.HasPrefix(id, "msg_") || len(id) != 28 {
		t.Errorf("id %q does not look like msg_…", id)
	}
	got["id"] = "msg_X"
	want := `{"id":"msg_X","type":"message","role":"assistant","model":"client","content":[
		{"type":"thinking","thinking":"think","signature":""},{"type":"text","text":"Hello"},{"type":"text","text":" (refused part)"},
		{"type":"tool_use","id":"call_1","name":"f","input":{"a":1}},{"type":"tool_use","id":"call_2","name":"g","input":{"_raw":"not json"}}],
		"stop_reason":"tool_use","stop_sequence":null,
		"usage":{"input_tokens":30,"cache_creation_input_tokens":10,"cache_read_input_tokens":60,"output_tokens":7}}`
	gb, _ := json.Marshal(got)
	if !testkit.JSONEqual(gb, []byte(want)) {
		t.Errorf("got  %s\nwant %s", gb, want)
	}
}

func TestEncodeFinishReasons(t *testing.T) {
	tests := []struct {
		finish llm.FinishReason
		stop   string
		calls  bool
		want   string
	}{
		{llm.FinishStop, "", false, "end_turn"},
		{"", "", false, "end_turn"},
		{llm.FinishStop, "END", false, "stop_sequence"},
		{llm.FinishLength, "", false, "max_tokens"},
		{llm.FinishToolCalls, "", true, "tool_use"},
		{llm.FinishToolCalls, "", false, "end_turn"},
		{llm.FinishStop, "", true, "tool_use"},
		{llm.FinishContentFilter, "", false, "refusal"},
		{llm.FinishPause, "", false, "pause_turn"},
		{llm.FinishError, "", false, "end_turn"},
	}
	for _, tt := range tests {
		parts := []llm.Part{llm.TextPart("x")}
		if tt.calls {
			parts = append(parts, llm.Part{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c", Name: "f"}})
		}
		resp := &llm.Response{Choices: []llm.Choice{{Message: llm.Message{Parts: parts}, FinishReason: tt.finish, StopSequence: tt.stop}}}
		var out bytes.Buffer
		if err := proto.EncodeResponse(&out, nil, resp); err != nil {
			t.Fatal(err)
		}
		var got struct {
			StopReason   string  `json:"stop_reason"`
			StopSequence *string `json:"stop_sequence"`
		}
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.StopReason != tt.want {
			t.Errorf("%s (stop %q, calls %v): stop_reason %q, want %q", tt.finish, tt.stop, tt.calls, got.StopReason, tt.want)
		}
		if (got.StopSequence != nil) != (tt.want == "stop_sequence") {
			t.Errorf("%s: stop_sequence %v", tt.finish, got.StopSequence)
		}

		// The stream says the same.
		out.Reset()
		enc := proto.NewStreamEncoder(&out, &llm.Request{Model: "m"})
		for _, ev := range llm.Events(resp) {
			if err := enc.Encode(ev); err != nil {
				t.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), `"stop_reason":"`+tt.want+`"`) {
			t.Errorf("%s: stream lacks stop_reason %q:\n%s", tt.finish, tt.want, out.String())
		}
	}
}

// TestUnencodableInputIsTheClients400: tool arguments that rawjson accepts
// but the encoder refuses (a repeated key, a lone surrogate) are the
// client's error, with no partial body.
func TestUnencodableInputIsTheClients400(t *testing.T) {
	for _, args := range []string{`{"a":1,"a":2}`, `{"a":"\ud800"}`} {
		req := &llm.Request{Model: "m", Messages: []llm.Message{
			userMsg("Hi"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c1", Name: "f", Arguments: args}}}},
			{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "c1", Content: []llm.Part{{Type: llm.PartText, Text: "ok"}}}}}},
		}}
		body, err := anthropic.Protocol{}.EncodeRequest(req, "claude")
		e := llm.AsError(err)
		if err == nil || e.Kind != llm.KindInvalidRequest || body != nil {
			t.Errorf("arguments %s: body %q, err %v (kind %v), want a 400 and no body", args, body, err, e.Kind)
		}
	}
}
