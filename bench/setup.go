package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/llmux/llmux/bench/report"
)

// setup describes the machine, the versions and the settings of the run.
func (r *runner) setup() []report.Fact {
	o := r.o
	facts := []report.Fact{
		{Label: "machine", Value: machine()},
		{Label: "llmux", Value: commandOutput(o.LLMux, "version") + r.built},
		{Label: "Go", Value: runtime.Version()},
	}
	if l, ok := r.launchers[report.Nginx].(nginxLauncher); ok {
		facts = append(facts, report.Fact{Label: "nginx", Value: nginxVersion(l.bin) +
			fmt.Sprintf(": %d worker, `proxy_buffering off`, upstream `keepalive 256`, HTTP/1.1 to the upstream, `access_log off`", l.workers)})
	}
	facts = append(facts,
		report.Fact{Label: "Go reverse proxy", Value: "`httputil.NewSingleHostReverseProxy` in its own process (llmux-bench reverse-proxy), " +
			"a Transport keeping 256 idle connections per host; it flushes event streams at once"},
		report.Fact{Label: "Go reverse proxy with llmux's client", Value: "the same proxy (llmux-bench reverse-proxy -transport h1) reaching the upstream " +
			"through llmux's own HTTP/1.1 transport (internal/h1), as llmux does for http:// upstreams: net/http's server and llmux's client with " +
			"nothing of the gateway between them, the floor of a gateway on net/http"},
		report.Fact{Label: "llmux configuration", Value: "one static client key, `admin_key` set, `log_requests: false` (as nginx runs without access log), " +
			"providers of type openai, anthropic and gemini pointing at the mock; a fresh SQLite database per process in its scratch folder, " +
			"to which llmux writes a usage record for every call (always on, default batching). " +
			fmt.Sprintf("With a virtual key: made by `llmux keys create --rpm %s` before llmux starts, so every call is checked and counted by the limiter", thousands(keyRPM))},
		report.Fact{Label: "CPU placement", Value: r.placementText()},
		report.Fact{Label: "closed loop", Value: fmt.Sprintf("%d connections; %v measured per scenario and target after a %v warm-up on the same connections",
			o.Concurrency, o.Duration, o.Warmup)},
		report.Fact{Label: "open loop", Value: fmt.Sprintf("%s calls/s for %v after a %v warm-up; a late start does not wait for earlier answers; latency counted from each call's actual start",
			thousands(o.OpenRate), o.Duration, o.Warmup)},
		report.Fact{Label: "requests", Value: fmt.Sprintf("the same agent turn in each protocol (system prompt, tool call and result, two tools): "+
			"%d bytes as OpenAI Chat, %d as Anthropic Messages", len(openaiChat(modelOpenAI, false).body), len(anthropicMessages(modelOpenAI, false).body))},
		report.Fact{Label: "answers", Value: fmt.Sprintf("complete bodies of about 1 KB; streams of %d chunks %v apart, each written and flushed on its own", o.Chunks, o.ChunkDelay)},
		report.Fact{Label: "held streams", Value: fmt.Sprintf("%s streams opened over %v, %d chunks each %v apart; memory read while all are open",
			thousands(float64(o.Streams)), o.Ramp, o.StreamChunks, o.StreamInterval)},
		report.Fact{Label: "processes", Value: "every gateway is a fresh process per scenario, with a fresh mock; CPU clock ticks: " + fmt.Sprint(r.hz) + "/s"},
	)
	return facts
}

func (r *runner) placementText() string {
	if r.pl.taskset == "" {
		return fmt.Sprintf("not pinned: generator, mocks and gateway share all %d CPUs", runtime.NumCPU())
	}
	return fmt.Sprintf("gateways on CPU %s (`taskset`; Go gateways get GOMAXPROCS %d from it, nginx %d worker); "+
		"load generator and mocks in the benchmark process on the other CPUs, GOMAXPROCS %d",
		r.pl.cpuList(), len(r.pl.cpus), len(r.pl.cpus), runtime.GOMAXPROCS(0))
}

// machine describes the CPU, memory and kernel.
func machine() string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.0f GB RAM", float64(kb)/(1<<20))
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("%d × %s%s, Linux %s", runtime.NumCPU(), model, mem, bytes.TrimSpace(kernel))
}

// gitCommit describes the checkout llmux is built from: " from commit
// abc1234" and whether the working tree differs. It only reads.
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	s := ", built from commit " + strings.TrimSpace(string(out))
	if exec.Command("git", "diff-index", "--quiet", "HEAD", "--").Run() != nil {
		s += " with uncommitted changes"
	}
	return s
}

func commandOutput(bin string, args ...string) string {
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("unknown (%v)", err)
	}
	return strings.TrimSpace(string(out))
}

// goals checks the run against the targets of issue 6.
func goals(run *report.Run, o *Options) []report.Goal {
	var out []report.Goal
	cpuGoal := func(id, what string, limit float64) {
		s := run.Scenario(id)
		if s == nil {
			return
		}
		g := report.Goal{Goal: fmt.Sprintf("%s: llmux CPU per call ≤ %g× nginx's", what, limit)}
		l, n := s.Row(report.LLMux), run.NginxRow(s)
		if l != nil && n != nil && l.HasCPU && n.HasCPU {
			ratio := report.Ratio(float64(l.CPU), float64(n.CPU))
			g.Known, g.Met = true, ratio <= limit
			g.Measured = fmt.Sprintf("%.2f× (%v vs %v)", ratio, l.CPU.Round(time.Microsecond), n.CPU.Round(time.Microsecond))
			g.Off = fmt.Sprintf("%.1f× the limit", ratio/limit)
		}
		out = append(out, g)
	}
	cpuGoal("openai", "OpenAI passthrough", 1.5)
	cpuGoal("openai-stream", "OpenAI streaming passthrough", 1.5)
	cpuGoal("openai-anthropic", "OpenAI → Anthropic (vs nginx passthrough)", 3)
	cpuGoal("openai-anthropic-stream", "OpenAI → Anthropic streaming (vs nginx passthrough)", 3)
	cpuGoal("anthropic-openai-stream", "Anthropic → OpenAI streaming (vs nginx passthrough)", 3)
	cpuGoal("openai-gemini-stream", "OpenAI → Gemini streaming (vs nginx passthrough)", 3)

	if s := run.Scenario("held-streams"); s != nil {
		g := report.Goal{Goal: fmt.Sprintf("llmux resident memory per held stream ≤ 40 KB (at %s streams)", thousands(float64(o.Streams)))}
		if l := s.Row(report.LLMux); l != nil && l.Open > 0 {
			per := l.PerStream()
			g.Known, g.Met = true, per <= report.PerStreamGoal
			g.Measured = fmt.Sprintf("%.1f KB (%d streams open)", per/1024, l.Open)
			if n := s.Row(report.Nginx); n != nil && n.Open > 0 {
				g.Measured += fmt.Sprintf("; nginx %.1f KB", n.PerStream()/1024)
			}
			g.Off = fmt.Sprintf("%.1f× the limit", per/report.PerStreamGoal)
		}
		out = append(out, g)
	}
	if s := run.Scenario("open-loop"); s != nil {
		g := report.Goal{Goal: fmt.Sprintf("llmux adds < 1 ms at p99 at %s calls/s", thousands(o.OpenRate))}
		if _, a99, ok := s.Added(s.Row(report.LLMux)); ok {
			g.Known, g.Met = true, a99 < time.Millisecond
			g.Measured = fmt.Sprintf("%+.3f ms", float64(a99)/1e6)
			if _, n99, ok := s.Added(s.Row(report.Nginx)); ok {
				g.Measured += fmt.Sprintf(" (nginx %+.3f ms)", float64(n99)/1e6)
			}
			g.Off = fmt.Sprintf("by %.3f ms", float64(a99-time.Millisecond)/1e6)
		}
		out = append(out, g)
	}
	return out
}
