package responses

import (
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/wirejson"
)

// Wire structs of the Responses API. Optional fields are pointers or carry
// omitzero so that encoding sends only what was set; structs that clients
// may extend keep their unknown members.

type request struct {
	Model             string            `json:"model"`
	Input             input             `json:"input,omitzero"`
	Instructions      *string           `json:"instructions,omitzero"`
	MaxOutputTokens   *int              `json:"max_output_tokens,omitzero"`
	Temperature       *float64          `json:"temperature,omitzero"`
	TopP              *float64          `json:"top_p,omitzero"`
	TopLogprobs       *int              `json:"top_logprobs,omitzero"`
	Tools             []jsontext.Value  `json:"tools,omitzero"`
	ToolChoice        jsontext.Value    `json:"tool_choice,omitzero"`
	ParallelToolCalls *bool             `json:"parallel_tool_calls,omitzero"`
	Reasoning         *reasoningConfig  `json:"reasoning,omitzero"`
	Text              *textConfig       `json:"text,omitzero"`
	Include           []string          `json:"include,omitzero"`
	Store             *bool             `json:"store,omitzero"`
	Stream            *bool             `json:"stream,omitzero"`
	Metadata          map[string]string `json:"metadata,omitzero"`
	User              string            `json:"user,omitzero"`
	ServiceTier       string            `json:"service_tier,omitzero"`
	// Server-side state, refused when decoding.
	PreviousResponseID jsontext.Value `json:"previous_response_id,omitzero"`
	Conversation       jsontext.Value `json:"conversation,omitzero"`
	Prompt             jsontext.Value `json:"prompt,omitzero"`
	Background         *bool          `json:"background,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

// knownFields are the request members the struct above names; Extensions
// under these names are never sent as unknown members (the JSON would
// repeat a name).
var knownFields = map[string]bool{
	"model": true, "input": true, "instructions": true, "max_output_tokens": true, "temperature": true,
	"top_p": true, "top_logprobs": true, "tools": true, "tool_choice": true, "parallel_tool_calls": true,
	"reasoning": true, "text": true, "include": true, "store": true, "stream": true, "metadata": true,
	"user": true, "service_tier": true, "previous_response_id": true, "conversation": true, "prompt": true,
	"background": true,
}

type reasoningConfig struct {
	Effort  *string `json:"effort,omitzero"`
	Summary *string `json:"summary,omitzero"`
	// GenerateSummary is the deprecated name of Summary.
	GenerateSummary *string `json:"generate_summary,omitzero"`
}

type textConfig struct {
	Format  *textFormat    `json:"format,omitzero"`
	Unknown jsontext.Value `json:",embed"`
}

type textFormat struct {
	Type        string         `json:"type"`
	Name        string         `json:"name,omitzero"`
	Description string         `json:"description,omitzero"`
	Schema      jsontext.Value `json:"schema,omitzero"`
	Strict      *bool          `json:"strict,omitzero"`
}

// input is the request's input: a string (one user message) or an array
// of items.
type input struct {
	Text    *string
	Items   []item
	IsItems bool
}

func (in input) IsZero() bool { return in.Text == nil && !in.IsItems }

func (in *input) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch dec.PeekKind() {
	case 'n':
		_, err := dec.ReadToken()
		*in = input{}
		return err
	case '"':
		s, err := wirejson.ReadString(dec)
		*in = input{Text: &s}
		return err
	case '[':
		in.IsItems, in.Text = true, nil
		return json.UnmarshalDecode(dec, &in.Items)
	}
	return wirejson.TypeError("a string or an array of items", dec)
}

func (in input) MarshalJSONTo(enc *jsontext.Encoder) error {
	switch {
	case in.IsItems:
		if in.Items == nil {
			return json.MarshalEncode(enc, []item{})
		}
		return json.MarshalEncode(enc, in.Items)
	case in.Text != nil:
		return enc.WriteToken(jsontext.String(*in.Text))
	}
	return enc.WriteToken(jsontext.Null)
}

// content is a string or an array of parts: a message's content, an
// input, or a tool call's output.
type content struct {
	Text    *string
	Parts   []contentPart
	IsParts bool
}

func (c content) IsZero() bool { return c.Text == nil && !c.IsParts }

func (c *content) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch dec.PeekKind() {
	case 'n':
		_, err := dec.ReadToken()
		*c = content{}
		return err
	case '"':
		s, err := wirejson.ReadString(dec)
		*c = content{Text: &s}
		return err
	case '[':
		c.IsParts, c.Text = true, nil
		return json.UnmarshalDecode(dec, &c.Parts)
	}
	return wirejson.TypeError("a string or an array", dec)
}

func (c content) MarshalJSONTo(enc *jsontext.Encoder) error {
	switch {
	case c.IsParts:
		if c.Parts == nil {
			return json.MarshalEncode(enc, []contentPart{})
		}
		return json.MarshalEncode(enc, c.Parts)
	case c.Text != nil:
		return enc.WriteToken(jsontext.String(*c.Text))
	}
	return enc.WriteToken(jsontext.Null)
}

// contentPart is one part of a message (input_text, input_image,
// input_file, input_audio, output_text, refusal), of a reasoning item's
// content (reasoning_text), or of a tool output.
type contentPart struct {
	Type        string         `json:"type"`
	Text        *string        `json:"text,omitzero"`
	ImageURL    *string        `json:"image_url,omitzero"`
	FileID      string         `json:"file_id,omitzero"`
	Detail      string         `json:"detail,omitzero"`
	FileData    string         `json:"file_data,omitzero"`
	FileURL     string         `json:"file_url,omitzero"`
	Filename    string         `json:"filename,omitzero"`
	InputAudio  *inputAudio    `json:"input_audio,omitzero"`
	Refusal     *string        `json:"refusal,omitzero"`
	Annotations jsontext.Value `json:"annotations,omitzero"`
	Logprobs    []logprob      `json:"logprobs,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type inputAudio struct {
	Data   string `json:"data"`
	Format string `json:"format"`
}

// item is one input or output item: a message, a function or custom tool
// call or its output, a reasoning item, or anything else (kept by type).
type item struct {
	Type    string  `json:"type,omitzero"`
	ID      string  `json:"id,omitzero"`
	Role    string  `json:"role,omitzero"`
	Status  string  `json:"status,omitzero"`
	Content content `json:"content,omitzero"`
	// function_call, custom_tool_call and their outputs.
	CallID    string     `json:"call_id,omitzero"`
	Name      string     `json:"name,omitzero"`
	Namespace string     `json:"namespace,omitzero"`
	Arguments *arguments `json:"arguments,omitzero"`
	Input     *string    `json:"input,omitzero"`
	Output    content    `json:"output,omitzero"`
	// reasoning.
	Summary          []summaryPart `json:"summary,omitzero"`
	EncryptedContent *string       `json:"encrypted_content,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type summaryPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// arguments is the JSON text of a call's arguments: a JSON-encoded string
// on the wire; an object is accepted and kept as its JSON text.
type arguments string

func (a *arguments) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch dec.PeekKind() {
	case '"':
		str, err := wirejson.ReadString(dec)
		*a = arguments(str)
		return err
	case 'n':
		_, err := dec.ReadToken()
		*a = ""
		return err
	case '{':
		v, err := dec.ReadValue()
		if err != nil {
			return err
		}
		*a = arguments(v)
		return nil
	}
	return wirejson.TypeError("a JSON-encoded string", dec)
}

func (a arguments) MarshalJSONTo(enc *jsontext.Encoder) error {
	return enc.WriteToken(jsontext.String(string(a)))
}

// toolDef is a tool definition: function and custom tools are flat, a
// namespace holds more of them, anything else is a hosted tool.
type toolDef struct {
	Type        string           `json:"type"`
	Name        string           `json:"name,omitzero"`
	Description *string          `json:"description,omitzero"`
	Parameters  jsontext.Value   `json:"parameters,omitzero"`
	Strict      *bool            `json:"strict,omitzero"`
	Format      jsontext.Value   `json:"format,omitzero"`
	Tools       []jsontext.Value `json:"tools,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

// toolChoiceObject is the object form of tool_choice.
type toolChoiceObject struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Mode  string `json:"mode"`
	Tools []struct {
		Type string `json:"type"`
		Name string `json:"name"`
	} `json:"tools"`
}

type logprob struct {
	Token       string       `json:"token"`
	Logprob     float64      `json:"logprob"`
	Bytes       []int        `json:"bytes"`
	TopLogprobs []topLogprob `json:"top_logprobs"`
}

type topLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes"`
}

type usage struct {
	InputTokens         int            `json:"input_tokens"`
	InputTokensDetails  *inputDetails  `json:"input_tokens_details"`
	OutputTokens        int            `json:"output_tokens"`
	OutputTokensDetails *outputDetails `json:"output_tokens_details"`
	TotalTokens         int            `json:"total_tokens"`
}

type inputDetails struct {
	CachedTokens     int `json:"cached_tokens"`
	CacheWriteTokens int `json:"cache_write_tokens,omitzero"`
}

type outputDetails struct {
	ReasoningTokens int `json:"reasoning_tokens"`
}

// wireResponse is what the decoders read of a response object.
type wireResponse struct {
	ID                string             `json:"id"`
	CreatedAt         float64            `json:"created_at"`
	Model             string             `json:"model"`
	Status            string             `json:"status"`
	Output            []item             `json:"output"`
	Usage             *usage             `json:"usage"`
	IncompleteDetails *incompleteDetails `json:"incomplete_details"`
	Error             *responseError     `json:"error"`
	ServiceTier       string             `json:"service_tier"`
}

type incompleteDetails struct {
	Reason string `json:"reason"`
}

type responseError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Errors.
