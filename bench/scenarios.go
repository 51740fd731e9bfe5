package bench

import (
	"fmt"

	"github.com/llmux/llmux/bench/report"
)

// scenario is one workload: what each target is sent, and the mock's
// answers.
type scenario struct {
	id, title, short string
	kind             string // report.Closed, report.Open or report.Hold
	stream           bool
	// nginxRef is the scenario whose nginx figures llmux is compared with
	// when nginx cannot serve this one.
	nginxRef string
	// targets, in the order measured; report.Direct first, so that the
	// others can be compared with it.
	targets []string
	// client is sent to the gateways, upstream to the mock directly.
	client, upstream call
	// optional scenarios run only when named.
	optional bool
	// keyed serves the client with a virtual key that has a rate limit,
	// created in llmux's fresh database before it starts (see
	// keyedLauncher); llmux's usage records are counted after the run.
	keyed bool
	// baseRef is the scenario that sends the same load without what this
	// one adds, which adds names; the report gives llmux's CPU per call
	// over its own there.
	baseRef, adds string
}

var (
	gateways    = []string{report.Direct, report.LLMux, report.Nginx, report.ReverseProxy, report.ReverseProxyH1}
	llmuxOnly   = []string{report.Direct, report.LLMux}
	heldTargets = []string{report.LLMux, report.Nginx, report.ReverseProxy, report.ReverseProxyH1}
)

// scenarios returns the scenarios of issue 6 for o, in the order they run.
func scenarios(o *Options) []*scenario {
	chunks := fmt.Sprintf("%d chunks", o.Chunks)
	return []*scenario{
		{id: "openai", title: "OpenAI passthrough", short: "OpenAI\npassthrough",
			kind: report.Closed, targets: gateways,
			client: openaiChat(modelOpenAI, false), upstream: openaiChat(modelOpenAI, false)},
		{id: "openai-policy", title: "OpenAI passthrough with a virtual key, a rate limit and usage logging", short: "OpenAI\nkey + limit",
			kind: report.Closed, nginxRef: "openai", baseRef: "openai", adds: "policy", keyed: true, targets: llmuxOnly,
			client: openaiChat(modelOpenAI, false), upstream: openaiChat(modelOpenAI, false)},
		{id: "openai-stream", title: "OpenAI passthrough, streaming (" + chunks + ")", short: "OpenAI\npassthrough",
			kind: report.Closed, stream: true, targets: gateways,
			client: openaiChat(modelOpenAI, true), upstream: openaiChat(modelOpenAI, true)},
		{id: "openai-anthropic", title: "OpenAI client → Anthropic upstream", short: "OpenAI →\nAnthropic",
			kind: report.Closed, nginxRef: "openai", targets: llmuxOnly,
			client: openaiChat(modelAnthropic, false), upstream: anthropicMessages(modelAnthropic, false)},
		{id: "openai-anthropic-stream", title: "OpenAI client → Anthropic upstream, streaming (" + chunks + ")", short: "OpenAI →\nAnthropic",
			kind: report.Closed, stream: true, nginxRef: "openai-stream", targets: llmuxOnly,
			client: openaiChat(modelAnthropic, true), upstream: anthropicMessages(modelAnthropic, true)},
		{id: "anthropic-openai-stream", title: "Anthropic client → OpenAI upstream, streaming (" + chunks + ")", short: "Anthropic →\nOpenAI",
			kind: report.Closed, stream: true, nginxRef: "openai-stream", targets: llmuxOnly,
			client: anthropicMessages(modelOpenAI, true), upstream: openaiChat(modelOpenAI, true)},
		{id: "openai-gemini-stream", title: "OpenAI client → Gemini upstream, streaming (" + chunks + ")", short: "OpenAI →\nGemini",
			kind: report.Closed, stream: true, nginxRef: "openai-stream", targets: llmuxOnly, optional: true,
			client: openaiChat(modelGemini, true), upstream: geminiGenerate(modelGemini, true)},
		{id: "open-loop", title: fmt.Sprintf("OpenAI passthrough at %s calls/s (open loop)", thousands(o.OpenRate)), short: fmt.Sprintf("%s/s\nopen loop", thousands(o.OpenRate)),
			kind: report.Open, targets: []string{report.Direct, report.LLMux, report.Nginx},
			client: openaiChat(modelOpenAI, false), upstream: openaiChat(modelOpenAI, false)},
		{id: "held-streams", title: fmt.Sprintf("%s held slow streams (one chunk every %v)", thousands(float64(o.Streams)), o.StreamInterval),
			short: fmt.Sprintf("%s streams", thousands(float64(o.Streams))),
			kind:  report.Hold, stream: true, targets: heldTargets,
			client: openaiChat(modelOpenAI, true)},
	}
}

// thousands formats n with a comma between thousands: 5,000.
func thousands(n float64) string {
	s := fmt.Sprintf("%.0f", n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
