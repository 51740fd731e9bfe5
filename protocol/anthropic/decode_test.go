package anthropic_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// user is the smallest valid message list, for cases about other fields.
const user = `"messages":[{"role":"user","content":"Hi"}]`

func userMsg(text string) llm.Message {
	return llm.Message{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(text)}}
}

func sysMsg(text string) llm.Message {
	return llm.Message{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart(text)}}
}

// decodeRequestTests are valid request bodies and their canonical form; the
// round-trip test and the fuzz seeds use them too.
var decodeRequestTests = []struct {
	name string
	body string
	want llm.Request
}{
	{
		name: "string content",
		body: `{"model":"claude-sonnet-4-5","max_tokens":100,"messages":[{"role":"user","content":"Hello"}]}`,
		want: llm.Request{Model: "claude-sonnet-4-5", MaxTokens: ptr(100), Messages: []llm.Message{userMsg("Hello")}, Origin: "anthropic"},
	},
	{
		name: "system string and blocks with cache control",
		body: `{"model":"m","max_tokens":1,"system":[{"type":"text","text":"A","cache_control":{"type":"ephemeral"}},
				{"type":"text","text":"B","cache_control":{"type":"ephemeral","ttl":"1h"}}],` + user + `}`,
		want: llm.Request{Model: "m", MaxTokens: ptr(1), Origin: "anthropic", Messages: []llm.Message{
			{Role: llm.RoleSystem, Parts: []llm.Part{{Type: llm.PartText, Text: "A", CacheControl: &llm.CacheControl{Type: "ephemeral"}}}},
			{Role: llm.RoleSystem, Parts: []llm.Part{{Type: llm.PartText, Text: "B", CacheControl: &llm.CacheControl{Type: "ephemeral", TTL: "1h"}}}},
			userMsg("Hi")}},
	},
	{
		name: "system role inside messages stays in place",
		body: `{"model":"m","max_tokens":1,"system":"S","messages":[{"role":"user","content":"a"},
				{"role":"system","content":"mid"},{"role":"user","content":"b"}]}`,
		want: llm.Request{Model: "m", MaxTokens: ptr(1), Origin: "anthropic", Messages: []llm.Message{
			sysMsg("S"), userMsg("a"), sysMsg("mid"), userMsg("b")}},
	},
	{
		name: "tool use and results before the rest of the turn",
		body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"weather?"},
				{"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city": "Paris"}},
					{"type":"tool_use","id":"toolu_2","name":"now","input":{}}]},
				{"role":"user","content":[{"type":"text","text":"here"},{"type":"tool_result","tool_use_id":"toolu_1","content":"18C"},
					{"type":"tool_result","tool_use_id":"toolu_2","is_error":true,"content":[{"type":"text","text":"boom"}],"cache_control":{"type":"ephemeral"}}]}]}`,
		want: llm.Request{Model: "m", MaxTokens: ptr(1), Origin: "anthropic", Messages: []llm.Message{
			userMsg("weather?"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart("Checking."),
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "toolu_1", Type: llm.CallFunction, Name: "get_weather", Arguments: `{"city":"Paris"}`}},
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "toolu_2", Type: llm.CallFunction, Name: "now", Arguments: `{}`}}}},
			{Role: llm.RoleTool, Parts: []llm.Part{
				{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "toolu_1", Name: "get_weather", Content: []llm.Part{llm.TextPart("18C")}}},
				{Type: llm.PartToolResult, CacheControl: &llm.CacheControl{Type: "ephemeral"},
					ToolResult: &llm.ToolResult{CallID: "toolu_2", Name: "now", IsError: true, Content: []llm.Part{llm.TextPart("boom")}}}}},
			userMsg("here")}},
	},
	{
		name: "thinking blocks",
		body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"q"},{"role":"assistant","content":[
				{"type":"thinking","thinking":"hmm","signature":"sig"},{"type":"redacted_thinking","data":"enc"},{"type":"text","text":"a"}]}]}`,
		want: llm.Request{Model: "m", MaxTokens: ptr(1), Origin: "anthropic", Messages: []llm.Message{userMsg("q"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: "hmm", Signature: "sig", Origin: "anthropic"}},
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Redacted: true, Data: "enc", Origin: "anthropic"}},
				llm.TextPart("a")}}}},
	},
	{
		name: "images and documents",
		body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[
				{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBO"}},
				{"type":"image","source":{"type":"url","url":"https://x/a.jpg"}},
				{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBE"},"title":"T"},
				{"type":"document","source":{"type":"text","media_type":"text/plain","data":"hi"}},
				{"type":"document","source":{"type":"url","url":"https://x/a.pdf"}},
				{"type":"document","source":{"type":"file","file_id":"file_01"}},
				{"type":"document","source":{"type":"content","content":[{"type":"text","text":"c1"},{"type":"text","text":"c2"}]}}]}]}`,
		want: llm.Request{Model: "m", MaxTokens: ptr(1), Origin: "anthropic", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
			{Type: llm.PartImage, Media: &llm.Media{MIMEType: "image/png", Data: "iVBO"}},
			{Type: llm.PartImage, Media: &llm.Media{URL: "https://x/a.jpg"}},
			{Type: llm.PartFile, Media: &llm.Media{MIMEType: "application/pdf", Data: "JVBE"}, Extensions: llm.Extensions{"title": json.RawMessage(`"T"`)}},
			{Type: llm.PartFile, Media: &llm.Media{MIMEType: "text/plain", Data: "aGk="}},
			{Type: llm.PartFile, Media: &llm.Media{URL: "https://x/a.pdf"}},
			{Type: llm.PartFile, Media: &llm.Media{FileID: "file_01"}},
			llm.TextPart("c1\nc2"),
		}}}},
	},
	{
		name: "tools, choice and sampling",
		body: `{"model":"m","max_tokens":10,"temperature":0.5,"top_p":0.9,"top_k":3,"stop_sequences":["X"],"stream":true,
				"service_tier":"auto","metadata":{"user_id":"u1"},
				"tools":[{"name":"f","description":"d","input_schema":{"type":"object"},"defer_loading":true,"cache_control":{"type":"ephemeral"}},
					{"type":"custom","name":"g","input_schema":{"type":"object"},"strict":true},
					{"type":"web_search_20250305","name":"web_search","max_uses":2}],
				"tool_choice":{"type":"tool","name":"f","disable_parallel_tool_use":true},` + user + `}`,
		want: llm.Request{Model: "m", MaxTokens: ptr(10), Temperature: ptr(0.5), TopP: ptr(0.9), TopK: ptr(3), Stop: []string{"X"},
			Stream: true, ServiceTier: "auto", User: "u1", Origin: "anthropic", ParallelToolCalls: ptr(false),
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "f"},
			Tools: []llm.Tool{
				{Type: llm.ToolFunction, Name: "f", Description: "d", Parameters: json.RawMessage(`{"type":"object"}`),
					CacheControl: &llm.CacheControl{Type: "ephemeral"}, Extensions: llm.Extensions{"defer_loading": json.RawMessage(`true`)}},
				{Type: llm.ToolFunction, Name: "g", Parameters: json.RawMessage(`{"type":"object"}`), Strict: ptr(true)},
				{Type: "web_search_20250305", Name: "web_search", Raw: json.RawMessage(`{"type":"web_search_20250305","name":"web_search","max_uses":2}`)},
			},
			Messages: []llm.Message{userMsg("Hi")}},
	},
	{
		name: "thinking, effort, structured output and extensions",
		body: `{"model":"m","max_tokens":9000,"thinking":{"type":"enabled","budget_tokens":4000,"display":"omitted"},
				"output_config":{"effort":"medium","format":{"type":"json_schema","schema":{"type":"object"}},"task_budget":{"total":5}},
				"context_management":{"edits":[]},"container":"c1",` + user + `}`,
		want: llm.Request{Model: "m", MaxTokens: ptr(9000), Origin: "anthropic",
			Reasoning:      &llm.ReasoningConfig{Mode: llm.ReasoningEnabled, BudgetTokens: ptr(4000), Effort: "medium", Display: "omitted"},
			ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONSchema, Schema: json.RawMessage(`{"type":"object"}`)},
			Extensions: llm.Extensions{"context_management": json.RawMessage(`{"edits":[]}`), "container": json.RawMessage(`"c1"`),
				"output_config": json.RawMessage(`{"task_budget":{"total":5}}`)},
			Messages: []llm.Message{userMsg("Hi")}},
	},
	{
		name: "adaptive thinking",
		body: `{"model":"m","max_tokens":1,"thinking":{"type":"adaptive"},"output_config":{"effort":"max"},` + user + `}`,
		want: llm.Request{Model: "m", MaxTokens: ptr(1), Origin: "anthropic",
			Reasoning: &llm.ReasoningConfig{Mode: llm.ReasoningAdaptive, Effort: "max"}, Messages: []llm.Message{userMsg("Hi")}},
	},
	{
		name: "server tool blocks are left out, search results become text",
		body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"news?"},
				{"role":"assistant","content":[{"type":"server_tool_use","id":"s1","name":"web_search","input":{"query":"x"}},
					{"type":"web_search_tool_result","tool_use_id":"s1","content":[]},{"type":"text","text":"Done.","citations":null}]},
				{"role":"user","content":[{"type":"search_result","source":"https://x","title":"t","content":[{"type":"text","text":"r"}]}]}]}`,
		want: llm.Request{Model: "m", MaxTokens: ptr(1), Origin: "anthropic", Messages: []llm.Message{userMsg("news?"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart("Done.")}}, userMsg("r")}},
	},
}

func TestDecodeRequest(t *testing.T) {
	for _, tt := range decodeRequestTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := proto.DecodeRequest([]byte(tt.body))
			if err != nil {
				t.Fatalf("DecodeRequest: %v", err)
			}
			want := tt.want
			normalize(got)
			normalize(&want)
			if testkit.Dump(got) != testkit.Dump(&want) {
				t.Errorf("got  %s\nwant %s", testkit.Dump(got), testkit.Dump(&want))
			}
		})
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	tests := []struct {
		name, body, param, msg string
	}{
		{"not json", `{"model":`, "", "not valid JSON"},
		{"model missing", `{"max_tokens":1,` + user + `}`, "model", "Field required"},
		{"max_tokens missing", `{"model":"m",` + user + `}`, "max_tokens", "max_tokens: Field required"},
		{"max_tokens zero", `{"model":"m","max_tokens":0,` + user + `}`, "max_tokens", "at least 1"},
		{"max_tokens string", `{"model":"m","max_tokens":"10",` + user + `}`, "max_tokens", "expected an integer"},
		{"messages missing", `{"model":"m","max_tokens":1}`, "messages", "at least one message"},
		{"temperature above one", `{"model":"m","max_tokens":1,"temperature":1.5,` + user + `}`, "temperature", "between 0 and 1"},
		{"bad role", `{"model":"m","max_tokens":1,"messages":[{"role":"tool","content":"x"}]}`, "messages[0].role", "user or assistant"},
		{"content missing", `{"model":"m","max_tokens":1,"messages":[{"role":"user"}]}`, "messages[0].content", "Field required"},
		{"content number", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":5}]}`, "messages[0].content", "a string or an array"},
		{"unknown block", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"hologram"}]}]}`,
			"messages[0].content[0].type", "unsupported content block type"},
		{"tool_use in user turn", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_use","id":"a","name":"f","input":{}}]}]}`,
			"messages[0].content[0].type", "only allowed in assistant"},
		{"tool_use input array", `{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"f","input":[]}]}]}`,
			"messages[0].content[0].input", "expected an object"},
		{"tool_result without id", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","content":"x"}]}]}`,
			"messages[0].content[0].tool_use_id", "Field required"},
		{"image without source", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image"}]}]}`,
			"messages[0].content[0].source", "Field required"},
		{"image with a string source", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":"x"}]}]}`,
			"messages[0].content[0].source.type", "must be base64"},
		{"system block not text", `{"model":"m","max_tokens":1,"system":[{"type":"image"}],` + user + `}`, "system[0].type", "must be text"},
		{"thinking without budget", `{"model":"m","max_tokens":1,"thinking":{"type":"enabled"},` + user + `}`, "thinking.budget_tokens", "Field required"},
		{"thinking budget too small", `{"model":"m","max_tokens":1,"thinking":{"type":"enabled","budget_tokens":100},` + user + `}`,
			"thinking.budget_tokens", "at least 1024"},
		{"thinking type", `{"model":"m","max_tokens":1,"thinking":{"type":"deep"},` + user + `}`, "thinking.type", "enabled, adaptive or disabled"},
		{"tool without schema", `{"model":"m","max_tokens":1,"tools":[{"name":"f"}],` + user + `}`, "tools[0].input_schema", "Field required"},
		{"tool with reserved name", `{"model":"m","max_tokens":1,"tools":[{"name":"llmux_json_response","input_schema":{}}],` + user + `}`,
			"tools[0].name", "reserved"},
		{"tool choice type", `{"model":"m","max_tokens":1,"tool_choice":{"type":"required"},` + user + `}`, "tool_choice.type", "auto, any, tool or none"},
		{"tool choice without name", `{"model":"m","max_tokens":1,"tool_choice":{"type":"tool"},` + user + `}`, "tool_choice.name", "Field required"},
		{"output format type", `{"model":"m","max_tokens":1,"output_config":{"format":{"type":"json_object"}},` + user + `}`,
			"output_config.format.type", "json_schema"},
		{"duplicate member", `{"model":"m","model":"n","max_tokens":1,` + user + `}`, "", "duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := proto.DecodeRequest([]byte(tt.body))
			if err == nil {
				t.Fatal("DecodeRequest accepted the body")
			}
			e := asError(t, err)
			if e.Kind != llm.KindInvalidRequest || e.HTTPStatus() != 400 {
				t.Errorf("kind %q status %d, want invalid_request 400", e.Kind, e.HTTPStatus())
			}
			if e.Param != tt.param {
				t.Errorf("Param = %q, want %q (%s)", e.Param, tt.param, e.Message)
			}
			if !strings.Contains(e.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", e.Error(), tt.msg)
			}
		})
	}
}

func TestDecodeCountRequest(t *testing.T) {
	req, err := proto.DecodeCountRequest([]byte(`{"model":"m","system":"s",` + user + `}`))
	if err != nil {
		t.Fatal(err)
	}
	if req.MaxTokens != nil || req.Model != "m" || len(req.Messages) != 2 {
		t.Errorf("DecodeCountRequest = %s", testkit.Dump(req))
	}
	if _, err := proto.DecodeCountRequest([]byte(`{"model":"m"}`)); err == nil {
		t.Error("a count request without messages was accepted")
	}
}
