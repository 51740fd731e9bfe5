package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var keep = flag.String("keep", "", "also write the sample report into this folder, to look at")

const µs = time.Microsecond

// sampleRun is a run with every kind of scenario, a skipped target, errors
// and a profile.
func sampleRun() *Run {
	return &Run{
		Started: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		Took:    3*time.Minute + 41*time.Second,
		Setup:   []Fact{{"machine", "2 × Intel Xeon"}, {"nginx", "1.22.1"}},
		Scenarios: []*Scenario{
			{ID: "openai", Title: "OpenAI passthrough", Short: "OpenAI", Kind: Closed, Rows: []*Row{
				{Target: Direct, Calls: 100000, Rate: 12500, P50: 1000 * µs, P99: 3000 * µs},
				{Target: LLMux, Calls: 60000, Rate: 7500, CPU: 60 * µs, HasCPU: true, P50: 1500 * µs, P99: 4000 * µs, PeakRSS: 30 << 20},
				{Target: Nginx, Calls: 90000, Rate: 11250, CPU: 20 * µs, HasCPU: true, P50: 1200 * µs, P99: 3200 * µs, PeakRSS: 10 << 20, GeneratorBusy: 0.974},
				{Target: ReverseProxy, Calls: 70000, Errors: 3, ErrorKinds: map[string]int{"status 502": 3}, Rate: 8750, CPU: 100 * µs, HasCPU: true, P50: 1400 * µs, P99: 3900 * µs, PeakRSS: 20 << 20},
			}},
			{ID: "openai-policy", Title: "OpenAI passthrough with a virtual key", Short: "OpenAI key", Kind: Closed, NginxRef: "openai",
				BaseRef: "openai", Adds: "policy", Rows: []*Row{
					{Target: Direct, Calls: 100000, Rate: 12500, P50: 1000 * µs, P99: 3000 * µs},
					{Target: LLMux, Calls: 50000, Rate: 6250, CPU: 75 * µs, HasCPU: true, P50: 1600 * µs, P99: 4100 * µs, PeakRSS: 31 << 20,
						Usage: &UsageCheck{Calls: 56251, Records: 56251, Waited: 800 * time.Millisecond}},
				}},
			{ID: "openai-stream", Title: "OpenAI passthrough, streaming", Short: "OpenAI stream", Kind: Closed, Stream: true, Rows: []*Row{
				{Target: Direct, Calls: 2000, Rate: 250, P50: 110 * time.Millisecond, P99: 120 * time.Millisecond, TTFT50: 200 * µs, Gap99: 1100 * µs},
				{Target: LLMux, Calls: 2000, Rate: 250, CPU: 900 * µs, HasCPU: true, P50: 111 * time.Millisecond, P99: 125 * time.Millisecond, TTFT50: 400 * µs, Gap99: 1200 * µs, PeakRSS: 30 << 20},
				{Target: Nginx, Calls: 2000, Rate: 250, CPU: 300 * µs, HasCPU: true, P50: 110500 * µs, P99: 121 * time.Millisecond, TTFT50: 300 * µs, Gap99: 1150 * µs, PeakRSS: 10 << 20},
				{Target: ReverseProxy, Skipped: "not installed"},
			}},
			{ID: "openai-anthropic", Title: "OpenAI client → Anthropic upstream", Short: "OpenAI→Anthropic", Kind: Closed, NginxRef: "openai", Rows: []*Row{
				{Target: Direct, Calls: 100000, Rate: 12500, P50: 900 * µs, P99: 2900 * µs},
				{Target: LLMux, Calls: 30000, Rate: 3750, CPU: 150 * µs, HasCPU: true, P50: 2 * time.Millisecond, P99: 6 * time.Millisecond, PeakRSS: 31 << 20},
			}},
			{ID: "open", Title: "OpenAI passthrough at 1,000 calls/s (open loop)", Short: "1,000/s", Kind: Open, Rows: []*Row{
				{Target: Direct, Calls: 8000, Rate: 1000, P50: 300 * µs, P99: 900 * µs},
				{Target: LLMux, Calls: 8000, Rate: 1000, CPU: 80 * µs, HasCPU: true, P50: 500 * µs, P99: 1700 * µs, Late: 2, PeakRSS: 25 << 20},
				{Target: Nginx, Calls: 8000, Rate: 1000, CPU: 30 * µs, HasCPU: true, P50: 350 * µs, P99: 1000 * µs, PeakRSS: 9 << 20},
			}},
			{ID: "hold", Title: "5,000 held streams", Short: "held", Kind: Hold, Stream: true, Rows: []*Row{
				{Target: LLMux, Calls: 5000, Open: 5000, RSSBefore: 20 << 20, RSSHeld: 220 << 20, PeakRSS: 230 << 20},
				{Target: Nginx, Calls: 5000, Open: 5000, RSSBefore: 8 << 20, RSSHeld: 98 << 20, PeakRSS: 99 << 20},
				{Target: ReverseProxy, Calls: 5000, Open: 5000, RSSBefore: 10 << 20, RSSHeld: 290 << 20, PeakRSS: 300 << 20},
			}},
		},
		Goals: []Goal{
			{Goal: "passthrough CPU ≤ 1.5× nginx", Measured: "3.0×", Known: true, Off: "2.0× the limit"},
			{Goal: "≤ 40 KB per held stream", Measured: "41 KB", Known: true, Met: true},
			{Goal: "something not measured"},
		},
		Notes:    []string{"reverseproxy: skipped"},
		Profiles: []Profile{{Scenario: "openai", File: "cpu-openai.pprof", Top: "flat flat% sum%\n 1s 10% 10% syscall.Syscall"}},
	}
}

func TestMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"| OpenAI passthrough | direct | 12500 | — | 1 ms | 3 ms | — | — | — | — | — | 0 |",
		// llmux: every figure with its ratio to nginx's; added latency with nginx's beside it.
		"| llmux | 7500 (0.67×) | 60 µs (3×) | 1.5 ms (1.2×) | 4 ms (1.2×) | +500 µs (nginx +200 µs) | +1 ms (nginx +200 µs) | — | — | 30.0 MB (3×) | 0 |",
		"| reverseproxy | 8750 | 100 µs |",
		"| 10.0 MB | 0 | 97% |",
		"| **3** |",
		"| reverseproxy | skipped: not installed |",
		// Streams: TTFT and gaps.
		"| 400 µs (1.3×) | 1.2 ms (1×) |",
		// A translation is compared with nginx's passthrough.
		"| OpenAI client → Anthropic upstream | direct |",
		"| llmux | 3750 (0.33×) | 150 µs (7.5×) | 2 ms (1.7×) | 6 ms (1.9×) | +1.1 ms (nginx +200 µs) |",
		// Open loop.
		"| llmux | 1000 | 80 µs (2.7×) | 500 µs (1.4×) | 1.7 ms (1.7×) | +200 µs (nginx +50 µs) | +800 µs (nginx +100 µs) | 2 |",
		// Held streams: (220-20) MB / 5000 = 41 KB; nginx 18.4 KB.
		"| llmux | 5000 | 20.0 MB (2.5×) | 220.0 MB (2.2×) | 41.0 KB (2.2×) |",
		"| nginx | 5000 | 8.0 MB | 98.0 MB | 18.4 KB |",
		"| passthrough CPU ≤ 1.5× nginx | 3.0× | **no**, 2.0× the limit |",
		"| ≤ 40 KB per held stream | 41 KB | yes |",
		"| something not measured |  | unknown |",
		"- OpenAI passthrough, reverseproxy: 3 × status 502",
		"## CPU profile of llmux: openai",
		"syscall.Syscall",
		"- reverseproxy: skipped",
		// A scenario with a base: llmux's CPU over its own there, and its usage records.
		"| OpenAI passthrough with a virtual key | direct |",
		"| llmux | 6250 (0.56×) | 75 µs (3.8×) |",
		"- **OpenAI passthrough with a virtual key**: **policy overhead: +15 µs/request (+25%)** in llmux's CPU per call over its own “OpenAI passthrough” in this run (75 µs vs 60 µs). " +
			"Usage records: 56251 stored for 56251 calls to llmux (warm-up included), all in the database within 800 ms of the last answer.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(md, "Smoke run") {
		t.Error("a full run is called a smoke run")
	}
	run := sampleRun()
	run.Smoke = true
	b.Reset()
	WriteMarkdown(&b, run)
	if !strings.Contains(b.String(), "Smoke run") {
		t.Error("a smoke run is not marked")
	}
	if t.Failed() {
		t.Log(md)
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	if *keep != "" {
		dir = *keep
	}
	if err := Write(dir, sampleRun()); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "chart.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 700 {
		t.Errorf("chart is %v, too small to read", b)
	}
	data, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Run
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Scenarios) != 6 || back.Scenario("hold").Row(LLMux).PerStream() != sampleRun().Scenario("hold").Row(LLMux).PerStream() {
		t.Errorf("results.json does not round-trip: %+v", back.Scenarios)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.md")); err != nil {
		t.Error(err)
	}
}

func TestOverhead(t *testing.T) {
	run := sampleRun()
	added, share, ok := run.Overhead(run.Scenario("openai-policy"))
	if !ok || added != 15*µs || share != 0.25 {
		t.Errorf("overhead %v %v %v, want +15µs, 0.25", added, share, ok)
	}
	if _, _, ok := run.Overhead(run.Scenario("openai")); ok {
		t.Error("a scenario without a base has an overhead")
	}
	// Without llmux's figure in the base, the report says so.
	run.Scenario("openai").Rows[1].Skipped = "failed: exited"
	if _, _, ok := run.Overhead(run.Scenario("openai-policy")); ok {
		t.Error("an overhead over a failed base")
	}
	var b bytes.Buffer
	WriteMarkdown(&b, run)
	if want := "policy overhead over llmux's own openai: not measured"; !strings.Contains(b.String(), want) {
		t.Errorf("the report lacks %q", want)
	}
}

func TestUsageMismatch(t *testing.T) {
	run := sampleRun()
	run.Scenario("openai-policy").Row(LLMux).Usage = &UsageCheck{Calls: 56251, Records: 56200, Waited: 5 * time.Second}
	var b bytes.Buffer
	WriteMarkdown(&b, run)
	if want := "Usage records: **56200 stored for 56251 calls to llmux (-51)**, 5 s after the last answer."; !strings.Contains(b.String(), want) {
		t.Errorf("the report lacks %q:\n%s", want, b.String())
	}
}

// TestChartEmpty: a run with no scenarios (all filtered out) still draws.
func TestChartEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := WriteChart(&b, &Run{Smoke: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(&b); err != nil {
		t.Fatal(err)
	}
}

func TestDur(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0"}, {1234, "1.23 µs"}, {61 * µs, "61 µs"}, {1500 * µs, "1.5 ms"}, {-250 * µs, "-250 µs"}, {2 * time.Second, "2 s"},
	} {
		if got := dur(tt.d); got != tt.want {
			t.Errorf("dur(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	if got := signedDur(-250 * µs); got != "−250 µs" {
		t.Errorf("signedDur = %q", got)
	}
}

func TestTickLabel(t *testing.T) {
	for v, want := range map[float64]string{
		0.15000000000000002: "0.15",
		2500:                "2500",
		1_250_000:           "1250000",
		0.05:                "0.05",
		-0.05:               "-0.05",
		0:                   "0",
	} {
		if got := tickLabel(v); got != want {
			t.Errorf("tickLabel(%v) = %q, want %q", v, got, want)
		}
	}
}
