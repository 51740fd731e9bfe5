package report

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// WriteMarkdown writes the report for people.
func WriteMarkdown(w io.Writer, run *Run) error {
	b := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }

	p("# llmux load benchmark\n\n")
	p("Run on %s; took %s. ", run.Started.Format("2006-01-02 15:04 MST"), run.Took.Round(time.Second))
	p("Every figure comes from this one run. Each llmux figure is followed by its ratio to nginx's (×nginx); ")
	p("for translations, which nginx cannot do, nginx's figure is that of the passthrough with the same streaming mode.\n\n")
	if run.Smoke {
		p("> **Smoke run**: tiny load for a few seconds, to check that every piece works. The figures mean nothing.\n\n")
	}
	writeFacts(b, "Setup", run.Setup)

	if len(run.Goals) > 0 {
		p("## Goals of issue 6\n\n| goal | measured | met |\n|---|---|---|\n")
		for _, g := range run.Goals {
			met := "unknown"
			if g.Known {
				met = "yes"
				if !g.Met {
					met = "**no**, " + g.Off
				}
			}
			p("| %s | %s | %s |\n", g.Goal, g.Measured, met)
		}
		p("\n")
	}

	var closed, open, hold []*Scenario
	for _, s := range run.Scenarios {
		switch s.Kind {
		case Open:
			open = append(open, s)
		case Hold:
			hold = append(hold, s)
		default:
			closed = append(closed, s)
		}
	}
	if len(closed) > 0 {
		writeClosed(b, run, closed)
	}
	for _, s := range open {
		writeOpen(b, run, s)
	}
	for _, s := range hold {
		writeHold(b, run, s)
	}
	writeErrors(b, run)
	for _, pr := range run.Profiles {
		p("## CPU profile of llmux: %s\n\n", pr.Scenario)
		if pr.Note != "" {
			p("%s\n\n", pr.Note)
		}
		p("Profile: `%s` (view with `go tool pprof -http : %s`).\n\n```\n%s\n```\n\n", pr.File, pr.File, strings.TrimSpace(pr.Top))
	}
	if len(run.Notes) > 0 {
		p("## Notes\n\n")
		for _, n := range run.Notes {
			p("- %s\n", n)
		}
		p("\n")
	}
	p("## How the figures are made\n\n")
	p("- **CPU/call**: the target process's utime + stime (from `/proc/<pid>/stat`; for nginx, master and workers) " +
		"over the measured window, divided by the successful calls in it. A stream is one call.\n")
	p("- **p50, p99**: latency from sending a request to the last byte of its answer. In the open loop calls start on a fixed schedule " +
		"whatever the answers do; **late starts** counts calls the generator itself sent over 1 ms behind schedule.\n")
	p("- **gen. busy**: how busy the benchmark process (load generator and mocks) kept its CPUs; near 100%% the calls/s are the generator's limit, not the gateway's.\n")
	p("- **+p50, +p99**: that latency minus the direct call's, in the same scenario of the same run: what the gateway adds.\n")
	p("- **TTFT**: time to the first server-sent event with data. **gap p99**: 99th percentile of the time between two events of a stream " +
		"(about the mock's chunk delay unless something on the way buffers).\n")
	p("- **peak RSS**: the target's VmHWM (from `/proc/<pid>/status`) at the end of the scenario; every target is a fresh process per scenario.\n")
	p("- **per stream**: (VmRSS while all streams are open − VmRSS before) / streams open.\n")
	p("\nSee chart.png for the main figures and results.json for all of them.\n")
	return b.Flush()
}

func writeFacts(b *bufio.Writer, title string, facts []Fact) {
	if len(facts) == 0 {
		return
	}
	fmt.Fprintf(b, "## %s\n\n| | |\n|---|---|\n", title)
	for _, f := range facts {
		fmt.Fprintf(b, "| %s | %s |\n", f.Label, f.Value)
	}
	b.WriteString("\n")
}

func writeClosed(b *bufio.Writer, run *Run, scenarios []*Scenario) {
	b.WriteString("## Scenarios (closed loop)\n\n")
	b.WriteString("| scenario | target | calls/s | CPU/call | p50 | p99 | +p50 | +p99 | TTFT p50 | gap p99 | peak RSS | errors | gen. busy |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range scenarios {
		ng := run.NginxRow(s)
		ngAdd50, ngAdd99, ngAdded := run.NginxAdded(s)
		for i, r := range s.Rows {
			name := ""
			if i == 0 {
				name = s.Title
			}
			if r.Skipped != "" {
				fmt.Fprintf(b, "| %s | %s | skipped: %s |\n", name, r.Target, r.Skipped)
				continue
			}
			cmp := r.Target == LLMux && ng != nil
			a50, a99, ok := s.Added(r)
			cells := []string{
				name, r.Target,
				withRatio(fmt.Sprintf("%.0f", r.Rate), r.Rate, rate(ng), cmp),
				cpuCell(r, ng, cmp),
				withRatio(dur(r.P50), float64(r.P50), float64(p50(ng)), cmp),
				withRatio(dur(r.P99), float64(r.P99), float64(p99(ng)), cmp),
				addedCell(a50, ok, ngAdd50, cmp && ngAdded),
				addedCell(a99, ok, ngAdd99, cmp && ngAdded),
				streamCell(s, r.TTFT50, ng, func(n *Row) time.Duration { return n.TTFT50 }, cmp),
				streamCell(s, r.Gap99, ng, func(n *Row) time.Duration { return n.Gap99 }, cmp),
				rssCell(r, ng, cmp),
				errCell(r),
				busy(r),
			}
			fmt.Fprintf(b, "| %s |\n", strings.Join(cells, " | "))
		}
	}
	b.WriteString("\n")
	writeRemarks(b, run, scenarios)
}

// writeRemarks writes, below a table, what llmux's figures in the scenarios
// cost over their base scenario, and whether its usage records add up.
func writeRemarks(b *bufio.Writer, run *Run, scenarios []*Scenario) {
	wrote := false
	for _, s := range scenarios {
		var parts []string
		if s.BaseRef != "" {
			parts = append(parts, overheadText(run, s))
		}
		for _, r := range s.Rows {
			if r.Usage != nil {
				parts = append(parts, usageText(r))
			}
		}
		if len(parts) == 0 {
			continue
		}
		fmt.Fprintf(b, "- **%s**: %s\n", s.Title, strings.Join(parts, " "))
		wrote = true
	}
	if wrote {
		b.WriteString("\n")
	}
}

func overheadText(run *Run, s *Scenario) string {
	what := s.Adds
	if what == "" {
		what = "added"
	}
	base := run.Scenario(s.BaseRef)
	added, share, ok := run.Overhead(s)
	if !ok {
		return fmt.Sprintf("%s overhead over llmux's own %s: not measured (a CPU figure is missing).", what, s.BaseRef)
	}
	return fmt.Sprintf("**%s overhead: %s/request (%+.0f%%)** in llmux's CPU per call over its own “%s” in this run (%s vs %s).",
		what, signedDur(added), 100*share, base.Title, dur(s.Row(LLMux).CPU), dur(base.Row(LLMux).CPU))
}

func usageText(r *Row) string {
	u := r.Usage
	if u.OK() {
		return fmt.Sprintf("Usage records: %d stored for %d calls to %s (warm-up included), all in the database within %s of the last answer.",
			u.Records, u.Calls, r.Target, dur(u.Waited))
	}
	return fmt.Sprintf("Usage records: **%d stored for %d calls to %s (%+d)**, %s after the last answer.",
		u.Records, u.Calls, r.Target, u.Records-u.Calls, dur(u.Waited))
}

func writeOpen(b *bufio.Writer, run *Run, s *Scenario) {
	fmt.Fprintf(b, "## %s\n\n", s.Title)
	b.WriteString("| target | calls/s | CPU/call | p50 | p99 | +p50 | +p99 | late starts | peak RSS | errors | gen. busy |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	ng := s.Row(Nginx)
	n50, n99, nOK := s.Added(ng)
	for _, r := range s.Rows {
		if r.Skipped != "" {
			fmt.Fprintf(b, "| %s | skipped: %s |\n", r.Target, r.Skipped)
			continue
		}
		cmp := r.Target == LLMux && ng != nil
		a50, a99, ok := s.Added(r)
		fmt.Fprintf(b, "| %s |\n", strings.Join([]string{
			r.Target, fmt.Sprintf("%.0f", r.Rate), cpuCell(r, ng, cmp),
			withRatio(dur(r.P50), float64(r.P50), float64(p50(ng)), cmp),
			withRatio(dur(r.P99), float64(r.P99), float64(p99(ng)), cmp),
			addedCell(a50, ok, n50, cmp && nOK), addedCell(a99, ok, n99, cmp && nOK),
			fmt.Sprint(r.Late), rssCell(r, ng, cmp), errCell(r), busy(r),
		}, " | "))
	}
	b.WriteString("\n")
	writeRemarks(b, run, []*Scenario{s})
}

func writeHold(b *bufio.Writer, run *Run, s *Scenario) {
	fmt.Fprintf(b, "## %s\n\n", s.Title)
	b.WriteString("| target | streams open | RSS before | RSS held | per stream | peak RSS | TTFT p99 | gap p99 | errors |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	ng := s.Row(Nginx)
	for _, r := range s.Rows {
		if r.Skipped != "" {
			fmt.Fprintf(b, "| %s | skipped: %s |\n", r.Target, r.Skipped)
			continue
		}
		cmp := r.Target == LLMux && ng != nil
		per := "—"
		if r.Open > 0 {
			per = withRatio(kb(r.PerStream()), r.PerStream(), perStream(ng), cmp)
		}
		var n Row
		if ng != nil {
			n = *ng
		}
		fmt.Fprintf(b, "| %s |\n", strings.Join([]string{
			r.Target, fmt.Sprint(r.Open),
			withRatio(mb(r.RSSBefore), float64(r.RSSBefore), float64(n.RSSBefore), cmp),
			withRatio(mb(r.RSSHeld), float64(r.RSSHeld), float64(n.RSSHeld), cmp),
			per, rssCell(r, ng, cmp),
			withRatio(dur(r.TTFT99), float64(r.TTFT99), float64(n.TTFT99), cmp),
			withRatio(dur(r.Gap99), float64(r.Gap99), float64(n.Gap99), cmp),
			errCell(r),
		}, " | "))
	}
	b.WriteString("\n")
	writeRemarks(b, run, []*Scenario{s})
}

func writeErrors(b *bufio.Writer, run *Run) {
	first := true
	for _, s := range run.Scenarios {
		for _, r := range s.Rows {
			if r.Errors == 0 {
				continue
			}
			if first {
				b.WriteString("## Errors\n\n")
				first = false
			}
			for _, k := range slices.Sorted(maps.Keys(r.ErrorKinds)) {
				fmt.Fprintf(b, "- %s, %s: %d × %s\n", s.Title, r.Target, r.ErrorKinds[k], k)
			}
		}
	}
	if !first {
		b.WriteString("\n")
	}
}

func rate(r *Row) float64 {
	if r == nil {
		return 0
	}
	return r.Rate
}

func p50(r *Row) time.Duration {
	if r == nil {
		return 0
	}
	return r.P50
}

func p99(r *Row) time.Duration {
	if r == nil {
		return 0
	}
	return r.P99
}

func perStream(r *Row) float64 {
	if r == nil {
		return 0
	}
	return r.PerStream()
}

func cpuCell(r, ng *Row, cmp bool) string {
	if !r.HasCPU {
		return "—"
	}
	var n float64
	if ng != nil && ng.HasCPU {
		n = float64(ng.CPU)
	}
	return withRatio(dur(r.CPU), float64(r.CPU), n, cmp)
}

func rssCell(r, ng *Row, cmp bool) string {
	if r.PeakRSS == 0 {
		return "—"
	}
	var n float64
	if ng != nil {
		n = float64(ng.PeakRSS)
	}
	return withRatio(mb(r.PeakRSS), float64(r.PeakRSS), n, cmp)
}

func streamCell(s *Scenario, v time.Duration, ng *Row, get func(*Row) time.Duration, cmp bool) string {
	if !s.Stream {
		return "—"
	}
	var n float64
	if ng != nil {
		n = float64(get(ng))
	}
	return withRatio(dur(v), float64(v), n, cmp)
}

func addedCell(v time.Duration, ok bool, ng time.Duration, cmp bool) string {
	if !ok {
		return "—"
	}
	s := signedDur(v)
	if cmp {
		s += " (nginx " + signedDur(ng) + ")"
	}
	return s
}

func busy(r *Row) string {
	if r.GeneratorBusy == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", 100*r.GeneratorBusy)
}

func errCell(r *Row) string {
	if r.Errors == 0 {
		return "0"
	}
	return fmt.Sprintf("**%d**", r.Errors)
}

// withRatio appends "(N×)" — the ratio of v to ref — when cmp is set and
// the ratio is defined.
func withRatio(s string, v, ref float64, cmp bool) string {
	if !cmp || ref == 0 {
		return s
	}
	return fmt.Sprintf("%s (%s×)", s, ratioString(v/ref))
}

func ratioString(x float64) string {
	switch {
	case x >= 10:
		return fmt.Sprintf("%.0f", x)
	default:
		return fmt.Sprintf("%.2g", x)
	}
}

// dur formats a duration with three significant digits in a unit that
// suits it.
func dur(d time.Duration) string {
	switch a := max(d, -d); {
	case a == 0:
		return "0"
	case a < time.Millisecond:
		return fmt.Sprintf("%.3g µs", float64(d)/1e3)
	case a < time.Second:
		return fmt.Sprintf("%.3g ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.3g s", d.Seconds())
	}
}

func signedDur(d time.Duration) string {
	if d > 0 {
		return "+" + dur(d)
	}
	if d == 0 {
		return "±0"
	}
	return "−" + dur(-d)
}

func mb(b int64) string {
	if b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f MB", float64(b)/(1<<20))
}

func kb(b float64) string { return fmt.Sprintf("%.1f KB", b/1024) }
