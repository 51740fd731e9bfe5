package provider

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/protocol"
	"github.com/llmux/llmux/protocol/openai"
)

// heldUpstreamEnv makes the test binary the upstream of
// BenchmarkHeldStreams: a child process, so that its connections and
// goroutines are not counted as the provider's.
const heldUpstreamEnv = "LLMUX_HELD_UPSTREAM"

// TestHeldStreamUpstream is that upstream (see testkit.ServeHeldStreams).
func TestHeldStreamUpstream(t *testing.T) {
	testkit.ServeHeldStreams(t, os.Getenv(heldUpstreamEnv) != "", chunkHi)
}

// BenchmarkHeldStreams opens LLMUX_HELD_STREAMS (default 1,000) streams at
// once through Forward, each with its own 2 KB request body, each relayed by the OpenAI passthrough relay as
// the gateway does, and reports the goroutines and the memory (heap and
// stacks in use) that each open stream holds in this process. Run it with
// -benchtime 1x. One of the goroutines is the relay's, which stands for
// the gateway handler's own.
func BenchmarkHeldStreams(b *testing.B) {
	n := 1000
	if s := os.Getenv("LLMUX_HELD_STREAMS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	addr := testkit.StartHeldStreams(b, "TestHeldStreamUpstream", heldUpstreamEnv)
	body := []byte(`{"model":"m","stream":true,"messages":[{"role":"user","content":"` + strings.Repeat("Where is my order? ", 100) + `"}]}`)
	eachTransport(b, func(b *testing.B, useTransport func(*HTTP)) {
		p := newHTTPProvider(b, "openai", "http://"+addr+"/v1", nil)
		useTransport(p)
		heldStreams(b, p, n, body)
	})
}

func heldStreams(b *testing.B, p *HTTP, n int, body []byte) {
	for b.Loop() {
		g0, h0, s0 := testkit.InUse()
		ctx, cancel := context.WithCancel(context.Background())
		var started, done sync.WaitGroup
		started.Add(n)
		done.Add(n)
		for range n {
			// Each stream's body is its own copy, as the gateway's rewrite is.
			resp, err := p.Forward(ctx, &Forward{Model: "m", Stream: true, Body: bytes.Clone(body)})
			if err != nil {
				b.Fatal(err)
			}
			go func() {
				defer done.Done()
				defer resp.Body.Close()
				w := &firstWrite{started: &started}
				openai.Protocol{}.NewRelay(protocol.Peek{}).Copy(w, func() error { return nil }, resp.Body)
				if !w.wrote {
					started.Done()
				}
			}()
		}
		started.Wait()
		g1, h1, s1 := testkit.InUse()
		if f := os.Getenv("LLMUX_HELD_HEAPPROFILE"); f != "" {
			testkit.WriteProfile(b, "heap", f, 0)
		}
		b.ReportMetric(float64(g1-g0)/float64(n), "goroutines/stream")
		b.ReportMetric(float64(h1-h0+s1-s0)/float64(n), "B/stream")
		b.ReportMetric(float64(s1-s0)/float64(n), "stackB/stream")
		cancel()
		done.Wait()
		p.CloseIdleConnections()
	}
}

// firstWrite is a relay's client: it tells when the first event arrived.
type firstWrite struct {
	started *sync.WaitGroup
	wrote   bool
}

func (w *firstWrite) Write(p []byte) (int, error) {
	if !w.wrote {
		w.wrote = true
		w.started.Done()
	}
	return len(p), nil
}
