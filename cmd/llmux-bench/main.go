// Command llmux-bench measures what llmux adds on the way to a model: CPU
// per call, latency over the direct call, time to first token and memory
// per held stream, against nginx and Go's httputil.ReverseProxy in the same
// run, and writes a Markdown report and a PNG chart.
//
// This package is wiring only: flags → bench.Options → bench.Run →
// report.Write, plus the two modes the benchmark starts itself in as
// separate processes (reverse-proxy, and profiled-gateway, the only place
// that runs llmux's gateway in process).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/llmux/llmux/bench"
	"github.com/llmux/llmux/bench/report"
	"github.com/llmux/llmux/internal/h1"
)

const usageText = `llmux-bench — load benchmark of llmux against nginx and Go's httputil.ReverseProxy.

Usage:
  llmux-bench [flags]          run the benchmark (about 4 minutes) and write the report
  llmux-bench -smoke [flags]   a few seconds of tiny load that checks every piece works
  llmux-bench -list            list the scenarios

Run it from the llmux module: it builds ./cmd/llmux unless -llmux is given.
Flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if len(args) > 0 {
		switch args[0] {
		case bench.ModeReverseProxy:
			return exit(stderr, reverseProxy(ctx, args[1:], stderr))
		case bench.ModeProfiledGateway:
			return exit(stderr, profiledGateway(ctx, args[1:], stderr))
		}
	}
	err := benchmark(ctx, args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return exit(stderr, err)
}

func exit(stderr io.Writer, err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "llmux-bench:", err)
	return 1
}

func benchmark(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	d := bench.Defaults()
	fs := flag.NewFlagSet("llmux-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageText); fs.PrintDefaults() }
	var (
		out       = fs.String("out", "bench-report", "folder for report.md, chart.png and results.json")
		smoke     = fs.Bool("smoke", false, "a few seconds of tiny load; fails on any error (for CI)")
		list      = fs.Bool("list", false, "list the scenarios and exit")
		scens     = fs.String("scenarios", "", "comma-separated scenario IDs (default: all but the optional ones)")
		targets   = fs.String("targets", "", "comma-separated targets: llmux, nginx, reverseproxy, direct (default: all)")
		duration  = fs.Duration("duration", d.Duration, "measured time per scenario and target")
		warmup    = fs.Duration("warmup", d.Warmup, "warm-up before each measurement")
		conc      = fs.Int("concurrency", d.Concurrency, "closed-loop connections")
		chunks    = fs.Int("chunks", d.Chunks, "content chunks per stream")
		delay     = fs.Duration("chunk-delay", d.ChunkDelay, "mock's pause between two stream chunks")
		rate      = fs.Float64("open-rate", d.OpenRate, "open-loop calls per second")
		streams   = fs.Int("streams", d.Streams, "slow streams held at once")
		interval  = fs.Duration("stream-interval", d.StreamInterval, "pause between two chunks of a slow stream")
		sChunks   = fs.Int("stream-chunks", d.StreamChunks, "chunks per slow stream")
		ramp      = fs.Duration("ramp", d.Ramp, "time over which the slow streams are opened")
		llmuxBin  = fs.String("llmux", "", "llmux binary to measure (default: build ./cmd/llmux)")
		nginxBin  = fs.String("nginx", "", `nginx binary (default: from PATH); "off" skips nginx`)
		pin       = fs.Bool("pin", d.Pin, "gateways on the upper half of the CPUs, generator and mocks on the lower half")
		profile   = fs.Bool("profile", false, "also profile llmux's gateway (in process) under the passthrough and held-stream scenarios")
		quietFlag = fs.Bool("q", false, "no progress lines")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *list {
		for _, id := range bench.ScenarioIDs() {
			fmt.Fprintln(stdout, id)
		}
		fmt.Fprintln(stdout, "(* optional: run only when named in -scenarios)")
		return nil
	}
	o := d
	if *smoke {
		o = bench.Smoke()
		o.Pin = d.Pin
	}
	// Flags given explicitly override the defaults of either kind of run.
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "duration":
			o.Duration = *duration
		case "warmup":
			o.Warmup = *warmup
		case "concurrency":
			o.Concurrency = *conc
		case "chunks":
			o.Chunks = *chunks
		case "chunk-delay":
			o.ChunkDelay = *delay
		case "open-rate":
			o.OpenRate = *rate
		case "streams":
			o.Streams = *streams
		case "stream-interval":
			o.StreamInterval = *interval
		case "stream-chunks":
			o.StreamChunks = *sChunks
		case "ramp":
			o.Ramp = *ramp
		case "pin":
			o.Pin = *pin
		}
	})
	o.Scenarios, o.Targets = splitList(*scens), splitList(*targets)
	o.LLMux, o.Nginx, o.Profile = *llmuxBin, *nginxBin, *profile
	o.Log = stderr
	if *quietFlag {
		o.Log = io.Discard
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	o.Self = self
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if o.ProfileDir, err = filepath.Abs(*out); err != nil {
		return err
	}

	start := time.Now()
	res, runErr := bench.Run(ctx, o)
	if res == nil {
		return runErr
	}
	if err := report.Write(*out, res); err != nil {
		return errors.Join(runErr, err)
	}
	fmt.Fprintf(stdout, "llmux-bench: report in %s (report.md, chart.png, results.json) after %v\n",
		filepath.Join(*out, "report.md"), time.Since(start).Round(time.Second))
	for _, g := range res.Goals {
		state := "?"
		if g.Known {
			state = "met"
			if !g.Met {
				state = "MISSED (" + g.Off + ")"
			}
		}
		if g.Measured != "" {
			state = g.Measured + ": " + state
		}
		fmt.Fprintf(stdout, "  %s — %s\n", g.Goal, state)
	}
	for _, s := range res.Scenarios {
		if added, share, ok := res.Overhead(s); ok {
			fmt.Fprintf(stdout, "  %s overhead (%s over %s): %+v/request (%+.0f%%) of llmux's CPU\n",
				s.Adds, s.ID, s.BaseRef, added.Round(100*time.Nanosecond), 100*share)
		}
	}
	return runErr
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// reverseProxy is the reverse-proxy mode: Go's httputil.ReverseProxy as a
// process of its own.
func reverseProxy(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet(bench.ModeReverseProxy, flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8090", "address to listen on")
	upstream := fs.String("upstream", "", "upstream base URL, e.g. http://127.0.0.1:9000")
	transport := fs.String("transport", "net", `upstream transport: "net" (net/http's) or "h1" (llmux's)`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *upstream == "" {
		return errors.New("reverse-proxy: -upstream is required")
	}
	if *transport != "net" && *transport != "h1" {
		return fmt.Errorf("reverse-proxy: -transport %q: want net or h1", *transport)
	}
	var tr http.RoundTripper // net/http's
	if *transport == "h1" {
		d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
		tr = &h1.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 256}
	}
	return bench.ServeReverseProxy(ctx, *listen, *upstream, tr)
}
