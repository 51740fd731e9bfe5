package responses_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol/openai"
)

// chatRequests are Chat Completions bodies whose canonical form (as the
// openai package decodes it) this package encodes for a Responses
// upstream: the translation a Chat client talking to a Responses upstream
// gets. The golden files are in testdata/cross.
var chatRequests = map[string]string{
	"tools-and-history": `{"model":"gpt-4.1","messages":[
		{"role":"system","content":"Be brief."},
		{"role":"user","content":[{"type":"text","text":"Weather?"},{"type":"image_url","image_url":{"url":"https://x/map.png"}}]},
		{"role":"assistant","content":null,"reasoning_content":"Need the weather tool.","tool_calls":[
			{"id":"call_A","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
			{"id":"call_B","type":"custom","custom":{"name":"patch","input":"diff"}}]},
		{"role":"tool","tool_call_id":"call_A","content":"sunny"},
		{"role":"tool","tool_call_id":"call_B","content":[{"type":"text","text":"applied"}]},
		{"role":"user","content":"Thanks","name":"alice"}],
		"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},
			{"type":"custom","custom":{"name":"patch","description":"Apply a diff.","format":{"type":"grammar","grammar":{"syntax":"lark","definition":"start: /.+/"}}}}],
		"tool_choice":{"type":"function","function":{"name":"get_weather"}},
		"max_completion_tokens":300,"reasoning_effort":"low","stream":true,"stream_options":{"include_usage":true},
		"response_format":{"type":"json_object"},"user":"u1","store":true,"service_tier":"default","logprobs":true,"top_logprobs":2}`,
	"extensions-dropped": `{"model":"gpt-4.1","messages":[{"role":"user","content":"Hi"}],"verbosity":"low","web_search_options":{},"prediction":{"type":"content","content":"x"}}`,
}

func TestFromChatCompletions(t *testing.T) {
	var chat openai.Protocol
	for name, body := range chatRequests {
		t.Run(name, func(t *testing.T) {
			req, err := chat.DecodeRequest([]byte(body))
			if err != nil {
				t.Fatalf("openai DecodeRequest: %v", err)
			}
			out, err := proto.EncodeRequest(req, "gpt-4.1-upstream")
			if err != nil {
				t.Fatalf("EncodeRequest: %v", err)
			}
			testkit.GoldenJSON(t, filepath.Join("testdata/cross", name+".golden"), out)
		})
	}
}

// TestToChatCompletions: a Codex request decodes into a canonical request
// that the Chat Completions encoder accepts once the hosted tools (which
// only a Responses upstream has) are gone, and the Chat Completions answer
// comes back to the Codex client with its tool names split into their
// namespaces.
func TestToChatCompletions(t *testing.T) {
	var chat openai.Protocol
	req, err := proto.DecodeRequest(testkit.ReadFile(t, "testdata/requests/codex.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tools []llm.Tool
	for _, tl := range req.Tools {
		if tl.Type == llm.ToolFunction || tl.Type == llm.ToolCustom {
			tools = append(tools, tl)
		}
	}
	req.Tools = tools
	if _, err := chat.EncodeRequest(req, "gpt-4.1"); err != nil {
		t.Fatalf("openai EncodeRequest: %v", err)
	}
	resp, err := chat.DecodeResponse([]byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4.1","choices":[{"index":0,
		"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_9","type":"function","function":{"name":"mcp__docs__fetch","arguments":"{\"url\":\"u\"}"}}]},
		"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}`))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := proto.EncodeResponse(&out, req, resp); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"name":"fetch"`, `"namespace":"mcp__docs"`, `"call_id":"call_9"`, `"type":"function_call"`} {
		if !bytes.Contains(out.Bytes(), []byte(want)) {
			t.Errorf("answer lacks %s:\n%s", want, out.Bytes())
		}
	}
}
