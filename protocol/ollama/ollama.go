// Package ollama is Ollama's native API in both directions. Protocol is
// /api/chat: as ingress it decodes client requests and encodes responses,
// NDJSON streams and errors, and serves /api/tags, /api/show and
// /api/version; as egress it encodes upstream requests and decodes
// responses, streams, errors and model lists of an Ollama server (the base
// URL is the host; the gateway calls {base}/api/chat). It also implements
// passthrough between an Ollama client and an Ollama upstream. Generate is
// /api/generate, ingress only: a prompt and an optional system text become a
// chat request, and answers go back in /api/generate's shape.
//
// Ollama differs from the canonical model in ways both directions handle:
//   - "stream" defaults to true: an absent stream member means a stream.
//   - Tool-call arguments are JSON objects, and older servers send calls
//     without ids. Decoders give such calls stable ids (see syntheticID),
//     which the egress encoder recognises and does not send back; a tool
//     result is matched to its call by id, or by tool_name and order.
//   - Images are raw base64 strings on the message (no URLs, no MIME type):
//     the decoder sniffs PNG, JPEG, GIF and WebP from the bytes, and the
//     egress asks the provider to download URLs first (InlineMedia).
//   - max_tokens, stop and the sampling parameters live in "options"; the
//     options without a canonical slot (num_ctx, repeat_penalty, mirostat,
//     …, and num_predict, seed or top_k with Ollama's "unset" values) travel
//     in Extensions["options"] and are sent on only to Ollama upstreams.
//   - There is no tool_choice: none is emulated by sending no tools, auto
//     with an allowed list by sending only those tools; required or a named
//     tool is refused.
//   - "think" is a boolean or a level; reasoning efforts map as Ollama's own
//     OpenAI layer maps them (none → false, minimal → "low", xhigh → "max"),
//     a thinking budget to true. logprobs and top_logprobs are mapped both
//     ways (Ollama reports them since v0.12.11; older servers ignore them).
//
// Egress drops, deliberately: user, store, metadata, service_tier, message
// names, parallel_tool_calls (Ollama cannot bound the number of calls),
// cache-control marks, strict schemas, the is_error flag of tool results,
// reasoning signatures and opaque or redacted reasoning (Ollama has none;
// reasoning text is sent as "thinking"), and hosted tools of other
// protocols. It refuses: n > 1, custom (free-form) tools, tool_choice
// required or naming a tool, audio and file parts, images by URL, and
// tool-call arguments that are not a JSON object.
//
// Generate decodes into requests whose Origin is "ollama": the members it
// keeps as extensions (keep_alive, options, truncate, shift) mean the same
// on /api/chat, where an Ollama upstream receives them.
//
// Ingress refuses what it cannot serve through the canonical model: a chat
// without messages or a generate without prompt (Ollama answers those by
// loading the model, done_reason "load"), and on /api/generate a suffix,
// raw mode, a template and a context token array. The durations in answers
// are the gateway's own measurements (or the upstream's, from an Ollama
// upstream); load_duration is 0.
//
// The package works on bytes, io.Reader and io.Writer only; it imports llm,
// protocol, internal/sse, internal/rawjson and internal/wirejson.
package ollama

import (
	"encoding/hex"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/llmux/llmux/protocol"
)

// ID is the registry ID of the /api/chat protocol.
const ID = "ollama"

// GenerateID is the registry ID of the /api/generate ingress.
const GenerateID = "ollama-generate"

// Protocol implements /api/chat as protocol.Ingress and protocol.Egress,
// with passthrough, model listing, /api/show and /api/version. The zero
// value is ready to use.
type Protocol struct{}

// Generate implements /api/generate as a protocol.Ingress. The zero value
// is ready to use.
type Generate struct{}

// ID returns "ollama".
func (Protocol) ID() string { return ID }

// ID returns "ollama-generate".
func (Generate) ID() string { return GenerateID }

// Endpoint returns /api/chat, relative to a base URL that is the host.
func (Protocol) Endpoint(model string, stream bool) string { return "/api/chat" }

// InlineMedia reports true: Ollama takes images only as base64.
func (Protocol) InlineMedia() bool { return true }

// prefixes are served by both codecs; the gateway reads a client key from
// the {key} wildcard, for tools that cannot send headers.
var prefixes = []string{"/ollama", "/ollama/{key}"}

// Routes returns the /api/chat, /api/tags, /api/show and /api/version paths.
func (Protocol) Routes() []protocol.Route {
	return []protocol.Route{
		{Method: "POST", Path: "/api/chat", Op: protocol.OpChat},
		{Method: "GET", Path: "/api/tags", Op: protocol.OpModels},
		{Method: "POST", Path: "/api/show", Op: protocol.OpShow},
		{Method: "GET", Path: "/api/version", Op: protocol.OpVersion},
	}
}

// Prefixes returns "/ollama" and "/ollama/{key}".
func (Protocol) Prefixes() []string { return prefixes }

// Routes returns the /api/generate path.
func (Generate) Routes() []protocol.Route {
	return []protocol.Route{{Method: "POST", Path: "/api/generate", Op: protocol.OpChat}}
}

// Prefixes returns "/ollama" and "/ollama/{key}".
func (Generate) Prefixes() []string { return prefixes }

var (
	_ protocol.Ingress          = Protocol{}
	_ protocol.Egress           = Protocol{}
	_ protocol.Passthrough      = Protocol{}
	_ protocol.Routed           = Protocol{}
	_ protocol.ModelListIngress = Protocol{}
	_ protocol.ModelListEgress  = Protocol{}
	_ protocol.ShowIngress      = Protocol{}
	_ protocol.VersionIngress   = Protocol{}
	_ protocol.MediaEgress      = Protocol{}

	_ protocol.Ingress = Generate{}
	_ protocol.Routed  = Generate{}
)

// now is the clock of created_at and of the measured durations; tests fix
// it.
var now = time.Now

// SyntheticIDPrefix starts every tool-call id this package makes up for a
// call that came without one. The egress encoder does not send such ids to
// Ollama, which never saw them.
const SyntheticIDPrefix = "call_llmux_"

// syntheticID returns a stable id for a call without one: a hash of where
// the call is (scope, such as a message index or the answer's created_at,
// and its position) and what it is (name and arguments). The same history
// or answer always gets the same ids.
func syntheticID(scope string, pos int, name, args string) string {
	h := fnv.New64a()
	var num [20]byte
	h.Write([]byte(scope))
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(num[:0], int64(pos), 10))
	h.Write([]byte{0})
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(args))
	var sum [8]byte
	return SyntheticIDPrefix + hex.EncodeToString(h.Sum(sum[:0]))
}

// isSynthetic reports whether id was made up by this package.
func isSynthetic(id string) bool { return strings.HasPrefix(id, SyntheticIDPrefix) }
