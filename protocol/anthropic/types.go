package anthropic

import (
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/wirejson"
)

// Wire structs of the Messages API. Optional fields are pointers or carry
// omitzero so that encoding sends only what was set; every struct that
// clients may extend keeps its unknown members.

type messagesRequest struct {
	Model         string        `json:"model"`
	MaxTokens     *int          `json:"max_tokens,omitzero"`
	System        *content      `json:"system,omitzero"`
	Messages      []message     `json:"messages"`
	Tools         []tool        `json:"tools,omitzero"`
	ToolChoice    *toolChoice   `json:"tool_choice,omitzero"`
	Thinking      *thinking     `json:"thinking,omitzero"`
	OutputConfig  *outputConfig `json:"output_config,omitzero"`
	Temperature   *float64      `json:"temperature,omitzero"`
	TopP          *float64      `json:"top_p,omitzero"`
	TopK          *int          `json:"top_k,omitzero"`
	StopSequences []string      `json:"stop_sequences,omitzero"`
	Stream        *bool         `json:"stream,omitzero"`
	Metadata      *metadata     `json:"metadata,omitzero"`
	ServiceTier   string        `json:"service_tier,omitzero"`
	// OutputFormat is the structured-output beta's spelling of
	// output_config.format, still accepted from clients.
	OutputFormat *outputFormat `json:"output_format,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type message struct {
	Role    string  `json:"role"`
	Content content `json:"content"`

	Unknown jsontext.Value `json:",embed"`
}

// content is a message's content (and the system prompt, and a tool
// result's content): a string or an array of blocks.
type content struct {
	Text    *string
	Blocks  []block
	IsBlock bool
}

func (c content) IsZero() bool { return c.Text == nil && !c.IsBlock }

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
		*c = content{IsBlock: true}
		return json.UnmarshalDecode(dec, &c.Blocks)
	}
	return wirejson.TypeError("a string or an array of content blocks", dec)
}

func (c content) MarshalJSONTo(enc *jsontext.Encoder) error {
	switch {
	case c.IsBlock:
		if c.Blocks == nil {
			if err := enc.WriteToken(jsontext.BeginArray); err != nil {
				return err
			}
			return enc.WriteToken(jsontext.EndArray)
		}
		// Element by element: passing the slice would box it in an
		// interface, an allocation per message.
		if err := enc.WriteToken(jsontext.BeginArray); err != nil {
			return err
		}
		for i := range c.Blocks {
			if err := json.MarshalEncode(enc, &c.Blocks[i]); err != nil {
				return err
			}
		}
		return enc.WriteToken(jsontext.EndArray)
	case c.Text != nil:
		return enc.WriteToken(jsontext.String(*c.Text))
	}
	return enc.WriteToken(jsontext.Null)
}

// block is any content block, flattened: which fields are set depends on
// Type.
type block struct {
	Type string `json:"type"`
	// text
	Text *string `json:"text,omitzero"`
	// image and document
	Source *source `json:"source,omitzero"`
	// tool_use
	ID    string         `json:"id,omitzero"`
	Name  string         `json:"name,omitzero"`
	Input jsontext.Value `json:"input,omitzero"`
	// tool_result
	ToolUseID string   `json:"tool_use_id,omitzero"`
	Content   *content `json:"content,omitzero"`
	IsError   *bool    `json:"is_error,omitzero"`
	// thinking and redacted_thinking
	Thinking  *string `json:"thinking,omitzero"`
	Signature *string `json:"signature,omitzero"`
	Data      string  `json:"data,omitzero"`

	CacheControl *cacheControl `json:"cache_control,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

// source is where an image's or document's content is; a search_result
// block's source is a plain string (Name).
type source struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type,omitzero"`
	Data      string `json:"data,omitzero"`
	URL       string `json:"url,omitzero"`
	FileID    string `json:"file_id,omitzero"`
	// Content is the block list of a document's "content" source.
	Content *content `json:"content,omitzero"`
	// Name is the string form.
	Name *string `json:"-"`
}

func (s *source) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if dec.PeekKind() == '"' {
		str, err := wirejson.ReadString(dec)
		*s = source{Name: &str}
		return err
	}
	type plain source
	*s = source{}
	return json.UnmarshalDecode(dec, (*plain)(s))
}

func (s *source) MarshalJSONTo(enc *jsontext.Encoder) error {
	if s.Name != nil {
		return enc.WriteToken(jsontext.String(*s.Name))
	}
	type plain source
	return json.MarshalEncode(enc, (*plain)(s))
}

type cacheControl struct {
	Type string `json:"type"`
	TTL  string `json:"ttl,omitzero"`
}

type tool struct {
	Type         string         `json:"type,omitzero"`
	Name         string         `json:"name"`
	Description  string         `json:"description,omitzero"`
	InputSchema  jsontext.Value `json:"input_schema,omitzero"`
	Strict       *bool          `json:"strict,omitzero"`
	CacheControl *cacheControl  `json:"cache_control,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type toolChoice struct {
	Type                   string `json:"type"`
	Name                   string `json:"name,omitzero"`
	DisableParallelToolUse *bool  `json:"disable_parallel_tool_use,omitzero"`
}

type thinking struct {
	Type         string `json:"type"`
	BudgetTokens *int   `json:"budget_tokens,omitzero"`
	Display      string `json:"display,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type outputConfig struct {
	Effort string        `json:"effort,omitzero"`
	Format *outputFormat `json:"format,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type outputFormat struct {
	Type   string         `json:"type"`
	Schema jsontext.Value `json:"schema,omitzero"`
}

type metadata struct {
	UserID *string `json:"user_id,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

// Responses.

type messageResponse struct {
	ID           string  `json:"id"`
	Type         string  `json:"type"`
	Role         string  `json:"role"`
	Model        string  `json:"model"`
	Content      []block `json:"content"`
	StopReason   *string `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
	Usage        *usage  `json:"usage,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

// usage is Anthropic's usage object. Pointers tell a count that was sent
// from one that was not: a message_delta repeats only some of them.
type usage struct {
	InputTokens              *int           `json:"input_tokens,omitzero"`
	CacheCreationInputTokens *int           `json:"cache_creation_input_tokens,omitzero"`
	CacheReadInputTokens     *int           `json:"cache_read_input_tokens,omitzero"`
	OutputTokens             *int           `json:"output_tokens,omitzero"`
	OutputTokensDetails      *outputDetails `json:"output_tokens_details,omitzero"`
}

type outputDetails struct {
	ThinkingTokens int `json:"thinking_tokens"`
}

// Streaming.

type streamEvent struct {
	Type         string           `json:"type"`
	Message      *messageResponse `json:"message,omitzero"`
	Index        *int             `json:"index,omitzero"`
	ContentBlock *block           `json:"content_block,omitzero"`
	Delta        *streamDelta     `json:"delta,omitzero"`
	Usage        *usage           `json:"usage,omitzero"`
	Error        *errorBody       `json:"error,omitzero"`
}

type streamDelta struct {
	Type         string  `json:"type"`
	Text         string  `json:"text"`
	PartialJSON  string  `json:"partial_json"`
	Thinking     string  `json:"thinking"`
	Signature    string  `json:"signature"`
	StopReason   *string `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
}

// Errors.

type errorEnvelope struct {
	Type  string     `json:"type"`
	Error *errorBody `json:"error"`
}

type errorBody struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// Counting and models.

type countResponse struct {
	InputTokens int `json:"input_tokens"`
}

type modelList struct {
	Data    []modelInfo `json:"data"`
	HasMore bool        `json:"has_more"`
	FirstID *string     `json:"first_id"`
	LastID  *string     `json:"last_id"`
}

type modelInfo struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	CreatedAt   string `json:"created_at"`
}
