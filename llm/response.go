package llm

import "strings"

// Response is one complete (non-streamed) chat answer.
type Response struct {
	// ID is the upstream's response id.
	ID string
	// Model is the model that answered, as the upstream reports it.
	Model string
	// Created is the creation time in Unix seconds.
	Created int64
	// Choices holds one entry per requested alternative; almost always one.
	Choices []Choice
	// Usage counts the tokens of the whole request.
	Usage Usage
	// ServiceTier is the tier that served the request, when reported.
	ServiceTier string
	// SystemFingerprint identifies the backend configuration (OpenAI).
	SystemFingerprint string
	// Origin is the registry ID of the protocol this response was decoded
	// from; it says whose wire names the Extensions keys are.
	Origin string
	// Extensions holds top-level response fields the model has no slot for.
	Extensions Extensions
}

// MaxChoices bounds the number of alternative answers (OpenAI n, Gemini
// candidateCount) and the choice indexes accepted from upstreams: an
// index is also a size, and one from a broken upstream must not allocate
// without bound.
const MaxChoices = 128

// Choice is one alternative answer.
type Choice struct {
	// Index is the choice's position, from 0.
	Index int
	// Message is the answer, with RoleAssistant.
	Message Message
	// FinishReason says why generation stopped.
	FinishReason FinishReason
	// StopSequence is the stop sequence that matched, when the upstream says
	// which (Anthropic).
	StopSequence string
	// Logprobs of the output tokens, when requested.
	Logprobs []TokenLogprob
}

// Text returns the text of the first choice.
func (r *Response) Text() string {
	if len(r.Choices) == 0 {
		return ""
	}
	return r.Choices[0].Message.Text()
}

// FinishReason says why generation stopped, in OpenAI's vocabulary.
type FinishReason string

const (
	// FinishStop is a natural end or a matched stop sequence.
	FinishStop FinishReason = "stop"
	// FinishLength is the token limit (or the context window).
	FinishLength FinishReason = "length"
	// FinishToolCalls means the model called tools and waits for results.
	FinishToolCalls FinishReason = "tool_calls"
	// FinishContentFilter means a safety system stopped or refused output.
	FinishContentFilter FinishReason = "content_filter"
	// FinishPause means a server-side tool loop paused (Anthropic pause_turn);
	// the client continues by sending the answer back.
	FinishPause FinishReason = "pause"
	// FinishError means the upstream ended generation with an error state
	// (Gemini OTHER or MALFORMED_FUNCTION_CALL, Cohere ERROR).
	FinishError FinishReason = "error"
)

// TokenLogprob is the log probability of one output token.
type TokenLogprob struct {
	// Token is the token text.
	Token string
	// Logprob is its natural-log probability.
	Logprob float64
	// Bytes is the token's UTF-8 bytes, when reported.
	Bytes []byte
	// Top holds the most likely alternatives at this position.
	Top []TopLogprob
}

// TopLogprob is one alternative token at a position.
type TopLogprob struct {
	Token   string
	Logprob float64
	Bytes   []byte
}

// Usage counts tokens. Input includes cached tokens and output includes
// reasoning tokens, whatever the wire convention; codecs convert at the edge
// (Anthropic's input_tokens excludes cache, Gemini's candidatesTokenCount
// excludes thoughts).
type Usage struct {
	// InputTokens is the whole prompt, cached tokens included.
	InputTokens int
	// OutputTokens is everything generated, reasoning included.
	OutputTokens int
	// CachedTokens is the part of InputTokens read from the prompt cache.
	CachedTokens int
	// CacheWriteTokens is the part of InputTokens written to the cache.
	CacheWriteTokens int
	// ReasoningTokens is the part of OutputTokens spent thinking.
	ReasoningTokens int
	// Estimated marks counts the gateway computed itself because the
	// upstream reported none.
	Estimated bool
}

// Total returns input plus output tokens.
func (u Usage) Total() int { return u.InputTokens + u.OutputTokens }

// IsZero reports whether no tokens are counted.
func (u Usage) IsZero() bool {
	return u.InputTokens == 0 && u.OutputTokens == 0 && u.CachedTokens == 0 &&
		u.CacheWriteTokens == 0 && u.ReasoningTokens == 0
}

// Model describes a model name a client may use, for model listings.
type Model struct {
	// ID is the name the client sends.
	ID string
	// OwnedBy is the provider id serving it (or "llmux" for a route).
	OwnedBy string
	// Created is a Unix time, when known.
	Created int64
	// DisplayName is a human-readable name, when known.
	DisplayName string
}

// EmbeddingRequest asks for vector embeddings of some inputs.
type EmbeddingRequest struct {
	// Model is the model name.
	Model string
	// Inputs to embed, each text or pre-tokenized.
	Inputs []EmbeddingInput
	// Dimensions truncates the vectors, where the model supports it.
	Dimensions *int
	// EncodingFormat is the client's wanted vector encoding: "float" or
	// "base64". It affects only the ingress encoding.
	EncodingFormat string
	// User identifies the end user.
	User string
	// Origin and Extensions as in Request.
	Origin     string
	Extensions Extensions
}

// EmbeddingInput is one input: Text, or Tokens when pre-tokenized.
type EmbeddingInput struct {
	Text   string
	Tokens []int
}

// EmbeddingResponse holds one vector per input, in input order.
type EmbeddingResponse struct {
	Model   string
	Vectors [][]float32
	Usage   Usage
}

// joinText concatenates texts with sep, skipping empty ones.
func joinText(texts []string, sep string) string {
	var b strings.Builder
	for _, t := range texts {
		if t == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(t)
	}
	return b.String()
}
