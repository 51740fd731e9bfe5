package responses_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// encodeRequestTests encode canonical requests from other protocols for a
// Responses upstream; want is the upstream body (compared as JSON).
var encodeRequestTests = []struct {
	name string
	req  llm.Request
	want string
}{
	{
		name: "system first becomes instructions, store defaults to false",
		req: llm.Request{Model: "x", Origin: "anthropic", Messages: []llm.Message{
			{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("Be brief.")}},
			{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("Use French.")}},
			userMsg("Hi"),
			{Role: llm.RoleDeveloper, Parts: []llm.Part{llm.TextPart("Late rule.")}},
		}, Extensions: ext("anthropic_field", `1`)},
		want: `{"model":"up","instructions":"Be brief.","store":false,"input":[
			{"type":"message","role":"system","content":"Use French."},
			{"type":"message","role":"user","content":"Hi"},
			{"type":"message","role":"developer","content":"Late rule."}]}`,
	},
	{
		name: "settings",
		req: llm.Request{Model: "x", Origin: "openai", Messages: []llm.Message{userMsg("Hi")},
			MaxTokens: ptr(100), Temperature: ptr(0.3), TopP: ptr(0.8), ParallelToolCalls: ptr(false), Stream: true, StreamUsage: true,
			User: "u1", Metadata: map[string]string{"k": "v"}, ServiceTier: "priority", Store: ptr(true),
			Logprobs: true, TopLogprobs: ptr(2),
			ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONSchema, Schema: json.RawMessage(`{"type":"object"}`), Strict: ptr(true)},
			Reasoning:      &llm.ReasoningConfig{Effort: "low", Summary: "auto"}},
		want: `{"model":"up","input":[{"type":"message","role":"user","content":"Hi"}],"max_output_tokens":100,"temperature":0.3,
			"top_p":0.8,"top_logprobs":2,"parallel_tool_calls":false,"reasoning":{"effort":"low","summary":"auto"},
			"text":{"format":{"type":"json_schema","name":"response","schema":{"type":"object"},"strict":true}},
			"include":["message.output_text.logprobs"],"store":true,"stream":true,"metadata":{"k":"v"},"user":"u1","service_tier":"priority"}`,
	},
	{
		name: "tools of another protocol: strict false, empty schema, hosted tools dropped",
		req: llm.Request{Model: "x", Origin: "anthropic", Messages: []llm.Message{userMsg("Hi")},
			Tools: []llm.Tool{
				{Type: llm.ToolFunction, Name: "f", Description: "F.", Parameters: json.RawMessage(`{"type":"object","properties":{"a":{"type":"string"}}}`),
					Extensions: ext("defer_loading", `true`)},
				{Type: llm.ToolFunction, Name: "g"},
				{Type: llm.ToolFunction, Name: "h", Strict: ptr(true), Parameters: json.RawMessage(`{"type":"object"}`)},
				{Type: "web_search_20250305", Name: "web_search", Raw: json.RawMessage(`{"type":"web_search_20250305","name":"web_search"}`)},
				{Type: llm.ToolCustom, Name: "patch", Raw: json.RawMessage(`{"name":"patch","format":{"type":"grammar","syntax":"lark","definition":"x"}}`)},
			},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "patch"}},
		want: `{"model":"up","store":false,"input":[{"type":"message","role":"user","content":"Hi"}],"tools":[
			{"type":"function","name":"f","description":"F.","parameters":{"type":"object","properties":{"a":{"type":"string"}}},"strict":false},
			{"type":"function","name":"g","parameters":{"type":"object","properties":{}},"strict":false},
			{"type":"function","name":"h","parameters":{"type":"object"},"strict":true},
			{"type":"custom","name":"patch","format":{"type":"grammar","syntax":"lark","definition":"x"}}],
			"tool_choice":{"type":"custom","name":"patch"}}`,
	},
	{
		name: "allowed tools and plain tool choices",
		req: llm.Request{Model: "x", Origin: "gemini", Messages: []llm.Message{userMsg("Hi")},
			Tools:      []llm.Tool{{Type: llm.ToolFunction, Name: "f", Parameters: json.RawMessage(`{"type":"object"}`)}},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceRequired, Allowed: []string{"f"}}},
		want: `{"model":"up","store":false,"input":[{"type":"message","role":"user","content":"Hi"}],
			"tools":[{"type":"function","name":"f","parameters":{"type":"object"},"strict":false}],
			"tool_choice":{"type":"allowed_tools","mode":"required","tools":[{"type":"function","name":"f"}]}}`,
	},
	{
		name: "history: reasoning of other origins dropped, calls and results, media",
		req: llm.Request{Model: "x", Origin: "anthropic", Messages: []llm.Message{
			{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("Look:"),
				{Type: llm.PartImage, Media: &llm.Media{MIMEType: "image/png", Data: "iVBO"}},
				{Type: llm.PartImage, Media: &llm.Media{URL: "https://x/a.jpg", Detail: "low"}},
				{Type: llm.PartFile, Media: &llm.Media{MIMEType: "application/pdf", Data: "JVBE"}},
				{Type: llm.PartFile, Media: &llm.Media{URL: "https://x/b.pdf", Filename: "b.pdf"}},
				{Type: llm.PartAudio, Media: &llm.Media{MIMEType: "audio/wav", Data: "UklG"}}}},
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: "thinking", Signature: "sig", Origin: "anthropic"}},
				llm.TextPart("Checking."),
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "toolu_1", Name: "f", Arguments: `{"a":"b"}`}},
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "toolu_2", Name: "g"}}}},
			{Role: llm.RoleTool, Parts: []llm.Part{
				{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "toolu_1", Content: []llm.Part{llm.TextPart("r1")}, IsError: true}},
				{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "toolu_2", Content: []llm.Part{llm.TextPart("see"),
					{Type: llm.PartImage, Media: &llm.Media{URL: "https://x/c.png"}}}}}}},
		}},
		want: `{"model":"up","store":false,"input":[
			{"type":"message","role":"user","content":[{"type":"input_text","text":"Look:"},
				{"type":"input_image","image_url":"data:image/png;base64,iVBO","detail":"auto"},
				{"type":"input_image","image_url":"https://x/a.jpg","detail":"low"},
				{"type":"input_file","file_data":"data:application/pdf;base64,JVBE","filename":"file.pdf"},
				{"type":"input_file","file_url":"https://x/b.pdf","filename":"b.pdf"},
				{"type":"input_audio","input_audio":{"data":"UklG","format":"wav"}}]},
			{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Checking."}]},
			{"type":"function_call","call_id":"toolu_1","name":"f","arguments":"{\"a\":\"b\"}"},
			{"type":"function_call","call_id":"toolu_2","name":"g","arguments":"{}"},
			{"type":"function_call_output","call_id":"toolu_1","output":"r1"},
			{"type":"function_call_output","call_id":"toolu_2","output":[{"type":"input_text","text":"see"},{"type":"input_image","image_url":"https://x/c.png"}]}]}`,
	},
	{
		name: "reasoning of a Responses upstream goes back, a bare summary does not",
		req: llm.Request{Model: "x", Origin: "responses", Messages: []llm.Message{userMsg("Hi"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: "shown to the client", Summary: true, Origin: "responses"}},
				llm.TextPart("Hello."),
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{ID: "rs_1", Text: "S", Summary: true, Data: "ENC", Origin: "responses"}},
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{ID: "rs_1", Text: "R", Origin: "responses"}},
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Data: "ENC2", Origin: "responses"}},
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c", Type: llm.CallCustom, Name: "p", Arguments: "x"}}}},
			{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "c",
				Content: []llm.Part{llm.TextPart("done")}}}}},
		}},
		want: `{"model":"up","store":false,"input":[
			{"type":"message","role":"user","content":"Hi"},
			{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hello."}]},
			{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"S"}],"content":[{"type":"reasoning_text","text":"R"}],"encrypted_content":"ENC"},
			{"type":"reasoning","summary":[],"encrypted_content":"ENC2"},
			{"type":"custom_tool_call","call_id":"c","name":"p","input":"x"},
			{"type":"custom_tool_call_output","call_id":"c","output":"done"}]}`,
	},
	{
		name: "reasoning budgets become efforts",
		req: llm.Request{Model: "x", Origin: "anthropic", Messages: []llm.Message{userMsg("Hi")},
			Reasoning: &llm.ReasoningConfig{Mode: llm.ReasoningEnabled, BudgetTokens: ptr(10000), Display: "summarized"}},
		want: `{"model":"up","store":false,"input":[{"type":"message","role":"user","content":"Hi"}],"reasoning":{"effort":"medium","summary":"auto"}}`,
	},
	{
		name: "disabled reasoning and an adaptive one",
		req: llm.Request{Model: "x", Origin: "gemini", Messages: []llm.Message{userMsg("Hi")},
			Reasoning: &llm.ReasoningConfig{Mode: llm.ReasoningDisabled, IncludeThoughts: true}},
		want: `{"model":"up","store":false,"input":[{"type":"message","role":"user","content":"Hi"}],"reasoning":{"effort":"none"}}`,
	},
}

func TestEncodeRequest(t *testing.T) {
	for _, tt := range encodeRequestTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := proto.EncodeRequest(&tt.req, "up")
			if err != nil {
				t.Fatalf("EncodeRequest: %v", err)
			}
			if !testkit.JSONEqual(got, []byte(tt.want)) {
				t.Errorf("EncodeRequest =\n%s\nwant\n%s", testkit.IndentJSON(t, got), testkit.IndentJSON(t, []byte(tt.want)))
			}
		})
	}
}

func TestEffortTable(t *testing.T) {
	for budget, want := range map[int]string{-1: "", 0: "", 1024: "low", 2048: "low", 2049: "medium", 12288: "medium", 12289: "high", 64000: "high"} {
		req := &llm.Request{Model: "x", Messages: []llm.Message{userMsg("Hi")}, Reasoning: &llm.ReasoningConfig{BudgetTokens: ptr(budget)}}
		out, err := proto.EncodeRequest(req, "up")
		if err != nil {
			t.Fatal(err)
		}
		var wire struct {
			Reasoning *struct{ Effort string } `json:"reasoning"`
		}
		if err := json.Unmarshal(out, &wire); err != nil {
			t.Fatal(err)
		}
		got := ""
		if wire.Reasoning != nil {
			got = wire.Reasoning.Effort
		}
		if got != want {
			t.Errorf("budget %d: effort %q, want %q", budget, got, want)
		}
	}
}

// TestEncodeRequestRefusals: what the Responses API cannot express is
// refused with a 400 naming it; top_k and seed are dropped instead
// (TestEncodeRequestDropsSamplingHints).
func TestEncodeRequestRefusals(t *testing.T) {
	base := func() llm.Request {
		return llm.Request{Model: "x", Origin: "openai", Messages: []llm.Message{userMsg("Hi")}}
	}
	tests := []struct {
		param  string
		change func(*llm.Request)
	}{
		{"n", func(r *llm.Request) { r.N = 2 }},
		{"stop", func(r *llm.Request) { r.Stop = []string{"END"} }},
		{"frequency_penalty", func(r *llm.Request) { r.FrequencyPenalty = ptr(0.5) }},
		{"presence_penalty", func(r *llm.Request) { r.PresencePenalty = ptr(0.5) }},
		{"messages[0]", func(r *llm.Request) {
			r.Messages[0].Parts = []llm.Part{{Type: llm.PartAudio, Media: &llm.Media{URL: "https://x/a.wav"}}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.param, func(t *testing.T) {
			req := base()
			tt.change(&req)
			_, err := proto.EncodeRequest(&req, "up")
			if err == nil {
				t.Fatal("EncodeRequest accepted the request")
			}
			e := asError(t, err)
			if e.Kind != llm.KindInvalidRequest || e.Param != tt.param || !strings.Contains(e.Message, tt.param) {
				t.Errorf("error %+v, want a 400 naming %q", e, tt.param)
			}
		})
	}
	// n of 1 is no alternative at all.
	req := base()
	req.N = 1
	if _, err := proto.EncodeRequest(&req, "up"); err != nil {
		t.Errorf("n=1: %v", err)
	}
}

// TestEncodeOwnExtensions: a Responses request keeps its hosted tools,
// namespaces, reasoning and vendor fields on the way to a Responses
// upstream, and another protocol's are dropped.
func TestEncodeOwnExtensions(t *testing.T) {
	body := testkit.ReadFile(t, "testdata/requests/codex.json")
	req, err := proto.DecodeRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	own, err := proto.EncodeRequest(req, "up")
	if err != nil {
		t.Fatal(err)
	}
	req.Origin = "anthropic"
	foreign, err := proto.EncodeRequest(req, "up")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"web_search"`, `"namespace"`, `"prompt_cache_key"`, `"verbosity"`, `"client_metadata"`, `"defer_loading"`} {
		if !strings.Contains(string(own), s) {
			t.Errorf("own encoding lacks %s", s)
		}
		if strings.Contains(string(foreign), s) {
			t.Errorf("foreign encoding has %s:\n%s", s, foreign)
		}
	}
	// Reasoning made by a Responses upstream goes back to one, whoever
	// carried it. Namespaced tools of another protocol are ordinary tools
	// with the flattened name.
	if !strings.Contains(string(foreign), `"encrypted_content":"gAAAAABpZ1encrypted-reasoning-1"`) {
		t.Errorf("foreign encoding lost the Responses reasoning:\n%s", foreign)
	}
	if !strings.Contains(string(foreign), `"name":"mcp__docs__search"`) {
		t.Errorf("foreign encoding lacks the flattened tool name:\n%s", foreign)
	}
}

func TestEncodeRequestDropsSamplingHints(t *testing.T) {
	req := &llm.Request{Model: "x", Origin: "gemini", Messages: []llm.Message{userMsg("Hi")}, TopK: ptr(64), Seed: ptr(int64(7))}
	out, err := proto.EncodeRequest(req, "up")
	if err != nil {
		t.Fatal(err)
	}
	if s := string(out); strings.Contains(s, "top_k") || strings.Contains(s, "seed") {
		t.Errorf("sampling hints reached the upstream: %s", s)
	}
}
