package matrix

import (
	"strings"
	"testing"
)

// The validators check what each upstream received against the wire
// reference (docs/protocols.md of the design): the endpoint, the auth
// header, the model, the system prompt and the user turn where the
// protocol puts them, the tool definition in the protocol's own shape, the
// stream flag, and the absence of fields the protocol does not have.

func str(v any) string { s, _ := v.(string); return s }

func obj(t *testing.T, v any, what string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is %T, want an object", what, v)
	}
	return m
}

func arr(t *testing.T, v any, what string) []any {
	t.Helper()
	a, ok := v.([]any)
	if !ok {
		t.Fatalf("%s is %T, want an array", what, v)
	}
	return a
}

func allowedKeys(t *testing.T, m map[string]any, what string, keys ...string) {
	t.Helper()
	ok := map[string]bool{}
	for _, k := range keys {
		ok[k] = true
	}
	for k := range m {
		if !ok[k] {
			t.Errorf("%s has field %q, which is not part of the protocol's request", what, k)
		}
	}
}

// textOf collects the text of a content value: a string or an array of
// blocks with a "text" field.
func textOf(v any) string {
	switch c := v.(type) {
	case string:
		return c
	case []any:
		var b strings.Builder
		for _, p := range c {
			if m, ok := p.(map[string]any); ok {
				b.WriteString(str(m["text"]))
			}
		}
		return b.String()
	}
	return ""
}

func validateOpenAI(t *testing.T, r *recorded, c *matrixCase) {
	if r.Path != "/v1/chat/completions" || r.Method != "POST" {
		t.Errorf("upstream got %s %s", r.Method, r.Path)
	}
	if r.Header.Get("Authorization") != "Bearer up-key-oa" {
		t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
	}
	b := r.JSON
	if b["model"] != "gpt-4o-mini" {
		t.Errorf("model = %v", b["model"])
	}
	msgs := arr(t, b["messages"], "messages")
	var sys, user string
	for i, m := range msgs {
		mm := obj(t, m, "messages[i]")
		switch role := str(mm["role"]); role {
		case "system", "developer":
			sys += textOf(mm["content"])
		case "user":
			user += textOf(mm["content"])
		case "assistant", "tool":
		default:
			t.Errorf("messages[%d].role = %q", i, role)
		}
	}
	if sys != systemPrompt || user != userPrompt {
		t.Errorf("system %q user %q", sys, user)
	}
	if c.stream {
		if b["stream"] != true {
			t.Errorf("stream = %v", b["stream"])
		}
		if so, _ := b["stream_options"].(map[string]any); so["include_usage"] != true {
			t.Errorf("stream_options = %v", b["stream_options"])
		}
	} else if b["stream"] == true {
		t.Error("stream = true for a non-streaming call")
	}
	if c.tool {
		tools := arr(t, b["tools"], "tools")
		tl := obj(t, tools[0], "tools[0]")
		fn := obj(t, tl["function"], "tools[0].function")
		if tl["type"] != "function" || fn["name"] != toolName || obj(t, fn["parameters"], "parameters")["type"] != "object" {
			t.Errorf("tools[0] = %v", tl)
		}
	}
}

func validateResponses(t *testing.T, r *recorded, c *matrixCase) {
	if r.Path != "/v1/responses" || r.Method != "POST" {
		t.Errorf("upstream got %s %s", r.Method, r.Path)
	}
	if r.Header.Get("Authorization") != "Bearer up-key-resp" {
		t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
	}
	b := r.JSON
	if b["model"] != "gpt-4.1-mini" {
		t.Errorf("model = %v", b["model"])
	}
	if _, ok := b["messages"]; ok {
		t.Error("a Responses request has no messages field")
	}
	sys := str(b["instructions"])
	var user string
	switch in := b["input"].(type) {
	case string:
		user = in
	case []any:
		for i, it := range in {
			m := obj(t, it, "input[i]")
			typ := str(m["type"])
			if typ != "" && typ != "message" {
				continue
			}
			switch role := str(m["role"]); role {
			case "system", "developer":
				sys += textOf(m["content"])
			case "user":
				user += textOf(m["content"])
				if parts, ok := m["content"].([]any); ok {
					for _, p := range parts {
						if pt := str(obj(t, p, "content part")["type"]); pt != "input_text" {
							t.Errorf("input[%d] user part type %q", i, pt)
						}
					}
				}
			case "assistant":
			default:
				t.Errorf("input[%d].role = %q", i, role)
			}
		}
	default:
		t.Fatalf("input is %T", b["input"])
	}
	if sys != systemPrompt || user != userPrompt {
		t.Errorf("system %q user %q", sys, user)
	}
	if (b["stream"] == true) != c.stream {
		t.Errorf("stream = %v", b["stream"])
	}
	if c.tool {
		tl := obj(t, arr(t, b["tools"], "tools")[0], "tools[0]")
		if tl["type"] != "function" || tl["name"] != toolName || tl["function"] != nil {
			t.Errorf("tools[0] = %v (the Responses API's function tools are flat)", tl)
		}
		if obj(t, tl["parameters"], "parameters")["type"] != "object" {
			t.Errorf("tools[0].parameters = %v", tl["parameters"])
		}
	}
}

func validateAnthropic(t *testing.T, r *recorded, c *matrixCase) {
	if r.Path != "/v1/messages" || r.Method != "POST" {
		t.Errorf("upstream got %s %s", r.Method, r.Path)
	}
	if r.Header.Get("X-Api-Key") != "up-key-claude" || r.Header.Get("Authorization") != "" {
		t.Errorf("x-api-key = %q, authorization = %q", r.Header.Get("X-Api-Key"), r.Header.Get("Authorization"))
	}
	if r.Header.Get("Anthropic-Version") == "" {
		t.Error("no anthropic-version header")
	}
	b := r.JSON
	allowedKeys(t, b, "request", "model", "messages", "system", "max_tokens", "metadata", "stop_sequences", "stream",
		"temperature", "top_p", "top_k", "tools", "tool_choice", "thinking", "service_tier", "output_config", "output_format",
		"context_management", "container", "mcp_servers")
	if b["model"] != "claude-sonnet-4-5" {
		t.Errorf("model = %v", b["model"])
	}
	if mt, _ := b["max_tokens"].(float64); mt <= 0 {
		t.Errorf("max_tokens = %v; Anthropic requires it", b["max_tokens"])
	}
	if got := textOf(b["system"]); got != systemPrompt {
		t.Errorf("system = %q", got)
	}
	msgs := arr(t, b["messages"], "messages")
	first := obj(t, msgs[0], "messages[0]")
	if first["role"] != "user" || textOf(first["content"]) != userPrompt {
		t.Errorf("messages[0] = %v", first)
	}
	for i, m := range msgs {
		if role := str(obj(t, m, "message")["role"]); role != "user" && role != "assistant" {
			t.Errorf("messages[%d].role = %q", i, role)
		}
	}
	if (b["stream"] == true) != c.stream {
		t.Errorf("stream = %v", b["stream"])
	}
	if c.tool {
		tl := obj(t, arr(t, b["tools"], "tools")[0], "tools[0]")
		if tl["name"] != toolName || obj(t, tl["input_schema"], "input_schema")["type"] != "object" {
			t.Errorf("tools[0] = %v", tl)
		}
		allowedKeys(t, tl, "tools[0]", "name", "description", "input_schema", "cache_control", "type", "strict")
	}
}

func validateGemini(t *testing.T, r *recorded, c *matrixCase) {
	method := ":generateContent"
	if c.stream {
		method = ":streamGenerateContent"
		if r.Query != "alt=sse" {
			t.Errorf("query = %q, want alt=sse", r.Query)
		}
	}
	if r.Path != "/v1beta/models/gemini-2.0-flash"+method || r.Method != "POST" {
		t.Errorf("upstream got %s %s", r.Method, r.Path)
	}
	if r.Header.Get("X-Goog-Api-Key") != "up-key-gem" {
		t.Errorf("x-goog-api-key = %q", r.Header.Get("X-Goog-Api-Key"))
	}
	b := r.JSON
	allowedKeys(t, b, "request", "contents", "systemInstruction", "tools", "toolConfig", "generationConfig",
		"safetySettings", "cachedContent", "labels")
	si := obj(t, b["systemInstruction"], "systemInstruction")
	if got := textOf(si["parts"]); got != systemPrompt {
		t.Errorf("systemInstruction = %v", si)
	}
	contents := arr(t, b["contents"], "contents")
	first := obj(t, contents[0], "contents[0]")
	if first["role"] != "user" || textOf(first["parts"]) != userPrompt {
		t.Errorf("contents[0] = %v", first)
	}
	for i, ct := range contents {
		if role := str(obj(t, ct, "content")["role"]); role != "user" && role != "model" {
			t.Errorf("contents[%d].role = %q", i, role)
		}
	}
	if c.tool {
		tl := obj(t, arr(t, b["tools"], "tools")[0], "tools[0]")
		fd := obj(t, arr(t, tl["functionDeclarations"], "functionDeclarations")[0], "functionDeclarations[0]")
		if fd["name"] != toolName {
			t.Errorf("functionDeclarations[0] = %v", fd)
		}
		if fd["parameters"] == nil && fd["parametersJsonSchema"] == nil {
			t.Errorf("functionDeclarations[0] has no parameters: %v", fd)
		}
	}
}

func validateOllama(t *testing.T, r *recorded, c *matrixCase) {
	if r.Path != "/api/chat" || r.Method != "POST" {
		t.Errorf("upstream got %s %s", r.Method, r.Path)
	}
	b := r.JSON
	if b["model"] != "llama3.2" {
		t.Errorf("model = %v", b["model"])
	}
	s, ok := b["stream"].(bool)
	if !ok || s != c.stream {
		t.Errorf("stream = %v; Ollama streams unless told not to, so it must be explicit", b["stream"])
	}
	var sys, user string
	for i, m := range arr(t, b["messages"], "messages") {
		mm := obj(t, m, "message")
		if _, ok := mm["content"].(string); !ok && mm["content"] != nil {
			t.Errorf("messages[%d].content is %T; Ollama content is a string", i, mm["content"])
		}
		switch role := str(mm["role"]); role {
		case "system":
			sys += str(mm["content"])
		case "user":
			user += str(mm["content"])
		case "assistant", "tool":
		default:
			t.Errorf("messages[%d].role = %q", i, role)
		}
	}
	if sys != systemPrompt || user != userPrompt {
		t.Errorf("system %q user %q", sys, user)
	}
	if c.tool {
		tl := obj(t, arr(t, b["tools"], "tools")[0], "tools[0]")
		fn := obj(t, tl["function"], "tools[0].function")
		if tl["type"] != "function" || fn["name"] != toolName {
			t.Errorf("tools[0] = %v", tl)
		}
	}
}
