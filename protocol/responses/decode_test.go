package responses_test

import (
	"bytes"
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

func ext(kv ...string) llm.Extensions {
	e := llm.Extensions{}
	for i := 0; i < len(kv); i += 2 {
		e[kv[i]] = json.RawMessage(kv[i+1])
	}
	return e
}

// decodeRequestTests are valid request bodies and their canonical form; the
// round-trip test and the fuzz seeds use them too.
var decodeRequestTests = []struct {
	name string
	body string
	want llm.Request
}{
	{
		name: "string input",
		body: `{"model":"gpt-4.1","input":"Hello"}`,
		want: llm.Request{Model: "gpt-4.1", Origin: "responses", Messages: []llm.Message{userMsg("Hello")}},
	},
	{
		name: "instructions and sampling",
		body: `{"model":"m","instructions":"Be brief.","input":"Hi","temperature":0.5,"top_p":0.9,"max_output_tokens":64,
			"top_logprobs":3,"parallel_tool_calls":false,"store":true,"stream":true,"metadata":{"a":"b"},"user":"u","service_tier":"flex"}`,
		want: llm.Request{Model: "m", Origin: "responses", Temperature: ptr(0.5), TopP: ptr(0.9), MaxTokens: ptr(64),
			TopLogprobs: ptr(3), ParallelToolCalls: ptr(false), Store: ptr(true), Stream: true, StreamUsage: true,
			Metadata: map[string]string{"a": "b"}, User: "u", ServiceTier: "flex",
			Messages: []llm.Message{{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("Be brief.")}}, userMsg("Hi")}},
	},
	{
		name: "empty instructions and empty input text",
		body: `{"model":"m","instructions":"","input":""}`,
		want: llm.Request{Model: "m", Origin: "responses", Messages: []llm.Message{{Role: llm.RoleUser}}},
	},
	{
		name: "roles in place",
		body: `{"model":"m","input":[{"role":"system","content":"S"},{"role":"developer","content":[{"type":"input_text","text":"D"}]},
			{"type":"message","role":"user","content":"U"},{"role":"assistant","content":"A"},{"role":"user","content":"U2"}]}`,
		want: llm.Request{Model: "m", Origin: "responses", Messages: []llm.Message{
			{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("S")}},
			{Role: llm.RoleDeveloper, Parts: []llm.Part{llm.TextPart("D")}},
			userMsg("U"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart("A")}},
			userMsg("U2"),
		}},
	},
	{
		name: "assistant items merge into one turn",
		body: `{"model":"m","input":[{"role":"user","content":"Q"},
			{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"S1"},{"type":"summary_text","text":"S2"}],
			 "content":[{"type":"reasoning_text","text":"R"}],"encrypted_content":"ENC"},
			{"type":"message","role":"assistant","id":"msg_1","status":"completed","content":[{"type":"output_text","text":"Let me look.","annotations":[]},{"type":"refusal","refusal":"No."}]},
			{"type":"function_call","id":"fc_1","call_id":"call_1","name":"f","arguments":"{\"a\":1}","status":"completed"},
			{"type":"custom_tool_call","call_id":"call_2","name":"patch","input":"*** Begin"},
			{"type":"function_call_output","call_id":"call_1","output":"one"},
			{"type":"custom_tool_call_output","call_id":"call_2","output":[{"type":"input_text","text":"ok"}]}]}`,
		want: llm.Request{Model: "m", Origin: "responses", Messages: []llm.Message{
			userMsg("Q"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{ID: "rs_1", Text: "S1", Summary: true, Data: "ENC", Origin: "responses"}},
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{ID: "rs_1", Text: "S2", Summary: true, Origin: "responses"}},
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{ID: "rs_1", Text: "R", Origin: "responses"}},
				llm.TextPart("Let me look."),
				{Type: llm.PartRefusal, Text: "No."},
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_1", Type: llm.CallFunction, Name: "f", Arguments: `{"a":1}`}},
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_2", Type: llm.CallCustom, Name: "patch", Arguments: "*** Begin"}},
			}},
			{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{
				CallID: "call_1", Name: "f", Content: []llm.Part{llm.TextPart("one")}}}}},
			{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{
				CallID: "call_2", Name: "patch", Content: []llm.Part{llm.TextPart("ok")}}}}},
		}},
	},
	{
		name: "reasoning without summary and arguments as an object",
		body: `{"model":"m","input":[{"type":"reasoning","summary":[],"encrypted_content":"E"},
			{"type":"function_call","call_id":"c","name":"f","arguments":{"x":[1,2]}}]}`,
		want: llm.Request{Model: "m", Origin: "responses", Messages: []llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{
			{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Summary: true, Data: "E", Origin: "responses"}},
			{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "c", Type: llm.CallFunction, Name: "f", Arguments: `{"x":[1,2]}`}},
		}}}},
	},
	{
		name: "namespace tools and calls",
		body: `{"model":"m","input":[{"type":"function_call","call_id":"c","namespace":"crm","name":"lookup","arguments":"{}"},
			{"type":"function_call_output","call_id":"c","output":"found"},
			{"type":"function_call_output","call_id":"unknown","namespace":"mcp__x__","name":"y","output":"?"}],
			"tools":[{"type":"namespace","name":"crm","description":"CRM.","tools":[
				{"type":"function","name":"lookup","parameters":{"type":"object"},"defer_loading":true},
				{"type":"custom","name":"note"}]}]}`,
		want: llm.Request{Model: "m", Origin: "responses",
			Tools: []llm.Tool{
				{Type: llm.ToolFunction, Name: "crm__lookup", Parameters: json.RawMessage(`{"type":"object"}`),
					Extensions: ext("defer_loading", `true`, "namespace", `{"name":"crm","description":"CRM."}`)},
				{Type: llm.ToolCustom, Name: "crm__note", Raw: json.RawMessage(`{"type":"custom","name":"note"}`),
					Extensions: ext("namespace", `{"name":"crm","description":"CRM."}`)},
			},
			Messages: []llm.Message{
				{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{
					ID: "c", Type: llm.CallFunction, Name: "crm__lookup", Arguments: "{}"}}}},
				{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{
					CallID: "c", Name: "crm__lookup", Content: []llm.Part{llm.TextPart("found")}}}}},
				{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{
					CallID: "unknown", Name: "mcp__x__y", Content: []llm.Part{llm.TextPart("?")}}}}},
			}},
	},
	{
		name: "tools, hosted tools and tool choice",
		body: `{"model":"m","input":"x","tools":[
			{"type":"function","name":"f","description":"F.","parameters":{"type":"object"},"strict":true},
			{"type":"custom","name":"g","description":"G.","format":{"type":"text"}},
			{"type":"web_search","filters":{"allowed_domains":["go.dev"]}}],
			"tool_choice":{"type":"function","name":"f"}}`,
		want: llm.Request{Model: "m", Origin: "responses", Messages: []llm.Message{userMsg("x")},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "f"},
			Tools: []llm.Tool{
				{Type: llm.ToolFunction, Name: "f", Description: "F.", Parameters: json.RawMessage(`{"type":"object"}`), Strict: ptr(true)},
				{Type: llm.ToolCustom, Name: "g", Description: "G.", Raw: json.RawMessage(`{"type":"custom","name":"g","description":"G.","format":{"type":"text"}}`)},
				{Type: "web_search", Raw: json.RawMessage(`{"type":"web_search","filters":{"allowed_domains":["go.dev"]}}`)},
			}},
	},
	{
		name: "tool choice strings",
		body: `{"model":"m","input":"x","tool_choice":"required"}`,
		want: llm.Request{Model: "m", Origin: "responses", Messages: []llm.Message{userMsg("x")},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceRequired}},
	},
	{
		name: "allowed tools with a hosted tool",
		body: `{"model":"m","input":"x","tool_choice":{"type":"allowed_tools","mode":"required","tools":[{"type":"function","name":"f"},{"type":"mcp","server_label":"d"}]}}`,
		want: llm.Request{Model: "m", Origin: "responses", Messages: []llm.Message{userMsg("x")},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceRequired, Allowed: []string{"f"}},
			Extensions: ext("tool_choice", `{"type":"allowed_tools","mode":"required","tools":[{"type":"function","name":"f"},{"type":"mcp","server_label":"d"}]}`)},
	},
	{
		name: "hosted tool choice",
		body: `{"model":"m","input":"x","tool_choice":{"type":"file_search"}}`,
		want: llm.Request{Model: "m", Origin: "responses", Messages: []llm.Message{userMsg("x")},
			Extensions: ext("tool_choice", `{"type":"file_search"}`)},
	},
	{
		name: "text format, verbosity, reasoning, include",
		body: `{"model":"m","input":"x","text":{"format":{"type":"json_schema","name":"r","schema":{"type":"object"},"strict":true},"verbosity":"low"},
			"reasoning":{"effort":"high","summary":"detailed"},"include":["message.output_text.logprobs","reasoning.encrypted_content"]}`,
		want: llm.Request{Model: "m", Origin: "responses", Messages: []llm.Message{userMsg("x")}, Logprobs: true,
			ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONSchema, Name: "r", Schema: json.RawMessage(`{"type":"object"}`), Strict: ptr(true)},
			Reasoning:      &llm.ReasoningConfig{Effort: "high", Summary: "detailed"},
			Extensions:     ext("text", `{"verbosity":"low"}`, "include", `["message.output_text.logprobs","reasoning.encrypted_content"]`)},
	},
	{
		name: "reasoning none and generate_summary",
		body: `{"model":"m","input":"x","reasoning":{"effort":"none","generate_summary":"concise"},"text":{"format":{"type":"json_object"}}}`,
		want: llm.Request{Model: "m", Origin: "responses", Messages: []llm.Message{userMsg("x")},
			ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONObject},
			Reasoning:      &llm.ReasoningConfig{Mode: llm.ReasoningDisabled, Effort: "none", Summary: "concise"}},
	},
	{
		name: "media parts",
		body: `{"model":"m","input":[{"role":"user","content":[
			{"type":"input_image","image_url":"https://example.com/a.png","detail":"high"},
			{"type":"input_image","image_url":"data:image/png;base64,iVBO"},
			{"type":"input_image","file_id":"file-1"},
			{"type":"input_file","file_data":"data:application/pdf;base64,JVBE","filename":"a.pdf"},
			{"type":"input_file","file_data":"aGk=","filename":"n.txt"},
			{"type":"input_file","file_url":"https://example.com/b.pdf"},
			{"type":"input_audio","input_audio":{"data":"SUQz","format":"mp3"}}]}]}`,
		want: llm.Request{Model: "m", Origin: "responses", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
			{Type: llm.PartImage, Media: &llm.Media{URL: "https://example.com/a.png", Detail: "high"}},
			{Type: llm.PartImage, Media: &llm.Media{MIMEType: "image/png", Data: "iVBO"}},
			{Type: llm.PartImage, Media: &llm.Media{FileID: "file-1"}},
			{Type: llm.PartFile, Media: &llm.Media{MIMEType: "application/pdf", Data: "JVBE", Filename: "a.pdf"}},
			{Type: llm.PartFile, Media: &llm.Media{MIMEType: "text/plain", Data: "aGk=", Filename: "n.txt"}},
			{Type: llm.PartFile, Media: &llm.Media{URL: "https://example.com/b.pdf"}},
			{Type: llm.PartAudio, Media: &llm.Media{MIMEType: "audio/mpeg", Data: "SUQz"}},
		}}}},
	},
	{
		name: "tool output with an image, annotations kept",
		body: `{"model":"m","input":[{"type":"function_call_output","call_id":"c","output":[{"type":"input_text","text":"see"},{"type":"input_image","image_url":"https://x/i.png"}]},
			{"role":"assistant","content":[{"type":"output_text","text":"cited","annotations":[{"type":"url_citation","url":"https://x"}]}]}]}`,
		want: llm.Request{Model: "m", Origin: "responses", Messages: []llm.Message{
			{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "c",
				Content: []llm.Part{llm.TextPart("see"), {Type: llm.PartImage, Media: &llm.Media{URL: "https://x/i.png"}}}}}}},
			{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartText, Text: "cited",
				Extensions: ext("annotations", `[{"type":"url_citation","url":"https://x"}]`)}}},
		}},
	},
	{
		name: "hosted tool history is dropped",
		body: `{"model":"m","input":[{"role":"user","content":"q"},{"type":"web_search_call","id":"ws","status":"completed","action":{"type":"search"}},
			{"type":"local_shell_call","call_id":"l","action":{}},{"type":"local_shell_call_output","call_id":"l","output":"x"},
			{"type":"compaction","encrypted_content":"E"},{"role":"assistant","content":"a"}]}`,
		want: llm.Request{Model: "m", Origin: "responses", Messages: []llm.Message{userMsg("q"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart("a")}}}},
	},
	{
		name: "unknown members and safety identifier",
		body: `{"model":"m","input":"x","safety_identifier":"sid","prompt_cache_key":"k","truncation":"auto","stream_options":{"include_obfuscation":false},
			"previous_response_id":null,"conversation":null,"background":false}`,
		want: llm.Request{Model: "m", Origin: "responses", Messages: []llm.Message{userMsg("x")}, User: "sid",
			Extensions: ext("safety_identifier", `"sid"`, "prompt_cache_key", `"k"`, "truncation", `"auto"`,
				"stream_options", `{"include_obfuscation":false}`)},
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
			compactExtensions(got)
			compactExtensions(&want)
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("DecodeRequest =\n%s\nwant\n%s", testkit.Dump(got), testkit.Dump(&want))
			}
		})
	}
}

// compactExtensions removes white space from every raw value in r, so that
// a test's expectation need not match the body's layout.
func compactExtensions(r *llm.Request) {
	c := func(e llm.Extensions) {
		for k, v := range e {
			e[k] = compactRaw(v)
		}
	}
	c(r.Extensions)
	if r.ResponseFormat != nil {
		r.ResponseFormat.Schema = compactRaw(r.ResponseFormat.Schema)
	}
	for i := range r.Tools {
		c(r.Tools[i].Extensions)
		r.Tools[i].Raw = compactRaw(r.Tools[i].Raw)
		r.Tools[i].Parameters = compactRaw(r.Tools[i].Parameters)
	}
	for i := range r.Messages {
		for j := range r.Messages[i].Parts {
			c(r.Messages[i].Parts[j].Extensions)
		}
	}
}

func compactRaw(v json.RawMessage) json.RawMessage {
	if v == nil {
		return nil
	}
	var buf bytes.Buffer
	if json.Compact(&buf, v) != nil {
		return v
	}
	return json.RawMessage(buf.Bytes())
}

func TestDecodeRequestErrors(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		param string
		msg   string
	}{
		{"no model", `{"input":"x"}`, "model", "provide a model"},
		{"model number", `{"model":1,"input":"x"}`, "model", "expected a string"},
		{"no input", `{"model":"m"}`, "input", "required"},
		{"empty input", `{"model":"m","input":[]}`, "input", "at least one item"},
		{"input number", `{"model":"m","input":5}`, "input", "a string or an array of items"},
		{"previous response", `{"model":"m","input":"x","previous_response_id":"resp_1"}`, "previous_response_id", "does not store responses"},
		{"conversation", `{"model":"m","input":"x","conversation":"conv_1"}`, "conversation", "does not store responses"},
		{"prompt template", `{"model":"m","input":"x","prompt":{"id":"pmpt_1"}}`, "prompt", "does not store responses"},
		{"background", `{"model":"m","input":"x","background":true}`, "background", "not supported"},
		{"item reference", `{"model":"m","input":[{"type":"item_reference","id":"msg_1"}]}`, "input[0].type", "does not store responses"},
		{"only hosted tool items", `{"model":"m","input":[{"type":"web_search_call","id":"ws"}]}`, "input", "at least one message"},
		{"unknown item", `{"model":"m","input":[{"type":"telepathy"}]}`, "input[0].type", "unsupported input item type"},
		{"no role", `{"model":"m","input":[{"content":"x"}]}`, "input[0].type", "required"},
		{"message without role", `{"model":"m","input":[{"type":"message","content":"x"}]}`, "input[0].role", "required"},
		{"bad role", `{"model":"m","input":[{"role":"tool","content":"x"}]}`, "input[0].role", "must be user"},
		{"call without id", `{"model":"m","input":[{"type":"function_call","name":"f","arguments":"{}"}]}`, "input[0].call_id", "required"},
		{"call without name", `{"model":"m","input":[{"type":"function_call","call_id":"c"}]}`, "input[0].name", "required"},
		{"output without call id", `{"model":"m","input":[{"type":"function_call_output","output":"x"}]}`, "input[0].call_id", "required"},
		{"arguments number", `{"model":"m","input":[{"type":"function_call","call_id":"c","name":"f","arguments":3}]}`, "input[0].arguments", "JSON-encoded string"},
		{"content number", `{"model":"m","input":[{"role":"user","content":3}]}`, "input[0].content", "a string or an array"},
		{"part without type", `{"model":"m","input":[{"role":"user","content":[{"text":"x"}]}]}`, "input[0].content[0].type", "required"},
		{"unknown part", `{"model":"m","input":[{"role":"user","content":[{"type":"video"}]}]}`, "input[0].content[0].type", "unsupported content part"},
		{"text without text", `{"model":"m","input":[{"role":"user","content":[{"type":"input_text"}]}]}`, "input[0].content[0].text", "required"},
		{"image without source", `{"model":"m","input":[{"role":"user","content":[{"type":"input_image"}]}]}`, "input[0].content[0].image_url", "image_url or file_id"},
		{"bad data url", `{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png,raw"}]}]}`, "input[0].content[0].image_url", "base64"},
		{"file without source", `{"model":"m","input":[{"role":"user","content":[{"type":"input_file","filename":"a"}]}]}`, "input[0].content[0].file_data", "required"},
		{"audio without data", `{"model":"m","input":[{"role":"user","content":[{"type":"input_audio","input_audio":{"format":"wav"}}]}]}`, "input[0].content[0].input_audio.data", "required"},
		{"image in assistant", `{"model":"m","input":[{"role":"assistant","content":[{"type":"input_image","image_url":"https://x"}]}]}`, "input[0].content[0].type", "not allowed in assistant"},
		{"refusal in user", `{"model":"m","input":[{"role":"user","content":[{"type":"refusal","refusal":"no"}]}]}`, "input[0].content[0].type", "only allowed in assistant"},
		{"temperature", `{"model":"m","input":"x","temperature":3}`, "temperature", "between 0 and 2"},
		{"top_p", `{"model":"m","input":"x","top_p":-1}`, "top_p", "between 0 and 1"},
		{"max_output_tokens", `{"model":"m","input":"x","max_output_tokens":0}`, "max_output_tokens", "at least 1"},
		{"top_logprobs", `{"model":"m","input":"x","top_logprobs":21}`, "top_logprobs", "between 0 and 20"},
		{"stream string", `{"model":"m","input":"x","stream":"yes"}`, "stream", "expected a boolean"},
		{"metadata number", `{"model":"m","input":"x","metadata":{"a":1}}`, "metadata.a", "expected a string"},
		{"format type", `{"model":"m","input":"x","text":{"format":{"type":"yaml"}}}`, "text.format.type", "must be text"},
		{"schema without name", `{"model":"m","input":"x","text":{"format":{"type":"json_schema","schema":{}}}}`, "text.format.name", "required"},
		{"tool without type", `{"model":"m","input":"x","tools":[{"name":"f"}]}`, "tools[0].type", "required"},
		{"function without name", `{"model":"m","input":"x","tools":[{"type":"function"}]}`, "tools[0].name", "required"},
		{"tool name number", `{"model":"m","input":"x","tools":[{"type":"function","name":1}]}`, "tools[0].name", "expected a string"},
		{"namespace without name", `{"model":"m","input":"x","tools":[{"type":"namespace","tools":[]}]}`, "tools[0].name", "required"},
		{"hosted tool in namespace", `{"model":"m","input":"x","tools":[{"type":"namespace","name":"n","tools":[{"type":"web_search"}]}]}`, "tools[0].tools[0].type", "function and custom"},
		{"namespace tool without name", `{"model":"m","input":"x","tools":[{"type":"namespace","name":"n","tools":[{"type":"function"}]}]}`, "tools[0].tools[0].name", "required"},
		{"tool choice word", `{"model":"m","input":"x","tool_choice":"any"}`, "tool_choice", "must be none"},
		{"tool choice number", `{"model":"m","input":"x","tool_choice":1}`, "tool_choice", "expected a string or an object"},
		{"tool choice without name", `{"model":"m","input":"x","tool_choice":{"type":"function"}}`, "tool_choice.name", "required"},
		{"tool choice without type", `{"model":"m","input":"x","tool_choice":{"name":"f"}}`, "tool_choice.type", "required"},
		{"allowed tools mode", `{"model":"m","input":"x","tool_choice":{"type":"allowed_tools","mode":"none","tools":[]}}`, "tool_choice.mode", "auto or required"},
		{"malformed", `{"model":"m","input":"x"`, "", "not valid JSON"},
		{"duplicate model", `{"model":"a","model":"b","input":"x"}`, "", "not valid JSON"},
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
			if !strings.Contains(e.Message, tt.param) || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message %q, want it to name %q and contain %q", e.Message, tt.param, tt.msg)
			}
		})
	}
}
