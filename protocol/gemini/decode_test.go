package gemini_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

func userMsg(text string) llm.Message {
	return llm.Message{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(text)}}
}

const hello = `"contents":[{"role":"user","parts":[{"text":"Hi"}]}]`

var decodeRequestTests = []struct {
	name string
	body string
	want llm.Request
}{
	{
		name: "minimal: model and stream stay empty",
		body: `{` + hello + `}`,
		want: llm.Request{Origin: "gemini", Messages: []llm.Message{userMsg("Hi")}},
	},
	{
		name: "missing role is user, system instruction as a string",
		body: `{"systemInstruction":"Be brief.","contents":[{"parts":[{"text":"Hi"}]}]}`,
		want: llm.Request{Origin: "gemini", Messages: []llm.Message{
			{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("Be brief.")}}, userMsg("Hi")}},
	},
	{
		name: "function call without id answered by name, in order",
		body: `{"contents":[{"role":"user","parts":[{"text":"Hi"}]},
			{"role":"model","parts":[{"functionCall":{"name":"f","args":{"x":1}}},{"functionCall":{"name":"f","args":{"x":2}}}]},
			{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"result":"one"}}},{"functionResponse":{"name":"f","response":{"error":"two failed"}}},{"text":"and?"}]}]}`,
		want: llm.Request{Origin: "gemini", Messages: []llm.Message{
			userMsg("Hi"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_gemini_a", Type: "function", Name: "f", Arguments: `{"x":1}`}},
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_gemini_b", Type: "function", Name: "f", Arguments: `{"x":2}`}}}},
			{Role: llm.RoleTool, Parts: []llm.Part{
				{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "call_gemini_a", Name: "f", Content: []llm.Part{llm.TextPart("one")}}},
				{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "call_gemini_b", Name: "f", Content: []llm.Part{llm.TextPart("two failed")}, IsError: true}}}},
			userMsg("and?"),
		}},
	},
	{
		name: "ids kept; a JSON result that wraps JSON stays whole",
		body: `{"contents":[{"role":"model","parts":[{"functionCall":{"id":"c1","name":"f"},"thoughtSignature":"U0lH"}]},
			{"role":"user","parts":[{"functionResponse":{"id":"c1","name":"f","response":{"result":"{\"a\":1}"}}}]}]}`,
		want: llm.Request{Origin: "gemini", Messages: []llm.Message{
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c1", Type: "function", Name: "f", Arguments: `{}`, Signature: "U0lH"}}}},
			{Role: llm.RoleTool, Parts: []llm.Part{
				{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "c1", Name: "f", Content: []llm.Part{llm.TextPart(`{"result":"{\"a\":1}"}`)}}}}},
		}},
	},
	{
		name: "tool config ANY with one name forces it; several allow them",
		body: `{` + hello + `,"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["a"]}}}`,
		want: llm.Request{Origin: "gemini", Messages: []llm.Message{userMsg("Hi")},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "a"}},
	},
	{
		name: "tool config ANY with several names",
		body: `{` + hello + `,"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["a","b"]}}}`,
		want: llm.Request{Origin: "gemini", Messages: []llm.Message{userMsg("Hi")},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceRequired, Allowed: []string{"a", "b"}}},
	},
	{
		name: "tool config NONE",
		body: `{` + hello + `,"toolConfig":{"functionCallingConfig":{"mode":"NONE"}}}`,
		want: llm.Request{Origin: "gemini", Messages: []llm.Message{userMsg("Hi")},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceNone}},
	},
	{
		name: "thinking budget -1 is adaptive",
		body: `{` + hello + `,"generationConfig":{"thinkingConfig":{"thinkingBudget":-1,"includeThoughts":true}}}`,
		want: llm.Request{Origin: "gemini", Messages: []llm.Message{userMsg("Hi")},
			Reasoning: &llm.ReasoningConfig{Mode: llm.ReasoningAdaptive, IncludeThoughts: true}},
	},
	{
		name: "thinking level is the effort",
		body: `{` + hello + `,"generationConfig":{"thinkingConfig":{"thinkingLevel":"LOW"}}}`,
		want: llm.Request{Origin: "gemini", Messages: []llm.Message{userMsg("Hi")},
			Reasoning: &llm.ReasoningConfig{Effort: "low"}},
	},
	{
		name: "JSON mode",
		body: `{` + hello + `,"generationConfig":{"responseMimeType":"application/json"}}`,
		want: llm.Request{Origin: "gemini", Messages: []llm.Message{userMsg("Hi")},
			ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONObject}},
	},
	{
		name: "topK as a float, as the genai SDK sends it",
		body: `{` + hello + `,"generationConfig":{"topK":40.0,"candidateCount":1}}`,
		want: llm.Request{Origin: "gemini", Messages: []llm.Message{userMsg("Hi")}, TopK: ptr(40), N: 1},
	},
	{
		name: "the legacy function role is a user turn",
		body: `{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},{"role":"function","parts":[{"functionResponse":{"name":"f","response":{"ok":true}}}]}]}`,
		want: llm.Request{Origin: "gemini", Messages: []llm.Message{
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_gemini_a", Type: "function", Name: "f", Arguments: `{}`}}}},
			{Role: llm.RoleTool, Parts: []llm.Part{
				{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "call_gemini_a", Name: "f", Content: []llm.Part{llm.TextPart(`{"ok":true}`)}}}}},
		}},
	},
	{
		name: "empty text parts and turns say nothing",
		body: `{"contents":[{"role":"user","parts":[{"text":""}]},{"role":"user","parts":[{"text":"Hi"}]}]}`,
		want: llm.Request{Origin: "gemini", Messages: []llm.Message{userMsg("Hi")}},
	},
}

// canonicalIDs replaces made-up call ids by call_gemini_a, _b, … in order
// of appearance, so that expectations need not spell out hashes.
func canonicalIDs(req *llm.Request) {
	names := map[string]string{}
	rename := func(id string) string {
		if !strings.HasPrefix(id, "call_gemini_") {
			return id
		}
		if n, ok := names[id]; ok {
			return n
		}
		n := "call_gemini_" + string(rune('a'+len(names)))
		names[id] = n
		return n
	}
	for i := range req.Messages {
		for _, p := range req.Messages[i].Parts {
			if p.ToolCall != nil {
				p.ToolCall.ID = rename(p.ToolCall.ID)
			}
			if p.ToolResult != nil {
				p.ToolResult.CallID = rename(p.ToolResult.CallID)
			}
		}
	}
}

func TestDecodeRequest(t *testing.T) {
	for _, tt := range decodeRequestTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := proto.DecodeRequest([]byte(tt.body))
			if err != nil {
				t.Fatalf("DecodeRequest: %v", err)
			}
			canonicalIDs(got)
			normalize(got)
			normalize(&tt.want)
			if !reflect.DeepEqual(got, &tt.want) {
				t.Errorf("DecodeRequest:\ngot  %s\nwant %s", testkit.Dump(got), testkit.Dump(&tt.want))
			}
		})
	}
}

// TestCallIDsStable: the same history decodes to the same ids every time,
// and different calls get different ids.
func TestCallIDsStable(t *testing.T) {
	body := testkit.ReadFile(t, "testdata/requests/tool-history.json")
	ids := func() []string {
		req, err := proto.DecodeRequest(body)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range req.Messages {
			for _, c := range m.ToolCalls() {
				out = append(out, c.ID)
			}
		}
		return out
	}
	first, second := ids(), ids()
	if !reflect.DeepEqual(first, second) || len(first) != 3 {
		t.Fatalf("ids %v, then %v", first, second)
	}
	seen := map[string]bool{}
	for _, id := range first {
		if seen[id] || !strings.HasPrefix(id, "call_gemini_") || len(id) != len("call_gemini_")+16 {
			t.Errorf("bad or repeated id %q in %v", id, first)
		}
		seen[id] = true
	}
}

func TestDecodeRequestSnakeCase(t *testing.T) {
	snake, err := proto.DecodeRequest(testkit.ReadFile(t, "testdata/requests/snake-case.json"))
	if err != nil {
		t.Fatal(err)
	}
	camel := strings.NewReplacer(`"system_instruction"`, `"systemInstruction"`, `"inline_data"`, `"inlineData"`,
		`"mime_type"`, `"mimeType"`, `"generation_config"`, `"generationConfig"`, `"max_output_tokens"`, `"maxOutputTokens"`,
		`"stop_sequences"`, `"stopSequences"`, `"thinking_config"`, `"thinkingConfig"`, `"thinking_budget"`, `"thinkingBudget"`,
		`"safety_settings"`, `"safetySettings"`).Replace(string(testkit.ReadFile(t, "testdata/requests/snake-case.json")))
	want, err := proto.DecodeRequest([]byte(camel))
	if err != nil {
		t.Fatal(err)
	}
	// Unknown members keep the client's spelling; the rest is the same.
	snake.Extensions, want.Extensions = nil, nil
	if testkit.Dump(snake) != testkit.Dump(want) {
		t.Errorf("snake_case decodes differently:\n%s\n%s", testkit.Dump(snake), testkit.Dump(want))
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		param string // "" for errors about the whole body
		msg   string // substring of the message
	}{
		{"not JSON", `{"contents":`, "", "not valid JSON"},
		{"not an object", `[{"contents":[]}]`, "", "object"},
		{"missing contents", `{}`, "contents", "at least one content"},
		{"empty contents", `{"contents":[]}`, "contents", "at least one content"},
		{"contents not an array", `{"contents":{}}`, "contents", "expected an array"},
		{"only empty text", `{"contents":[{"parts":[{"text":""}]}]}`, "contents", "hold no text"},
		{"parts missing", `{"contents":[{"role":"user"}]}`, "contents[0].parts", "at least one part"},
		{"unknown role", `{"contents":[{"role":"robot","parts":[{"text":"x"}]}]}`, "contents[0].role", `"robot"`},
		{"text a number", `{"contents":[{"parts":[{"text":5}]}]}`, "contents[0].parts[0].text", "expected a string"},
		{"empty part", `{"contents":[{"parts":[{}]}]}`, "contents[0].parts[0]", "must hold"},
		{"two data members", `{"contents":[{"parts":[{"text":"a","inlineData":{"mimeType":"image/png","data":"AA=="}}]}]}`, "contents[0].parts[0]", "exactly one"},
		{"inline data without type", `{"contents":[{"parts":[{"inlineData":{"data":"AA=="}}]}]}`, "contents[0].parts[0].inlineData.mimeType", "required"},
		{"inline data without data", `{"contents":[{"parts":[{"inlineData":{"mimeType":"image/png"}}]}]}`, "contents[0].parts[0].inlineData.data", "required"},
		{"file data without uri", `{"contents":[{"parts":[{"fileData":{"mimeType":"image/png"}}]}]}`, "contents[0].parts[0].fileData.fileUri", "required"},
		{"call without name", `{"contents":[{"role":"model","parts":[{"functionCall":{"args":{}}}]}]}`, "contents[0].parts[0].functionCall.name", "required"},
		{"call args an array", `{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":[1]}}]}]}`, "contents[0].parts[0].functionCall.args", "expected an object"},
		{"call in a user turn", `{"contents":[{"role":"user","parts":[{"functionCall":{"name":"f"}}]}]}`, "contents[0].parts[0].functionCall", "model turn"},
		{"response in a model turn", `{"contents":[{"role":"model","parts":[{"functionResponse":{"name":"f","response":{}}}]}]}`, "contents[0].parts[0].functionResponse", "user turn"},
		{"response without name", `{"contents":[{"parts":[{"functionResponse":{"response":{}}}]}]}`, "contents[0].parts[0].functionResponse.name", "required"},
		{"response a string", `{"contents":[{"parts":[{"functionResponse":{"name":"f","response":"ok"}}]}]}`, "contents[0].parts[0].functionResponse.response", "expected an object"},
		{"system image", `{"systemInstruction":{"parts":[{"inlineData":{"mimeType":"image/png","data":"AA=="}}]},` + hello + `}`, "systemInstruction.parts[0]", "only text"},
		{"declaration without name", `{` + hello + `,"tools":[{"functionDeclarations":[{"description":"x"}]}]}`, "tools[0].functionDeclarations[0].name", "required"},
		{"nameless tool", `{` + hello + `,"tools":[{"":{}}]}`, "tools[0]", "named tool"},
		{"tool named function", `{` + hello + `,"tools":[{"function":{"name":"f"}}]}`, "tools[0]", "named tool"},
		{"bad mode", `{` + hello + `,"toolConfig":{"functionCallingConfig":{"mode":"SOMETIMES"}}}`, "toolConfig.functionCallingConfig.mode", `"SOMETIMES"`},
		{"negative temperature", `{` + hello + `,"generationConfig":{"temperature":-1}}`, "generationConfig.temperature", "negative"},
		{"topP above 1", `{` + hello + `,"generationConfig":{"topP":1.5}}`, "generationConfig.topP", "between 0 and 1"},
		{"candidateCount 0", `{` + hello + `,"generationConfig":{"candidateCount":0}}`, "generationConfig.candidateCount", "between 1"},
		{"candidateCount huge", `{` + hello + `,"generationConfig":{"candidateCount":100000}}`, "generationConfig.candidateCount", "between 1"},
		{"maxOutputTokens 0", `{` + hello + `,"generationConfig":{"maxOutputTokens":0}}`, "generationConfig.maxOutputTokens", "at least 1"},
		{"budget -2", `{` + hello + `,"generationConfig":{"thinkingConfig":{"thinkingBudget":-2}}}`, "generationConfig.thinkingConfig.thinkingBudget", "positive"},
		{"level and budget", `{` + hello + `,"generationConfig":{"thinkingConfig":{"thinkingBudget":100,"thinkingLevel":"HIGH"}}}`, "generationConfig.thinkingConfig.thinkingLevel", "cannot be combined"},
		{"bad level", `{` + hello + `,"generationConfig":{"thinkingConfig":{"thinkingLevel":"EXTREME"}}}`, "generationConfig.thinkingConfig.thinkingLevel", `"EXTREME"`},
		{"schema without JSON mime", `{` + hello + `,"generationConfig":{"responseSchema":{"type":"STRING"}}}`, "generationConfig.responseMimeType", "application/json"},
		{"stop sequences a string", `{` + hello + `,"generationConfig":{"stopSequences":"END"}}`, "generationConfig.stopSequences", "expected an array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := proto.DecodeRequest([]byte(tt.body))
			if err == nil {
				t.Fatal("DecodeRequest accepted the body")
			}
			e := asError(t, err)
			if e.Kind != llm.KindInvalidRequest || e.Param != tt.param || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("error kind %q param %q message %q; want param %q and a message containing %q", e.Kind, e.Param, e.Message, tt.param, tt.msg)
			}
		})
	}
}

// TestDecodeCountRequest: countTokens takes contents, the
// generateContentRequest form, and Vertex's top-level form.
func TestDecodeCountRequest(t *testing.T) {
	tests := []struct {
		name, body string
		msgs       int
		tools      int
	}{
		{"contents", `{` + hello + `}`, 1, 0},
		{"generateContentRequest", `{"generateContentRequest":{"model":"models/gemini-2.5-flash","systemInstruction":{"parts":[{"text":"S"}]},` + hello + `,"tools":[{"functionDeclarations":[{"name":"f"}]}]}}`, 2, 1},
		{"top level, as Vertex", `{"systemInstruction":{"parts":[{"text":"S"}]},` + hello + `}`, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := proto.DecodeCountRequest([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if len(req.Messages) != tt.msgs || len(req.Tools) != tt.tools || req.Origin != "gemini" {
				t.Errorf("got %d messages, %d tools: %s", len(req.Messages), len(req.Tools), testkit.Dump(req))
			}
		})
	}
	_, err := proto.DecodeCountRequest([]byte(`{"generateContentRequest":{"contents":[]}}`))
	if e := asError(t, err); e.Param != "generateContentRequest.contents" {
		t.Errorf("empty generateContentRequest: param %q (%v)", e.Param, e)
	}
	_, err = proto.DecodeCountRequest([]byte(`{}`))
	if e := asError(t, err); e.Param != "contents" {
		t.Errorf("empty body: param %q (%v)", e.Param, e)
	}
}

// TestSchemaNormalized: Gemini's OpenAPI schemas reach other protocols as
// JSON Schema.
func TestSchemaNormalized(t *testing.T) {
	body := `{` + hello + `,"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"OBJECT","properties":{
		"a":{"type":"STRING","nullable":true},"b":{"type":"ARRAY","items":{"type":"INTEGER"},"max_items":3},
		"type":{"type":"TYPE_UNSPECIFIED","description":"a property named type"},"c":{"any_of":[{"type":"NUMBER"},{"type":"BOOLEAN"}]}},
		"required":["a"]}}]}]}`
	req, err := proto.DecodeRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"object","properties":{"a":{"type":["string","null"]},"b":{"type":"array","items":{"type":"integer"},"maxItems":3},` +
		`"type":{"description":"a property named type"},"c":{"anyOf":[{"type":"number"},{"type":"boolean"}]}},"required":["a"]}`
	if got := string(req.Tools[0].Parameters); got != want {
		t.Errorf("parameters\n%s\nwant\n%s", got, want)
	}
	// A JSON Schema is taken as it is.
	body = `{` + hello + `,"tools":[{"functionDeclarations":[{"name":"f","parametersJsonSchema":{"type":"object","properties":{"X":{"type":"string"}}}}]}]}`
	if req, err = proto.DecodeRequest([]byte(body)); err != nil {
		t.Fatal(err)
	}
	var v any
	if string(req.Tools[0].Parameters) != `{"type":"object","properties":{"X":{"type":"string"}}}` || json.Unmarshal(req.Tools[0].Parameters, &v) != nil {
		t.Errorf("parametersJsonSchema changed: %s", req.Tools[0].Parameters)
	}
}
