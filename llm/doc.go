// Package llm is the canonical model every wire protocol meets in: one Go
// representation of a chat request, its response, a stream of events, usage
// and errors, rich enough that OpenAI Chat Completions, OpenAI Responses,
// Anthropic Messages, Gemini, Ollama, Cohere and Bedrock Converse all
// round-trip through it.
//
// Ingress codecs decode a client's request into a *Request and encode a
// *Response or a Stream back; egress codecs do the reverse towards an
// upstream. Nothing but this package is shared between the two sides, so a
// protocol never needs to know about any other protocol.
//
// Conventions:
//   - Optional scalars are pointers (nil means "not set by the client"), so
//     that an encoder can leave a field out instead of sending a default the
//     client never asked for.
//   - Binary payloads (images, audio, files) travel base64-encoded, exactly
//     as every JSON protocol carries them, so translation never decodes and
//     re-encodes large blobs.
//   - Tool-call arguments are JSON text (an object), whichever form the wire
//     uses; codecs for object-form protocols convert at the edge.
//   - Token counts follow OpenAI's semantics: input includes cached tokens,
//     output includes reasoning tokens (see Usage).
//   - Vendor fields the model has no slot for travel in Extensions, tagged
//     with the protocol they came from, so that the same protocol can send
//     them on and other protocols can refuse or drop them deliberately.
//
// This package is the bottom of the dependency graph: it imports only the
// standard library and nothing of llmux. It must stay free of I/O, HTTP and
// any protocol's wire names beyond the documented mapping comments.
package llm
