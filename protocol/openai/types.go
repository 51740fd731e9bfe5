package openai

import (
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/wirejson"
)

// Wire structs of the Chat Completions API. Optional fields are pointers or
// carry omitzero so that encoding sends only what was set; every struct that
// clients may extend keeps its unknown members.

type chatRequest struct {
	Model               string            `json:"model"`
	Messages            []message         `json:"messages"`
	MaxCompletionTokens *int              `json:"max_completion_tokens,omitzero"`
	MaxTokens           *int              `json:"max_tokens,omitzero"`
	Temperature         *float64          `json:"temperature,omitzero"`
	TopP                *float64          `json:"top_p,omitzero"`
	FrequencyPenalty    *float64          `json:"frequency_penalty,omitzero"`
	PresencePenalty     *float64          `json:"presence_penalty,omitzero"`
	Seed                *int64            `json:"seed,omitzero"`
	Stop                stopList          `json:"stop,omitzero"`
	N                   *int              `json:"n,omitzero"`
	Logprobs            *bool             `json:"logprobs,omitzero"`
	TopLogprobs         *int              `json:"top_logprobs,omitzero"`
	ResponseFormat      *responseFormat   `json:"response_format,omitzero"`
	Tools               []tool            `json:"tools,omitzero"`
	ToolChoice          *toolChoice       `json:"tool_choice,omitzero"`
	ParallelToolCalls   *bool             `json:"parallel_tool_calls,omitzero"`
	ReasoningEffort     string            `json:"reasoning_effort,omitzero"`
	Stream              *bool             `json:"stream,omitzero"`
	StreamOptions       *streamOptions    `json:"stream_options,omitzero"`
	User                string            `json:"user,omitzero"`
	Metadata            map[string]string `json:"metadata,omitzero"`
	ServiceTier         string            `json:"service_tier,omitzero"`
	Store               *bool             `json:"store,omitzero"`
	// Legacy forms of tools and tool_choice, still sent by old clients.
	Functions    []functionDef `json:"functions,omitzero"`
	FunctionCall *toolChoice   `json:"function_call,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type streamOptions struct {
	IncludeUsage bool           `json:"include_usage"`
	Unknown      jsontext.Value `json:",embed"`
}

type message struct {
	Role             string        `json:"role"`
	Content          content       `json:"content"`
	Name             string        `json:"name,omitzero"`
	ToolCalls        []toolCall    `json:"tool_calls,omitzero"`
	ToolCallID       string        `json:"tool_call_id,omitzero"`
	Refusal          *string       `json:"refusal,omitzero"`
	ReasoningContent *string       `json:"reasoning_content,omitzero"`
	Reasoning        *string       `json:"reasoning,omitzero"`
	FunctionCall     *functionCall `json:"function_call,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

// content is a message's content: a string, an array of parts, or null.
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
		c.IsParts = true
		c.Text = nil
		return json.UnmarshalDecode(dec, &c.Parts)
	}
	return wirejson.TypeError("a string or an array of content parts", dec)
}

func (c content) MarshalJSONTo(enc *jsontext.Encoder) error {
	switch {
	case c.IsParts:
		if c.Parts == nil {
			return enc.WriteToken(jsontext.BeginArray)
		}
		return json.MarshalEncode(enc, c.Parts)
	case c.Text != nil:
		return enc.WriteToken(jsontext.String(*c.Text))
	}
	return enc.WriteToken(jsontext.Null)
}

type contentPart struct {
	Type       string      `json:"type"`
	Text       *string     `json:"text,omitzero"`
	ImageURL   *imageURL   `json:"image_url,omitzero"`
	InputAudio *inputAudio `json:"input_audio,omitzero"`
	File       *fileRef    `json:"file,omitzero"`
	Refusal    *string     `json:"refusal,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

// imageURL accepts the object form and, as many clients send it, a bare
// URL string.
type imageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitzero"`
}

func (u *imageURL) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if dec.PeekKind() == '"' {
		str, err := wirejson.ReadString(dec)
		*u = imageURL{URL: str}
		return err
	}
	type plain imageURL
	return json.UnmarshalDecode(dec, (*plain)(u))
}

type inputAudio struct {
	Data   string `json:"data"`
	Format string `json:"format"`
}

type fileRef struct {
	FileData string `json:"file_data,omitzero"`
	FileID   string `json:"file_id,omitzero"`
	Filename string `json:"filename,omitzero"`
}

type toolCall struct {
	Index    *int          `json:"index,omitzero"`
	ID       string        `json:"id,omitzero"`
	Type     string        `json:"type,omitzero"`
	Function *functionCall `json:"function,omitzero"`
	Custom   *customCall   `json:"custom,omitzero"`
}

type functionCall struct {
	Name      string    `json:"name,omitzero"`
	Arguments arguments `json:"arguments"`
}

// arguments is the JSON text of a call's arguments. OpenAI sends it as a
// JSON-encoded string; some compatible servers send the object itself,
// which is accepted and kept as its JSON text.
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

type customCall struct {
	Name  string `json:"name"`
	Input string `json:"input"`
}

type tool struct {
	Type     string         `json:"type"`
	Function *functionDef   `json:"function,omitzero"`
	Custom   jsontext.Value `json:"custom,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type functionDef struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitzero"`
	Parameters  jsontext.Value `json:"parameters,omitzero"`
	Strict      *bool          `json:"strict,omitzero"`
}

// toolChoice is "none", "auto", "required", or an object naming a function
// (or a legacy function_call object {"name": …}), a custom tool, or
// allowed tools.
type toolChoice struct {
	Mode         string
	Type         string
	Name         string
	AllowedMode  string
	AllowedTools []string
}

type toolChoiceObject struct {
	Type     string `json:"type"`
	Name     string `json:"name"` // legacy function_call form
	Function *struct {
		Name string `json:"name"`
	} `json:"function,omitzero"`
	Custom *struct {
		Name string `json:"name"`
	} `json:"custom,omitzero"`
	AllowedTools *struct {
		Mode  string `json:"mode"`
		Tools []struct {
			Type     string `json:"type"`
			Function *struct {
				Name string `json:"name"`
			} `json:"function,omitzero"`
			Name string `json:"name,omitzero"`
		} `json:"tools"`
	} `json:"allowed_tools,omitzero"`
}

func (t *toolChoice) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch dec.PeekKind() {
	case '"':
		str, err := wirejson.ReadString(dec)
		*t = toolChoice{Mode: str}
		return err
	case '{':
		var o toolChoiceObject
		if err := json.UnmarshalDecode(dec, &o); err != nil {
			return err
		}
		*t = toolChoice{Type: o.Type, Name: o.Name}
		switch {
		case o.Function != nil:
			t.Name = o.Function.Name
		case o.Custom != nil:
			t.Name = o.Custom.Name
		case o.AllowedTools != nil:
			t.AllowedMode = o.AllowedTools.Mode
			for _, at := range o.AllowedTools.Tools {
				name := at.Name
				if at.Function != nil {
					name = at.Function.Name
				}
				t.AllowedTools = append(t.AllowedTools, name)
			}
		}
		return nil
	}
	return wirejson.TypeError(`"none", "auto", "required" or an object`, dec)
}

func (t toolChoice) MarshalJSONTo(enc *jsontext.Encoder) error {
	if t.Mode != "" {
		return enc.WriteToken(jsontext.String(t.Mode))
	}
	switch t.Type {
	case "allowed_tools":
		type ref struct {
			Type     string `json:"type"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		refs := make([]ref, len(t.AllowedTools))
		for i, n := range t.AllowedTools {
			refs[i].Type = "function"
			refs[i].Function.Name = n
		}
		return json.MarshalEncode(enc, map[string]any{
			"type":          "allowed_tools",
			"allowed_tools": map[string]any{"mode": t.AllowedMode, "tools": refs},
		})
	case "custom":
		return json.MarshalEncode(enc, map[string]any{"type": "custom", "custom": map[string]string{"name": t.Name}})
	}
	return json.MarshalEncode(enc, map[string]any{"type": "function", "function": map[string]string{"name": t.Name}})
}

// stopList is "stop": a string or an array of strings.
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
	return wirejson.TypeError("a string or an array of strings", dec)
}

type responseFormat struct {
	Type       string      `json:"type"`
	JSONSchema *jsonSchema `json:"json_schema,omitzero"`
}

type jsonSchema struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitzero"`
	Schema      jsontext.Value `json:"schema,omitzero"`
	Strict      *bool          `json:"strict,omitzero"`
}

// Responses.

type chatResponse struct {
	ID                string   `json:"id"`
	Object            string   `json:"object"`
	Created           int64    `json:"created"`
	Model             string   `json:"model"`
	Choices           []choice `json:"choices"`
	Usage             *usage   `json:"usage,omitzero"`
	ServiceTier       string   `json:"service_tier,omitzero"`
	SystemFingerprint string   `json:"system_fingerprint,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type choice struct {
	Index        int       `json:"index"`
	Message      message   `json:"message"`
	Logprobs     *logprobs `json:"logprobs"`
	FinishReason *string   `json:"finish_reason"`
}

type logprobs struct {
	Content []tokenLogprob `json:"content"`
	Refusal []tokenLogprob `json:"refusal,omitzero"`
}

type tokenLogprob struct {
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
	PromptTokens            int                `json:"prompt_tokens"`
	CompletionTokens        int                `json:"completion_tokens"`
	TotalTokens             int                `json:"total_tokens"`
	PromptTokensDetails     *promptDetails     `json:"prompt_tokens_details,omitzero"`
	CompletionTokensDetails *completionDetails `json:"completion_tokens_details,omitzero"`
	// DeepSeek reports its context cache this way.
	PromptCacheHitTokens *int `json:"prompt_cache_hit_tokens,omitzero"`
}

type promptDetails struct {
	CachedTokens     int `json:"cached_tokens"`
	CacheWriteTokens int `json:"cache_write_tokens,omitzero"`
}

type completionDetails struct {
	ReasoningTokens int `json:"reasoning_tokens"`
}

// Streaming.

type chunk struct {
	ID      string        `json:"id"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []chunkChoice `json:"choices"`
	Usage   *usage        `json:"usage"`
	Error   *errorBody    `json:"error,omitzero"`
	XGroq   *struct {
		Usage *usage `json:"usage"`
	} `json:"x_groq,omitzero"`
}

type chunkChoice struct {
	Index        int       `json:"index"`
	Delta        delta     `json:"delta"`
	Logprobs     *logprobs `json:"logprobs"`
	FinishReason *string   `json:"finish_reason"`
	// Moonshot reports usage inside the finishing choice.
	Usage *usage `json:"usage,omitzero"`
}

type delta struct {
	Role             string     `json:"role,omitzero"`
	Content          *string    `json:"content,omitzero"`
	Refusal          *string    `json:"refusal,omitzero"`
	ReasoningContent *string    `json:"reasoning_content,omitzero"`
	Reasoning        *string    `json:"reasoning,omitzero"`
	ToolCalls        []toolCall `json:"tool_calls,omitzero"`
}

// Errors.

type errorEnvelope struct {
	Error *errorBody `json:"error"`
}

type errorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    any     `json:"code"`
}

// Embeddings and models.

type embeddingRequest struct {
	Model          string         `json:"model"`
	Input          embeddingInput `json:"input"`
	EncodingFormat string         `json:"encoding_format,omitzero"`
	Dimensions     *int           `json:"dimensions,omitzero"`
	User           string         `json:"user,omitzero"`

	Unknown jsontext.Value `json:",embed"`
}

type embeddingResponse struct {
	Object string          `json:"object"`
	Data   []embeddingData `json:"data"`
	Model  string          `json:"model"`
	Usage  embeddingUsage  `json:"usage"`
}

type embeddingData struct {
	Object    string         `json:"object"`
	Index     int            `json:"index"`
	Embedding jsontext.Value `json:"embedding"`
}

type embeddingUsage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

type modelList struct {
	Object string      `json:"object"`
	Data   []modelInfo `json:"data"`
}

type modelInfo struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}
