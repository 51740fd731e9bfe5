package ollama_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol/ollama"
)

func userMsg(text string) llm.Message {
	return llm.Message{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(text)}}
}

func textMsg(role llm.Role, text string) llm.Message {
	return llm.Message{Role: role, Parts: []llm.Part{llm.TextPart(text)}}
}

func call(id, name, args string) llm.Part {
	return llm.Part{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: id, Type: llm.CallFunction, Name: name, Arguments: args}}
}

func result(id, name, text string) llm.Message {
	r := &llm.ToolResult{CallID: id, Name: name}
	if text != "" {
		r.Content = []llm.Part{llm.TextPart(text)}
	}
	return llm.Message{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: r}}}
}

func image(mime, data string) llm.Part {
	return llm.Part{Type: llm.PartImage, Media: &llm.Media{MIMEType: mime, Data: data}}
}

// Base64 image heads: the first bytes of each format the decoder sniffs.
const (
	pngB64  = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"
	jpegB64 = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBD"
	gifB64  = "R0lGODlhAQABAIAAAAAAAP///yH5BAEA"
	webpB64 = "UklGRiQAAABXRUJQVlA4IBgAAAAwAQCd"
	bmpB64  = "Qk06AAAAAAAAADYAAAAoAAAAAQAAAAEA"
)

// decodeRequestTests are valid /api/chat bodies and their canonical form.
// Made-up tool-call ids are compared through synthetic(), which numbers
// them by first appearance: the test checks which ids are equal, not the
// hash.
var decodeRequestTests = []struct {
	name string
	body string
	want llm.Request
}{
	{
		name: "stream absent means a stream",
		body: `{"model":"llama3.2","messages":[{"role":"user","content":"Hello"}]}`,
		want: llm.Request{Model: "llama3.2", Stream: true, Origin: "ollama", Messages: []llm.Message{userMsg("Hello")}},
	},
	{
		name: "stream false and null stream",
		body: `{"model":"m","messages":[{"role":"user","content":"Hi"}],"stream":false}`,
		want: llm.Request{Model: "m", Origin: "ollama", Messages: []llm.Message{userMsg("Hi")}},
	},
	{
		name: "official Go client request (options null, empty format omitted)",
		body: `{"model":"m","messages":[{"role":"user","content":"Hi"}],"stream":null,"options":null}`,
		want: llm.Request{Model: "m", Stream: true, Origin: "ollama", Messages: []llm.Message{userMsg("Hi")}},
	},
	{
		name: "roles are lower-cased; system stays in place; thinking of history",
		body: `{"model":"m","stream":false,"messages":[
			{"role":"System","content":"Be brief."},
			{"role":"USER","content":"Hi"},
			{"role":"assistant","content":"Hello!","thinking":"greet back"},
			{"role":"system","content":"Now answer in French."},
			{"role":"user","content":""}]}`,
		want: llm.Request{Model: "m", Origin: "ollama", Messages: []llm.Message{
			textMsg(llm.RoleSystem, "Be brief."),
			userMsg("Hi"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: "greet back", Origin: "ollama"}},
				llm.TextPart("Hello!")}},
			textMsg(llm.RoleSystem, "Now answer in French."),
			{Role: llm.RoleUser},
		}},
	},
	{
		name: "images sniffed from their bytes; data URLs accepted",
		body: `{"model":"m","stream":false,"messages":[{"role":"user","content":"What is this?","images":[
			"` + pngB64 + `","` + jpegB64 + `","` + gifB64 + `","` + webpB64 + `","` + bmpB64 + `",
			"data:image/png;base64,` + pngB64 + `","AAAA"]}]}`,
		want: llm.Request{Model: "m", Origin: "ollama", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
			llm.TextPart("What is this?"),
			image("image/png", pngB64), image("image/jpeg", jpegB64), image("image/gif", gifB64),
			image("image/webp", webpB64), image("application/octet-stream", bmpB64),
			image("image/png", pngB64), image("application/octet-stream", "AAAA"),
		}}}},
	},
	{
		name: "tool calls without ids get stable ones; results match by name, then order",
		body: `{"model":"m","stream":false,"messages":[
			{"role":"user","content":"Weather and time in Paris?"},
			{"role":"assistant","content":"","tool_calls":[
				{"function":{"name":"get_weather","arguments":{"city":"Paris"}}},
				{"function":{"index":1,"name":"get_time","arguments":{"tz":"CET"}}}]},
			{"role":"tool","content":"10:00","tool_name":"get_time"},
			{"role":"tool","content":"18C"},
			{"role":"assistant","content":"It is 18C at 10:00."},
			{"role":"user","content":"And again?"},
			{"role":"assistant","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},
			{"role":"tool","content":"19C","tool_name":"get_weather"}]}`,
		want: llm.Request{Model: "m", Origin: "ollama", Messages: []llm.Message{
			userMsg("Weather and time in Paris?"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				call("SYN1", "get_weather", `{"city":"Paris"}`), call("SYN2", "get_time", `{"tz":"CET"}`)}},
			result("SYN2", "get_time", "10:00"),
			result("SYN1", "get_weather", "18C"),
			textMsg(llm.RoleAssistant, "It is 18C at 10:00."),
			userMsg("And again?"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{call("SYN3", "get_weather", `{"city":"Paris"}`)}},
			result("SYN3", "get_weather", "19C"),
		}},
	},
	{
		name: "tool call ids of newer servers; results by tool_call_id",
		body: `{"model":"m","stream":false,"messages":[
			{"role":"assistant","tool_calls":[
				{"id":"call_a1","function":{"index":0,"name":"f","arguments":{}}},
				{"id":"call_b2","function":{"index":1,"name":"f","arguments":null}},
				{"id":"call_c3","function":{"index":2,"name":"g","arguments":"{\"x\":1}"}}]},
			{"role":"tool","content":"B","tool_call_id":"call_b2"},
			{"role":"tool","content":"A","tool_name":"f","tool_call_id":"call_a1"},
			{"role":"tool","content":"orphan","tool_name":"h","tool_call_id":"call_zz"}]}`,
		want: llm.Request{Model: "m", Origin: "ollama", Messages: []llm.Message{
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				call("call_a1", "f", `{}`), call("call_b2", "f", `{}`), call("call_c3", "g", `{"x":1}`)}},
			result("call_b2", "f", "B"),
			result("call_a1", "f", "A"),
			result("call_zz", "h", "orphan"),
		}},
	},
	{
		name: "tools; the Go client's empty schema means no parameters",
		body: `{"model":"m","stream":false,"messages":[{"role":"user","content":"Hi"}],"tools":[
			{"type":"function","function":{"name":"get_weather","description":"Weather now","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}},
			{"type":"function","function":{"name":"now","parameters":{"type":"","properties":null}}},
			{"function":{"name":"bare"},"items":null}]}`,
		want: llm.Request{Model: "m", Origin: "ollama", Messages: []llm.Message{userMsg("Hi")}, Tools: []llm.Tool{
			{Type: llm.ToolFunction, Name: "get_weather", Description: "Weather now",
				Parameters: []byte(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)},
			{Type: llm.ToolFunction, Name: "now"},
			{Type: llm.ToolFunction, Name: "bare", Extensions: llm.Extensions{"items": []byte("null")}},
		}},
	},
	{
		name: "options: canonical ones mapped, the others kept",
		body: `{"model":"m","stream":false,"messages":[{"role":"user","content":"Hi"}],"options":{
			"temperature":0.7,"top_p":0.9,"top_k":40,"num_predict":256.0,"stop":["END","\n\n"],"seed":42,
			"frequency_penalty":0.5,"presence_penalty":0.25,"num_ctx":8192,"repeat_penalty":1.1,"mirostat":2}}`,
		want: llm.Request{Model: "m", Origin: "ollama", Messages: []llm.Message{userMsg("Hi")},
			Temperature: ptr(0.7), TopP: ptr(0.9), TopK: ptr(40), MaxTokens: ptr(256), Stop: []string{"END", "\n\n"},
			Seed: ptr(int64(42)), FrequencyPenalty: ptr(0.5), PresencePenalty: ptr(0.25),
			Extensions: llm.Extensions{"options": []byte(`{"num_ctx":8192,"repeat_penalty":1.1,"mirostat":2}`)}},
	},
	{
		name: "options: Ollama's unset values stay Ollama's",
		body: `{"model":"m","stream":false,"messages":[{"role":"user","content":"Hi"}],"options":{"num_predict":-1,"seed":-1,"top_k":0,"stop":"STOP"}}`,
		want: llm.Request{Model: "m", Origin: "ollama", Messages: []llm.Message{userMsg("Hi")}, Stop: []string{"STOP"},
			Extensions: llm.Extensions{"options": []byte(`{"num_predict":-1,"seed":-1,"top_k":0}`)}},
	},
	{
		name: "think true, format json, keep_alive and other members as extensions",
		body: `{"model":"m","stream":false,"messages":[{"role":"user","content":"Hi","x_note":1}],"think":true,"format":"json","keep_alive":"5m","truncate":false}`,
		want: llm.Request{Model: "m", Origin: "ollama",
			Messages:       []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("Hi")}, Extensions: llm.Extensions{"x_note": []byte("1")}}},
			Reasoning:      &llm.ReasoningConfig{Mode: llm.ReasoningEnabled},
			ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONObject},
			Extensions:     llm.Extensions{"keep_alive": []byte(`"5m"`), "truncate": []byte("false")}},
	},
	{
		name: "think false, format schema",
		body: `{"model":"m","stream":false,"messages":[{"role":"user","content":"Hi"}],"think":false,"format":{ "type": "object", "properties": {"a": {"type":"integer"}}}}`,
		want: llm.Request{Model: "m", Origin: "ollama", Messages: []llm.Message{userMsg("Hi")},
			Reasoning:      &llm.ReasoningConfig{Mode: llm.ReasoningDisabled},
			ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONSchema, Schema: []byte(`{"type":"object","properties":{"a":{"type":"integer"}}}`)}},
	},
	{
		name: "think level, empty format, logprobs",
		body: `{"model":"m","stream":false,"messages":[{"role":"user","content":"Hi"}],"think":"high","format":"","logprobs":true,"top_logprobs":3}`,
		want: llm.Request{Model: "m", Origin: "ollama", Messages: []llm.Message{userMsg("Hi")},
			Reasoning: &llm.ReasoningConfig{Mode: llm.ReasoningEnabled, Effort: "high"}, Logprobs: true, TopLogprobs: ptr(3)},
	},
}

// synthetic replaces the ids this package made up with SYN1, SYN2, … in
// order of first appearance, so that a test can state which are equal.
func synthetic(req *llm.Request) {
	seen := map[string]string{}
	rename := func(id *string) {
		if !strings.HasPrefix(*id, ollama.SyntheticIDPrefix) {
			return
		}
		if _, ok := seen[*id]; !ok {
			seen[*id] = "SYN" + string(rune('0'+len(seen)+1))
		}
		*id = seen[*id]
	}
	for i := range req.Messages {
		for j := range req.Messages[i].Parts {
			p := &req.Messages[i].Parts[j]
			if p.ToolCall != nil {
				rename(&p.ToolCall.ID)
			}
			if p.ToolResult != nil {
				rename(&p.ToolResult.CallID)
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
			synthetic(got)
			if !reflect.DeepEqual(got, &tt.want) {
				t.Errorf("DecodeRequest:\ngot  %s\nwant %s", testkit.Dump(got), testkit.Dump(&tt.want))
			}
		})
	}
}

// TestSyntheticIDsStable: the same history always gets the same ids (a
// client replays it every turn), and the same call in two turns gets two.
func TestSyntheticIDsStable(t *testing.T) {
	body := `{"model":"m","messages":[
		{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]},{"role":"tool","content":"1"},
		{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]},{"role":"tool","content":"2"}]}`
	a, err := proto.DecodeRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := proto.DecodeRequest([]byte(body))
	id1, id2 := a.Messages[0].Parts[0].ToolCall.ID, a.Messages[2].Parts[0].ToolCall.ID
	if id1 != b.Messages[0].Parts[0].ToolCall.ID || id2 != b.Messages[2].Parts[0].ToolCall.ID {
		t.Errorf("ids differ between two decodings of one body")
	}
	if id1 == id2 {
		t.Errorf("the calls of two turns share the id %q", id1)
	}
	if !strings.HasPrefix(id1, ollama.SyntheticIDPrefix) || strings.Trim(id1[len(ollama.SyntheticIDPrefix):], "0123456789abcdef") != "" {
		t.Errorf("id %q is not the prefix and a hex hash", id1)
	}
	if r := a.Messages[3].Parts[0].ToolResult; r.CallID != id2 || r.Name != "f" {
		t.Errorf("second result answers %q (%q), want %q", r.CallID, r.Name, id2)
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	const user = `"messages":[{"role":"user","content":"Hi"}]`
	tests := []struct {
		name, body, param, msg string
	}{
		{"not JSON", `{"model":`, "", "not valid JSON"},
		{"no model", `{` + user + `}`, "model", "model is required"},
		{"no messages", `{"model":"m"}`, "messages", "at least one message"},
		{"empty messages", `{"model":"m","messages":[]}`, "messages", "at least one message"},
		{"bad role", `{"model":"m","messages":[{"role":"bot","content":"x"}]}`, "messages[0].role", `got "bot"`},
		{"no role", `{"model":"m","messages":[{"content":"x"}]}`, "messages[0].role", "required"},
		{"content array", `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}`, "messages[0].content", "expected a string"},
		{"call without name", `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"function":{"arguments":{}}}]}]}`,
			"messages[0].tool_calls[0].function.name", "required"},
		{"arguments array", `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":[1]}}]}]}`,
			"messages[0].tool_calls[0].function.arguments", "expected an object"},
		{"arguments string not an object", `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":"[1]"}}]}]}`,
			"messages[0].tool_calls[0].function.arguments", "JSON object"},
		{"image not base64", `{"model":"m","messages":[{"role":"user","content":"x","images":["not base64!"]}]}`, "messages[0].images[0]", "base64"},
		{"empty image", `{"model":"m","messages":[{"role":"user","content":"x","images":[""]}]}`, "messages[0].images[0]", "no data"},
		{"think level", `{"model":"m",` + user + `,"think":"extreme"}`, "think", `"low", "medium", "high" or "max"`},
		{"think number", `{"model":"m",` + user + `,"think":1}`, "think", "got a number"},
		{"format word", `{"model":"m",` + user + `,"format":"xml"}`, "format", `got "xml"`},
		{"format number", `{"model":"m",` + user + `,"format":5}`, "format", "JSON schema object"},
		{"temperature string", `{"model":"m",` + user + `,"options":{"temperature":"hot"}}`, "options.temperature", "expected a number"},
		{"num_predict string", `{"model":"m",` + user + `,"options":{"num_predict":"x"}}`, "options.num_predict", "expected an integer"},
		{"num_predict huge", `{"model":"m",` + user + `,"options":{"num_predict":1e300}}`, "options.num_predict", "in range"},
		{"stop number", `{"model":"m",` + user + `,"options":{"stop":5}}`, "options.stop", "array of strings"},
		{"options array", `{"model":"m",` + user + `,"options":[]}`, "options", "expected an object"},
		{"top_logprobs range", `{"model":"m",` + user + `,"top_logprobs":21}`, "top_logprobs", "between 0 and 20"},
		{"tool type", `{"model":"m",` + user + `,"tools":[{"type":"web_search"}]}`, "tools[0].type", "unsupported"},
		{"tool without name", `{"model":"m",` + user + `,"tools":[{"type":"function","function":{}}]}`, "tools[0].function.name", "required"},
		{"stream string", `{"model":"m",` + user + `,"stream":"yes"}`, "stream", "expected a boolean"},
		{"duplicate model", `{"model":"a","model":"b",` + user + `}`, "", "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := proto.DecodeRequest([]byte(tt.body))
			e := asError(t, err)
			if e.Kind != llm.KindInvalidRequest || e.Param != tt.param || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("error = kind %q param %q message %q; want param %q message containing %q", e.Kind, e.Param, e.Message, tt.param, tt.msg)
			}
			if st, body := proto.EncodeError(e); st != 400 || !json.Valid(body) {
				t.Errorf("EncodeError = %d %s", st, body)
			}
		})
	}
}
