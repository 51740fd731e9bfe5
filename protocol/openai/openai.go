// Package openai is the OpenAI Chat Completions protocol in both directions:
// as ingress it decodes client requests to /v1/chat/completions,
// /v1/embeddings and /v1/models and encodes responses, SSE streams and errors;
// as egress it encodes upstream requests and decodes responses, streams and
// errors of any OpenAI-compatible server. It also implements passthrough:
// forwarding a client's body to an OpenAI-compatible upstream with only the
// model rewritten, tapping usage on the way back.
//
// Compatible servers differ in small ways that the decoders accept without
// configuration: reasoning text in reasoning_content (DeepSeek) or reasoning
// (OpenRouter, Ollama), usage inside the finishing choice (Moonshot) or under
// x_groq (Groq), DeepSeek's prompt_cache_hit_tokens, tool-call arguments
// sent as an object, and streams that end without "data: [DONE]".
//
// The package works on bytes, io.Reader and io.Writer only; it imports llm,
// protocol, internal/sse, internal/rawjson and internal/wirejson.
package openai

import (
	"math/rand/v2"

	"github.com/llmux/llmux/protocol"
)

// ID is the protocol's registry ID.
const ID = "openai"

// Protocol implements protocol.Ingress, protocol.Egress and their optional
// capabilities for Chat Completions. The zero value is ready to use.
type Protocol struct{}

// ID returns "openai".
func (Protocol) ID() string { return ID }

// Endpoint returns the chat completions path, relative to a base URL that
// ends in /v1 (or the vendor's equivalent).
func (Protocol) Endpoint(model string, stream bool) string { return "/chat/completions" }

var (
	_ protocol.Ingress          = Protocol{}
	_ protocol.Egress           = Protocol{}
	_ protocol.Passthrough      = Protocol{}
	_ protocol.EmbeddingIngress = Protocol{}
	_ protocol.EmbeddingEgress  = Protocol{}
	_ protocol.ModelListIngress = Protocol{}
	_ protocol.ModelListEgress  = Protocol{}
	_ protocol.Routed           = Protocol{}
)

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newID returns prefix followed by 24 random alphanumerics, the shape of
// OpenAI's own ids.
func newID(prefix string) string {
	b := make([]byte, len(prefix)+24)
	copy(b, prefix)
	for i := len(prefix); i < len(b); i++ {
		b[i] = idAlphabet[rand.IntN(len(idAlphabet))]
	}
	return string(b)
}

// Routes returns the OpenAI paths, with and without /v1 (clients configured
// with a base URL that lacks it send the short form).
func (Protocol) Routes() []protocol.Route {
	return []protocol.Route{
		{Method: "POST", Path: "/v1/chat/completions", Op: protocol.OpChat},
		{Method: "POST", Path: "/v1/embeddings", Op: protocol.OpEmbeddings},
		{Method: "GET", Path: "/v1/models", Op: protocol.OpModels},
		{Method: "POST", Path: "/chat/completions", Op: protocol.OpChat},
		{Method: "POST", Path: "/embeddings", Op: protocol.OpEmbeddings},
		{Method: "GET", Path: "/models", Op: protocol.OpModels},
	}
}

// Prefixes returns "/openai": the same paths are served under it.
func (Protocol) Prefixes() []string { return []string{"/openai"} }
