package protocol

import (
	"io"

	"github.com/llmux/llmux/llm"
)

// Passthrough is an optional capability of a protocol that is spoken on
// both sides: the gateway forwards the client's body to an upstream of the
// same protocol with only the model (and a few documented fields) changed,
// and taps usage from the answer, instead of decoding and re-encoding.
type Passthrough interface {
	// PeekRequest reads the fields routing needs without decoding the body.
	// It validates the JSON syntax and the types of the fields it reads.
	PeekRequest(body []byte) (Peek, error)

	// RewriteRequest appends to dst the body to send upstream. Every byte of
	// the client's body that the rewrite does not touch is kept.
	RewriteRequest(dst, body []byte, rw Rewrite) ([]byte, error)

	// TapResponse extracts usage from a complete successful response body.
	// It reports true only for a body that is valid JSON, so that the
	// gateway need not scan it a second time.
	TapResponse(body []byte) (llm.Usage, bool)

	// NewRelay returns a relay for one streamed response to the request p
	// describes.
	NewRelay(p Peek) Relay
}

// Peek is what the gateway needs to know about a request it passes through.
type Peek struct {
	// Model is the requested model name.
	Model string
	// Stream reports whether the client asked for a stream.
	Stream bool
	// StreamUsage reports whether the client asked for usage in the stream.
	StreamUsage bool
	// Scan is what PeekRequest learned about the body's layout, private to
	// the protocol; passing it on in Rewrite.Scan spares RewriteRequest a
	// second pass over the same body.
	Scan any
}

// Rewrite says what to change in a passed-through body.
type Rewrite struct {
	// Model replaces the model name; "" keeps the client's.
	Model string
	// StreamUsage makes a streaming upstream report usage even when the
	// client did not ask (the relay then hides it again).
	StreamUsage bool
	// Drop lists top-level fields the upstream rejects.
	Drop []string
	// Rename maps top-level field names to the upstream's names.
	Rename map[string]string
	// Refuse lists top-level fields the upstream cannot honour: a body that
	// sets one (to anything but null) is refused with a 400 naming it.
	Refuse []string
	// Upstream names the upstream in such a refusal.
	Upstream string
	// Scan is Peek.Scan from PeekRequest on the same body, or nil.
	Scan any
}

// Relay copies one upstream stream to the client frame by frame.
type Relay interface {
	// Copy reads the upstream stream from src and writes each frame to dst,
	// until the stream ends. It calls flush before every read from src that
	// follows a write, and before it returns: frames that arrived together
	// leave together, and none waits for the upstream's next bytes. Frames that
	// exist only for the gateway (a usage chunk the client did not ask for)
	// are not forwarded. It returns nil when the stream ended with its
	// protocol's terminator, and an *llm.Error when the upstream reported an
	// error in the stream or the stream broke off.
	Copy(dst io.Writer, flush func() error, src io.Reader) error
	// Usage returns the usage the stream reported, if any.
	Usage() (llm.Usage, bool)
}

// RefuseField is the refusal of a passed-through request that sets a field
// the upstream cannot honour (Rewrite.Refuse).
func RefuseField(name, upstream string) *llm.Error {
	return llm.InvalidParam(name, "%s: not supported by the upstream %s", name, upstream)
}
