// Package responses is the OpenAI Responses API (POST /v1/responses) in
// both directions: as ingress it decodes client requests (Codex CLI, the
// OpenAI SDKs, the Agents SDK) and encodes response objects, the
// response.* SSE event family and errors; as egress it encodes upstream
// requests and decodes responses, streams and errors of any Responses
// server. It also implements passthrough: forwarding a client's body to a
// Responses upstream with only the model rewritten, tapping usage on the
// way back.
//
// The gateway stores nothing, so the stateful parts of the API are refused
// with a 400 naming the field when a request has to be translated:
// previous_response_id, conversation, item_reference items, prompt
// templates and background mode ("this gateway does not store responses;
// send the full input"). On the passthrough path the upstream keeps state
// itself, so only background mode (whose results are fetched later from a
// path the gateway does not serve) is refused there.
//
// Mapping notes (wire → canonical → wire):
//   - instructions becomes a leading system message; system and developer
//     input items stay in place with their roles. Encoding for an upstream,
//     a leading system message becomes instructions again and every other
//     instruction message is an input item in place.
//   - Input items are merged into turns: consecutive assistant message,
//     reasoning, function_call and custom_tool_call items form one
//     assistant message; each function_call_output is one tool message.
//     Item ids, statuses and phases of history items are not kept (the API
//     does not need them back).
//   - A namespace tool (Codex groups MCP and its own tools this way:
//     {"type":"namespace","name":"crm","description":…,"tools":[…]}) is
//     expanded into its function and custom tools, each named
//     namespace + "__" + name ("mcp__docs__search" for namespace
//     "mcp__docs" and tool "search"; a namespace that already ends in "__"
//     gets no second separator), so that other protocols see ordinary
//     tools. Calls and history items carrying {"namespace","name"} get the
//     same flattened name. The namespace is kept in the tool's Extensions
//     (key "namespace"), from which this package splits names back when it
//     answers a Responses client and regroups the tools when it encodes for
//     a Responses upstream.
//   - Hosted tools (web_search, file_search, code_interpreter, mcp,
//     image_generation, local_shell, tool_search, …) travel as llm.Tool
//     with their Type and Raw JSON; they are sent on only to a Responses
//     upstream of a Responses request. A tool_choice naming a hosted tool
//     travels in Extensions the same way.
//   - Reasoning items become reasoning parts (one per summary entry, one
//     per reasoning_text content entry) carrying the item id, with
//     encrypted_content as Data and Origin "responses". They are sent back
//     only to Responses upstreams; reasoning of other origins is dropped
//     there. A Responses client sees any reasoning text as reasoning
//     summaries, and encrypted_content only when it came from a Responses
//     upstream.
//   - text.verbosity and the other members of text besides format travel in
//     Extensions["text"]; include in Extensions["include"]
//     ("message.output_text.logprobs" also sets Logprobs); everything the
//     model has no slot for (prompt_cache_key, truncation, max_tool_calls,
//     stream_options, client_metadata, …) in Extensions.
//   - safety_identifier fills User when user is absent (and user is then
//     not added on the way to a Responses upstream).
//   - History items of hosted tools and server-side compaction
//     (web_search_call, local_shell_call(_output), tool_search_call,
//     mcp_list_tools, compaction, any *_call or *_output type) have no
//     canonical form and are dropped; an unknown item type of another
//     shape is refused.
//
// Encoding for an upstream from another protocol:
//   - refused (400 naming the field): n > 1, stop, frequency_penalty and
//     presence_penalty, which the Responses API does not have and which
//     change the answer.
//   - dropped: top_k and seed (sampling hints some clients send by
//     default, e.g. Gemini CLI's topK), reasoning history of other origins (and Responses reasoning
//     items with neither id nor encrypted content, which the upstream
//     cannot resolve), hosted tools and Extensions of other protocols,
//     tool-result error flags (the API has no field for them),
//     cache-control marks, message names.
//   - store: sent as given; when unset, store:false, so that the upstream
//     keeps nothing the gateway could not serve back.
//   - Reasoning budgets become an effort: up to 2048 tokens low, up to
//     12288 medium, more high; a zero or negative budget leaves the
//     model's default. A disabled config is effort "none".
//   - Function tools without Strict are sent with strict:false (the API's
//     own default is strict), and tools without parameters with an empty
//     object schema (the API requires one).
//   - Streams always report usage (in response.completed); StreamUsage has
//     nothing to map to.
//   - Custom tools get their grammar from Raw: a Responses custom tool as
//     is, a Chat Completions one with its nested grammar flattened.
//
// Decoding an upstream's answer: output items of hosted tools are dropped;
// message, reasoning, function_call and custom_tool_call items map to
// parts. Streams are decoded from their delta events (a fast path reads
// them without reflection), and whole items in output_item.done or the
// final response stand in for deltas a server did not send.
//
// Answering a Responses client from another protocol: the response object
// echoes the request's settings as the SDKs expect (store is echoed as
// false when unset: the gateway serves no GET /v1/responses/{id}); item
// ids are made up (msg_, rs_, fc_, ctc_), a reasoning item keeps an rs_ id
// it came with. The stream writes items one after another, and a failure
// closes open items as incomplete and sends an error event followed by
// response.failed.
//
// On the passthrough path the relay forwards every event byte for byte and
// taps usage from response.completed or response.incomplete, after which
// it stops. A response.failed or error event is not forwarded: Copy
// returns it as an *llm.Error, and the gateway renders it (redacted) with
// this package's stream encoder, or retries another upstream when nothing
// was forwarded yet.
//
// The package works on bytes, io.Reader and io.Writer only; it imports llm,
// protocol, internal/sse, internal/rawjson and internal/wirejson.
package responses

import (
	"math/rand/v2"
	"time"

	"github.com/llmux/llmux/protocol"
)

// ID is the protocol's registry ID.
const ID = "responses"

// Protocol implements protocol.Ingress, protocol.Egress, protocol.Passthrough
// and protocol.Routed for the Responses API. The zero value is ready to use.
type Protocol struct{}

// ID returns "responses".
func (Protocol) ID() string { return ID }

// Endpoint returns the responses path, relative to a base URL that ends in
// /v1.
func (Protocol) Endpoint(model string, stream bool) string { return "/responses" }

// Routes returns POST /v1/responses, and the short form for clients
// configured with a base URL that lacks /v1.
func (Protocol) Routes() []protocol.Route {
	return []protocol.Route{
		{Method: "POST", Path: "/v1/responses", Op: protocol.OpChat},
		{Method: "POST", Path: "/responses", Op: protocol.OpChat},
	}
}

// Prefixes returns "/openai": the same paths are served under it.
func (Protocol) Prefixes() []string { return []string{"/openai"} }

var (
	_ protocol.Ingress     = Protocol{}
	_ protocol.Egress      = Protocol{}
	_ protocol.Passthrough = Protocol{}
	_ protocol.Routed      = Protocol{}
)

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newID returns prefix followed by 24 random alphanumerics, the shape of
// OpenAI's own ids. Tests replace it to make output reproducible.
var newID = func(prefix string) string {
	b := make([]byte, len(prefix)+24)
	copy(b, prefix)
	for i := len(prefix); i < len(b); i++ {
		b[i] = idAlphabet[rand.IntN(len(idAlphabet))]
	}
	return string(b)
}

// now returns the current Unix time. Tests replace it.
var now = func() int64 { return time.Now().Unix() }
