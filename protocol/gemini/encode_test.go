package gemini_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

func hi() []llm.Message { return []llm.Message{userMsg("Hi")} }

const hiContents = `"contents":[{"role":"user","parts":[{"text":"Hi"}]}]`

func call(id, name, args string) llm.Part {
	return llm.Part{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: id, Type: llm.CallFunction, Name: name, Arguments: args}}
}

func result(id, text string) llm.Part {
	return llm.Part{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: id, Content: []llm.Part{llm.TextPart(text)}}}
}

func image(m *llm.Media) llm.Part { return llm.Part{Type: llm.PartImage, Media: m} }

// TestEncodeRequest encodes canonical requests as other protocols' ingress
// decoders produce them (mostly OpenAI-shaped: Origin "openai").
func TestEncodeRequest(t *testing.T) {
	tests := []struct {
		name  string
		model string // "" is gemini-2.5-flash
		req   llm.Request
		want  string
	}{
		{
			name: "sampling and harmless fields dropped",
			req: llm.Request{Origin: "openai", Messages: hi(), Temperature: ptr(0.2), TopP: ptr(0.9), TopK: ptr(5),
				MaxTokens: ptr(100), Stop: []string{"X"}, Seed: ptr(int64(7)), PresencePenalty: ptr(0.1), FrequencyPenalty: ptr(0.2),
				N: 3, Logprobs: true, TopLogprobs: ptr(2), User: "u", Store: ptr(true), Metadata: map[string]string{"a": "b"},
				ServiceTier: "flex", ParallelToolCalls: ptr(false), StreamUsage: true,
				Extensions: llm.Extensions{"logit_bias": json.RawMessage(`{"1":2}`)}},
			want: `{` + hiContents + `,"generationConfig":{"temperature":0.2,"topP":0.9,"topK":5,"maxOutputTokens":100,
				"stopSequences":["X"],"seed":7,"presencePenalty":0.1,"frequencyPenalty":0.2,"candidateCount":3,
				"responseLogprobs":true,"logprobs":2}}`,
		},
		{
			name: "system and developer messages anywhere join the system instruction",
			req: llm.Request{Origin: "openai", Messages: []llm.Message{
				{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("Be brief.")}},
				userMsg("Hi"),
				{Role: llm.RoleDeveloper, Parts: []llm.Part{llm.TextPart("Use French.")}},
				{Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart("Bonjour")}},
			}},
			want: `{"systemInstruction":{"parts":[{"text":"Be brief."},{"text":"Use French."}]},` +
				`"contents":[{"role":"user","parts":[{"text":"Hi"}]},{"role":"model","parts":[{"text":"Bonjour"}]}]}`,
		},
		{
			name: "OpenAI tool history: real ids sent, names found, results merged into one turn",
			req: llm.Request{Origin: "openai", Messages: []llm.Message{
				userMsg("Weather?"),
				{Role: llm.RoleAssistant, Parts: []llm.Part{call("call_1", "get_weather", `{"city":"Paris"}`), call("call_2", "get_time", "")}},
				{Role: llm.RoleTool, Parts: []llm.Part{result("call_1", `{"temp": 18}`)}},
				{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "call_2", IsError: true, Content: []llm.Part{llm.TextPart("down")}}}}},
				userMsg("And?"),
			}},
			want: `{"contents":[{"role":"user","parts":[{"text":"Weather?"}]},
				{"role":"model","parts":[{"functionCall":{"id":"call_1","name":"get_weather","args":{"city":"Paris"}}},{"functionCall":{"id":"call_2","name":"get_time","args":{}}}]},
				{"role":"user","parts":[{"functionResponse":{"id":"call_1","name":"get_weather","response":{"temp": 18}}},
					{"functionResponse":{"id":"call_2","name":"get_time","response":{"error":"down"}}},{"text":"And?"}]}]}`,
		},
		{
			name: "made-up ids stay here; their signature is Gemini's and goes back",
			req: llm.Request{Origin: "openai", Messages: []llm.Message{
				userMsg("Q"),
				{Role: llm.RoleAssistant, Parts: []llm.Part{
					{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_gemini_0123456789abcdef", Name: "f", Arguments: `{}`, Signature: "R0VN"}},
					{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "toolu_1", Name: "g", Arguments: `{}`, Signature: "Rk9SRUlHTg=="}}}},
				{Role: llm.RoleTool, Parts: []llm.Part{result("call_gemini_0123456789abcdef", "plain text"), result("toolu_1", "")}},
			}},
			want: `{"contents":[{"role":"user","parts":[{"text":"Q"}]},
				{"role":"model","parts":[{"functionCall":{"name":"f","args":{}},"thoughtSignature":"R0VN"},{"functionCall":{"id":"toolu_1","name":"g","args":{}}}]},
				{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"result":"plain text"}}},{"functionResponse":{"id":"toolu_1","name":"g","response":{"result":""}}}]}]}`,
		},
		{
			name:  "Gemini 3: an unsigned call gets the documented placeholder",
			model: "gemini-3-pro-preview",
			req: llm.Request{Origin: "openai", Messages: []llm.Message{
				userMsg("Q"),
				{Role: llm.RoleAssistant, Parts: []llm.Part{call("call_1", "f", `{}`), call("call_2", "f", `{}`)}},
				{Role: llm.RoleTool, Parts: []llm.Part{result("call_1", "a"), result("call_2", "b")}},
			}},
			want: `{"contents":[{"role":"user","parts":[{"text":"Q"}]},
				{"role":"model","parts":[{"functionCall":{"id":"call_1","name":"f","args":{}},"thoughtSignature":"skip_thought_signature_validator"},{"functionCall":{"id":"call_2","name":"f","args":{}}}]},
				{"role":"user","parts":[{"functionResponse":{"id":"call_1","name":"f","response":{"result":"a"}}},{"functionResponse":{"id":"call_2","name":"f","response":{"result":"b"}}}]}]}`,
		},
		{
			name: "a tool result's image follows its response",
			req: llm.Request{Origin: "anthropic", Messages: []llm.Message{
				{Role: llm.RoleAssistant, Parts: []llm.Part{call("toolu_9", "shot", `{}`)}},
				{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "toolu_9", Name: "shot",
					Content: []llm.Part{llm.TextPart("here"), image(&llm.Media{MIMEType: "image/png", Data: "iVBORw0KGgo="})}}}}},
			}},
			want: `{"contents":[{"role":"model","parts":[{"functionCall":{"id":"toolu_9","name":"shot","args":{}}}]},
				{"role":"user","parts":[{"functionResponse":{"id":"toolu_9","name":"shot","response":{"result":"here"}}},{"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}}]}]}`,
		},
		{
			name: "media: inline, data URL, gs://, Files API, sniffed type",
			req: llm.Request{Origin: "openai", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
				image(&llm.Media{Data: "/9j/4AAQ"}),
				image(&llm.Media{URL: "data:image/gif;base64,R0lGODlh"}),
				image(&llm.Media{URL: "gs://b/cat.png", MIMEType: "image/png"}),
				{Type: llm.PartFile, Media: &llm.Media{URL: "https://generativelanguage.googleapis.com/v1beta/files/x", MIMEType: "application/pdf"}},
				{Type: llm.PartAudio, Media: &llm.Media{Data: "UklGRgAAAABXQVZF"}},
			}}}},
			want: `{"contents":[{"role":"user","parts":[{"inlineData":{"mimeType":"image/jpeg","data":"/9j/4AAQ"}},
				{"inlineData":{"mimeType":"image/gif","data":"R0lGODlh"}},{"fileData":{"mimeType":"image/png","fileUri":"gs://b/cat.png"}},
				{"fileData":{"mimeType":"application/pdf","fileUri":"https://generativelanguage.googleapis.com/v1beta/files/x"}},
				{"inlineData":{"mimeType":"audio/wav","data":"UklGRgAAAABXQVZF"}}]}]}`,
		},
		{
			name: "reasoning of other protocols is dropped, Gemini's kept",
			req: llm.Request{Origin: "anthropic", Messages: []llm.Message{
				userMsg("Q"),
				{Role: llm.RoleAssistant, Parts: []llm.Part{
					{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: "claude thinks", Signature: "c2ln", Origin: "anthropic"}},
					{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: "gemini thinks", Signature: "Z2Vt", Origin: "gemini"}},
					{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Signature: "ZW5k", Origin: "gemini"}},
					llm.TextPart("A"),
				}},
				userMsg("Q2"),
			}},
			want: `{"contents":[{"role":"user","parts":[{"text":"Q"}]},
				{"role":"model","parts":[{"text":"gemini thinks","thought":true,"thoughtSignature":"Z2Vt"},{"text":"","thoughtSignature":"ZW5k"},{"text":"A"}]},
				{"role":"user","parts":[{"text":"Q2"}]}]}`,
		},
		{
			name: "a reasoning-only assistant turn vanishes and the user turns merge",
			req: llm.Request{Origin: "anthropic", Messages: []llm.Message{
				userMsg("A"),
				{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: "t", Origin: "anthropic"}}}},
				userMsg("B"),
			}},
			want: `{"contents":[{"role":"user","parts":[{"text":"A"},{"text":"B"}]}]}`,
		},
		{
			name: "tools: JSON Schema as is; hosted tools of other protocols dropped; choice of one tool",
			req: llm.Request{Origin: "openai", Messages: hi(), Tools: []llm.Tool{
				{Type: llm.ToolFunction, Name: "f", Description: "F", Parameters: json.RawMessage(`{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}`), Strict: ptr(true)},
				{Type: llm.ToolFunction, Name: "g"},
				{Type: "web_search", Raw: json.RawMessage(`{"type":"web_search"}`)},
			}, ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "f"}},
			want: `{` + hiContents + `,"tools":[{"functionDeclarations":[{"name":"f","description":"F","parametersJsonSchema":{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}},{"name":"g"}]}],
				"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["f"]}}}`,
		},
		{
			name: "tool choice auto within allowed tools",
			req:  llm.Request{Origin: "openai", Messages: hi(), ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceAuto, Allowed: []string{"a", "b"}}},
			want: `{` + hiContents + `,"toolConfig":{"functionCallingConfig":{"mode":"AUTO","allowedFunctionNames":["a","b"]}}}`,
		},
		{
			name: "tool choice required",
			req:  llm.Request{Origin: "openai", Messages: hi(), ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceRequired}},
			want: `{` + hiContents + `,"toolConfig":{"functionCallingConfig":{"mode":"ANY"}}}`,
		},
		{
			name: "tool choice none",
			req:  llm.Request{Origin: "openai", Messages: hi(), ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceNone, Allowed: []string{"x"}}},
			want: `{` + hiContents + `,"toolConfig":{"functionCallingConfig":{"mode":"NONE"}}}`,
		},
		{
			name: "JSON schema output",
			req: llm.Request{Origin: "openai", Messages: hi(), ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONSchema, Name: "r",
				Schema: json.RawMessage(`{"type":"object"}`), Strict: ptr(true)}},
			want: `{` + hiContents + `,"generationConfig":{"responseMimeType":"application/json","responseJsonSchema":{"type":"object"}}}`,
		},
		{
			name: "JSON mode; text format is the default",
			req:  llm.Request{Origin: "openai", Messages: hi(), ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONObject}},
			want: `{` + hiContents + `,"generationConfig":{"responseMimeType":"application/json"}}`,
		},
		{
			name: "effort as a budget for Gemini 2.5",
			req:  llm.Request{Origin: "openai", Messages: hi(), Reasoning: &llm.ReasoningConfig{Effort: "medium"}},
			want: `{` + hiContents + `,"generationConfig":{"thinkingConfig":{"thinkingBudget":8192}}}`,
		},
		{
			name:  "effort as a level for Gemini 3",
			model: "models/gemini-3-flash-preview",
			req:   llm.Request{Origin: "openai", Messages: hi(), Reasoning: &llm.ReasoningConfig{Effort: "xhigh", Summary: "auto"}},
			want:  `{` + hiContents + `,"generationConfig":{"thinkingConfig":{"thinkingLevel":"HIGH","includeThoughts":true}}}`,
		},
		{
			name: "reasoning disabled",
			req:  llm.Request{Origin: "openai", Messages: hi(), Reasoning: &llm.ReasoningConfig{Effort: "none", Mode: llm.ReasoningDisabled, IncludeThoughts: true}},
			want: `{` + hiContents + `,"generationConfig":{"thinkingConfig":{"thinkingBudget":0}}}`,
		},
		{
			name: "an Anthropic budget, thinking shown",
			req:  llm.Request{Origin: "anthropic", Messages: hi(), Reasoning: &llm.ReasoningConfig{Mode: llm.ReasoningEnabled, BudgetTokens: ptr(5000), Display: "summarized"}},
			want: `{` + hiContents + `,"generationConfig":{"thinkingConfig":{"thinkingBudget":5000,"includeThoughts":true}}}`,
		},
		{
			name: "adaptive is dynamic",
			req:  llm.Request{Origin: "anthropic", Messages: hi(), Reasoning: &llm.ReasoningConfig{Mode: llm.ReasoningAdaptive}},
			want: `{` + hiContents + `,"generationConfig":{"thinkingConfig":{"thinkingBudget":-1}}}`,
		},
		{
			name: "another protocol's extensions stay behind",
			req: llm.Request{Origin: "anthropic", Messages: hi(), Extensions: llm.Extensions{"safetySettings": json.RawMessage(`[]`),
				"generationConfig": json.RawMessage(`{"responseModalities":["IMAGE"]}`)}},
			want: `{` + hiContents + `}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			model := tt.model
			if model == "" {
				model = "gemini-2.5-flash"
			}
			got, err := proto.EncodeRequest(&tt.req, model)
			if err != nil {
				t.Fatalf("EncodeRequest: %v", err)
			}
			if !testkit.JSONEqual(got, []byte(tt.want)) {
				t.Errorf("EncodeRequest:\ngot  %s\nwant %s", got, compactJSON(t, tt.want))
			}
		})
	}
}

func compactJSON(t *testing.T, s string) string {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad expectation %s: %v", s, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestEncodeRequestRefusals(t *testing.T) {
	tests := []struct {
		name  string
		req   llm.Request
		param string
		msg   string
	}{
		{"only instructions", llm.Request{Messages: []llm.Message{{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("S")}}}},
			"messages", "at least one user or assistant message"},
		{"arguments not an object", llm.Request{Messages: []llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{call("c", "f", `[1]`)}}}},
			"messages[0].tool_calls[0].function.arguments", "JSON object"},
		{"arguments not JSON", llm.Request{Messages: []llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{call("c", "f", `{"a":`)}}}},
			"messages[0].tool_calls[0].function.arguments", "JSON object"},
		{"custom tool call", llm.Request{Messages: []llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{
			{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c", Type: llm.CallCustom, Name: "sql", Arguments: "SELECT 1"}}}}}},
			"messages[0].tool_calls[0]", "custom tool calls"},
		{"custom tool", llm.Request{Messages: hi(), Tools: []llm.Tool{{Type: llm.ToolCustom, Name: "sql"}}}, "tools[0]", "custom tool"},
		{"result answering nothing", llm.Request{Messages: []llm.Message{userMsg("Q"), {Role: llm.RoleTool, Parts: []llm.Part{result("nope", "x")}}}},
			"messages[1].content[0]", "answers no earlier tool call"},
		{"image by http URL", llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("see"), image(&llm.Media{URL: "https://example.com/a.png"})}}}},
			"messages[0].content[1]", "not other URLs"},
		{"file by id", llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartFile, Media: &llm.Media{FileID: "file-1"}}}}}},
			"messages[0].content[0]", "by id"},
		{"image in the system prompt", llm.Request{Messages: []llm.Message{{Role: llm.RoleSystem, Parts: []llm.Part{image(&llm.Media{Data: "AA=="})}}, userMsg("Hi")}},
			"messages[0].content[0]", "only text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Origin = "openai"
			_, err := proto.EncodeRequest(&tt.req, "gemini-2.5-flash")
			if err == nil {
				t.Fatal("EncodeRequest accepted it")
			}
			e := asError(t, err)
			if e.Kind != llm.KindInvalidRequest || e.Param != tt.param || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("error kind %q param %q message %q; want param %q, message with %q", e.Kind, e.Param, e.Message, tt.param, tt.msg)
			}
		})
	}
}

// TestEncodeCountRequest: contents alone, or the generateContentRequest
// form when there is a system instruction or tools to count.
func TestEncodeCountRequest(t *testing.T) {
	got, err := proto.EncodeCountRequest(&llm.Request{Messages: hi(), Temperature: ptr(0.5)}, "gemini-2.5-flash")
	if err != nil || !testkit.JSONEqual(got, []byte(`{`+hiContents+`}`)) {
		t.Errorf("contents only: %s, %v", got, err)
	}
	req := &llm.Request{Messages: append([]llm.Message{{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("S")}}}, hi()...),
		Tools: []llm.Tool{{Type: llm.ToolFunction, Name: "f"}}}
	got, err = proto.EncodeCountRequest(req, "models/gemini-2.5-pro")
	want := `{"generateContentRequest":{"model":"models/gemini-2.5-pro",` + hiContents +
		`,"systemInstruction":{"parts":[{"text":"S"}]},"tools":[{"functionDeclarations":[{"name":"f"}]}]}}`
	if err != nil || !testkit.JSONEqual(got, []byte(want)) {
		t.Errorf("with system and tools:\n%s\nwant\n%s (%v)", got, want, err)
	}
}
