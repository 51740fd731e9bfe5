//go:build unix

package clients

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// testKey is the client key of the gateway (and of the recording server).
const testKey = "llmux-e2e-client-key"

// upstreams are the providers of the gateway's configuration, one per
// upstream protocol, each served by its own fake upstream.
//
// The fakes ignore the model; the CLIs do not. Current model names make
// them send what users' requests carry: for claude-sonnet-4-6, and for any
// name it does not know (oa/gpt-4o-mini included), Claude Code sends
// adaptive thinking, output_config.effort and six or seven betas; for the
// retired claude-3-opus of the recorded Anthropic answer it sends none.
var upstreams = []struct {
	id, typ  string
	model    string // the model part of the name the CLIs ask for
	endpoint string // the one protocol the fake answers, replaying its fixtures
	suffix   string // appended to the fake's URL to make base_url
	keyless  bool
}{
	{id: "oa", typ: "openai", model: "gpt-4o-mini", endpoint: epChat, suffix: "/v1"},
	{id: "resp", typ: "openai-responses", model: "gpt-4o", endpoint: epResponses, suffix: "/v1"},
	{id: "claude", typ: "anthropic", model: "claude-sonnet-4-6", endpoint: epMessages},
	{id: "gem", typ: "gemini", model: "gemini-2.5-flash", endpoint: epGemini},
	{id: "oll", typ: "ollama", model: "gemma3:latest", endpoint: epOllama, keyless: true},
}

// ownUpstream maps a CLI's protocol to the provider speaking it upstream.
var ownUpstream = map[string]string{"anthropic": "claude", "openai-responses": "resp", "gemini": "gem", "openai": "oa"}

// modelFor is the model name a CLI asks for to reach provider id.
func modelFor(id string) string {
	for _, u := range upstreams {
		if u.id == id {
			return id + "/" + u.model
		}
	}
	panic("no upstream " + id)
}

// ownModel is the model a CLI uses to reach the provider of its own
// protocol, the case that needs no translation.
func ownModel(c client) string { return modelFor(ownUpstream[c.protocol]) }

// TestClients runs every installed coding-agent CLI through llmux to every
// upstream protocol and checks that it prints the upstream's recorded
// answer.
func TestClients(t *testing.T) {
	if os.Getenv("LLMUX_E2E_CLIENTS") != "1" {
		t.Skip(strings.Repeat("*", 72) + "\n" +
			"SKIPPING the coding-agent CLI end-to-end test: it needs the CLIs installed\n" +
			"(e2e/clients/install.sh, from the npm registry) and runs them for a minute or\n" +
			"more. Run it with\n" +
			"    e2e/clients/install.sh && LLMUX_E2E_CLIENTS=1 go test ./e2e/clients -run TestClients -v -count=1\n" +
			strings.Repeat("*", 72))
	}
	fx := loadFixtures(t)
	exes := map[string]string{}
	for _, c := range clients {
		if exe, ok := findExe(c.exe); ok {
			exes[c.name] = exe
		}
	}
	if len(exes) == 0 {
		t.Skip("none of the CLIs is installed: run e2e/clients/install.sh (or set LLMUX_E2E_BIN)")
	}

	var provs []*upstreamProvider
	for _, u := range upstreams {
		fake := newFakeUpstream(t, u.id, fx, u.endpoint, u.model)
		p := &upstreamProvider{id: u.id, typ: u.typ, upstream: fake, baseURL: fake.URL() + u.suffix}
		if !u.keyless {
			p.apiKey = "upstream-key-" + u.id
		}
		provs = append(provs, p)
	}
	gw := startGateway(t, buildLlmux(t), testKey, provs)
	bh := newBlackhole(t)

	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			exe, ok := exes[c.name]
			if !ok {
				t.Skipf("%s is not installed: run e2e/clients/install.sh (or set LLMUX_E2E_BIN)", c.exe)
			}
			for _, p := range provs {
				t.Run(p.id, func(t *testing.T) {
					if why, ok := gw.unwired[p.id]; ok {
						t.Skipf("expected to fail: upstream protocol %q is not wired into llmux yet (llmux: providers.%s: %s)",
							p.typ, p.id, why)
					}
					runCase(t, c, exe, gw, p, modelFor(p.id), bh)
				})
			}
		})
	}
}

// runCase runs one CLI against one provider through the gateway and
// checks the answer, with everything the gateway and the fake upstream
// saw in the failure message.
func runCase(t *testing.T, c client, exe string, gw *gateway, p *upstreamProvider, model string, bh *blackhole) {
	logMark, frontMark, upMark, bhMark := gw.log.mark(), gw.front.mark(), p.upstream.mark(), bh.mark()
	res := runCLI(t, c, exe, gw.URL, testKey, model, bh.srv.URL)

	exs := p.upstream.requests(upMark)
	var served []*fixture
	for _, ex := range exs {
		if ex.fixture != nil {
			served = append(served, ex.fixture)
		}
	}
	var problems []string
	if res.err != nil {
		problems = append(problems, fmt.Sprintf("%s failed: %v", c.exe, res.err))
	}
	if len(served) == 0 {
		problems = append(problems, fmt.Sprintf("the fake %s upstream (%s) got no generation request", p.typ, p.id))
	} else if !printedAny(res.stdout, served) {
		var texts []string
		for _, f := range served {
			texts = append(texts, fmt.Sprintf("%s: %q", f.ID, clip(f.Text, 200)))
		}
		where := "its output"
		if printedAny(res.stderr, served) {
			where = "stdout (it is on stderr)"
		}
		problems = append(problems, fmt.Sprintf("%s does not hold the replayed answer, one of\n  %s", where, strings.Join(texts, "\n  ")))
	}
	if len(problems) == 0 {
		t.Logf("%s printed the answer of %s in %s; the gateway got:\n%s", c.exe, served[len(served)-1].ID,
			res.took.Round(time.Millisecond), gw.front.summary(frontMark))
		return
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s (%s) → llmux → %s upstream %q, model %s:\n- %s\n\n", c.name, c.protocol, p.typ, p.id, model,
		strings.Join(problems, "\n- "))
	sb.WriteString(res.String())
	fmt.Fprintf(&sb, "--- requests the gateway got ---\n%s", gw.front.summary(frontMark))
	fmt.Fprintf(&sb, "--- requests the fake %s upstream got ---\n%s", p.id, summary(exs))
	if blocked := bh.since(bhMark); len(blocked) > 0 {
		fmt.Fprintf(&sb, "--- outbound attempts blocked ---\n  %s\n", strings.Join(blocked, "\n  "))
	}
	fmt.Fprintf(&sb, "--- llmux log ---\n%s\n", clip(gw.log.since(logMark), 12000))
	t.Error(sb.String())
}

func printedAny(out string, fs []*fixture) bool {
	for _, f := range fs {
		if printed(out, f.Text) {
			return true
		}
	}
	return false
}
