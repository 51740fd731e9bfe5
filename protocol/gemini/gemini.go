// Package gemini is the Google Gemini (Generative Language API) protocol in
// both directions: as ingress it serves /v1beta/models/{model}:generateContent,
// :streamGenerateContent, :countTokens and the model list (also under /v1/
// and the /gemini prefix); as egress it calls a Gemini upstream. It also
// implements passthrough, forwarding a Gemini client's body to a Gemini
// upstream unchanged and tapping usage on the way back.
//
// The model and the stream mode of a Gemini request are in its URL, not its
// body: Address parses them, DecodeRequest leaves Request.Model and
// Request.Stream empty for the gateway to fill, and the passthrough Peek
// carries neither.
//
// # Function-call ids
//
// Gemini function calls usually come without an id. Decoders give each call
// a stable id, "call_gemini_" followed by 16 hex digits of a hash of the
// response id, the candidate, the call's position, its name and arguments
// (request decoding hashes the call's position in the request instead), so
// that a client of any protocol can answer it and the same history always
// yields the same ids. Function responses without an id answer the oldest
// unanswered call of their name, as Gemini itself matches them. The egress
// encoder never sends such a made-up id upstream: it recovers a result's
// function name from the earlier assistant calls of the request and sends
// functionResponse {name, response}; ids that did not come from this
// package are real and are sent back as id.
//
// # Signatures
//
// thoughtSignature values are only valid for Gemini. The egress encoder
// sends a thought part (with its signature) only for reasoning whose Origin
// is "gemini", and a function call's signature (llm.ToolCall.Signature) only
// when the request came from a Gemini client or the call's id was made by
// this package (so the call, signature included, came from a Gemini
// upstream). Gemini 3 models reject a history whose function-call turn lacks
// a signature, so for models named gemini-3… the first call of a model turn
// without one gets Google's documented placeholder
// "skip_thought_signature_validator". Reasoning of other protocols is
// dropped. A signature on a text part is kept as the part's
// Extensions["thoughtSignature"] (or, in a stream, as a reasoning event that
// holds only the signature), and an empty text part that only carries one
// is a reasoning part with only the signature. The ingress encoders, for
// streams as for complete responses, write reasoning signatures only when
// they came from Gemini (llm.Event.Origin, llm.Reasoning.Origin). Function calls are written for Gemini
// clients with their id (made up or not), which clients echo in
// functionResponse.id.
//
// # Mapping
//
// Ingress decoding: systemInstruction becomes a leading system message;
// contents role user (or missing) and model (and the legacy "function")
// become user, assistant and tool messages; a user turn's functionResponse
// parts become a tool message. Parts: text, thought (reasoning summary, with
// its signature), inlineData and fileData (image, audio or file by MIME
// type), functionCall, functionResponse (a response {"result": text},
// {"output": text} or {"error": text} becomes that text, the last as an
// error; any other object is its JSON text), executableCode and
// codeExecutionResult (sent to other protocols as Markdown text, and back
// to Gemini as the original part).
// Function declarations take parameters (Gemini's OpenAPI subset, with
// upper-case type names and nullable normalised to JSON Schema) or
// parametersJsonSchema; other tools (googleSearch, codeExecution,
// urlContext, …) become hosted tools with their raw JSON. toolConfig mode
// AUTO, ANY, NONE and VALIDATED (as auto) with allowedFunctionNames become a
// tool choice (ANY with one name forces that tool). generationConfig maps
// to the sampling fields, candidateCount to N, responseLogprobs/logprobs,
// responseMimeType application/json (with responseJsonSchema or the
// normalised responseSchema) to a response format, thinkingConfig to a
// reasoning config (thinkingBudget 0 disables, -1 is adaptive, thinkingLevel
// is the effort). Requests are read in camelCase or snake_case.
// Extensions keep safetySettings, cachedContent, labels and any other
// unknown top-level member; the generationConfig members the model has no
// slot for (responseModalities, speechConfig, mediaResolution, other
// response MIME types, …) as Extensions["generationConfig"]; a toolConfig
// the tool choice cannot express (VALIDATED, retrievalConfig) as
// Extensions["toolConfig"]; unknown members of parts, function declarations
// and candidates on the part, tool and message. They are sent on only to a
// Gemini upstream.
//
// Egress encoding: system and developer messages (at any position) are
// joined into systemInstruction; assistant turns are role model; tool
// results are functionResponse parts of a user turn (a JSON-object result
// as the response itself, other text as {"result": text}, an error as
// {"error": text}; images in results follow as inline parts); adjacent
// turns of one role are merged. Media must be inline: the provider
// downloads URLs first (InlineMedia), and a URL still present is sent as
// fileData only when it is a gs:// or Gemini Files API URI (or came from a
// Gemini client's fileData), else refused; media without a MIME type gets
// one sniffed from its first bytes.
// Tools go as functionDeclarations with parametersJsonSchema (JSON Schema
// as is); the tool choice as functionCallingConfig; a response format as
// responseMimeType with responseJsonSchema; reasoning as thinkingConfig: a
// budget as thinkingBudget, disabled as 0, adaptive or enabled without a
// budget as -1, an effort as thinkingLevel for gemini-3… models and Gemini
// clients, otherwise as thinkingBudget minimal 512, low 1024, medium 8192,
// high and above 24576; includeThoughts when asked for (IncludeThoughts, a
// reasoning summary, or Display "summarized").
//
// Refused as egress (400 naming the field): custom tools and custom tool
// calls, tool-call arguments that are not a JSON object, media by any other
// URL or by file id, a request with no user or assistant content.
// Dropped as egress: user, metadata, store, service_tier,
// parallel_tool_calls (Gemini cannot limit parallel calls), stream usage
// (Gemini always reports it), strict (of tools and schemas), the name and
// description of a response schema, message names, image detail, reasoning
// history of other protocols (and redacted reasoning), hosted tools of other
// protocols and every other protocol's extensions. Dropped as ingress:
// unknown members of contents, thinkingConfig and functionResponse
// (willContinue, scheduling: Live API only).
//
// # Streams
//
// Gemini streams are SSE events "data: <GenerateContentResponse>" framed by
// "\r\n\r\n", with no terminator: the upstream closes the connection after
// the chunk with finishReason, so an end of stream after one is a clean end
// and one before any is an early end. Usage is repeated on every chunk and
// the last one counts. The ingress encoder always writes SSE, also for a
// streamGenerateContent call without alt=sse (whose JSON-array form is not
// produced); it sends a chunk per text or thought delta, holds function
// calls until they are complete, and sends finishReason and usageMetadata
// in the final chunk, written by Close. A prompt blocked by promptFeedback
// (no candidates) decodes as an empty answer with finish content_filter.
//
// The package works on bytes, io.Reader and io.Writer only; it imports llm,
// protocol, internal/sse, internal/rawjson, internal/wirejson and the JSON
// library, and nothing else of llmux.
package gemini

import (
	"math/rand/v2"
	"net/url"
	"strings"

	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// ID is the protocol's registry ID.
const ID = "gemini"

// Protocol implements protocol.Ingress, protocol.Egress and their optional
// capabilities for the Gemini API. The zero value is ready to use.
type Protocol struct{}

// ID returns "gemini".
func (Protocol) ID() string { return ID }

var (
	_ protocol.Ingress          = Protocol{}
	_ protocol.Egress           = Protocol{}
	_ protocol.Passthrough      = Protocol{}
	_ protocol.Routed           = Protocol{}
	_ protocol.Addressed        = Protocol{}
	_ protocol.CountIngress     = Protocol{}
	_ protocol.CountEgress      = Protocol{}
	_ protocol.MediaEgress      = Protocol{}
	_ protocol.ModelListIngress = Protocol{}
	_ protocol.ModelListEgress  = Protocol{}
)

// Routes returns the Gemini paths of the v1beta and v1 APIs: model-addressed
// calls below models/, and the model list.
func (Protocol) Routes() []protocol.Route {
	return []protocol.Route{
		{Method: "POST", Path: "/v1beta/models/", Op: protocol.OpAddressed},
		{Method: "GET", Path: "/v1beta/models", Op: protocol.OpModels},
		{Method: "POST", Path: "/v1/models/", Op: protocol.OpAddressed},
		{Method: "GET", Path: "/v1/models", Op: protocol.OpModels},
	}
}

// Prefixes returns "/gemini": the same paths are served under it.
func (Protocol) Prefixes() []string { return []string{"/gemini"} }

// Address parses the part of a URL below models/: the model, then ':' and
// the method (the model may itself contain '/' and ':', so the method is
// what follows the last ':'). generateContent and streamGenerateContent
// are chats, countTokens counts; streams are always sent as SSE, whatever
// the alt parameter says.
func (Protocol) Address(rest, rawQuery string) (protocol.Address, error) {
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return protocol.Address{}, &llm.Error{Kind: llm.KindNotFound,
			Message: "the URL names no method: expected models/{model}:generateContent, :streamGenerateContent or :countTokens"}
	}
	model, method := rest[:i], rest[i+1:]
	var a protocol.Address
	switch method {
	case "generateContent":
		a = protocol.Address{Op: protocol.OpChat}
	case "streamGenerateContent":
		a = protocol.Address{Op: protocol.OpChat, Stream: true}
	case "countTokens":
		a = protocol.Address{Op: protocol.OpCountTokens}
	default:
		return protocol.Address{}, &llm.Error{Kind: llm.KindNotFound,
			Message: "the method " + quoteMethod(method) + " is not supported; this gateway serves generateContent, streamGenerateContent and countTokens"}
	}
	model = strings.TrimPrefix(model, "models/")
	if model == "" {
		return protocol.Address{}, &llm.Error{Kind: llm.KindInvalidRequest, Param: "model",
			Message: "the URL names no model: expected models/{model}:" + method}
	}
	a.Model = model
	return a, nil
}

// quoteMethod quotes a method name for an error message, bounding its length.
func quoteMethod(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return `"` + s + `"`
}

// Endpoint returns the generateContent path for model, relative to the API
// host; streams ask for SSE. A leading "models/" in the configured model is
// dropped, '/' inside the model is kept, and each segment is path-escaped
// (which leaves ordinary model names unchanged).
func (Protocol) Endpoint(model string, stream bool) string {
	if stream {
		return modelPath(model) + ":streamGenerateContent?alt=sse"
	}
	return modelPath(model) + ":generateContent"
}

// CountEndpoint returns the countTokens path for model.
func (Protocol) CountEndpoint(model string) string { return modelPath(model) + ":countTokens" }

func modelPath(model string) string {
	model = strings.TrimPrefix(model, "models/")
	var b strings.Builder
	b.WriteString("/v1beta/models/")
	for i, seg := range strings.Split(model, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(url.PathEscape(seg))
	}
	return b.String()
}

// InlineMedia reports true: Gemini takes media as inline data (or as Files
// API and gs:// URIs), never by http URL.
func (Protocol) InlineMedia() bool { return true }

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newResponseID returns a random id in the shape of Gemini's responseId.
func newResponseID() string {
	b := make([]byte, 22)
	for i := range b {
		b[i] = idAlphabet[rand.IntN(len(idAlphabet))]
	}
	return string(b)
}
