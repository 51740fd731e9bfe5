package openai_test

import (
	"encoding/json"
	"reflect"
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

// decodeRequestTests are valid request bodies and their canonical form; the
// round-trip test and the fuzz seeds use them too.
var decodeRequestTests = []struct {
	name string
	body string
	want llm.Request
}{
	{
		name: "string content",
		body: `{"model":"gpt-4.1","messages":[{"role":"user","content":"Hello"}]}`,
		want: llm.Request{Model: "gpt-4.1", Messages: []llm.Message{userMsg("Hello")}, Origin: "openai"},
	},
	{
		name: "empty and null content",
		body: `{"model":"m","messages":[{"role":"system","content":""},{"role":"user","content":null}]}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{
			{Role: llm.RoleSystem}, {Role: llm.RoleUser}}},
	},
	{
		name: "array content with images",
		body: `{"model":"m","messages":[{"role":"user","content":[
				{"type":"text","text":"What is in these?"},
				{"type":"image_url","image_url":{"url":"https://example.com/a.png","detail":"high"}},
				{"type":"image_url","image_url":"https://example.com/b.jpg"},
				{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
				{"type":"image_url","image_url":{"url":"data:image/jpeg;charset=binary;base64,/9j/4AAQ"}}]}]}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
			llm.TextPart("What is in these?"),
			{Type: llm.PartImage, Media: &llm.Media{URL: "https://example.com/a.png", Detail: "high"}},
			{Type: llm.PartImage, Media: &llm.Media{URL: "https://example.com/b.jpg"}},
			{Type: llm.PartImage, Media: &llm.Media{MIMEType: "image/png", Data: "iVBORw0KGgo="}},
			{Type: llm.PartImage, Media: &llm.Media{MIMEType: "image/jpeg", Data: "/9j/4AAQ"}},
		}}}},
	},
	{
		name: "input audio",
		body: `{"model":"m","messages":[{"role":"user","content":[
				{"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}},
				{"type":"input_audio","input_audio":{"data":"SUQz","format":"mp3"}}]}]}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
			{Type: llm.PartAudio, Media: &llm.Media{MIMEType: "audio/wav", Data: "UklGRg=="}},
			{Type: llm.PartAudio, Media: &llm.Media{MIMEType: "audio/mpeg", Data: "SUQz"}},
		}}}},
	},
	{
		name: "file parts",
		body: `{"model":"m","messages":[{"role":"user","content":[
				{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0=","filename":"a.pdf"}},
				{"type":"file","file":{"file_id":"file-abc123"}},
				{"type":"file","file":{"file_data":"aGVsbG8=","filename":"notes.TXT"}}]}]}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
			{Type: llm.PartFile, Media: &llm.Media{MIMEType: "application/pdf", Data: "JVBERi0=", Filename: "a.pdf"}},
			{Type: llm.PartFile, Media: &llm.Media{FileID: "file-abc123"}},
			{Type: llm.PartFile, Media: &llm.Media{MIMEType: "text/plain", Data: "aGVsbG8=", Filename: "notes.TXT"}},
		}}}},
	},
	{
		name: "system developer and names",
		body: `{"model":"m","messages":[
				{"role":"system","content":"Be brief."},
				{"role":"developer","content":[{"type":"text","text":"Use "},{"type":"text","text":"French."}]},
				{"role":"user","name":"alice","content":"Hi"}]}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{
			{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("Be brief.")}},
			{Role: llm.RoleDeveloper, Parts: []llm.Part{llm.TextPart("Use "), llm.TextPart("French.")}},
			{Role: llm.RoleUser, Name: "alice", Parts: []llm.Part{llm.TextPart("Hi")}},
		}},
	},
	{
		name: "assistant tool calls and tool results",
		body: `{"model":"m","messages":[
				{"role":"user","content":"Weather and time in Paris?"},
				{"role":"assistant","content":null,"tool_calls":[
					{"id":"call_A","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
					{"id":"call_B","type":"function","function":{"name":"get_time","arguments":{"tz":"CET"}}}]},
				{"role":"tool","tool_call_id":"call_B","content":"12:00"},
				{"role":"tool","tool_call_id":"call_A","content":[{"type":"text","text":"sunny"}]},
				{"role":"tool","tool_call_id":"call_unknown","content":"?"}]}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{
			userMsg("Weather and time in Paris?"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_A", Type: llm.CallFunction, Name: "get_weather", Arguments: `{"city":"Paris"}`}},
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_B", Type: llm.CallFunction, Name: "get_time", Arguments: `{"tz":"CET"}`}},
			}},
			{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{
				CallID: "call_B", Name: "get_time", Content: []llm.Part{llm.TextPart("12:00")}}}}},
			{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{
				CallID: "call_A", Name: "get_weather", Content: []llm.Part{llm.TextPart("sunny")}}}}},
			{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{
				CallID: "call_unknown", Content: []llm.Part{llm.TextPart("?")}}}}},
		}},
	},
	{
		name: "assistant text reasoning refusal and custom call",
		body: `{"model":"m","messages":[
				{"role":"assistant","reasoning_content":"Think.","content":[{"type":"text","text":"No."},{"type":"refusal","refusal":"I can't."}],
				 "tool_calls":[{"id":"call_C","type":"custom","custom":{"name":"sql","input":"SELECT 1"}}]},
				{"role":"assistant","reasoning":"Other field.","content":"Yes.","refusal":"Partly."}]}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: "Think.", Origin: "openai"}},
				llm.TextPart("No."),
				{Type: llm.PartRefusal, Text: "I can't."},
				{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_C", Type: llm.CallCustom, Name: "sql", Arguments: "SELECT 1"}},
			}},
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: "Other field.", Origin: "openai"}},
				llm.TextPart("Yes."),
				{Type: llm.PartRefusal, Text: "Partly."},
			}},
		}},
	},
	{
		name: "assistant refusal in parts and field",
		body: `{"model":"m","messages":[{"role":"assistant","content":[{"type":"refusal","refusal":"I can't. "}],"refusal":"Sorry."}]}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{
			{Type: llm.PartRefusal, Text: "I can't. "}, {Type: llm.PartRefusal, Text: "Sorry."},
		}}}},
	},
	{
		// Issue found by FuzzDecodeRequest: an empty refusal part was sent on
		// as "refusal":"", which decodes to nothing, so encoding was not stable.
		name: "empty text and refusal parts dropped",
		body: `{"model":"m","messages":[{"role":"assistant","content":[{"type":"text","text":""},{"type":"refusal","refusal":""}]},
			{"role":"user","content":[{"type":"text","text":""},{"type":"text","text":"Hi"}]}]}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{{Role: llm.RoleAssistant}, userMsg("Hi")}},
	},
	{
		name: "legacy functions",
		body: `{"model":"m","functions":[{"name":"get_weather","description":"Weather.","parameters":{"type":"object"}}],
				"function_call":{"name":"get_weather"},"messages":[
				{"role":"user","content":"Paris?"},
				{"role":"assistant","content":null,"function_call":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
				{"role":"function","name":"get_weather","content":"sunny"}]}`,
		want: llm.Request{Model: "m", Origin: "openai",
			Tools: []llm.Tool{{Type: llm.ToolFunction, Name: "get_weather", Description: "Weather.",
				Parameters: json.RawMessage(`{"type":"object"}`)}},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "get_weather"},
			Messages: []llm.Message{
				userMsg("Paris?"),
				{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{
					ID: "call_legacy_0", Type: llm.CallFunction, Name: "get_weather", Arguments: `{"city":"Paris"}`}}}},
				{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{
					CallID: "call_legacy_0", Name: "get_weather", Content: []llm.Part{llm.TextPart("sunny")}}}}},
			}},
	},
	{
		name: "legacy function_call mode",
		body: `{"model":"m","function_call":"none",` + user + `}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{userMsg("Hi")},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceNone}},
	},
	{
		name: "tools and tool choice",
		body: `{"model":"m",` + user + `,"tools":[
				{"type":"function","function":{"name":"f","description":"F.","parameters":{"type":"object","properties":{}},"strict":true}},
				{"type":"custom","custom":{"name":"sql","description":"Run SQL."}}],
				"tool_choice":{"type":"function","function":{"name":"f"}},"parallel_tool_calls":false}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{userMsg("Hi")},
			Tools: []llm.Tool{
				{Type: llm.ToolFunction, Name: "f", Description: "F.",
					Parameters: json.RawMessage(`{"type":"object","properties":{}}`), Strict: ptr(true)},
				{Type: llm.ToolCustom, Name: "sql", Description: "Run SQL.",
					Raw: json.RawMessage(`{"name":"sql","description":"Run SQL."}`)},
			},
			ToolChoice:        &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "f"},
			ParallelToolCalls: ptr(false)},
	},
	{
		name: "tool choice required",
		body: `{"model":"m",` + user + `,"tool_choice":"required"}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{userMsg("Hi")},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceRequired}},
	},
	{
		name: "tool choice allowed tools",
		body: `{"model":"m",` + user + `,"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"required",
				"tools":[{"type":"function","function":{"name":"a"}},{"type":"custom","name":"b"}]}}}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{userMsg("Hi")},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceRequired, Allowed: []string{"a", "b"}}},
	},
	{
		name: "sampling parameters",
		body: `{"model":"m",` + user + `,"temperature":0.2,"top_p":0.9,"frequency_penalty":-1.5,"presence_penalty":1,
				"seed":42,"stop":"END","n":3,"logprobs":true,"top_logprobs":5,"user":"u-1","metadata":{"k":"v"},
				"service_tier":"flex","store":true}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{userMsg("Hi")},
			Temperature: ptr(0.2), TopP: ptr(0.9), FrequencyPenalty: ptr(-1.5), PresencePenalty: ptr(1.0),
			Seed: ptr(int64(42)), Stop: []string{"END"}, N: 3, Logprobs: true, TopLogprobs: ptr(5), User: "u-1",
			Metadata: map[string]string{"k": "v"}, ServiceTier: "flex", Store: ptr(true)},
	},
	{
		name: "stop array",
		body: `{"model":"m",` + user + `,"stop":["a","b"]}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{userMsg("Hi")}, Stop: []string{"a", "b"}},
	},
	{
		name: "null optional fields",
		body: `{"model":"m",` + user + `,"temperature":null,"top_p":null,"n":null,"stop":null,"seed":null,
				"max_tokens":null,"max_completion_tokens":null,"logprobs":null,"top_logprobs":null,"response_format":null,
				"tools":null,"tool_choice":null,"parallel_tool_calls":null,"reasoning_effort":null,"stream":null,
				"stream_options":null,"user":null,"metadata":null,"service_tier":null,"store":null,"functions":null,
				"function_call":null}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{userMsg("Hi")}},
	},
	{
		name: "null optional message fields",
		body: `{"model":"m","messages":[{"role":"user","content":"Hi","name":null},
				{"role":"assistant","content":"Yo","tool_calls":null,"refusal":null,"function_call":null,"reasoning_content":null}]}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{userMsg("Hi"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart("Yo")}}}},
	},
	{
		name: "unknown fields kept",
		body: `{"model":"m",` + user + `,"prediction":{"type":"content","content":"x"},"verbosity":"low","top_k":5}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{userMsg("Hi")},
			Extensions: llm.Extensions{
				"prediction": json.RawMessage(`{"type":"content","content":"x"}`),
				"verbosity":  json.RawMessage(`"low"`),
				"top_k":      json.RawMessage(`5`),
			}},
	},
	{
		name: "unknown message and part fields kept",
		body: `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"Hi","cache_control":{"type":"ephemeral"}}],"x_tag":1}]}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{{Role: llm.RoleUser,
			Extensions: llm.Extensions{"x_tag": json.RawMessage(`1`)},
			Parts: []llm.Part{{Type: llm.PartText, Text: "Hi",
				Extensions: llm.Extensions{"cache_control": json.RawMessage(`{"type":"ephemeral"}`)}}}}}},
	},
	{
		name: "response format json schema",
		body: `{"model":"m",` + user + `,"response_format":{"type":"json_schema","json_schema":{"name":"answer",
				"description":"The answer.","schema":{"type":"object","properties":{"a":{"type":"string"}}},"strict":true}}}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{userMsg("Hi")},
			ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONSchema, Name: "answer", Description: "The answer.",
				Schema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"string"}}}`), Strict: ptr(true)}},
	},
	{
		name: "response format json object",
		body: `{"model":"m",` + user + `,"response_format":{"type":"json_object"}}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{userMsg("Hi")},
			ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONObject}},
	},
	{
		name: "reasoning effort",
		body: `{"model":"o3",` + user + `,"reasoning_effort":"high"}`,
		want: llm.Request{Model: "o3", Origin: "openai", Messages: []llm.Message{userMsg("Hi")},
			Reasoning: &llm.ReasoningConfig{Effort: "high"}},
	},
	{
		name: "reasoning effort none disables",
		body: `{"model":"gpt-5.1",` + user + `,"reasoning_effort":"none"}`,
		want: llm.Request{Model: "gpt-5.1", Origin: "openai", Messages: []llm.Message{userMsg("Hi")},
			Reasoning: &llm.ReasoningConfig{Mode: llm.ReasoningDisabled, Effort: "none"}},
	},
	{
		name: "stream with usage",
		body: `{"model":"m",` + user + `,"stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false}}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{userMsg("Hi")}, Stream: true, StreamUsage: true},
	},
	{
		name: "stream without usage",
		body: `{"model":"m",` + user + `,"stream":true,"stream_options":{"include_usage":false}}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{userMsg("Hi")}, Stream: true},
	},
	{
		name: "max_tokens",
		body: `{"model":"m",` + user + `,"max_tokens":100}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{userMsg("Hi")}, MaxTokens: ptr(100)},
	},
	{
		name: "max_completion_tokens",
		body: `{"model":"m",` + user + `,"max_completion_tokens":200}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{userMsg("Hi")}, MaxTokens: ptr(200)},
	},
	{
		name: "max_completion_tokens wins over max_tokens",
		body: `{"model":"m",` + user + `,"max_tokens":100,"max_completion_tokens":200}`,
		want: llm.Request{Model: "m", Origin: "openai", Messages: []llm.Message{userMsg("Hi")}, MaxTokens: ptr(200)},
	},
}

func TestDecodeRequest(t *testing.T) {
	for _, tt := range decodeRequestTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := proto.DecodeRequest([]byte(tt.body))
			if err != nil {
				t.Fatalf("DecodeRequest: %v", err)
			}
			normalize(got)
			normalize(&tt.want)
			if !reflect.DeepEqual(got, &tt.want) {
				t.Errorf("DecodeRequest:\ngot  %s\nwant %s", testkit.Dump(got), testkit.Dump(&tt.want))
			}
		})
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		param string // "" for errors about the whole body
		msg   string // substring of the message
	}{
		{"not JSON", `{"model":`, "", "not valid JSON"},
		{"not an object", `[{"model":"m"}]`, "", "object"},
		{"duplicate model", `{"model":"a","model":"b",` + user + `}`, "", "not valid JSON"},
		{"missing model", `{` + user + `}`, "model", "provide a model"},
		{"model not a string", `{"model":5,` + user + `}`, "model", "expected a string"},
		{"missing messages", `{"model":"m"}`, "messages", "at least one message"},
		{"empty messages", `{"model":"m","messages":[]}`, "messages", "at least one message"},
		{"messages not an array", `{"model":"m","messages":{}}`, "messages", "expected an array"},
		{"content number", `{"model":"m","messages":[{"role":"user","content":5}]}`, "messages[0].content", "a string or an array"},
		{"content object", `{"model":"m","messages":[{"role":"user","content":{"text":"x"}}]}`, "messages[0].content", "got an object"},
		{"missing role", `{"model":"m","messages":[{"content":"x"}]}`, "messages[0].role", "required"},
		{"unknown role", `{"model":"m","messages":[{"role":"user","content":"x"},{"role":"robot","content":"x"}]}`, "messages[1].role", `"robot"`},
		{"tool without call id", `{"model":"m","messages":[{"role":"tool","content":"x"}]}`, "messages[0].tool_call_id", "required"},
		{"tool call without id", `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}]}`,
			"messages[0].tool_calls[0].id", "required"},
		{"tool call without function", `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function"}]}]}`,
			"messages[0].tool_calls[0].function", "required"},
		{"tool call without name", `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"arguments":"{}"}}]}]}`,
			"messages[0].tool_calls[0].function.name", "required"},
		{"tool call arguments number", `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":5}}]}]}`,
			"messages[0].tool_calls[0].function.arguments", "JSON-encoded string"},
		// Issue found by FuzzDecodeRequest: a nameless legacy call was accepted
		// and then encoded as a tool call that no server accepts.
		{"legacy function call without name", `{"model":"m","messages":[{"role":"assistant","function_call":{"arguments":"{}"}}]}`,
			"messages[0].function_call.name", "required"},
		{"image in system message", `{"model":"m","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x/a.png"}}]}]}`,
			"messages[0].content[0].type", "only allowed in user messages"},
		{"image in assistant message", `{"model":"m","messages":[{"role":"assistant","content":[{"type":"input_audio","input_audio":{"data":"AA==","format":"wav"}}]}]}`,
			"messages[0].content[0].type", "only allowed in user messages"},
		{"text part without text", `{"model":"m","messages":[{"role":"user","content":[{"type":"text"}]}]}`,
			"messages[0].content[0].text", "required"},
		{"text part text number", `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":1}]}]}`,
			"messages[0].content[0].text", "expected a string"},
		{"part without type", `{"model":"m","messages":[{"role":"user","content":[{"text":"x"}]}]}`,
			"messages[0].content[0].type", "required"},
		{"unknown part type", `{"model":"m","messages":[{"role":"user","content":["x"]}]}`,
			"messages[0].content[0]", "expected an object"},
		{"unsupported part type", `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"video","video":{}}]}]}`,
			"messages[0].content[1].type", `"video"`},
		{"image without url", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"detail":"low"}}]}]}`,
			"messages[0].content[0].image_url.url", "required"},
		{"image_url number", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":5}]}]}`,
			"messages[0].content[0].image_url", "expected an object"},
		{"data URL not base64", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]}`,
			"messages[0].content[0].image_url.url", "base64"},
		// Issue found by FuzzDecodeRequest: empty data URLs were accepted and
		// then could not be encoded for an upstream.
		{"image data URL without data", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,"}}]}]}`,
			"messages[0].content[0].image_url.url", "base64-encoded data"},
		{"file data URL without data", `{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"data:;base64,"}}]}]}`,
			"messages[0].content[0].file.file_data", "no data"},
		{"audio without data", `{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"format":"wav"}}]}]}`,
			"messages[0].content[0].input_audio.data", "required"},
		{"file without data or id", `{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"filename":"a.pdf"}}]}]}`,
			"messages[0].content[0].file", "file_data or file_id"},
		{"temperature string", `{"model":"m",` + user + `,"temperature":"hot"}`, "temperature", "expected a number"},
		{"temperature too high", `{"model":"m",` + user + `,"temperature":2.5}`, "temperature", "between 0 and 2"},
		{"temperature negative", `{"model":"m",` + user + `,"temperature":-0.1}`, "temperature", "between 0 and 2"},
		{"top_p too high", `{"model":"m",` + user + `,"top_p":1.5}`, "top_p", "between 0 and 1"},
		{"n zero", `{"model":"m",` + user + `,"n":0}`, "n", "between 1 and 128"},
		{"n fractional", `{"model":"m",` + user + `,"n":1.5}`, "n", "expected"},
		{"max_tokens zero", `{"model":"m",` + user + `,"max_tokens":0}`, "max_tokens", "at least 1"},
		{"max_completion_tokens negative", `{"model":"m",` + user + `,"max_completion_tokens":-5}`, "max_completion_tokens", "at least 1"},
		{"top_logprobs too high", `{"model":"m",` + user + `,"top_logprobs":21}`, "top_logprobs", "between 0 and 20"},
		{"stop number", `{"model":"m",` + user + `,"stop":5}`, "stop", "a string or an array of strings"},
		{"stop element number", `{"model":"m",` + user + `,"stop":[1]}`, "stop[0]", "expected a string"},
		{"stop second element", `{"model":"m",` + user + `,"stop":["a",true]}`, "stop[1]", "expected a string"},
		{"stream string", `{"model":"m",` + user + `,"stream":"yes"}`, "stream", "expected a boolean"},
		{"include_usage string", `{"model":"m",` + user + `,"stream_options":{"include_usage":"yes"}}`, "stream_options.include_usage", "expected a boolean"},
		{"metadata value number", `{"model":"m",` + user + `,"metadata":{"k":1}}`, "metadata.k", "expected a string"},
		{"tool without name", `{"model":"m",` + user + `,"tools":[{"type":"function","function":{"description":"x"}}]}`,
			"tools[0].function.name", "required"},
		{"tool without function", `{"model":"m",` + user + `,"tools":[{"type":"function"}]}`, "tools[0].function.name", "required"},
		{"tool name number", `{"model":"m",` + user + `,"tools":[{"type":"function","function":{"name":5}}]}`,
			"tools[0].function.name", "expected a string"},
		{"second tool without name", `{"model":"m",` + user + `,"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{}}]}`,
			"tools[1].function.name", "required"},
		{"custom tool without name", `{"model":"m",` + user + `,"tools":[{"type":"custom","custom":{}}]}`, "tools[0].custom.name", "required"},
		{"unsupported tool type", `{"model":"m",` + user + `,"tools":[{"type":"retrieval"}]}`, "tools[0].type", `"retrieval"`},
		{"legacy function without name", `{"model":"m",` + user + `,"functions":[{"description":"x"}]}`, "functions[0].name", "required"},
		{"tool_choice unknown mode", `{"model":"m",` + user + `,"tool_choice":"sometimes"}`, "tool_choice", `"sometimes"`},
		{"tool_choice number", `{"model":"m",` + user + `,"tool_choice":5}`, "tool_choice", "got a number"},
		{"tool_choice without name", `{"model":"m",` + user + `,"tool_choice":{"type":"function","function":{}}}`, "tool_choice", "name is required"},
		{"tool_choice unknown type", `{"model":"m",` + user + `,"tool_choice":{"type":"file_search"}}`, "tool_choice.type", `"file_search"`},
		{"function_call unknown mode", `{"model":"m",` + user + `,"function_call":"always"}`, "function_call", `"always"`},
		{"response_format unknown type", `{"model":"m",` + user + `,"response_format":{"type":"xml"}}`, "response_format.type", `"xml"`},
		{"json_schema missing", `{"model":"m",` + user + `,"response_format":{"type":"json_schema"}}`, "response_format.json_schema", "required"},
		{"json_schema without name", `{"model":"m",` + user + `,"response_format":{"type":"json_schema","json_schema":{"schema":{}}}}`,
			"response_format.json_schema.name", "required"},
		{"reasoning_effort number", `{"model":"m",` + user + `,"reasoning_effort":1}`, "reasoning_effort", "expected a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := proto.DecodeRequest([]byte(tt.body))
			if err == nil {
				t.Fatalf("DecodeRequest succeeded: %s", testkit.Dump(req))
			}
			e := asError(t, err)
			if e.Kind != llm.KindInvalidRequest {
				t.Errorf("Kind = %q, want %q", e.Kind, llm.KindInvalidRequest)
			}
			if e.HTTPStatus() != 400 {
				t.Errorf("HTTPStatus = %d, want 400", e.HTTPStatus())
			}
			if e.Param != tt.param {
				t.Errorf("Param = %q, want %q (message %q)", e.Param, tt.param, e.Message)
			}
			if tt.param != "" && !strings.Contains(e.Message, tt.param) {
				t.Errorf("message %q does not name %q", e.Message, tt.param)
			}
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message %q does not contain %q", e.Message, tt.msg)
			}
		})
	}
}
