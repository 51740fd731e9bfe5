package bench

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/llmux/llmux/bench/report"
)

// profileScenarios are the scenarios profiled with Options.Profile: the
// passthrough hot paths, and the held streams for their allocations.
var profileScenarios = []string{"openai", "openai-policy", "openai-stream", "held-streams"}

// profile runs the passthrough scenarios against llmux's gateway inside
// the benchmark binary, with CPU and allocation profiles, and keeps the
// top of each.
func (r *runner) profile(ctx context.Context, selected []*scenario) {
	dir := r.o.ProfileDir
	if dir == "" {
		dir = "."
	}
	for _, sc := range selected {
		if !slices.Contains(profileScenarios, sc.id) {
			continue
		}
		cpu := filepath.Join(dir, "cpu-"+sc.id+".pprof")
		mem := filepath.Join(dir, "allocs-"+sc.id+".pprof")
		l := profiledLauncher{self: r.o.Self, llmux: r.o.LLMux, cpuFile: cpu, memFile: mem, pl: r.pl}
		row, err := r.measure(ctx, sc, "llmux-profiled", l)
		pr := report.Profile{Scenario: sc.id, File: filepath.Base(cpu)}
		if err != nil {
			pr.Top = "profiling failed: " + err.Error()
			r.run.Profiles = append(r.run.Profiles, pr)
			continue
		}
		fmt.Fprintf(r.o.Log, "%-24s %-13s %7.0f calls/s  CPU/call %v (profiled, in process)\n", sc.id, "llmux", row.Rate, row.CPU.Round(time.Microsecond))
		pr.Note = fmt.Sprintf("llmux's gateway run inside llmux-bench (`%s`: the same gateway code and configuration as the binary, "+
			"with runtime/pprof sampling at 100 Hz) under the same load for %v: %.0f calls/s, %v CPU per call while profiled. "+
			"Allocations: `%s`.", ModeProfiledGateway, r.o.Duration, row.Rate, row.CPU.Round(time.Microsecond), filepath.Base(mem))
		pr.Top = "-- CPU, by own time --\n" + pprofTop(cpu, "-top", "-nodecount=25") +
			"\n\n-- CPU, by cumulative time --\n" + pprofTop(cpu, "-top", "-cum", "-nodecount=40") +
			"\n\n-- allocations (alloc_space) --\n" + pprofTop(mem, "-sample_index=alloc_space", "-top", "-nodecount=15")
		r.run.Profiles = append(r.run.Profiles, pr)
	}
}

// pprofTop runs go tool pprof on file and returns its output, or why not.
func pprofTop(file string, args ...string) string {
	args = append(append([]string{"tool", "pprof"}, args...), file)
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("go tool pprof failed (%v): %s", err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out))
}
