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
