package ollama_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// The official Go client (github.com/ollama/ollama/api) decodes answers
// with encoding/json into the types below, copied from api/types.go and
// api/client.go: created_at and modified_at are time.Time, durations are
// time.Duration (integer nanoseconds), images are []byte (base64), and a
// stream line with an "error" member ends Chat or Generate with that
// error. These tests parse the package's output as that client does.

type apiToolCall struct {
	ID       string `json:"id,omitempty"`
	Function struct {
		Index     int            `json:"index"`
		Name      string         `json:"name"`
		Arguments map[string]any `json:"arguments"`
	} `json:"function"`
}

type apiMessage struct {
	Role       string        `json:"role"`
	Content    string        `json:"content"`
	Thinking   string        `json:"thinking,omitempty"`
	Images     [][]byte      `json:"images,omitempty"`
	ToolCalls  []apiToolCall `json:"tool_calls,omitempty"`
	ToolName   string        `json:"tool_name,omitempty"`
	ToolCallID string        `json:"tool_call_id,omitempty"`
}

type apiMetrics struct {
	TotalDuration      time.Duration `json:"total_duration,omitempty"`
	LoadDuration       time.Duration `json:"load_duration,omitempty"`
	PromptEvalCount    int           `json:"prompt_eval_count,omitempty"`
	PromptEvalDuration time.Duration `json:"prompt_eval_duration,omitempty"`
	EvalCount          int           `json:"eval_count,omitempty"`
	EvalDuration       time.Duration `json:"eval_duration,omitempty"`
}

type apiLogprob struct {
	Token       string  `json:"token"`
	Logprob     float64 `json:"logprob"`
	Bytes       []int   `json:"bytes,omitempty"`
	TopLogprobs []struct {
		Token   string  `json:"token"`
		Logprob float64 `json:"logprob"`
	} `json:"top_logprobs,omitempty"`
}

type apiChatResponse struct {
	Model      string       `json:"model"`
	CreatedAt  time.Time    `json:"created_at"`
	Message    apiMessage   `json:"message"`
	Done       bool         `json:"done"`
	DoneReason string       `json:"done_reason,omitempty"`
	Logprobs   []apiLogprob `json:"logprobs,omitempty"`
	apiMetrics
}

type apiGenerateResponse struct {
	Model      string        `json:"model"`
	CreatedAt  time.Time     `json:"created_at"`
	Response   string        `json:"response"`
	Thinking   string        `json:"thinking,omitempty"`
	Done       bool          `json:"done"`
	DoneReason string        `json:"done_reason,omitempty"`
	Context    []int         `json:"context,omitempty"`
	ToolCalls  []apiToolCall `json:"tool_calls,omitempty"`
	apiMetrics
}

type apiModelDetails struct {
	ParentModel       string   `json:"parent_model"`
	Format            string   `json:"format"`
	Family            string   `json:"family"`
	Families          []string `json:"families"`
	ParameterSize     string   `json:"parameter_size"`
	QuantizationLevel string   `json:"quantization_level"`
}

type apiListResponse struct {
	Models []struct {
		Name       string          `json:"name"`
		Model      string          `json:"model"`
		ModifiedAt time.Time       `json:"modified_at"`
		Size       int64           `json:"size"`
		Digest     string          `json:"digest"`
		Details    apiModelDetails `json:"details,omitempty"`
	} `json:"models"`
}

type apiShowResponse struct {
	License      string          `json:"license,omitempty"`
	Modelfile    string          `json:"modelfile,omitempty"`
	Parameters   string          `json:"parameters,omitempty"`
	Template     string          `json:"template,omitempty"`
	Details      apiModelDetails `json:"details,omitempty"`
	ModelInfo    map[string]any  `json:"model_info"`
	Capabilities []string        `json:"capabilities,omitempty"`
	ModifiedAt   time.Time       `json:"modified_at,omitempty"`
}

// clientStream reads a streamed body as api.Client.stream does: line by
// line, an "error" member ending the call, every other line decoded by fn.
func clientStream(status int, body []byte, fn func([]byte) error) error {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 8<<20), 8<<20)
	for sc.Scan() {
		var errorResponse struct {
			Error string `json:"error,omitempty"`
		}
		bts := sc.Bytes()
		if err := json.Unmarshal(bts, &errorResponse); err != nil {
			return fmt.Errorf("not JSON: %s", bts)
		}
		if status >= 400 {
			return fmt.Errorf("status %d: %s", status, errorResponse.Error)
		}
		if errorResponse.Error != "" {
			return errors.New(errorResponse.Error)
		}
		if err := fn(bts); err != nil {
			return err
		}
	}
	return sc.Err()
}

// sampleEvents is an answer with everything an Ollama client sees:
// thinking, text with logprobs, a tool call, a finish and usage.
var sampleEvents = []llm.Event{
	{Type: llm.EventStart, Model: "upstream"},
	{Type: llm.EventReasoning, Text: "Think."},
	{Type: llm.EventText, Text: "Hello ", Logprobs: []llm.TokenLogprob{{Token: "Hello", Logprob: -0.1, Bytes: []byte("Hello"),
		Top: []llm.TopLogprob{{Token: "Hi", Logprob: -2}}}}},
	{Type: llm.EventText, Text: "wörld \"quoted\"\n"},
	{Type: llm.EventToolCall, ToolIndex: 0, ID: "toolu_01", Name: "get_weather"},
	{Type: llm.EventToolArgs, ToolIndex: 0, Text: `{"city":"Paris","days":[1,2]}`},
	{Type: llm.EventFinish, FinishReason: llm.FinishToolCalls},
	{Type: llm.EventUsage, Usage: &llm.Usage{InputTokens: 11, OutputTokens: 7}},
}

func TestOfficialClientReadsChatStream(t *testing.T) {
	out := encodeStream(t, proto, &llm.Request{Model: "client-model"}, sampleEvents, nil)
	var text, thinking strings.Builder
	var last apiChatResponse
	var calls []apiToolCall
	lines := 0
	err := clientStream(200, out, func(b []byte) error {
		var r apiChatResponse
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		lines++
		if r.Model != "client-model" || r.CreatedAt.IsZero() || r.Message.Role != "assistant" {
			t.Errorf("line %s", b)
		}
		text.WriteString(r.Message.Content)
		thinking.WriteString(r.Message.Thinking)
		calls = append(calls, r.Message.ToolCalls...)
		last = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if text.String() != "Hello wörld \"quoted\"\n" || thinking.String() != "Think." {
		t.Errorf("text %q thinking %q", text.String(), thinking.String())
	}
	if len(calls) != 1 || calls[0].ID != "toolu_01" || calls[0].Function.Name != "get_weather" || calls[0].Function.Arguments["city"] != "Paris" {
		t.Errorf("calls %+v", calls)
	}
	if !last.Done || last.DoneReason != "stop" || last.PromptEvalCount != 11 || last.EvalCount != 7 || lines != 5 {
		t.Errorf("final %+v after %d lines", last, lines)
	}
}

func TestOfficialClientReadsGenerateStream(t *testing.T) {
	out := encodeStream(t, gen, &llm.Request{Model: "client-model"}, sampleEvents[:4], nil)
	var text strings.Builder
	var last apiGenerateResponse
	err := clientStream(200, out, func(b []byte) error {
		if err := json.Unmarshal(b, &last); err != nil {
			return err
		}
		text.WriteString(last.Response)
		return nil
	})
	if err != nil || text.String() != "Hello wörld \"quoted\"\n" || !last.Done || last.DoneReason != "stop" {
		t.Errorf("text %q final %+v err %v", text.String(), last, err)
	}
}

func TestOfficialClientSeesStreamErrors(t *testing.T) {
	for _, in := range []struct {
		name string
		enc  func() []byte
	}{
		{"chat", func() []byte {
			return encodeStream(t, proto, &llm.Request{Model: "m"}, sampleEvents[:3], &llm.Error{Kind: llm.KindOverloaded, Message: "upstream overloaded"})
		}},
		{"generate", func() []byte {
			return encodeStream(t, gen, &llm.Request{Model: "m"}, sampleEvents[:3], &llm.Error{Kind: llm.KindOverloaded, Message: "upstream overloaded"})
		}},
	} {
		err := clientStream(200, in.enc(), func([]byte) error { return nil })
		if err == nil || err.Error() != "upstream overloaded" {
			t.Errorf("%s: client error %v", in.name, err)
		}
	}
	st, body := proto.EncodeError(&llm.Error{Kind: llm.KindNotFound, Message: "model 'x' not found"})
	err := clientStream(st, body, func([]byte) error { return nil })
	if err == nil || err.Error() != "status 404: model 'x' not found" {
		t.Errorf("client error %v", err)
	}
}

func TestOfficialClientReadsResponses(t *testing.T) {
	resp := &llm.Response{Model: "up", Created: 1700000000, Usage: llm.Usage{InputTokens: 3, OutputTokens: 2}, Choices: []llm.Choice{{
		Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
			{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: "T"}}, llm.TextPart("A"),
			{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{Name: "f", Arguments: `{"x":1}`}}}},
		FinishReason: llm.FinishLength,
		Logprobs:     []llm.TokenLogprob{{Token: "A", Logprob: -1}},
	}}}
	var out bytes.Buffer
	if err := proto.EncodeResponse(&out, &llm.Request{Model: "client"}, resp); err != nil {
		t.Fatal(err)
	}
	var c apiChatResponse
	if err := json.Unmarshal(out.Bytes(), &c); err != nil {
		t.Fatal(err)
	}
	if c.Model != "client" || c.CreatedAt.Unix() != 1700000000 || c.Message.Content != "A" || c.Message.Thinking != "T" ||
		len(c.Message.ToolCalls) != 1 || c.Message.ToolCalls[0].ID == "" || c.DoneReason != "length" || !c.Done ||
		c.PromptEvalCount != 3 || c.EvalCount != 2 || len(c.Logprobs) != 1 {
		t.Errorf("chat response %+v", c)
	}
	out.Reset()
	if err := gen.EncodeResponse(&out, &llm.Request{Model: "client"}, resp); err != nil {
		t.Fatal(err)
	}
	var g apiGenerateResponse
	if err := json.Unmarshal(out.Bytes(), &g); err != nil {
		t.Fatal(err)
	}
	if g.Response != "A" || g.Thinking != "T" || !g.Done || g.DoneReason != "length" || g.EvalCount != 2 || len(g.ToolCalls) != 1 {
		t.Errorf("generate response %+v", g)
	}
}

func TestOfficialClientReadsModelsShowVersion(t *testing.T) {
	var out bytes.Buffer
	if err := proto.EncodeModels(&out, []llm.Model{{ID: "claude/sonnet", Created: 1700000000}, {ID: "smart"}}); err != nil {
		t.Fatal(err)
	}
	var l apiListResponse
	if err := json.Unmarshal(out.Bytes(), &l); err != nil {
		t.Fatalf("%s: %v", out.Bytes(), err)
	}
	if len(l.Models) != 2 || l.Models[0].Name != "claude/sonnet" || l.Models[0].Model != "claude/sonnet" ||
		l.Models[0].ModifiedAt.Unix() != 1700000000 || l.Models[1].ModifiedAt.IsZero() {
		t.Errorf("list %+v", l)
	}
	models, err := proto.DecodeModels(out.Bytes())
	if err != nil || len(models) != 2 || models[0].ID != "claude/sonnet" || models[0].Created != 1700000000 {
		t.Errorf("DecodeModels of our own list = %+v, %v", models, err)
	}

	out.Reset()
	if err := proto.EncodeShow(&out, llm.Model{ID: "smart"}); err != nil {
		t.Fatal(err)
	}
	var s apiShowResponse
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("%s: %v", out.Bytes(), err)
	}
	if s.ModelInfo == nil || strings.Join(s.Capabilities, ",") != "completion,tools" || s.ModifiedAt.IsZero() {
		t.Errorf("show %s", out.Bytes())
	}

	out.Reset()
	if err := proto.EncodeVersion(&out, "0.12.3"); err != nil {
		t.Fatal(err)
	}
	if out.String() != `{"version":"0.12.3"}` {
		t.Errorf("version %s", out.Bytes())
	}
}

// TestOfficialClientRequests decodes requests as the official client
// marshals them: encoding/json of api.ChatRequest, with its nil options,
// its always-present parameters object and images as base64 of []byte.
func TestOfficialClientRequests(t *testing.T) {
	type apiTool struct {
		Type     string `json:"type"`
		Function struct {
			Name        string `json:"name"`
			Description string `json:"description,omitempty"`
			Parameters  struct {
				Type       string         `json:"type"`
				Required   []string       `json:"required,omitempty"`
				Properties map[string]any `json:"properties"`
			} `json:"parameters"`
		} `json:"function"`
	}
	type apiChatRequest struct {
		Model    string          `json:"model"`
		Messages []apiMessage    `json:"messages"`
		Stream   *bool           `json:"stream,omitempty"`
		Format   json.RawMessage `json:"format,omitempty"`
		Tools    []apiTool       `json:"tools,omitempty"`
		Options  map[string]any  `json:"options"`
		Think    any             `json:"think,omitempty"`
	}
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	var empty apiTool
	empty.Type, empty.Function.Name = "function", "now"
	var weather apiTool
	weather.Type, weather.Function.Name = "function", "get_weather"
	weather.Function.Parameters.Type = "object"
	weather.Function.Parameters.Properties = map[string]any{"city": map[string]any{"type": "string"}}
	call := apiToolCall{}
	call.Function.Name, call.Function.Arguments = "get_weather", map[string]any{"city": "Paris"}
	body, err := json.Marshal(apiChatRequest{
		Model: "llama3.2",
		Messages: []apiMessage{
			{Role: "user", Content: "Weather?", Images: [][]byte{png}},
			{Role: "assistant", ToolCalls: []apiToolCall{call}},
			{Role: "tool", Content: "18C", ToolName: "get_weather"},
		},
		Tools: []apiTool{weather, empty},
		Think: "low",
	})
	if err != nil {
		t.Fatal(err)
	}
	req, err := proto.DecodeRequest(body)
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	if !req.Stream || req.Reasoning == nil || req.Reasoning.Effort != "low" {
		t.Errorf("stream %v reasoning %+v", req.Stream, req.Reasoning)
	}
	if m := req.Messages[0].Parts[1].Media; m.MIMEType != "image/png" {
		t.Errorf("image %+v", m)
	}
	if len(req.Tools) != 2 || req.Tools[1].Parameters != nil || !strings.Contains(string(req.Tools[0].Parameters), `"city"`) {
		t.Errorf("tools %s", testkit.Dump(req.Tools))
	}
	callID := req.Messages[1].Parts[0].ToolCall.ID
	if r := req.Messages[2].Parts[0].ToolResult; r.CallID != callID || r.Name != "get_weather" {
		t.Errorf("result %+v answers %q", r, callID)
	}
}
