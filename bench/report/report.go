// Package report turns a benchmark run into something a person reads: a
// Markdown report (report.md) with every figure and, for llmux, its ratio to
// nginx's; a PNG chart (chart.png) of the figures that matter most; and the
// raw figures as JSON (results.json) for comparing runs.
//
// It holds the run's data model and renders it; it measures nothing. It
// imports nothing of llmux, and nothing of the benchmark's other packages:
// the runner fills a Run, and the report only reads it.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Targets: what a scenario's load is sent to.
const (
	// LLMux is the real llmux binary, as its own process.
	LLMux = "llmux"
	// Nginx is nginx from the distribution, proxy_buffering off.
	Nginx = "nginx"
	// ReverseProxy is Go's httputil.ReverseProxy in its own process.
	ReverseProxy = "reverseproxy"
	// ReverseProxyH1 is the same proxy with llmux's upstream transport
	// (internal/h1): the floor of any gateway built on net/http's server.
	ReverseProxyH1 = "reverseproxy-h1"
	// Direct is the mock upstream called without anything in between.
	Direct = "direct"
)

// Kinds of scenario.
const (
	// Closed is a closed loop (Settings: connections, duration).
	Closed = "closed"
	// Open is an open loop at a fixed rate.
	Open = "open"
	// Hold holds many slow streams to read the memory they take.
	Hold = "hold"
)

// Run is one benchmark run.
type Run struct {
	// Started is when the run began; Took how long it lasted.
	Started time.Time
	Took    time.Duration
	// Smoke marks a smoke run, whose figures mean nothing.
	Smoke bool
	// Setup describes the machine, the versions and the settings, in
	// order.
	Setup []Fact
	// Scenarios are the measured scenarios, in order.
	Scenarios []*Scenario
	// Goals are the targets, checked against the figures.
	Goals []Goal
	// Notes are remarks on this run (targets skipped, warnings).
	Notes []string
	// Profiles are CPU profiles taken of llmux, when asked for.
	Profiles []Profile
}

// Fact is a labelled value.
type Fact struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Scenario is one workload sent to several targets.
type Scenario struct {
	// ID is a stable name, e.g. "openai-stream".
	ID string
	// Title says what the scenario is, for people.
	Title string
	// Short labels the scenario on the chart.
	Short string
	// Kind is Closed, Open or Hold.
	Kind string
	// Stream marks streaming answers.
	Stream bool
	// NginxRef, when nginx cannot serve this scenario (a translation),
	// is the ID of the scenario whose nginx figures llmux is compared
	// with.
	NginxRef string
	// BaseRef, when set, is the ID of the scenario that sends the same load
	// without what this one adds, which Adds names ("policy"); llmux's CPU
	// per call here is compared with its own there (Run.Overhead).
	BaseRef string `json:",omitempty"`
	Adds    string `json:",omitempty"`
	// Rows hold one target each.
	Rows []*Row
}

// Row is what one target measured in one scenario. Durations of zero
// were not measured.
type Row struct {
	// Target is LLMux, Nginx, ReverseProxy, ReverseProxyH1 or Direct.
	Target string
	// Skipped, when not empty, says why the target was not measured; the
	// other fields are then zero.
	Skipped string `json:",omitempty"`
	// Calls finished and Errors among them; ErrorKinds by cause.
	Calls, Errors int
	ErrorKinds    map[string]int `json:",omitempty"`
	// Rate is successful calls per second.
	Rate float64
	// CPU is the target's CPU time per successful call; HasCPU is false
	// for Direct (no process of its own).
	CPU    time.Duration
	HasCPU bool
	// P50 and P99 are latency quantiles of successful calls.
	P50, P99 time.Duration
	// TTFT50 and TTFT99 are quantiles of the time to the first event
	// (streams only); Gap50 and Gap99 of the time between events.
	TTFT50, TTFT99 time.Duration
	Gap50, Gap99   time.Duration
	// PeakRSS is the target's peak resident memory (VmHWM) in bytes.
	PeakRSS int64
	// Late counts open-loop calls started late by the generator.
	Late int
	// GeneratorBusy is the share of its CPUs the benchmark process (load
	// generator and mocks) used during the measurement, from 0 to 1.
	GeneratorBusy float64
	// OthersBusy is the share of the machine's CPUs that other processes
	// used during the measurement, from 0 to 1; more than a few percent
	// disturbs the figures.
	OthersBusy float64
	// Hold scenarios: Open streams at the reading, the resident memory
	// before and while they were held, in bytes.
	Open               int
	RSSBefore, RSSHeld int64
	// Usage, for an llmux whose usage records were counted after the run,
	// compares them with the calls it was sent.
	Usage *UsageCheck `json:",omitempty"`
}

// UsageCheck compares the usage records a gateway stored with the calls it
// was sent.
type UsageCheck struct {
	// Calls is how many calls the gateway was sent, warm-up included;
	// Records how many usage records it stored for them.
	Calls, Records int64
	// Waited is how long after the last answer the count was taken: when
	// it reached Calls, or when the check gave up.
	Waited time.Duration
}

// OK reports whether every call left exactly one record.
func (u *UsageCheck) OK() bool { return u.Records == u.Calls }

// PerStream returns the resident memory per held stream, in bytes; 0 when
// no stream was held.
func (r *Row) PerStream() float64 {
	if r.Open == 0 {
		return 0
	}
	return float64(r.RSSHeld-r.RSSBefore) / float64(r.Open)
}

// Row returns the scenario's row for target, or nil.
func (s *Scenario) Row(target string) *Row {
	for _, r := range s.Rows {
		if r.Target == target && r.Skipped == "" {
			return r
		}
	}
	return nil
}

// Scenario returns the scenario with the ID, or nil.
func (run *Run) Scenario(id string) *Scenario {
	for _, s := range run.Scenarios {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// NginxRow returns the nginx row llmux's figures in s are compared with:
// s's own, or that of s.NginxRef.
func (run *Run) NginxRow(s *Scenario) *Row {
	if r := s.Row(Nginx); r != nil {
		return r
	}
	if ref := run.Scenario(s.NginxRef); ref != nil {
		return ref.Row(Nginx)
	}
	return nil
}

// NginxAdded returns the latency nginx adds in s, or in s.NginxRef when
// nginx does not serve s.
func (run *Run) NginxAdded(s *Scenario) (p50, p99 time.Duration, ok bool) {
	if r := s.Row(Nginx); r != nil {
		return s.Added(r)
	}
	if ref := run.Scenario(s.NginxRef); ref != nil {
		return ref.Added(ref.Row(Nginx))
	}
	return 0, 0, false
}

// Overhead returns how much more CPU per call llmux spent in s than in
// s.BaseRef, the same load without what s adds, and that as a share of
// the latter; ok is false when either figure is missing.
func (run *Run) Overhead(s *Scenario) (added time.Duration, share float64, ok bool) {
	base := run.Scenario(s.BaseRef)
	if base == nil {
		return 0, 0, false
	}
	l, b := s.Row(LLMux), base.Row(LLMux)
	if l == nil || b == nil || !l.HasCPU || !b.HasCPU || b.CPU == 0 {
		return 0, 0, false
	}
	added = l.CPU - b.CPU
	return added, float64(added) / float64(b.CPU), true
}

// Added returns how much later than the direct call r's p50 and p99 are
// in s; ok is false without a direct row.
func (s *Scenario) Added(r *Row) (p50, p99 time.Duration, ok bool) {
	d := s.Row(Direct)
	if d == nil || r == nil || r.Target == Direct {
		return 0, 0, false
	}
	return r.P50 - d.P50, r.P99 - d.P99, true
}

// Goal is one of the targets, checked against this run.
type Goal struct {
	// Goal states the target ("passthrough CPU per call ≤ 1.5× nginx").
	Goal string
	// Measured is the figure found, with what it was computed from.
	Measured string
	// Met says whether the target was reached; Known is false when it
	// could not be checked (a figure is missing).
	Met, Known bool
	// Off is, for a missed target, how far off it is ("2.1× the limit").
	Off string
}

// Profile is a CPU profile of llmux under one scenario.
type Profile struct {
	// Scenario is the scenario's ID.
	Scenario string
	// File is the profile's file name in the report folder.
	File string
	// Top is the output of "go tool pprof -top", or why it is missing.
	Top string
	// Note says how the profile was taken.
	Note string
}

// Ratio returns a/b, or 0 when b is zero.
func Ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// Write writes report.md, chart.png and results.json into dir, creating it.
func Write(dir string, run *Run) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range []struct {
		name  string
		write func(io.Writer, *Run) error
	}{
		{"report.md", WriteMarkdown},
		{"chart.png", WriteChart},
		{"results.json", WriteJSON},
	} {
		if err := writeFile(filepath.Join(dir, f.name), run, f.write); err != nil {
			return fmt.Errorf("report: %s: %w", f.name, err)
		}
	}
	return nil
}

func writeFile(path string, run *Run, write func(io.Writer, *Run) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f, run); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WriteJSON writes the run as indented JSON.
func WriteJSON(w io.Writer, run *Run) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(run)
}
