package openai_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

func hi() []llm.Message { return []llm.Message{userMsg("Hi")} }

func TestEncodeRequest(t *testing.T) {
	tests := []struct {
		name  string
		req   llm.Request
		want  string // JSON; "" with err set for refusals
		param string // Param of a refusal
	}{
		{
			name: "upstream model and max_completion_tokens",
			req:  llm.Request{Model: "alias", Messages: hi(), MaxTokens: ptr(10)},
			want: `{"model":"upstream","messages":[{"role":"user","content":"Hi"}],"max_completion_tokens":10}`,
		},
		{
			name: "n of one is left out",
			req:  llm.Request{Model: "m", Messages: hi(), N: 1},
			want: `{"model":"upstream","messages":[{"role":"user","content":"Hi"}]}`,
		},
		{
			name: "stream always asks for usage",
			req:  llm.Request{Model: "m", Messages: hi(), Stream: true},
			want: `{"model":"upstream","messages":[{"role":"user","content":"Hi"}],"stream":true,"stream_options":{"include_usage":true}}`,
		},
		{
			name: "foreign extensions dropped",
			req: llm.Request{Model: "m", Origin: "anthropic", Extensions: llm.Extensions{"top_k": json.RawMessage(`5`)},
				Messages: []llm.Message{{Role: llm.RoleUser, Extensions: llm.Extensions{"x": json.RawMessage(`1`)},
					Parts: []llm.Part{{Type: llm.PartText, Text: "Hi", Extensions: llm.Extensions{"citations": json.RawMessage(`[]`)}}}}},
				Tools: []llm.Tool{{Type: llm.ToolFunction, Name: "f", Extensions: llm.Extensions{"defer_loading": json.RawMessage(`true`)}}}},
			want: `{"model":"upstream","messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"f"}}]}`,
		},
		{
			name: "own extensions sent on",
			req: llm.Request{Model: "m", Origin: "openai", Extensions: llm.Extensions{"verbosity": json.RawMessage(`"low"`)},
				Messages: []llm.Message{{Role: llm.RoleUser, Extensions: llm.Extensions{"x": json.RawMessage(`1`)},
					Parts: []llm.Part{{Type: llm.PartText, Text: "Hi", Extensions: llm.Extensions{"cache_control": json.RawMessage(`{"type":"ephemeral"}`)}}}}}},
			want: `{"model":"upstream","messages":[{"role":"user","x":1,"content":[{"type":"text","text":"Hi","cache_control":{"type":"ephemeral"}}]}],"verbosity":"low"}`,
		},
		{
			name: "text parts joined into a string",
			req:  llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("a"), llm.TextPart("b")}}, hi()[0]}},
			want: `{"model":"upstream","messages":[{"role":"system","content":"ab"},{"role":"user","content":"Hi"}]}`,
		},
		{
			name: "empty messages get empty content",
			req: llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser},
				{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "c"}}}}}},
			want: `{"model":"upstream","messages":[{"role":"user","content":""},{"role":"tool","tool_call_id":"c","content":""}]}`,
		},
		{
			name: "tool results one message each",
			req: llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleTool, Parts: []llm.Part{
				{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "a", Name: "f", Content: []llm.Part{llm.TextPart("1")}}},
				{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "b", Name: "g", Content: []llm.Part{llm.TextPart("2")}, IsError: true}},
			}}}},
			want: `{"model":"upstream","messages":[{"role":"tool","tool_call_id":"a","content":"1"},{"role":"tool","tool_call_id":"b","content":"2"}]}`,
		},
		{
			name: "assistant calls with empty arguments, reasoning dropped",
			req: llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: "hmm", Signature: "sig", Origin: "anthropic"}},
				llm.TextPart("Let me check."),
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c1", Name: "f"}},
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c2", Type: llm.CallCustom, Name: "sql", Arguments: "SELECT 1"}},
			}}}},
			want: `{"model":"upstream","messages":[{"role":"assistant","content":"Let me check.","tool_calls":[
				{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}},
				{"id":"c2","type":"custom","custom":{"name":"sql","input":"SELECT 1"}}]}]}`,
		},
		{
			name: "media",
			req: llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
				{Type: llm.PartImage, Media: &llm.Media{MIMEType: "image/webp", Data: "UklG", Detail: "high"}},
				{Type: llm.PartImage, Media: &llm.Media{URL: "https://x/a.png"}},
				{Type: llm.PartAudio, Media: &llm.Media{MIMEType: "audio/mpeg", Data: "SUQz"}},
				{Type: llm.PartAudio, Media: &llm.Media{MIMEType: "audio/x-wav", Data: "UklG"}},
				{Type: llm.PartFile, Media: &llm.Media{MIMEType: "application/pdf", Data: "JVBE", Filename: "a.pdf"}},
				{Type: llm.PartFile, Media: &llm.Media{FileID: "file-1"}},
			}}}},
			want: `{"model":"upstream","messages":[{"role":"user","content":[
				{"type":"image_url","image_url":{"url":"data:image/webp;base64,UklG","detail":"high"}},
				{"type":"image_url","image_url":{"url":"https://x/a.png"}},
				{"type":"input_audio","input_audio":{"data":"SUQz","format":"mp3"}},
				{"type":"input_audio","input_audio":{"data":"UklG","format":"wav"}},
				{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBE","filename":"a.pdf"}},
				{"type":"file","file":{"file_id":"file-1"}}]}]}`,
		},
		{
			name: "reasoning budget becomes an effort",
			req:  llm.Request{Model: "m", Messages: hi(), Reasoning: &llm.ReasoningConfig{Mode: llm.ReasoningEnabled, BudgetTokens: ptr(8192)}},
			want: `{"model":"upstream","messages":[{"role":"user","content":"Hi"}],"reasoning_effort":"medium"}`,
		},
		{
			name: "small budget",
			req:  llm.Request{Model: "m", Messages: hi(), Reasoning: &llm.ReasoningConfig{BudgetTokens: ptr(1024)}},
			want: `{"model":"upstream","messages":[{"role":"user","content":"Hi"}],"reasoning_effort":"low"}`,
		},
		{
			name: "large budget",
			req:  llm.Request{Model: "m", Messages: hi(), Reasoning: &llm.ReasoningConfig{BudgetTokens: ptr(32000)}},
			want: `{"model":"upstream","messages":[{"role":"user","content":"Hi"}],"reasoning_effort":"high"}`,
		},
		{
			name: "dynamic budget left to the model",
			req:  llm.Request{Model: "m", Messages: hi(), Reasoning: &llm.ReasoningConfig{Mode: llm.ReasoningAdaptive, BudgetTokens: ptr(-1)}},
			want: `{"model":"upstream","messages":[{"role":"user","content":"Hi"}]}`,
		},
		{
			name: "reasoning disabled",
			req:  llm.Request{Model: "m", Messages: hi(), Reasoning: &llm.ReasoningConfig{Mode: llm.ReasoningDisabled}},
			want: `{"model":"upstream","messages":[{"role":"user","content":"Hi"}],"reasoning_effort":"none"}`,
		},
		{
			name: "json schema without a name",
			req: llm.Request{Model: "m", Messages: hi(), ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONSchema,
				Schema: json.RawMessage(`{"type":"object"}`)}},
			want: `{"model":"upstream","messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"response","schema":{"type":"object"}}}}`,
		},
		{
			name: "custom tool without raw definition, forced",
			req: llm.Request{Model: "m", Messages: hi(), Tools: []llm.Tool{{Type: llm.ToolCustom, Name: "sql", Description: "SQL"}},
				ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "sql"}},
			want: `{"model":"upstream","messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"custom","custom":{"name":"sql","description":"SQL"}}],
				"tool_choice":{"type":"custom","custom":{"name":"sql"}}}`,
		},
		{
			name: "allowed tools with a forced mode",
			req:  llm.Request{Model: "m", Messages: hi(), ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceTool, Allowed: []string{"a", "b"}}},
			want: `{"model":"upstream","messages":[{"role":"user","content":"Hi"}],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"required",
				"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}]}}}`,
		},
		{
			name: "empty tool choice mode left out",
			req:  llm.Request{Model: "m", Messages: hi(), ToolChoice: &llm.ToolChoice{}},
			want: `{"model":"upstream","messages":[{"role":"user","content":"Hi"}]}`,
		},
		{name: "top_k dropped", req: llm.Request{Model: "m", Messages: hi(), TopK: ptr(40)},
			want: `{"model":"upstream","messages":[{"role":"user","content":"Hi"}]}`},
		{name: "hosted tool dropped", req: llm.Request{Model: "m", Messages: hi(), Tools: []llm.Tool{{Type: llm.ToolFunction, Name: "f"}, {Type: "web_search_20250305"}}},
			want: `{"model":"upstream","messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"f"}}]}`},
		{name: "forced hosted tool refused", req: llm.Request{Model: "m", Messages: hi(), Tools: []llm.Tool{{Type: "web_search", Name: "web_search"}},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "web_search"}}, param: "tools[0].type"},
		{name: "image in assistant message refused", req: llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleAssistant,
			Parts: []llm.Part{llm.TextPart("see"), {Type: llm.PartImage, Media: &llm.Media{URL: "https://x/a.png"}}}}}}, param: "messages[0]"},
		{name: "audio by URL refused", req: llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser,
			Parts: []llm.Part{{Type: llm.PartAudio, Media: &llm.Media{URL: "https://x/a.mp3"}}}}}}, param: "messages[0]"},
		{name: "file by URL refused", req: llm.Request{Model: "m", Messages: []llm.Message{hi()[0], {Role: llm.RoleUser,
			Parts: []llm.Part{{Type: llm.PartFile, Media: &llm.Media{URL: "gs://bucket/a.pdf"}}}}}}, param: "messages[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := proto.EncodeRequest(&tt.req, "upstream")
			if tt.param != "" {
				if err == nil {
					t.Fatalf("EncodeRequest = %s, want an error", out)
				}
				e := asError(t, err)
				if e.Kind != llm.KindInvalidRequest || e.Param != tt.param {
					t.Errorf("error kind %q param %q, want invalid_request %q (%v)", e.Kind, e.Param, tt.param, e)
				}
				return
			}
			if err != nil {
				t.Fatalf("EncodeRequest: %v", err)
			}
			if !testkit.JSONEqual(out, []byte(tt.want)) {
				t.Errorf("EncodeRequest:\ngot  %s\nwant %s", out, tt.want)
			}
		})
	}
}

func TestEncodeResponse(t *testing.T) {
	resp := &llm.Response{
		ID: "chatcmpl-1", Model: "gpt-x", Created: 1700000000, ServiceTier: "default", SystemFingerprint: "fp_1",
		Origin: "openai", Extensions: llm.Extensions{"obfuscation": json.RawMessage(`"abc"`)},
		Usage: llm.Usage{InputTokens: 100, OutputTokens: 50, CachedTokens: 60, CacheWriteTokens: 10, ReasoningTokens: 20},
		Choices: []llm.Choice{
			{Index: 0, FinishReason: llm.FinishToolCalls, Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: "think "}},
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: "more"}},
				llm.TextPart("Hel"), llm.TextPart("lo"),
				{Type: llm.PartRefusal, Text: "No"}, {Type: llm.PartRefusal, Text: "pe"},
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c1", Name: "f", Arguments: `{"a":1}`}},
			}}},
			{Index: 1, FinishReason: llm.FinishLength, Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart("x")}},
				Logprobs: []llm.TokenLogprob{{Token: "x", Logprob: -0.5, Bytes: []byte("x"), Top: []llm.TopLogprob{{Token: "y", Logprob: -1, Bytes: []byte("y")}}}}},
		},
	}
	var out bytes.Buffer
	if err := proto.EncodeResponse(&out, &llm.Request{Model: "alias"}, resp); err != nil {
		t.Fatal(err)
	}
	want := `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-x","choices":[
		{"index":0,"message":{"role":"assistant","content":"Hello","refusal":"Nope","reasoning_content":"think more",
			"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},"logprobs":null,"finish_reason":"tool_calls"},
		{"index":1,"message":{"role":"assistant","content":"x"},"logprobs":{"content":[{"token":"x","logprob":-0.5,"bytes":[120],
			"top_logprobs":[{"token":"y","logprob":-1,"bytes":[121]}]}]},"finish_reason":"length"}],
		"usage":{"prompt_tokens":100,"completion_tokens":50,"total_tokens":150,"prompt_tokens_details":{"cached_tokens":60,"cache_write_tokens":10},
			"completion_tokens_details":{"reasoning_tokens":20}},
		"service_tier":"default","system_fingerprint":"fp_1","obfuscation":"abc"}`
	if !testkit.JSONEqual(out.Bytes(), []byte(want)) {
		t.Errorf("EncodeResponse:\ngot  %s\nwant %s", out.Bytes(), want)
	}
}

// TestEncodeResponseDefaults: an answer folded from another protocol's
// stream may lack an id, a time and a model; the client still gets them.
func TestEncodeResponseDefaults(t *testing.T) {
	before := time.Now().Unix()
	var out bytes.Buffer
	resp := &llm.Response{Origin: "anthropic", Extensions: llm.Extensions{"stop_sequence": json.RawMessage(`null`)},
		Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant}, FinishReason: llm.FinishStop}}}
	if err := proto.EncodeResponse(&out, &llm.Request{Model: "alias"}, resp); err != nil {
		t.Fatal(err)
	}
	var w struct {
		ID      string                     `json:"id"`
		Created int64                      `json:"created"`
		Model   string                     `json:"model"`
		Other   map[string]json.RawMessage `json:"-"`
		Choices []struct {
			Message map[string]json.RawMessage `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(out.Bytes(), &w); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^chatcmpl-[A-Za-z0-9]{24}$`).MatchString(w.ID) {
		t.Errorf("id = %q", w.ID)
	}
	if w.Created < before || w.Created > time.Now().Unix() {
		t.Errorf("created = %d, want now", w.Created)
	}
	if w.Model != "alias" {
		t.Errorf("model = %q, want the requested one", w.Model)
	}
	if strings.Contains(out.String(), "stop_sequence") {
		t.Errorf("another protocol's extension leaked: %s", out.Bytes())
	}
	if c := string(w.Choices[0].Message["content"]); c != "null" {
		t.Errorf("content = %s, want null", c)
	}
}

func TestStreamEncoder(t *testing.T) {
	u := &llm.Usage{InputTokens: 5, OutputTokens: 7, ReasoningTokens: 2}
	tests := []struct {
		name   string
		req    *llm.Request
		events []llm.Event
		fail   *llm.Error // end with Fail instead of Close
		want   []string   // the data of each SSE event
	}{
		{
			name: "empty stream",
			req:  &llm.Request{Model: "m"},
			want: []string{
				`{"id":"ID","object":"chat.completion.chunk","created":T,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
				`{"id":"ID","object":"chat.completion.chunk","created":T,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
				`[DONE]`,
			},
		},
		{
			name: "text without a start event, usage from start, no finish",
			req:  &llm.Request{Model: "alias", StreamUsage: true},
			events: []llm.Event{
				{Type: llm.EventText, Text: "a\"b\n"},
				{Type: llm.EventReasoning, Signature: "sig-only"},
				{Type: llm.EventUsage, Usage: u},
			},
			want: []string{
				`{"id":"ID","object":"chat.completion.chunk","created":T,"model":"alias","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
				`{"id":"ID","object":"chat.completion.chunk","created":T,"model":"alias","choices":[{"index":0,"delta":{"content":"a\"b\n"},"finish_reason":null}]}`,
				`{"id":"ID","object":"chat.completion.chunk","created":T,"model":"alias","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
				`{"id":"ID","object":"chat.completion.chunk","created":T,"model":"alias","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":2}}}`,
				`[DONE]`,
			},
		},
		{
			name: "two choices, refusal and logprobs",
			req:  &llm.Request{Model: "alias"},
			events: []llm.Event{
				{Type: llm.EventStart, ID: "c1", Model: "gpt", Created: 9},
				{Type: llm.EventText, Choice: 1, Text: "b", Logprobs: []llm.TokenLogprob{{Token: "b", Logprob: -1}}},
				{Type: llm.EventRefusal, Text: "no"},
				{Type: llm.EventFinish, Choice: 1, FinishReason: llm.FinishLength},
				{Type: llm.EventFinish, FinishReason: llm.FinishContentFilter},
			},
			want: []string{
				`{"id":"c1","object":"chat.completion.chunk","created":9,"model":"gpt","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
				`{"id":"c1","object":"chat.completion.chunk","created":9,"model":"gpt","choices":[{"index":1,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
				`{"id":"c1","object":"chat.completion.chunk","created":9,"model":"gpt","choices":[{"index":1,"delta":{"content":"b"},"logprobs":{"content":[{"token":"b","logprob":-1,"bytes":[],"top_logprobs":[]}]},"finish_reason":null}]}`,
				`{"id":"c1","object":"chat.completion.chunk","created":9,"model":"gpt","choices":[{"index":0,"delta":{"refusal":"no"},"finish_reason":null}]}`,
				`{"id":"c1","object":"chat.completion.chunk","created":9,"model":"gpt","choices":[{"index":1,"delta":{},"finish_reason":"length"}]}`,
				`{"id":"c1","object":"chat.completion.chunk","created":9,"model":"gpt","choices":[{"index":0,"delta":{},"finish_reason":"content_filter"}]}`,
				`[DONE]`,
			},
		},
		{
			name: "failure after text",
			req:  &llm.Request{Model: "m", StreamUsage: true},
			events: []llm.Event{
				{Type: llm.EventStart, ID: "c1", Model: "gpt", Created: 9},
				{Type: llm.EventToolCall, ToolIndex: 0, ID: "call_1", Name: "f", Text: `{"a"`},
			},
			fail: &llm.Error{Kind: llm.KindOverloaded, Message: "busy"},
			want: []string{
				`{"id":"c1","object":"chat.completion.chunk","created":9,"model":"gpt","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
				`{"id":"c1","object":"chat.completion.chunk","created":9,"model":"gpt","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\""}}]},"finish_reason":null}]}`,
				`{"error":{"message":"busy","type":"server_error","param":null,"code":"overloaded"}}`,
			},
		},
	}
	idRe := regexp.MustCompile(`"id":"chatcmpl-[A-Za-z0-9]{24}"`)
	createdRe := regexp.MustCompile(`"created":\d{10}`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			enc := proto.NewStreamEncoder(&out, tt.req)
			for _, ev := range tt.events {
				if err := enc.Encode(ev); err != nil {
					t.Fatal(err)
				}
			}
			var err error
			if tt.fail != nil {
				err = enc.Fail(tt.fail)
			} else {
				err = enc.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
			// Ending twice writes nothing more.
			n := out.Len()
			if enc.Close() != nil || enc.Fail(&llm.Error{Kind: llm.KindInternal}) != nil || out.Len() != n {
				t.Errorf("a second Close or Fail wrote %q", out.String()[n:])
			}
			got := out.String()
			if !strings.HasSuffix(got, "\n\n") {
				t.Errorf("stream does not end with a blank line: %q", got)
			}
			var datas []string
			for _, ev := range strings.SplitAfter(got, "\n\n") {
				if ev == "" {
					continue
				}
				data, ok := strings.CutPrefix(ev, "data: ")
				if !ok || strings.Count(ev, "\n") != 2 {
					t.Fatalf("malformed SSE event %q", ev)
				}
				data = strings.TrimSuffix(data, "\n\n")
				if data != "[DONE]" && !json.Valid([]byte(data)) {
					t.Errorf("invalid JSON chunk %s", data)
				}
				data = idRe.ReplaceAllString(data, `"id":"ID"`)
				datas = append(datas, createdRe.ReplaceAllString(data, `"created":T`))
			}
			if strings.Join(datas, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("stream:\n%s\nwant:\n%s", strings.Join(datas, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
