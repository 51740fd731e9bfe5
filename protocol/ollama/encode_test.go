package ollama_test

import (
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol/ollama"
)

var encodeRequestTests = []struct {
	name string
	req  llm.Request
	want string
}{
	{
		name: "minimal: stream is always explicit",
		req:  llm.Request{Model: "client", Messages: []llm.Message{userMsg("Hi")}},
		want: `{"model":"up","messages":[{"role":"user","content":"Hi"}],"stream":false}`,
	},
	{
		name: "an OpenAI client's request",
		req: llm.Request{
			Model: "client", Stream: true, StreamUsage: true, Origin: "openai",
			Messages: []llm.Message{
				textMsg(llm.RoleSystem, "Be terse."),
				textMsg(llm.RoleDeveloper, "Use metric units."),
				{Role: llm.RoleUser, Name: "alice", Parts: []llm.Part{llm.TextPart("Weather "), llm.TextPart("here?"), image("image/png", pngB64)}},
				{Role: llm.RoleAssistant, Parts: []llm.Part{
					{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: "Need the weather.", Signature: "sig", Origin: "anthropic"}},
					{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Data: "opaque", Redacted: true, Origin: "anthropic"}},
					llm.TextPart("Checking."),
					call("call_abc", "get_weather", `{"city":"Paris"}`)}},
				{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "call_abc",
					Content: []llm.Part{llm.TextPart("18C")}, IsError: true}}}},
			},
			Tools: []llm.Tool{
				{Type: llm.ToolFunction, Name: "get_weather", Description: "Weather now", Strict: ptr(true),
					Parameters: []byte(`{"type":"object","properties":{"city":{"type":"string"}}}`), Extensions: llm.Extensions{"x": []byte("1")}},
				{Type: "web_search", Raw: []byte(`{"type":"web_search"}`)},
			},
			ToolChoice:        &llm.ToolChoice{Mode: llm.ToolChoiceAuto},
			ParallelToolCalls: ptr(false),
			MaxTokens:         ptr(300), Temperature: ptr(0.2), TopP: ptr(0.9), FrequencyPenalty: ptr(0.1), PresencePenalty: ptr(0.3),
			Seed: ptr(int64(7)), Stop: []string{"END"},
			ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONSchema, Name: "w", Schema: []byte(`{"type":"object"}`), Strict: ptr(true)},
			Reasoning:      &llm.ReasoningConfig{Effort: "minimal"},
			User:           "u1", Metadata: map[string]string{"k": "v"}, Store: ptr(true), ServiceTier: "flex",
			Extensions: llm.Extensions{"prediction": []byte(`{}`), "keep_alive": []byte(`"1h"`)},
		},
		want: `{"model":"up","stream":true,"messages":[
			{"role":"system","content":"Be terse."},
			{"role":"system","content":"Use metric units."},
			{"role":"user","content":"Weather here?","images":["` + pngB64 + `"]},
			{"role":"assistant","content":"Checking.","thinking":"Need the weather.","tool_calls":[{"id":"call_abc","function":{"index":0,"name":"get_weather","arguments":{"city":"Paris"}}}]},
			{"role":"tool","content":"18C","tool_name":"get_weather","tool_call_id":"call_abc"}],
			"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
			"format":{"type":"object"},
			"options":{"num_predict":300,"temperature":0.2,"top_p":0.9,"frequency_penalty":0.1,"presence_penalty":0.3,"seed":7,"stop":["END"]},
			"think":"low"}`,
	},
	{
		name: "made-up ids stay home; results find their tool by id; several results in one message",
		req: llm.Request{Model: "client", Messages: []llm.Message{
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				call(ollama.SyntheticIDPrefix+"0011", "f", ``), call("toolu_01", "g", `  {"y": [1, 2]} `)}},
			{Role: llm.RoleTool, Parts: []llm.Part{
				{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: ollama.SyntheticIDPrefix + "0011", Content: []llm.Part{llm.TextPart("F")}}},
				{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "toolu_01", Name: "g", Content: []llm.Part{
					llm.TextPart("see "), image("image/jpeg", jpegB64)}}},
				{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "unknown"}}}},
		}},
		want: `{"model":"up","stream":false,"messages":[
			{"role":"assistant","content":"","tool_calls":[
				{"function":{"index":0,"name":"f","arguments":{}}},
				{"id":"toolu_01","function":{"index":1,"name":"g","arguments":{"y": [1, 2]}}}]},
			{"role":"tool","content":"F","tool_name":"f"},
			{"role":"tool","content":"see ","images":["` + jpegB64 + `"],"tool_name":"g","tool_call_id":"toolu_01"},
			{"role":"tool","content":"","tool_call_id":"unknown"}]}`,
	},
	{
		name: "tool_choice none sends no tools",
		req: llm.Request{Model: "client", Messages: []llm.Message{userMsg("Hi")}, ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceNone},
			Tools: []llm.Tool{{Type: llm.ToolFunction, Name: "f"}}},
		want: `{"model":"up","stream":false,"messages":[{"role":"user","content":"Hi"}]}`,
	},
	{
		name: "tool_choice auto with allowed tools sends only those; a tool without parameters gets an empty schema",
		req: llm.Request{Model: "client", Messages: []llm.Message{userMsg("Hi")},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceAuto, Allowed: []string{"g"}},
			Tools:      []llm.Tool{{Type: llm.ToolFunction, Name: "f"}, {Name: "g", Description: "G"}}},
		want: `{"model":"up","stream":false,"messages":[{"role":"user","content":"Hi"}],
			"tools":[{"type":"function","function":{"name":"g","description":"G","parameters":{"type":"object","properties":{}}}}]}`,
	},
	{
		name: "an Ollama client's extensions go back to Ollama, canonical values winning",
		req: llm.Request{Model: "client", Stream: true, Origin: "ollama",
			Messages:  []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("Hi")}, Extensions: llm.Extensions{"x_note": []byte("1"), "role": []byte(`"evil"`)}}},
			MaxTokens: ptr(50),
			Tools:     []llm.Tool{{Type: llm.ToolFunction, Name: "f", Parameters: []byte(`{"type":"object"}`), Extensions: llm.Extensions{"items": []byte(`{"a":1}`)}}},
			Extensions: llm.Extensions{"keep_alive": []byte(`"5m"`), "truncate": []byte("true"), "model": []byte(`"evil"`),
				"options": []byte(`{"num_ctx":8192,"num_predict":-1,"seed":-1,"temperature":9}`)},
			Logprobs: true, TopLogprobs: ptr(2)},
		want: `{"model":"up","stream":true,"messages":[{"role":"user","content":"Hi","x_note":1}],
			"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}},"items":{"a":1}}],
			"options":{"num_predict":50,"num_ctx":8192,"seed":-1},
			"keep_alive":"5m","truncate":true,"logprobs":true,"top_logprobs":2}`,
	},
	{
		name: "JSON mode and a schema-less json_schema",
		req: llm.Request{Model: "client", Messages: []llm.Message{userMsg("Hi")},
			ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONSchema}},
		want: `{"model":"up","stream":false,"messages":[{"role":"user","content":"Hi"}],"format":"json"}`,
	},
	{
		name: "text format sends nothing; refusal history is text",
		req: llm.Request{Model: "client", ResponseFormat: &llm.ResponseFormat{Type: llm.FormatText}, Messages: []llm.Message{
			{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartRefusal, Text: "I can't."}}}}},
		want: `{"model":"up","stream":false,"messages":[{"role":"assistant","content":"I can't."}]}`,
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
				t.Errorf("EncodeRequest:\ngot  %s\nwant %s", got, strings.Join(strings.Fields(tt.want), " "))
			}
		})
	}
}

func TestEncodeThink(t *testing.T) {
	tests := []struct {
		cfg  llm.ReasoningConfig
		want string // JSON of think; "" when absent
	}{
		{llm.ReasoningConfig{Mode: llm.ReasoningEnabled}, `true`},
		{llm.ReasoningConfig{Mode: llm.ReasoningAdaptive}, `true`},
		{llm.ReasoningConfig{Mode: llm.ReasoningDisabled}, `false`},
		{llm.ReasoningConfig{Mode: llm.ReasoningDisabled, Effort: "high"}, `false`},
		{llm.ReasoningConfig{Effort: "none"}, `false`},
		{llm.ReasoningConfig{Effort: "minimal"}, `"low"`},
		{llm.ReasoningConfig{Effort: "low"}, `"low"`},
		{llm.ReasoningConfig{Mode: llm.ReasoningEnabled, Effort: "medium"}, `"medium"`},
		{llm.ReasoningConfig{Effort: "high"}, `"high"`},
		{llm.ReasoningConfig{Effort: "xhigh"}, `"max"`},
		{llm.ReasoningConfig{Effort: "max"}, `"max"`},
		{llm.ReasoningConfig{BudgetTokens: ptr(4096)}, `true`},
		{llm.ReasoningConfig{BudgetTokens: ptr(0)}, `false`},
		{llm.ReasoningConfig{Summary: "auto"}, ``},
	}
	for _, tt := range tests {
		req := llm.Request{Model: "m", Messages: []llm.Message{userMsg("Hi")}, Reasoning: &tt.cfg}
		got, err := proto.EncodeRequest(&req, "up")
		if err != nil {
			t.Fatal(err)
		}
		want := `{"model":"up","stream":false,"messages":[{"role":"user","content":"Hi"}]`
		if tt.want != "" {
			want += `,"think":` + tt.want
		}
		if !testkit.JSONEqual(got, []byte(want+"}")) {
			t.Errorf("%+v: got %s, want think %s", tt.cfg, got, tt.want)
		}
	}
}

func TestEncodeRequestRefusals(t *testing.T) {
	base := func(mod func(*llm.Request)) llm.Request {
		r := llm.Request{Model: "m", Messages: []llm.Message{userMsg("Hi")}}
		mod(&r)
		return r
	}
	tests := []struct {
		name  string
		req   llm.Request
		param string
	}{
		{"n", base(func(r *llm.Request) { r.N = 2 }), "n"},
		{"required tool", base(func(r *llm.Request) {
			r.Tools = []llm.Tool{{Type: llm.ToolFunction, Name: "f"}}
			r.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceRequired}
		}), "tool_choice"},
		{"named tool", base(func(r *llm.Request) {
			r.Tools = []llm.Tool{{Type: llm.ToolFunction, Name: "f"}}
			r.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "f"}
		}), "tool_choice"},
		{"custom tool", base(func(r *llm.Request) { r.Tools = []llm.Tool{{Type: llm.ToolCustom, Name: "sql"}} }), "tools[0]"},
		{"image by URL", base(func(r *llm.Request) {
			r.Messages[0].Parts = append(r.Messages[0].Parts, llm.Part{Type: llm.PartImage, Media: &llm.Media{URL: "https://x/a.png"}})
		}), "messages[0].content[1]"},
		{"audio", base(func(r *llm.Request) {
			r.Messages[0].Parts = []llm.Part{{Type: llm.PartAudio, Media: &llm.Media{Data: "UklGRg==", MIMEType: "audio/wav"}}}
		}), "messages[0].content[0]"},
		{"file", base(func(r *llm.Request) {
			r.Messages[0].Parts = []llm.Part{{Type: llm.PartFile, Media: &llm.Media{Data: "JVBERi0=", MIMEType: "application/pdf"}}}
		}), "messages[0].content[0]"},
		{"file in a tool result", base(func(r *llm.Request) {
			r.Messages = append(r.Messages, llm.Message{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{
				CallID: "c", Content: []llm.Part{{Type: llm.PartFile, Media: &llm.Media{FileID: "file-1"}}}}}}})
		}), "messages[1].content[0].content[0]"},
		{"arguments not JSON", base(func(r *llm.Request) {
			r.Messages = append(r.Messages, llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{call("c", "f", `{"a":`)}})
		}), "messages[1].tool_calls[0].function.arguments"},
		{"arguments not an object", base(func(r *llm.Request) {
			r.Messages = append(r.Messages, llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{call("c", "f", `[1]`)}})
		}), "messages[1].tool_calls[0].function.arguments"},
		{"custom call", base(func(r *llm.Request) {
			r.Messages = append(r.Messages, llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c", Type: llm.CallCustom, Name: "sql", Arguments: "SELECT 1"}}}})
		}), "messages[1].tool_calls[0]"},
		{"unknown role", base(func(r *llm.Request) { r.Messages[0].Role = "critic" }), "messages[0].role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := proto.EncodeRequest(&tt.req, "up")
			if err == nil {
				t.Fatalf("EncodeRequest accepted it: %s", out)
			}
			e := asError(t, err)
			if e.Kind != llm.KindInvalidRequest || e.Param != tt.param || e.Message == "" {
				t.Errorf("error = kind %q param %q message %q, want param %q", e.Kind, e.Param, e.Message, tt.param)
			}
		})
	}
}

func TestEgressSurface(t *testing.T) {
	if got := proto.Endpoint("llama3.2", true); got != "/api/chat" {
		t.Errorf("Endpoint = %q", got)
	}
	if !proto.InlineMedia() {
		t.Error("InlineMedia = false; Ollama takes only base64 images")
	}
	if got := proto.ModelsEndpoint(); got != "/api/tags" {
		t.Errorf("ModelsEndpoint = %q", got)
	}
}
