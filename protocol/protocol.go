// Package protocol defines what a wire protocol package provides, split by
// side: Ingress (the gateway speaks it to clients) and Egress (the gateway
// speaks it to upstreams), plus optional capabilities found by type
// assertion. It also holds the Registry that maps stable string IDs to
// protocol implementations.
//
// Protocol packages (protocol/<name>) implement these interfaces with pure
// functions over bytes, io.Reader and io.Writer; they never see net/http
// server types. This package imports only llm and the standard library, and
// must not import any protocol/<name> package or anything internal.
package protocol

import (
	"io"

	"github.com/llmux/llmux/llm"
)

// Codec is what every protocol implementation is: something with a stable ID.
type Codec interface {
	// ID is the protocol's registry ID, e.g. "openai".
	ID() string
}

// Ingress is the client-facing side of a protocol.
type Ingress interface {
	Codec

	// DecodeRequest decodes a client's chat request body. A malformed body
	// yields an *llm.Error of KindInvalidRequest whose Param names the field.
	DecodeRequest(body []byte) (*llm.Request, error)

	// EncodeResponse writes a complete response for req to w.
	EncodeResponse(w io.Writer, req *llm.Request, resp *llm.Response) error

	// NewStreamEncoder returns an encoder that writes the stream answering
	// req to w.
	NewStreamEncoder(w io.Writer, req *llm.Request) StreamEncoder

	// EncodeError renders err as this protocol's error body and returns the
	// HTTP status to send it with.
	EncodeError(err *llm.Error) (status int, body []byte)
}

// StreamEncoder writes one response stream in a client's protocol. It keeps
// whatever state the protocol needs between events (open blocks, counters,
// the text so far) and is used by one goroutine.
type StreamEncoder interface {
	// ContentType is the stream's media type, e.g. "text/event-stream".
	ContentType() string
	// Encode writes the frames for one event; events that have no
	// representation in the protocol write nothing.
	Encode(ev llm.Event) error
	// Close writes whatever ends a successful stream ("data: [DONE]",
	// "message_stop", …).
	Close() error
	// Fail ends the stream with the protocol's in-stream error event, after
	// closing whatever is open.
	Fail(err *llm.Error) error
}

// Egress is the upstream-facing side of a protocol.
type Egress interface {
	Codec

	// Endpoint returns the request path, relative to the provider's base
	// URL, for a chat request with the given upstream model (query included
	// when the protocol needs one).
	Endpoint(model string, stream bool) string

	// EncodeRequest encodes req for the upstream; model is the upstream
	// model id to ask for. Features the protocol cannot express are refused
	// with a KindInvalidRequest *llm.Error naming them.
	EncodeRequest(req *llm.Request, model string) ([]byte, error)

	// DecodeResponse decodes a complete successful response body.
	DecodeResponse(body []byte) (*llm.Response, error)

	// NewStreamDecoder returns a stream reading the upstream's successful
	// streaming body. The stream's Close closes body.
	NewStreamDecoder(body io.ReadCloser) llm.Stream

	// DecodeError turns an upstream error response into an *llm.Error that
	// keeps the upstream's status and type. The message is the upstream's
	// own; the gateway redacts it before a client sees it.
	DecodeError(status int, body []byte) *llm.Error
}

// EmbeddingIngress is an optional Ingress capability: the protocol has an
// embeddings endpoint.
type EmbeddingIngress interface {
	DecodeEmbeddingRequest(body []byte) (*llm.EmbeddingRequest, error)
	EncodeEmbeddingResponse(w io.Writer, req *llm.EmbeddingRequest, resp *llm.EmbeddingResponse) error
}

// EmbeddingEgress is an optional Egress capability: the upstream protocol
// has an embeddings endpoint.
type EmbeddingEgress interface {
	EmbeddingEndpoint(model string) string
	EncodeEmbeddingRequest(req *llm.EmbeddingRequest, model string) ([]byte, error)
	DecodeEmbeddingResponse(body []byte) (*llm.EmbeddingResponse, error)
}

// ModelListIngress is an optional Ingress capability: the protocol can list
// models to its clients.
type ModelListIngress interface {
	EncodeModels(w io.Writer, models []llm.Model) error
}

// ModelListEgress is an optional Egress capability: the upstream can list
// its models.
type ModelListEgress interface {
	ModelsEndpoint() string
	DecodeModels(body []byte) ([]llm.Model, error)
}

// Op is an operation an ingress route serves.
type Op string

// Operations the gateway knows how to serve.
const (
	OpChat       Op = "chat"
	OpEmbeddings Op = "embeddings"
	OpModels     Op = "models"
)

// Route is one HTTP path of an ingress protocol.
type Route struct {
	// Method is GET or POST.
	Method string
	// Path is the path under the gateway's root, e.g. "/v1/chat/completions".
	Path string
	// Op is what the path does.
	Op Op
}

// Routed is an optional Ingress capability: the HTTP paths the protocol
// serves, and the prefixes (e.g. "/openai") under which they are served
// again, for clients configured with a per-protocol base URL.
type Routed interface {
	Routes() []Route
	Prefixes() []string
}

// Operations served only by some protocols.
const (
	// OpCountTokens counts a request's input tokens (Anthropic
	// count_tokens, Gemini countTokens); the ingress implements
	// CountIngress.
	OpCountTokens Op = "count_tokens"
	// OpShow describes one model (Ollama /api/show); the ingress implements
	// ShowIngress.
	OpShow Op = "show"
	// OpVersion reports the server's version (Ollama /api/version); the
	// ingress implements VersionIngress.
	OpVersion Op = "version"
	// OpAddressed marks a route whose operation, model and stream mode are
	// carried in the URL below it (Gemini's /v1beta/models/{model}:{method});
	// its Path ends in "/" and the ingress implements Addressed.
	OpAddressed Op = "addressed"
)

// Addressed is an optional Ingress capability of protocols whose URL names
// the model and the operation.
type Addressed interface {
	// Address parses rest, the path below an OpAddressed route (e.g.
	// "claude/sonnet:streamGenerateContent"), and the raw query. An unknown
	// method is a KindNotFound *llm.Error.
	Address(rest, rawQuery string) (Address, error)
}

// Address is what a URL says about a request: the operation (OpChat,
// OpCountTokens, OpEmbeddings, …), the model, and whether a chat streams.
// The gateway sets the decoded request's Model and Stream from it.
type Address struct {
	Op     Op
	Model  string
	Stream bool
}

// CountIngress is an optional Ingress capability: a token-counting
// endpoint (OpCountTokens).
type CountIngress interface {
	// DecodeCountRequest decodes the body of a counting request; the model
	// may come from the URL instead (Address).
	DecodeCountRequest(body []byte) (*llm.Request, error)
	// EncodeCount writes the answer: tokens input tokens.
	EncodeCount(w io.Writer, tokens int) error
}

// CountEgress is an optional Egress capability: the upstream counts tokens
// itself.
type CountEgress interface {
	CountEndpoint(model string) string
	EncodeCountRequest(req *llm.Request, model string) ([]byte, error)
	DecodeCount(body []byte) (int, error)
}

// ShowIngress is an optional Ingress capability: describing one model
// (OpShow).
type ShowIngress interface {
	// DecodeShowRequest returns the model the body asks about.
	DecodeShowRequest(body []byte) (model string, err error)
	// EncodeShow writes the description of m.
	EncodeShow(w io.Writer, m llm.Model) error
}

// VersionIngress is an optional Ingress capability: a version endpoint
// (OpVersion) that needs no upstream.
type VersionIngress interface {
	EncodeVersion(w io.Writer, version string) error
}

// HeaderIngress is an optional Ingress capability: request headers that
// belong to the protocol and that an upstream of the same protocol must
// see (Anthropic's anthropic-version and anthropic-beta). The gateway
// copies them into llm.Request.Headers (and onto a passed-through call);
// providers send them only to an upstream of the request's Origin
// protocol.
type HeaderIngress interface {
	// ForwardHeaders returns the canonical header names, e.g.
	// "Anthropic-Beta".
	ForwardHeaders() []string
}

// MediaEgress is an optional Egress capability: the upstream protocol
// cannot reference media by URL, so the provider downloads image URLs
// into inline bytes (with its size, time and address limits) before
// EncodeRequest.
type MediaEgress interface {
	// InlineMedia reports whether media given by an http(s) URL must be
	// sent as bytes.
	InlineMedia() bool
}
