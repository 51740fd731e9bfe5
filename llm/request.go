package llm

import "encoding/json"

// Request is one chat generation request in canonical form.
type Request struct {
	// Model is the model name: as the client sent it on the ingress side,
	// the upstream model id on the egress side.
	Model string

	// Messages is the conversation in order. System and developer
	// instructions are messages with RoleSystem or RoleDeveloper, kept at the
	// position the client put them; protocols with a single top-level system
	// slot (Anthropic, Gemini, Bedrock) decode it into leading system
	// messages and hoist them back when encoding.
	Messages []Message

	// Tools the model may call. Empty means no tools.
	Tools []Tool

	// ToolChoice constrains tool use; nil leaves it to the upstream's default
	// (auto when tools are present).
	ToolChoice *ToolChoice

	// ParallelToolCalls, when false, asks for at most one tool call per turn
	// (OpenAI parallel_tool_calls, Anthropic disable_parallel_tool_use).
	ParallelToolCalls *bool

	// MaxTokens caps the generated tokens, reasoning included where the
	// protocol counts it (OpenAI max_completion_tokens/max_tokens, Responses
	// max_output_tokens, Anthropic max_tokens, Gemini maxOutputTokens,
	// Ollama num_predict).
	MaxTokens *int

	// Sampling parameters; nil means unset. Temperature is on OpenAI's 0–2
	// scale; encoders for narrower ranges clamp or refuse.
	Temperature      *float64
	TopP             *float64
	TopK             *int
	FrequencyPenalty *float64
	PresencePenalty  *float64
	Seed             *int64

	// Stop sequences; generation stops before any of them.
	Stop []string

	// N is the number of alternative choices to generate; 0 and 1 both mean
	// one.
	N int

	// Logprobs asks for per-token log probabilities of the output, with
	// TopLogprobs alternatives per position when set.
	Logprobs    bool
	TopLogprobs *int

	// ResponseFormat asks for plain text, any JSON object, or JSON matching a
	// schema; nil means text.
	ResponseFormat *ResponseFormat

	// Reasoning configures thinking/reasoning; nil leaves the model default.
	Reasoning *ReasoningConfig

	// Stream asks for a stream of events instead of one response.
	Stream bool

	// StreamUsage records that the client asked for usage in the stream
	// (OpenAI stream_options.include_usage). Protocols that always report
	// usage in streams ignore it; the gateway always collects usage for
	// itself regardless.
	StreamUsage bool

	// User identifies the end user for abuse monitoring (OpenAI
	// user/safety_identifier, Anthropic metadata.user_id).
	User string

	// Metadata is opaque key/value data the client attached.
	Metadata map[string]string

	// ServiceTier is the requested processing tier, passed on where the
	// upstream has the same notion.
	ServiceTier string

	// Store asks the upstream to keep the response (OpenAI store).
	Store *bool

	// Origin is the registry ID of the protocol this request was decoded
	// from; it says whose wire names the Extensions keys are.
	Origin string

	// Extensions holds top-level request fields the canonical model has no
	// slot for, by their wire name in the Origin protocol.
	Extensions Extensions

	// Headers holds request headers of the Origin protocol that an upstream
	// of the same protocol must see (anthropic-beta, …), by canonical name.
	// Other protocols ignore them.
	Headers map[string]string
}

// Extensions carries fields that have no slot in the canonical model, as raw
// JSON keyed by their wire name. Whose wire names they are is recorded by the
// enclosing Request's or Response's Origin: an encoder for that same protocol
// sends them on, any other encoder must drop or refuse them deliberately.
type Extensions map[string]json.RawMessage

// Clone returns a copy of the map; the raw values are shared, as they are
// never modified in place.
func (e Extensions) Clone() Extensions {
	if e == nil {
		return nil
	}
	c := make(Extensions, len(e))
	for k, v := range e {
		c[k] = v
	}
	return c
}

// ToolChoiceMode says whether and how the model must call tools.
type ToolChoiceMode string

const (
	// ToolChoiceAuto lets the model decide.
	ToolChoiceAuto ToolChoiceMode = "auto"
	// ToolChoiceNone forbids tool calls.
	ToolChoiceNone ToolChoiceMode = "none"
	// ToolChoiceRequired makes the model call at least one tool (OpenAI
	// "required", Anthropic "any", Gemini ANY).
	ToolChoiceRequired ToolChoiceMode = "required"
	// ToolChoiceTool makes the model call the tool named in ToolChoice.Name.
	ToolChoiceTool ToolChoiceMode = "tool"
)

// ToolChoice constrains tool use.
type ToolChoice struct {
	// Mode is auto, none, required or tool.
	Mode ToolChoiceMode
	// Name is the tool to call when Mode is ToolChoiceTool.
	Name string
	// Allowed, when non-empty, restricts which tools may be called (OpenAI
	// allowed_tools, Gemini allowedFunctionNames); Mode then applies within
	// that set.
	Allowed []string
}

// ToolType values for Tool.Type.
const (
	// ToolFunction is an ordinary function tool with a JSON-schema input.
	ToolFunction = "function"
	// ToolCustom is an OpenAI free-form tool whose input is raw text,
	// optionally constrained by a grammar kept in Tool.Raw.
	ToolCustom = "custom"
)

// Tool describes a tool the model may call.
type Tool struct {
	// Type is ToolFunction, ToolCustom, or the hosted/server tool type in the
	// request Origin's naming (for example "web_search" or
	// "web_search_20250305"), whose full definition is in Raw.
	Type string
	// Name is the function name the model calls it by.
	Name string
	// Description tells the model what the tool does.
	Description string
	// Parameters is the JSON Schema of the arguments object; nil when the
	// tool takes no arguments.
	Parameters json.RawMessage
	// Strict asks the upstream to enforce the schema exactly.
	Strict *bool
	// CacheControl marks an Anthropic prompt-cache breakpoint after this tool.
	CacheControl *CacheControl
	// Raw is the tool's original JSON when Type is a hosted tool or a custom
	// tool with a format, for an encoder of the same protocol.
	Raw json.RawMessage
	// Extensions holds other fields of the tool definition (for example
	// Anthropic defer_loading), in the request Origin's naming.
	Extensions Extensions
}

// ResponseFormatType is the shape asked of the answer.
type ResponseFormatType string

const (
	// FormatText is free text (the default).
	FormatText ResponseFormatType = "text"
	// FormatJSONObject is any valid JSON object ("JSON mode").
	FormatJSONObject ResponseFormatType = "json_object"
	// FormatJSONSchema is JSON matching ResponseFormat.Schema.
	FormatJSONSchema ResponseFormatType = "json_schema"
)

// ResponseFormat asks for structured output.
type ResponseFormat struct {
	// Type is text, json_object or json_schema.
	Type ResponseFormatType
	// Name of the schema (OpenAI requires one for json_schema).
	Name string
	// Description of the schema, for the model.
	Description string
	// Schema is the JSON Schema for FormatJSONSchema.
	Schema json.RawMessage
	// Strict asks for exact schema adherence.
	Strict *bool
}

// ReasoningMode switches thinking on or off.
type ReasoningMode string

const (
	// ReasoningEnabled turns thinking on (Anthropic thinking.type "enabled",
	// Ollama think:true).
	ReasoningEnabled ReasoningMode = "enabled"
	// ReasoningDisabled turns thinking off.
	ReasoningDisabled ReasoningMode = "disabled"
	// ReasoningAdaptive lets the model decide how much to think (Anthropic
	// thinking.type "adaptive", Gemini thinkingBudget -1).
	ReasoningAdaptive ReasoningMode = "adaptive"
)

// ReasoningConfig configures thinking/reasoning.
type ReasoningConfig struct {
	// Mode is enabled, disabled or adaptive; empty means implied by the other
	// fields (an Effort or BudgetTokens implies enabled).
	Mode ReasoningMode
	// Effort is none, minimal, low, medium, high, xhigh or max (OpenAI
	// reasoning_effort, Anthropic output_config.effort, Gemini thinkingLevel,
	// Ollama think levels).
	Effort string
	// BudgetTokens is an explicit thinking budget (Anthropic budget_tokens,
	// Gemini thinkingBudget, Cohere token_budget).
	BudgetTokens *int
	// Summary asks for a reasoning summary: auto, concise or detailed
	// (Responses reasoning.summary).
	Summary string
	// IncludeThoughts asks the upstream to return thinking text (Gemini
	// includeThoughts); Display is Anthropic's "summarized" or "omitted".
	IncludeThoughts bool
	Display         string
}

// CacheControl marks a prompt-cache breakpoint (Anthropic cache_control).
type CacheControl struct {
	// Type is "ephemeral".
	Type string
	// TTL is "5m" or "1h" when set.
	TTL string
}

// InstructionText returns the text of the leading system and developer
// messages joined by a blank line: what a protocol with a single system slot
// sends there.
func (r *Request) InstructionText() string {
	var texts []string
	for i := range r.Messages {
		if !r.Messages[i].Role.IsInstruction() {
			break
		}
		texts = append(texts, r.Messages[i].Text())
	}
	return joinText(texts, "\n\n")
}

// LastUserText returns the text of the last user message, or "".
func (r *Request) LastUserText() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == RoleUser {
			return r.Messages[i].Text()
		}
	}
	return ""
}
