package provider

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/llm"
)

// weatherSchema uses every JSON type the mock must fill.
const weatherSchema = `{"type":"object","properties":{
	"city":{"type":"string","description":"City name"},
	"days":{"type":"integer"},
	"threshold":{"type":"number"},
	"metric":{"type":"boolean"},
	"unit":{"type":"string","enum":["celsius","fahrenheit"]},
	"tags":{"type":"array","items":{"type":"string"}},
	"where":{"type":"object","properties":{"lat":{"type":"number"},"lon":{"type":"number"}},"required":["lat","lon"]},
	"note":{"type":["string","null"]}
},"required":["city"]}`

var (
	weatherTool = llm.Tool{Type: llm.ToolFunction, Name: "get_weather", Parameters: json.RawMessage(weatherSchema)}
	searchTool  = llm.Tool{Type: llm.ToolFunction, Name: "search",
		Parameters: json.RawMessage(`{"type":"object","properties":{"query":{"type":"string"},"limit":{"type":"integer"}}}`)}
	clockTool = llm.Tool{Type: llm.ToolFunction, Name: "now"} // no parameters
)

// toolExchange is a conversation whose last turn is the result of a call.
func toolExchange(result string) *llm.Request {
	r := userRequest("What's the weather in Paris?")
	r.Tools = []llm.Tool{weatherTool}
	r.Messages = append(r.Messages,
		llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartToolCall,
			ToolCall: &llm.ToolCall{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Paris"}`}}}},
		llm.Message{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult,
			ToolResult: &llm.ToolResult{CallID: "call_1", Name: "get_weather", Content: []llm.Part{llm.TextPart(result)}}}}})
	return r
}

func TestMockEcho(t *testing.T) {
	conversation := userRequest("first question")
	conversation.Messages = append([]llm.Message{{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart("be brief")}}}, conversation.Messages...)
	conversation.Messages = append(conversation.Messages,
		llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart("an answer")}},
		llm.Message{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("second  question, with  double spaces ")}})
	withTools := userRequest("ignore the tools")
	withTools.Tools = []llm.Tool{weatherTool}
	tests := []struct {
		name string
		req  *llm.Request
		want string
	}{
		{"one message", userRequest("Hello, world!"), "Hello, world!"},
		{"the last user message", conversation, "second  question, with  double spaces "},
		{"after a tool result, the result", toolExchange(`{"temp":21,"sky":"sunny"}`), `{"temp":21,"sky":"sunny"}`},
		{"tools are not called", withTools, "ignore the tools"},
		{"non-ASCII", userRequest("Grüße aus Köln — 東京"), "Grüße aus Köln — 東京"},
	}
	m := NewMock("mock", nil)
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", tt.name, stream), func(t *testing.T) {
				resp, err := call(t, m, &Call{Request: tt.req, Model: "echo"}, stream)
				if err != nil {
					t.Fatal(err)
				}
				if got := resp.Text(); got != tt.want {
					t.Errorf("echo = %q, want %q", got, tt.want)
				}
				if fr := resp.Choices[0].FinishReason; fr != llm.FinishStop {
					t.Errorf("finish = %s, want stop", fr)
				}
				if u := resp.Usage; u.InputTokens <= 0 || u.OutputTokens <= 0 {
					t.Errorf("usage = %+v, want non-zero counts", u)
				}
			})
		}
	}
}

func TestMockGenerate(t *testing.T) {
	ptr := func(n int) *int { return &n }
	tests := []struct {
		name      string
		opts      *config.Mock
		maxTokens *int
		format    *llm.ResponseFormat
		words     int
		finish    llm.FinishReason
	}{
		{name: "default length", words: 16, finish: llm.FinishStop},
		{name: "configured length", opts: &config.Mock{OutputTokens: 40}, words: 40, finish: llm.FinishStop},
		{name: "capped by max tokens", maxTokens: ptr(3), words: 3, finish: llm.FinishLength},
		{name: "max tokens above the length", maxTokens: ptr(100), words: 16, finish: llm.FinishStop},
		{name: "max tokens equal to the length", maxTokens: ptr(16), words: 16, finish: llm.FinishStop},
		{name: "zero max tokens", maxTokens: ptr(0), words: 0, finish: llm.FinishLength},
		{name: "negative max tokens", maxTokens: ptr(-5), words: 0, finish: llm.FinishLength},
		{name: "explicit text format", format: &llm.ResponseFormat{Type: llm.FormatText}, words: 16, finish: llm.FinishStop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMock("mock", tt.opts)
			req := userRequest("Tell me a story")
			req.MaxTokens, req.ResponseFormat = tt.maxTokens, tt.format
			resp, err := m.Do(t.Context(), &Call{Request: req, Model: "chat"})
			if err != nil {
				t.Fatal(err)
			}
			text := resp.Text()
			words := strings.Fields(text)
			if len(words) != tt.words || strings.Join(words, " ") != text {
				t.Errorf("text %q has %d words, want %d separated by single spaces", text, len(words), tt.words)
			}
			if fr := resp.Choices[0].FinishReason; fr != tt.finish {
				t.Errorf("finish = %s, want %s", fr, tt.finish)
			}
			if u := resp.Usage; u.InputTokens <= 0 || u.OutputTokens != tt.words {
				t.Errorf("usage = %+v, want input > 0 and output %d", u, tt.words)
			}
		})
	}
}

// TestMockDeterministic: the same input and model give the same answer;
// another model or another input gives another one.
func TestMockDeterministic(t *testing.T) {
	m := NewMock("mock", nil)
	answer := func(model, input string) *llm.Response {
		t.Helper()
		resp, err := m.Do(t.Context(), &Call{Request: userRequest(input), Model: model})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	a, again := answer("chat", "hello"), answer("chat", "hello")
	if a.Text() != again.Text() || a.ID != again.ID || a.Usage != again.Usage {
		t.Errorf("two answers to the same call differ:\n%q %s\n%q %s", a.Text(), a.ID, again.Text(), again.ID)
	}
	for _, other := range []*llm.Response{answer("chat-2", "hello"), answer("gpt-4o", "hello"), answer("chat", "hello!")} {
		if other.Text() == a.Text() {
			t.Errorf("%q answered %q, the same as chat to hello", other.Model, other.Text())
		}
	}
	if a.Model != "chat" {
		t.Errorf("model = %q, want the called model", a.Model)
	}
}

func TestMockTools(t *testing.T) {
	req := func(tools []llm.Tool, choice *llm.ToolChoice) *llm.Request {
		r := userRequest("What's the weather in Paris?")
		r.Tools, r.ToolChoice = tools, choice
		return r
	}
	all := []llm.Tool{weatherTool, searchTool, clockTool}
	tests := []struct {
		name  string
		model string
		req   *llm.Request
		calls []string // tool names called, in order; nil for a text answer
		err   string   // param of a 400
	}{
		{name: "first tool", model: "chat", req: req(all, nil), calls: []string{"get_weather"}},
		{name: "auto", model: "chat", req: req(all, &llm.ToolChoice{Mode: llm.ToolChoiceAuto}), calls: []string{"get_weather"}},
		{name: "required", model: "chat", req: req(all, &llm.ToolChoice{Mode: llm.ToolChoiceRequired}), calls: []string{"get_weather"}},
		{name: "forced", model: "chat", req: req(all, &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "search"}), calls: []string{"search"}},
		{name: "forced without parameters", model: "chat", req: req(all, &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "now"}), calls: []string{"now"}},
		{name: "forced unknown tool", model: "chat", req: req(all, &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "launch"}), err: "tool_choice"},
		{name: "none", model: "chat", req: req(all, &llm.ToolChoice{Mode: llm.ToolChoiceNone})},
		{name: "parallel", model: "chat-parallel", req: req(all, nil), calls: []string{"get_weather", "search", "now"}},
		{name: "parallel but forced", model: "parallel", req: req(all, &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "now"}), calls: []string{"now"}},
		{name: "after the tool result", model: "chat", req: toolExchange("sunny")},
	}
	schemas := map[string]llm.Tool{}
	for _, tool := range all {
		schemas[tool.Name] = tool
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", tt.name, stream), func(t *testing.T) {
				resp, err := call(t, NewMock("mock", nil), &Call{Request: tt.req, Model: tt.model}, stream)
				if tt.err != "" {
					e := asLLMError(t, err)
					if e.HTTPStatus() != 400 || e.Param != tt.err {
						t.Errorf("error = %d %q (param %q), want a 400 on %s", e.HTTPStatus(), e.Message, e.Param, tt.err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				calls := resp.Choices[0].Message.ToolCalls()
				if tt.calls == nil {
					if len(calls) > 0 || resp.Text() == "" || resp.Choices[0].FinishReason != llm.FinishStop {
						t.Errorf("answer = %q with %d calls (finish %s), want text", resp.Text(), len(calls), resp.Choices[0].FinishReason)
					}
					return
				}
				if resp.Choices[0].FinishReason != llm.FinishToolCalls {
					t.Errorf("finish = %s, want tool_calls", resp.Choices[0].FinishReason)
				}
				var names []string
				ids := map[string]bool{}
				for _, c := range calls {
					names = append(names, c.Name)
					if c.ID == "" || ids[c.ID] {
						t.Errorf("call id %q is empty or repeated", c.ID)
					}
					ids[c.ID] = true
					var schema map[string]any
					if p := schemas[c.Name].Parameters; p != nil {
						if err := json.Unmarshal(p, &schema); err != nil {
							t.Fatal(err)
						}
					} else {
						schema = map[string]any{"type": "object"}
					}
					var args any
					if err := json.Unmarshal([]byte(c.Arguments), &args); err != nil {
						t.Errorf("arguments of %s are not JSON: %q", c.Name, c.Arguments)
						continue
					}
					if err := conforms(schema, args, "arguments"); err != nil {
						t.Errorf("arguments of %s = %s: %v", c.Name, c.Arguments, err)
					}
				}
				if !reflect.DeepEqual(names, tt.calls) {
					t.Errorf("calls = %q, want %q", names, tt.calls)
				}
				if u := resp.Usage; u.InputTokens <= 0 || u.OutputTokens <= 0 {
					t.Errorf("usage = %+v, want non-zero counts", u)
				}
			})
		}
	}
}

// TestMockToolArgsSplitUTF8: the mock streams arguments in two pieces; a
// piece must not end inside a character, or every encoder downstream
// writes invalid UTF-8 into its JSON.
func TestMockToolArgsSplitUTF8(t *testing.T) {
	for _, enum := range []string{"ééééé", "日本語のテキスト", "a€b€c€d", "🙂🙂🙂"} {
		t.Run(enum, func(t *testing.T) {
			req := userRequest("go")
			req.Tools = []llm.Tool{{Type: llm.ToolFunction, Name: "say",
				Parameters: json.RawMessage(`{"type":"object","properties":{"a":{"type":"string","enum":["` + enum + `"]}}}`)}}
			s, err := NewMock("mock", nil).Stream(t.Context(), &Call{Request: req, Model: "chat"})
			if err != nil {
				t.Fatal(err)
			}
			evs, err := drain(s)
			if err != nil {
				t.Fatal(err)
			}
			var args string
			for _, ev := range evs {
				if ev.Type != llm.EventToolArgs && ev.Type != llm.EventToolCall {
					continue
				}
				if !utf8.ValidString(ev.Text) {
					t.Errorf("%s event %q is not valid UTF-8", ev.Type, ev.Text)
				}
				args += ev.Text
			}
			if want := `{"a":"` + enum + `"}`; args != want {
				t.Errorf("arguments = %q, want %q", args, want)
			}
		})
	}
}

func TestMockResponseFormat(t *testing.T) {
	schema := `{"type":"object","properties":{"title":{"type":"string"},"year":{"type":"integer"},
		"rating":{"type":"number"},"genres":{"type":"array","items":{"type":"string","enum":["drama","comedy"]}},
		"cast":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"},"lead":{"type":"boolean"}}}}},
		"required":["title","year"],"additionalProperties":false}`
	three := 3
	tests := []struct {
		name   string
		format *llm.ResponseFormat
		max    *int
		schema string // "" for any object
	}{
		{"json object", &llm.ResponseFormat{Type: llm.FormatJSONObject}, nil, ""},
		{"json object capped", &llm.ResponseFormat{Type: llm.FormatJSONObject}, &three, ""},
		{"json schema", &llm.ResponseFormat{Type: llm.FormatJSONSchema, Name: "movie", Schema: json.RawMessage(schema)}, nil, schema},
		{"json schema capped", &llm.ResponseFormat{Type: llm.FormatJSONSchema, Name: "movie", Schema: json.RawMessage(schema)}, &three, schema},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", tt.name, stream), func(t *testing.T) {
				req := userRequest("A film, please")
				req.ResponseFormat, req.MaxTokens = tt.format, tt.max
				resp, err := call(t, NewMock("mock", nil), &Call{Request: req, Model: "chat"}, stream)
				if err != nil {
					t.Fatal(err)
				}
				var v any
				if err := json.Unmarshal([]byte(resp.Text()), &v); err != nil {
					t.Fatalf("answer %q is not JSON: %v", resp.Text(), err)
				}
				want := map[string]any{"type": "object"}
				if tt.schema != "" {
					if err := json.Unmarshal([]byte(tt.schema), &want); err != nil {
						t.Fatal(err)
					}
				}
				if err := conforms(want, v, "answer"); err != nil {
					t.Errorf("answer %s: %v", resp.Text(), err)
				}
				if resp.Choices[0].FinishReason != llm.FinishStop {
					t.Errorf("finish = %s; a cut JSON answer would not parse", resp.Choices[0].FinishReason)
				}
			})
		}
	}
}

func TestMockErrors(t *testing.T) {
	tests := []struct {
		model  string
		kind   llm.ErrorKind
		status int
		retry  bool
		msg    string
	}{
		{"error-429", llm.KindRateLimited, 429, true, "mock upstream error 429"},
		{"error-401", llm.KindUpstream, 502, false, "the upstream provider mock refused the gateway's credentials (HTTP 401)"},
		{"error-403", llm.KindUpstream, 502, false, "the upstream provider mock refused the gateway's credentials (HTTP 403)"},
		{"error-400", llm.KindInvalidRequest, 400, false, "mock upstream error 400"},
		{"error-404", llm.KindNotFound, 404, false, "mock upstream error 404"},
		{"error-500", llm.KindUpstream, 500, false, "mock upstream error 500"},
		{"error-503", llm.KindOverloaded, 503, false, "mock upstream error 503"},
		{"error-529", llm.KindOverloaded, 529, false, "mock upstream error 529"},
		{"error-abc", llm.KindInvalidRequest, 400, false, "error-400 … error-599"},
		{"error-200", llm.KindInvalidRequest, 400, false, "error-400 … error-599"},
		{"error-600", llm.KindInvalidRequest, 400, false, "error-400 … error-599"},
		{"error-", llm.KindInvalidRequest, 400, false, "error-400 … error-599"},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", tt.model, stream), func(t *testing.T) {
				_, err := call(t, NewMock("mock", nil), &Call{Request: userRequest("hi"), Model: tt.model}, stream)
				e := asLLMError(t, err)
				if e.Kind != tt.kind || e.HTTPStatus() != tt.status || (e.RetryAfter > 0) != tt.retry || !strings.Contains(e.Message, tt.msg) {
					t.Errorf("error = {%s %d retry %v %q}, want {%s %d retry %v %q}",
						e.Kind, e.HTTPStatus(), e.RetryAfter, e.Message, tt.kind, tt.status, tt.retry, tt.msg)
				}
				if e.Code == "upstream_auth_failed" && strings.Contains(strings.ToLower(e.Message), "your") {
					t.Errorf("the credentials error %q speaks to the client about its key", e.Message)
				}
			})
		}
	}
}

// TestMockUsage: counts grow with the input and match the output.
func TestMockUsage(t *testing.T) {
	m := NewMock("mock", &config.Mock{OutputTokens: 7})
	short, err := m.Do(t.Context(), &Call{Request: userRequest("hi"), Model: "chat"})
	if err != nil {
		t.Fatal(err)
	}
	long, err := m.Do(t.Context(), &Call{Request: userRequest(strings.Repeat("a much longer question ", 20)), Model: "chat"})
	if err != nil {
		t.Fatal(err)
	}
	if short.Usage.InputTokens <= 0 || long.Usage.InputTokens <= short.Usage.InputTokens {
		t.Errorf("input tokens: %d for a short question, %d for a long one", short.Usage.InputTokens, long.Usage.InputTokens)
	}
	for _, r := range []*llm.Response{short, long} {
		if r.Usage.OutputTokens != 7 || r.Usage.Total() != r.Usage.InputTokens+7 || r.Usage.Estimated {
			t.Errorf("usage = %+v, want 7 output tokens", r.Usage)
		}
	}
}

func TestMockEmbed(t *testing.T) {
	m := NewMock("mock", nil)
	embed := func(dims *int, inputs ...llm.EmbeddingInput) (*llm.EmbeddingResponse, error) {
		return m.Embed(t.Context(), &llm.EmbeddingRequest{Inputs: inputs, Dimensions: dims}, "embed-1")
	}
	ptr := func(n int) *int { return &n }
	tests := []struct {
		name string
		dims *int
		want int // vector length; 0 for a 400
	}{
		{"default", nil, 16},
		{"requested", ptr(8), 8},
		{"one", ptr(1), 1},
		{"large", ptr(3072), 3072},
		{"too large", ptr(4097), 0},
		{"zero", ptr(0), 0},
		{"negative", ptr(-3), 0},
	}
	inputs := []llm.EmbeddingInput{{Text: "the cat"}, {Text: "the dog"}, {Text: "the cat"}, {Tokens: []int{101, 2003}}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := embed(tt.dims, inputs...)
			if tt.want == 0 {
				if e := asLLMError(t, err); e.HTTPStatus() != 400 || e.Param != "dimensions" {
					t.Errorf("error = %d %q on %q, want a 400 on dimensions", e.HTTPStatus(), e.Message, e.Param)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Vectors) != len(inputs) || resp.Model != "embed-1" || resp.Usage.InputTokens <= 0 {
				t.Fatalf("%d vectors for model %q with usage %+v", len(resp.Vectors), resp.Model, resp.Usage)
			}
			for i, v := range resp.Vectors {
				var sum float64
				for _, x := range v {
					sum += float64(x) * float64(x)
				}
				if len(v) != tt.want || math.Abs(sum-1) > 1e-5 {
					t.Errorf("vector %d has length %d and norm² %v, want a unit vector of %d", i, len(v), sum, tt.want)
				}
			}
			if !reflect.DeepEqual(resp.Vectors[0], resp.Vectors[2]) {
				t.Errorf("the same text gave different vectors")
			}
			if tt.want > 1 && (reflect.DeepEqual(resp.Vectors[0], resp.Vectors[1]) || reflect.DeepEqual(resp.Vectors[0], resp.Vectors[3])) {
				t.Errorf("different inputs gave the same vector")
			}
			again, err := embed(tt.dims, inputs[1])
			if err != nil || !reflect.DeepEqual(again.Vectors[0], resp.Vectors[1]) {
				t.Errorf("embedding again gave %v, %v", again, err)
			}
		})
	}
}

func TestMockListModels(t *testing.T) {
	models, err := NewMock("fake", nil).ListModels(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []llm.Model{{ID: "echo", OwnedBy: "fake"}, {ID: "chat", OwnedBy: "fake"}}
	if !reflect.DeepEqual(models, want) {
		t.Errorf("models = %+v, want %+v", models, want)
	}
}
