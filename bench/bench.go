// Package bench runs llmux's load benchmark: it starts the mock upstreams
// (bench/mock), the gateways under test — the real llmux binary (with a
// fresh database in its scratch folder, and for the keyed scenario a
// virtual key made with llmux keys create), nginx and Go's
// httputil.ReverseProxy, each as its own process so that its CPU time and
// memory are its own — and the load generator (bench/load); it reads
// each gateway from /proc (bench/proc) and hands the figures to
// bench/report.
//
// Lifecycle: fill Options (start from Defaults or Smoke), call Run, write
// its report.Run with report.Write. Run starts and stops every process it
// needs; nothing outlives it.
//
// It must not import llmux's gateway or anything under internal/: llmux is
// measured from the outside, as a user would run it. Only
// cmd/llmux-bench, for its in-process profiling mode, imports the gateway.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/llmux/llmux/bench/mock"
	"github.com/llmux/llmux/bench/proc"
	"github.com/llmux/llmux/bench/report"
)

// Modes of the benchmark binary that Run starts as separate processes. The
// binary (Options.Self) must implement them: see cmd/llmux-bench.
const (
	// ModeReverseProxy runs ServeReverseProxy: "-listen ADDR -upstream URL".
	ModeReverseProxy = "reverse-proxy"
	// ModeProfiledGateway runs llmux's gateway in process with profiles:
	// "-config FILE -cpuprofile FILE -memprofile FILE".
	ModeProfiledGateway = "profiled-gateway"
)

// Options configure a run. Zero durations, counts and rates take the
// values of Defaults, except ChunkDelay and Ramp, where zero means none.
type Options struct {
	// Duration is the measured time of each scenario and target. Default 8s.
	Duration time.Duration
	// Warmup precedes every measurement, on the same connections. Default 1s.
	Warmup time.Duration
	// Concurrency is the closed loop's number of connections. Default 32.
	Concurrency int
	// Chunks is the number of content chunks of a stream. Default 100.
	Chunks int
	// ChunkDelay is the mock's pause between two chunks. Default 1ms.
	ChunkDelay time.Duration
	// OpenRate is the open loop's calls per second. Default 1,000.
	OpenRate float64
	// Streams is the number of slow streams held at once. Default 5,000.
	Streams int
	// StreamInterval is the pause between two chunks of a slow stream;
	// StreamChunks their number. Defaults 1s and 10.
	StreamInterval time.Duration
	StreamChunks   int
	// Ramp spreads the opening of the slow streams. Default 3s.
	Ramp time.Duration
	// Scenarios selects scenarios by ID; empty runs all but the optional
	// ones. See ScenarioIDs.
	Scenarios []string
	// Targets selects the targets ("llmux", "nginx", "reverseproxy",
	// "reverseproxy-h1", "direct"); empty runs all.
	Targets []string
	// LLMux is the llmux binary; empty builds ./cmd/llmux of the module in
	// the working directory with the go tool.
	LLMux string
	// Nginx is the nginx binary; empty looks for nginx on PATH and in
	// /usr/sbin; "off" skips nginx. A missing nginx is skipped with a note.
	Nginx string
	// Self is the benchmark's own binary, started in its ModeReverseProxy
	// and ModeProfiledGateway modes. Required.
	Self string
	// Pin puts the gateways on the upper half of the CPUs (taskset) and
	// this process — generator and mocks — on the lower half, with
	// GOMAXPROCS to match. It changes this process's CPU affinity and
	// GOMAXPROCS for good. Without taskset or with one CPU it does nothing
	// but say so in the report.
	Pin bool
	// Profile adds, after the measured runs, the passthrough and held-stream
	// scenarios against llmux's gateway run inside Self with CPU and
	// allocation profiles, written into ProfileDir.
	Profile    bool
	ProfileDir string
	// Smoke marks a smoke run: a few seconds of tiny load that checks every
	// piece, whose figures mean nothing. Run then fails on any error.
	Smoke bool
	// Log receives a progress line per measurement; nil discards them.
	Log io.Writer
}

// Defaults returns the options of a full run, which takes under five
// minutes on a two-core machine.
func Defaults() Options {
	return Options{
		Duration: 8 * time.Second, Warmup: time.Second, Concurrency: 32,
		Chunks: mock.DefaultChunks, ChunkDelay: time.Millisecond, OpenRate: 1000,
		Streams: 5000, StreamInterval: time.Second, StreamChunks: 10, Ramp: 3 * time.Second,
		Pin: true,
	}
}

// Smoke returns the options of a smoke run: every scenario and target for
// a fraction of a second, a few hundred calls in all.
func Smoke() Options {
	return Options{
		Duration: 400 * time.Millisecond, Warmup: 100 * time.Millisecond, Concurrency: 4,
		Chunks: 10, ChunkDelay: time.Millisecond, OpenRate: 100,
		Streams: 50, StreamInterval: 100 * time.Millisecond, StreamChunks: 5, Ramp: 100 * time.Millisecond,
		Smoke: true,
	}
}

func (o *Options) fill() {
	d := Defaults()
	set := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&o.Duration, d.Duration)
	set(&o.Warmup, d.Warmup)
	set(&o.StreamInterval, d.StreamInterval)
	for _, v := range []struct{ p, def *int }{{&o.Concurrency, &d.Concurrency}, {&o.Chunks, &d.Chunks}, {&o.Streams, &d.Streams}, {&o.StreamChunks, &d.StreamChunks}} {
		if *v.p <= 0 {
			*v.p = *v.def
		}
	}
	if o.OpenRate <= 0 {
		o.OpenRate = d.OpenRate
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
}

// ScenarioIDs returns the IDs of all scenarios, the optional ones marked
// with a trailing "*".
func ScenarioIDs() []string {
	o := Defaults()
	var ids []string
	for _, s := range scenarios(&o) {
		id := s.id
		if s.optional {
			id += "*"
		}
		ids = append(ids, id)
	}
	return ids
}

// runner is one Run's state.
type runner struct {
	o         *Options
	dir       string // scratch: configurations and logs
	hz        int    // clock ticks per second
	launchers map[string]launcher
	skip      map[string]string // target → why it is skipped
	pl        placement
	run       *report.Run
	built     string // where llmux was built from, when Run built it
}

// Run runs the selected scenarios against the selected targets and returns
// the figures. A target that cannot be started is reported as skipped; a
// smoke run fails instead, and on any failed call.
func Run(ctx context.Context, o Options) (*report.Run, error) {
	o.fill()
	if o.Self == "" {
		return nil, errors.New("bench: Options.Self is required")
	}
	selected, err := selectScenarios(&o)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "llmux-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// Gateways start in their scratch folders and find their databases
	// there: name it absolutely.
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	r := &runner{o: &o, dir: dir, hz: proc.ClockTicks(), skip: map[string]string{},
		run: &report.Run{Started: time.Now(), Smoke: o.Smoke}}
	if err := r.prepare(ctx); err != nil {
		return nil, err
	}
	for _, sc := range selected {
		s := &report.Scenario{ID: sc.id, Title: sc.title, Short: sc.short, Kind: sc.kind, Stream: sc.stream,
			NginxRef: sc.nginxRef, BaseRef: sc.baseRef, Adds: sc.adds}
		r.run.Scenarios = append(r.run.Scenarios, s)
		for _, t := range sc.targets {
			if len(o.Targets) > 0 && !slices.Contains(o.Targets, t) {
				continue
			}
			if why, ok := r.skip[t]; ok {
				s.Rows = append(s.Rows, &report.Row{Target: t, Skipped: why})
				continue
			}
			row, err := r.measure(ctx, sc, t, r.launchers[t])
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if err != nil {
				if o.Smoke {
					return nil, fmt.Errorf("%s, %s: %w", sc.id, t, err)
				}
				row = &report.Row{Target: t, Skipped: "failed: " + firstLine(err.Error())}
				r.note("%s, %s: %v", sc.id, t, err)
			}
			s.Rows = append(s.Rows, row)
			r.progress(sc, row)
		}
	}
	if o.Profile {
		r.profile(ctx, selected)
	}
	r.noteDisturbance()
	r.run.Goals = goals(r.run, &o)
	r.run.Took = time.Since(r.run.Started)
	if o.Smoke {
		if err := smokeErrors(r.run); err != nil {
			return r.run, err
		}
	}
	return r.run, nil
}

// selectScenarios returns the scenarios named in o.Scenarios, or the
// default set.
func selectScenarios(o *Options) ([]*scenario, error) {
	all := scenarios(o)
	if len(o.Scenarios) == 0 {
		var out []*scenario
		for _, s := range all {
			if !s.optional {
				out = append(out, s)
			}
		}
		return out, nil
	}
	var out []*scenario
	for _, id := range o.Scenarios {
		i := slices.IndexFunc(all, func(s *scenario) bool { return s.id == id })
		if i < 0 {
			return nil, fmt.Errorf("bench: no scenario %q; there are %s", id, strings.Join(ScenarioIDs(), ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

// prepare places the processes on CPUs and finds or builds the binaries.
func (r *runner) prepare(ctx context.Context) error {
	o := r.o
	r.placeCPUs()
	if o.LLMux == "" {
		fmt.Fprintln(o.Log, "building llmux from ./cmd/llmux …")
		bin := filepath.Join(r.dir, "llmux")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/llmux/llmux/cmd/llmux")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("bench: building llmux: %v\n%s", err, out)
		}
		o.LLMux = bin
		r.built = gitCommit()
	}
	// Gateways start in their scratch folders: name binaries absolutely.
	for _, bin := range []*string{&o.LLMux, &o.Self} {
		abs, err := absBinary(*bin)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		*bin = abs
	}
	r.launchers = map[string]launcher{
		report.LLMux:          llmuxLauncher{bin: o.LLMux, pl: r.pl},
		report.ReverseProxy:   reverseProxyLauncher{self: o.Self, pl: r.pl},
		report.ReverseProxyH1: reverseProxyLauncher{self: o.Self, h1: true, pl: r.pl},
	}
	switch nginx := findNginx(o.Nginx); {
	case o.Nginx == "off":
		r.skip[report.Nginx] = "turned off (-nginx off)"
	case nginx == "":
		r.skip[report.Nginx] = "not installed"
		r.note("nginx is not installed (Debian: apt-get install -y nginx); its rows are skipped and llmux has no ratios.")
	default:
		r.launchers[report.Nginx] = nginxLauncher{bin: nginx, workers: max(len(r.pl.cpus), 1), pl: r.pl}
	}
	r.run.Setup = r.setup()
	return nil
}

// placeCPUs pins this process to the lower half of the CPUs and keeps the
// upper half for the gateways, when asked and possible.
func (r *runner) placeCPUs() {
	cpus, err := proc.AllowedCPUs()
	if err != nil {
		for i := range runtime.NumCPU() {
			cpus = append(cpus, i)
		}
	}
	r.pl.cpus = cpus
	n := len(cpus)
	if !r.o.Pin {
		return
	}
	taskset, err := exec.LookPath("taskset")
	if err != nil || n < 2 {
		r.note("CPU pinning was asked for but is not possible here (taskset: %v, %d CPUs); everything shares all CPUs.", err, n)
		return
	}
	mine, theirs := r.pl.cpus[:n/2], r.pl.cpus[n/2:]
	if err := proc.PinSelf(mine); err != nil {
		r.note("CPU pinning failed (%v); everything shares all CPUs.", err)
		return
	}
	runtime.GOMAXPROCS(len(mine))
	r.pl = placement{taskset: taskset, cpus: theirs}
}

// absBinary returns the absolute path of a binary named by a path or
// found on PATH.
func absBinary(bin string) (string, error) {
	if !strings.ContainsRune(bin, filepath.Separator) {
		return exec.LookPath(bin)
	}
	return filepath.Abs(bin)
}

func findNginx(flag string) string {
	if flag != "" && flag != "off" {
		if abs, err := absBinary(flag); err == nil {
			return abs
		}
		return flag
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	return ""
}

func (r *runner) note(format string, args ...any) {
	r.run.Notes = append(r.run.Notes, fmt.Sprintf(format, args...))
}

func (r *runner) progress(sc *scenario, row *report.Row) {
	if row.Skipped != "" {
		fmt.Fprintf(r.o.Log, "%-24s %-13s skipped: %s\n", sc.id, row.Target, row.Skipped)
		return
	}
	cpu := "—"
	if row.HasCPU {
		cpu = row.CPU.Round(time.Microsecond).String()
	}
	extra := ""
	if sc.kind == report.Hold && row.Open > 0 {
		extra = fmt.Sprintf("  %d streams, %.1f KB/stream", row.Open, row.PerStream()/1024)
	}
	if u := row.Usage; u != nil {
		extra += fmt.Sprintf("  usage records %d/%d calls", u.Records, u.Calls)
	}
	if row.OthersBusy > disturbed {
		extra += fmt.Sprintf("  (disturbed: other processes took %.0f%% of the CPU)", 100*row.OthersBusy)
	}
	fmt.Fprintf(r.o.Log, "%-24s %-13s %7.0f calls/s  CPU/call %-8s p50 %-9s p99 %-9s errors %d%s\n", sc.id, row.Target,
		row.Rate, cpu, row.P50.Round(time.Microsecond), row.P99.Round(time.Microsecond), row.Errors, extra)
	if s := r.run.Scenario(sc.id); row.Target == report.LLMux && s != nil && s.BaseRef != "" {
		if added, share, ok := r.run.Overhead(s); ok {
			fmt.Fprintf(r.o.Log, "%-24s %-13s %s overhead %+v/call (%+.0f%%) over %s\n", sc.id, row.Target,
				s.Adds, added.Round(100*time.Nanosecond), 100*share, s.BaseRef)
		}
	}
}

// disturbed is the share of the machine's CPU other processes may take
// before a measurement is called disturbed.
const disturbed = 0.03

// noteDisturbance says which measurements other processes disturbed.
func (r *runner) noteDisturbance() {
	var hit []string
	worst := 0.0
	for _, s := range r.run.Scenarios {
		for _, row := range s.Rows {
			if row.OthersBusy > disturbed {
				hit = append(hit, fmt.Sprintf("%s/%s %.0f%%", s.ID, row.Target, 100*row.OthersBusy))
				worst = max(worst, row.OthersBusy)
			}
		}
	}
	if len(hit) > 0 {
		r.note("Other processes on this machine used up to %.0f%% of its CPU during %d measurements (%s); "+
			"those figures are disturbed. Run again on a quiet machine.", 100*worst, len(hit), strings.Join(hit, ", "))
	}
}

// smokeErrors fails a smoke run that had any failed call.
func smokeErrors(run *report.Run) error {
	var errs []error
	for _, s := range run.Scenarios {
		for _, r := range s.Rows {
			if r.Errors > 0 {
				errs = append(errs, fmt.Errorf("%s, %s: %d of %d calls failed: %v", s.ID, r.Target, r.Errors, r.Calls, r.ErrorKinds))
			}
			if r.Skipped == "" && r.Calls == 0 {
				errs = append(errs, fmt.Errorf("%s, %s: no call finished", s.ID, r.Target))
			}
			if u := r.Usage; u != nil && !u.OK() {
				errs = append(errs, fmt.Errorf("%s, %s: %d usage records stored for %d calls", s.ID, r.Target, u.Records, u.Calls))
			}
		}
	}
	return errors.Join(errs...)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
