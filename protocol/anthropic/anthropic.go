// Package anthropic is the Anthropic Messages protocol in both directions:
// as ingress it decodes client requests to /v1/messages and
// /v1/messages/count_tokens and encodes messages, SSE streams, token counts
// and errors; as egress it encodes upstream requests and decodes responses,
// streams, counts, model lists and errors of the Anthropic API (and of the
// servers that speak it). It also implements passthrough: forwarding a
// client's body to an Anthropic upstream with only the model rewritten,
// tapping usage on the way back.
//
// Ingress (what Claude Code and the SDKs send): the top-level system prompt
// becomes one leading system message per block (cache_control kept on the
// part), and a role "system" message inside messages stays where it is;
// tool_result blocks become a tool message placed before the rest of their
// user turn; thinking and redacted_thinking become reasoning parts with
// Origin "anthropic"; server tools (web_search_*, bash_*, text_editor_*, …)
// become hosted tools with their definition in Raw; unknown fields of a
// custom tool (defer_loading, …) and unknown top-level fields
// (context_management, mcp_servers, container, …) are kept as Extensions
// and re-sent only to an Anthropic upstream. output_config.effort and
// output_config.format map to the reasoning effort and the response format;
// metadata.user_id is the user. Server-tool blocks in the history
// (server_tool_use, web_search_tool_result, mcp_tool_use, …) have no
// canonical form and are dropped on the translated path (passthrough keeps
// them); search_result blocks and documents with a "content" source become
// their text.
//
// Egress, from a request of any protocol:
//   - System and developer messages are hoisted into the top-level system
//     blocks. Only for a request that came from an Anthropic client is a
//     system message after the first turn kept in place.
//   - Tool results become tool_result blocks leading their user turn;
//     adjacent turns of one role are merged, empty text is dropped, and the
//     text of a final assistant (prefill) turn loses trailing white space,
//     which the API rejects. Tool-call ids are reduced to [a-zA-Z0-9_-].
//   - max_tokens is required: req.MaxTokens, else DefaultMaxTokens of the
//     upstream model.
//     With thinking on, max_tokens must exceed the budget: when it does not,
//     it becomes budget + max_tokens.
//   - Reasoning: a budget is sent as thinking enabled (at least 1024
//     tokens); an OpenAI-style effort is turned into a budget (EffortBudget);
//     adaptive thinking and output_config.effort are sent as such only for
//     an Anthropic client, other adaptive requests get the medium budget.
//     With thinking on, temperature and top_k are dropped and a top_p below
//     0.95 is dropped (the API rejects them). A request from another
//     protocol that forces a tool call loses its reasoning setting instead,
//     as the API refuses thinking with a forced tool. Reasoning history is
//     sent back only when it came from Anthropic and carries its signature
//     (or redacted data); other reasoning parts are dropped.
//   - Temperature above 1 (OpenAI's scale reaches 2) is clamped to 1; for a
//     request from another protocol that sets both temperature and top_p,
//     top_p is dropped (newer Claude models refuse the pair).
//   - Response formats: an Anthropic client's output_config.format is sent
//     as such. From other protocols, json_object and json_schema are
//     emulated with a forced tool named JSONToolName whose input schema is
//     the wanted schema (its root must be an object); with client tools the
//     choice becomes "any", so that the model either calls one of them or
//     answers through ours. The response and stream decoders turn that
//     call's input back into text with finish reason stop. With thinking
//     on, tools cannot be forced: json_schema is sent as
//     output_config.format instead, and json_object is refused.
//   - A tool choice restricted to some tools (OpenAI allowed_tools) sends
//     only those tools.
//   - Refused with a 400 naming the field: n > 1, logprobs, frequency and
//     presence penalties, audio parts, OpenAI custom (free-form) tools and
//     their calls, provider file ids from other protocols, files other than
//     PDF, plain text and images.
//   - Dropped: strict on the tools of other protocols (OpenAI's strict
//     mode; Anthropic's strict tool use exists only on newer models), seed,
//     store, metadata (other than the user, which goes to
//     metadata.user_id), service tiers other than auto and standard_only,
//     hosted tools of other protocols, and Extensions of other protocols.
//
// The package works on bytes, io.Reader and io.Writer only; it imports llm,
// protocol, internal/sse, internal/rawjson and internal/wirejson.
package anthropic

import (
	"math/rand/v2"
	"strings"

	"github.com/llmux/llmux/protocol"
)

// ID is the protocol's registry ID.
const ID = "anthropic"

// Protocol implements protocol.Ingress, protocol.Egress and their optional
// capabilities for the Messages API. The zero value is ready to use.
type Protocol struct{}

// ID returns "anthropic".
func (Protocol) ID() string { return ID }

// Endpoint returns the messages path, relative to a base URL that is the
// host (https://api.anthropic.com), as Anthropic's SDKs take it.
func (Protocol) Endpoint(model string, stream bool) string { return "/v1/messages" }

// CountEndpoint returns the token-counting path.
func (Protocol) CountEndpoint(model string) string { return "/v1/messages/count_tokens" }

// ModelsEndpoint returns the model listing path.
func (Protocol) ModelsEndpoint() string { return "/v1/models" }

// Routes returns the Messages API paths.
func (Protocol) Routes() []protocol.Route {
	return []protocol.Route{
		{Method: "POST", Path: "/v1/messages", Op: protocol.OpChat},
		{Method: "POST", Path: "/v1/messages/count_tokens", Op: protocol.OpCountTokens},
		// The root /v1/models belongs to OpenAI; the gateway serves this one
		// under the prefixes (/anthropic/v1/models).
		{Method: "GET", Path: "/v1/models", Op: protocol.OpModels},
	}
}

// Prefixes returns "/anthropic" and "/claude": the same paths are served
// under them.
func (Protocol) Prefixes() []string { return []string{"/anthropic", "/claude"} }

// ForwardHeaders returns the request headers an Anthropic upstream must see
// from an Anthropic client: the API version and the beta flags.
func (Protocol) ForwardHeaders() []string { return []string{"Anthropic-Version", "Anthropic-Beta"} }

var (
	_ protocol.Ingress          = Protocol{}
	_ protocol.Egress           = Protocol{}
	_ protocol.Passthrough      = Protocol{}
	_ protocol.Routed           = Protocol{}
	_ protocol.CountIngress     = Protocol{}
	_ protocol.CountEgress      = Protocol{}
	_ protocol.HeaderIngress    = Protocol{}
	_ protocol.ModelListIngress = Protocol{}
	_ protocol.ModelListEgress  = Protocol{}
)

// JSONToolName is the reserved name of the tool that emulates JSON output
// for requests from other protocols: the request forces the model to call
// it with the answer as its input, and the decoders turn that call back
// into text. A client tool of this name is refused.
const JSONToolName = "llmux_json_response"

// DefaultMaxTokens returns the max_tokens sent when a request has none: the
// output limit of the model family (claude-opus-4* 32000; claude-sonnet-4*,
// claude-haiku-4* and claude-3-7-sonnet* 64000; claude-3-5-* 8192;
// claude-3-* 4096), and 4096 for anything else. Vendor spellings such as
// "anthropic.claude-3-5-sonnet-…" (Bedrock) or "claude-sonnet-4@…" (Vertex)
// are matched from "claude-" on. A provider with a configured default sets
// req.MaxTokens instead.
func DefaultMaxTokens(model string) int {
	if i := strings.Index(model, "claude-"); i >= 0 {
		model = model[i:]
	}
	switch {
	case strings.HasPrefix(model, "claude-opus-4"):
		return 32000
	case strings.HasPrefix(model, "claude-sonnet-4"), strings.HasPrefix(model, "claude-haiku-4"),
		strings.HasPrefix(model, "claude-3-7-sonnet"):
		return 64000
	case strings.HasPrefix(model, "claude-3-5-"):
		return 8192
	case strings.HasPrefix(model, "claude-3-"):
		return 4096
	}
	return 4096
}

// EffortBudget returns the thinking budget sent for an OpenAI-style
// reasoning effort: minimal 1024, low 2048, medium 8192, high 16384, xhigh
// and max 32768; 0 for an effort it does not know.
func EffortBudget(effort string) int {
	switch effort {
	case "minimal":
		return 1024
	case "low":
		return 2048
	case "medium":
		return 8192
	case "high":
		return 16384
	case "xhigh", "max":
		return 32768
	}
	return 0
}

// minBudget is the smallest thinking budget the API accepts.
const minBudget = 1024

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newID returns prefix followed by 24 random alphanumerics, the shape of
// Anthropic's own ids.
func newID(prefix string) string {
	b := make([]byte, len(prefix)+24)
	copy(b, prefix)
	for i := len(prefix); i < len(b); i++ {
		b[i] = idAlphabet[rand.IntN(len(idAlphabet))]
	}
	return string(b)
}
