package ollama

import (
	"math"
	"strconv"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// Wire structs of Ollama's native API (api/types.go of ollama/ollama).
// Optional fields are pointers or carry omitzero so that encoding sends only
// what was set; the structs clients may extend keep their unknown members.

type chatRequest struct {
	Model       string         `json:"model"`
	Messages    []message      `json:"messages"`
	Tools       []tool         `json:"tools,omitzero"`
	Format      jsontext.Value `json:"format,omitzero"`
	Options     *options       `json:"options,omitzero"`
	Stream      *bool          `json:"stream,omitzero"`
	Think       *think         `json:"think,omitzero"`
	Logprobs    *bool          `json:"logprobs,omitzero"`
	TopLogprobs *int           `json:"top_logprobs,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type generateRequest struct {
	Model       string         `json:"model"`
	Prompt      string         `json:"prompt"`
	Suffix      string         `json:"suffix"`
	System      string         `json:"system"`
	Template    string         `json:"template"`
	Context     []int64        `json:"context"`
	Raw         bool           `json:"raw"`
	Images      []string       `json:"images"`
	Format      jsontext.Value `json:"format,omitzero"`
	Options     *options       `json:"options,omitzero"`
	Stream      *bool          `json:"stream,omitzero"`
	Think       *think         `json:"think,omitzero"`
	Logprobs    *bool          `json:"logprobs,omitzero"`
	TopLogprobs *int           `json:"top_logprobs,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

// topLevel lists the members chatRequest declares: an extension must not
// repeat one of them.
var topLevel = map[string]bool{
	"model": true, "messages": true, "tools": true, "format": true, "options": true,
	"stream": true, "think": true, "logprobs": true, "top_logprobs": true,
}

type message struct {
	Role       string     `json:"role"`
	Content    string     `json:"content"`
	Thinking   string     `json:"thinking,omitzero"`
	Images     []string   `json:"images,omitzero"`
	ToolCalls  []toolCall `json:"tool_calls,omitzero"`
	ToolName   string     `json:"tool_name,omitzero"`
	ToolCallID string     `json:"tool_call_id,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type toolCall struct {
	ID       string           `json:"id,omitzero"`
	Function toolCallFunction `json:"function"`
}

type toolCallFunction struct {
	Index     *int      `json:"index,omitzero"`
	Name      string    `json:"name"`
	Arguments arguments `json:"arguments"`
}

// arguments is the JSON text of a call's arguments object. Besides the
// object Ollama sends, null (no arguments) and a string holding the JSON
// text (as OpenAI-minded clients send it) are accepted.
type arguments jsontext.Value

func (a *arguments) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch dec.PeekKind() {
	case '{':
		v, err := dec.ReadValue()
		*a = arguments(v.Clone())
		return err
	case 'n':
		_, err := dec.ReadToken()
		*a = nil
		return err
	case '"':
		s, err := wirejson.ReadString(dec)
		if err != nil {
			return err
		}
		v := jsontext.Value(s)
		if s == "" {
			*a = nil
			return nil
		}
		if v.Kind() != '{' || !v.IsValid() {
			return &llm.Error{Kind: llm.KindInvalidRequest, Message: "expected a JSON object (or a string holding one)"}
		}
		*a = arguments(v)
		return nil
	}
	return wirejson.TypeError("an object", dec)
}

func (a arguments) MarshalJSONTo(enc *jsontext.Encoder) error {
	if len(a) == 0 {
		return enc.WriteValue(jsontext.Value("{}"))
	}
	return enc.WriteValue(jsontext.Value(a))
}

// text returns the arguments as canonical JSON text, "{}" when there are
// none.
func (a arguments) text() string {
	if len(a) == 0 {
		return "{}"
	}
	return string(a)
}

type tool struct {
	Type     string        `json:"type"`
	Function *toolFunction `json:"function,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type toolFunction struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitzero"`
	Parameters  jsontext.Value `json:"parameters,omitzero"`
}

// options are the generation options. The ones the canonical model has a
// slot for are named; every other option stays in Unknown.
type options struct {
	Temperature      *float64 `json:"temperature,omitzero"`
	TopP             *float64 `json:"top_p,omitzero"`
	TopK             *intOpt  `json:"top_k,omitzero"`
	NumPredict       *intOpt  `json:"num_predict,omitzero"`
	Stop             stopList `json:"stop,omitzero"`
	Seed             *intOpt  `json:"seed,omitzero"`
	FrequencyPenalty *float64 `json:"frequency_penalty,omitzero"`
	PresencePenalty  *float64 `json:"presence_penalty,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

// optionNames lists the options the options struct declares.
var optionNames = map[string]bool{
	"temperature": true, "top_p": true, "top_k": true, "num_predict": true, "stop": true,
	"seed": true, "frequency_penalty": true, "presence_penalty": true,
}

// intOpt is an integer option. Like Ollama, it accepts any JSON number and
// drops the fraction of a non-integer one.
type intOpt int64

func (n *intOpt) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if dec.PeekKind() != '0' {
		return wirejson.TypeError("an integer", dec)
	}
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	raw := tok.String()
	if v, err := strconv.ParseInt(raw, 10, 64); err == nil {
		*n = intOpt(v)
		return nil
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(f) || f >= math.MaxInt64 || f <= math.MinInt64 {
		return &llm.Error{Kind: llm.KindInvalidRequest, Message: "expected an integer in range"}
	}
	*n = intOpt(f)
	return nil
}

// stopList is options.stop: an array of strings (a single string is
// accepted too).
type stopList []string

func (s *stopList) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch dec.PeekKind() {
	case '"':
		str, err := wirejson.ReadString(dec)
		*s = stopList{str}
		return err
	case 'n':
		_, err := dec.ReadToken()
		*s = nil
		return err
	case '[':
		var l []string
		if err := json.UnmarshalDecode(dec, &l); err != nil {
			return err
		}
		*s = l
		return nil
	}
	return wirejson.TypeError("an array of strings", dec)
}

// think is "think": a boolean, or a level ("low", "medium", "high", "max").
type think struct {
	On    bool
	Level string
}

func (t *think) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch dec.PeekKind() {
	case 't', 'f':
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		*t = think{On: tok.Bool()}
		return nil
	case '"':
		s, err := wirejson.ReadString(dec)
		if err != nil {
			return err
		}
		switch s {
		case "low", "medium", "high", "max":
			*t = think{On: true, Level: s}
			return nil
		}
		return &llm.Error{Kind: llm.KindInvalidRequest, Message: `must be true, false, "low", "medium", "high" or "max"`}
	}
	return wirejson.TypeError(`a boolean or "low", "medium", "high" or "max"`, dec)
}

func (t think) MarshalJSONTo(enc *jsontext.Encoder) error {
	if t.Level != "" {
		return enc.WriteToken(jsontext.String(t.Level))
	}
	return enc.WriteToken(jsontext.Bool(t.On))
}

// Responses and stream chunks. One struct serves both directions: the
// ingress encoder always writes the counts, the egress decoder accepts them
// missing.

type chatResponse struct {
	Model              string     `json:"model"`
	CreatedAt          string     `json:"created_at"`
	Message            message    `json:"message"`
	Done               bool       `json:"done"`
	DoneReason         string     `json:"done_reason,omitzero"`
	TotalDuration      int64      `json:"total_duration"`
	LoadDuration       int64      `json:"load_duration"`
	PromptEvalCount    *int       `json:"prompt_eval_count"`
	PromptEvalDuration int64      `json:"prompt_eval_duration"`
	EvalCount          *int       `json:"eval_count"`
	EvalDuration       int64      `json:"eval_duration"`
	Logprobs           []logprob  `json:"logprobs,omitzero"`
	Error              *errorText `json:"error,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type generateResponse struct {
	Model              string     `json:"model"`
	CreatedAt          string     `json:"created_at"`
	Response           string     `json:"response"`
	Thinking           string     `json:"thinking,omitzero"`
	ToolCalls          []toolCall `json:"tool_calls,omitzero"`
	Done               bool       `json:"done"`
	DoneReason         string     `json:"done_reason,omitzero"`
	TotalDuration      int64      `json:"total_duration"`
	LoadDuration       int64      `json:"load_duration"`
	PromptEvalCount    int        `json:"prompt_eval_count"`
	PromptEvalDuration int64      `json:"prompt_eval_duration"`
	EvalCount          int        `json:"eval_count"`
	EvalDuration       int64      `json:"eval_duration"`
	Logprobs           []logprob  `json:"logprobs,omitzero"`
}

type logprob struct {
	Token       string         `json:"token"`
	Logprob     float64        `json:"logprob"`
	Bytes       []int          `json:"bytes,omitzero"`
	TopLogprobs []tokenLogprob `json:"top_logprobs,omitzero"`
}

type tokenLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes,omitzero"`
}

// errorText is the "error" member: Ollama sends a string; anything else is
// kept as its JSON text.
type errorText struct{ Message string }

func (e *errorText) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if dec.PeekKind() == '"' {
		s, err := wirejson.ReadString(dec)
		*e = errorText{Message: s}
		return err
	}
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	if v.Kind() == 'n' {
		return nil // "error": null is no error; the caller sees an empty message
	}
	*e = errorText{Message: string(v)}
	return nil
}

func (e errorText) MarshalJSONTo(enc *jsontext.Encoder) error {
	return enc.WriteToken(jsontext.String(e.Message))
}

// Models.

type tagList struct {
	Models []tagModel `json:"models"`
}

type tagModel struct {
	Name       string       `json:"name"`
	Model      string       `json:"model"`
	ModifiedAt string       `json:"modified_at"`
	Size       int64        `json:"size"`
	Digest     string       `json:"digest"`
	Details    modelDetails `json:"details"`
}

type modelDetails struct {
	ParentModel       string   `json:"parent_model"`
	Format            string   `json:"format"`
	Family            string   `json:"family"`
	Families          []string `json:"families"`
	ParameterSize     string   `json:"parameter_size"`
	QuantizationLevel string   `json:"quantization_level"`
}
