package provider

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmux/llmux/protocol"
	"github.com/llmux/llmux/protocol/openai"
)

// heldUpstreamEnv makes the test binary the upstream of
// BenchmarkHeldStreams: a child process, so that its connections and
// goroutines are not counted as the provider's.
const heldUpstreamEnv = "LLMUX_HELD_UPSTREAM"

// TestHeldStreamUpstream is that upstream: it prints its address and
// answers every request with an endless stream, one chunk per second.
func TestHeldStreamUpstream(t *testing.T) {
	if os.Getenv(heldUpstreamEnv) == "" {
		t.Skip("the upstream process of BenchmarkHeldStreams")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("ADDR %s\n", ln.Addr())
	go func() { io.Copy(io.Discard, os.Stdin); os.Exit(0) }() // the parent closes stdin when done
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		for {
			if _, err := io.WriteString(w, chunkHi); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Second):
			}
		}
	})}
	srv.Serve(ln)
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
	cmd := exec.Command(os.Args[0], "-test.run=^TestHeldStreamUpstream$")
	cmd.Env = append(os.Environ(), heldUpstreamEnv+"=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "ADDR ")
	if err != nil || !ok {
		b.Fatalf("upstream said %q, %v", line, err)
	}
	body := []byte(`{"model":"m","stream":true,"messages":[{"role":"user","content":"` + strings.Repeat("Where is my order? ", 100) + `"}]}`)
	eachTransport(b, func(b *testing.B, useTransport func(*HTTP)) {
		p := newHTTPProvider(b, "openai", "http://"+addr+"/v1", nil)
		useTransport(p)
		heldStreams(b, p, n, body)
	})
}

func heldStreams(b *testing.B, p *HTTP, n int, body []byte) {
	for b.Loop() {
		g0, h0, s0 := inUse()
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
		g1, h1, s1 := inUse()
		if f := os.Getenv("LLMUX_HELD_HEAPPROFILE"); f != "" {
			writeHeapProfile(b, f)
		}
		b.ReportMetric(float64(g1-g0)/float64(n), "goroutines/stream")
		b.ReportMetric(float64(h1-h0+s1-s0)/float64(n), "B/stream")
		b.ReportMetric(float64(s1-s0)/float64(n), "stackB/stream")
		cancel()
		done.Wait()
		p.CloseIdleConnections()
	}
}

// inUse returns the goroutines, and the heap and stack bytes in use, after
// a collection.
func inUse() (goroutines int, heap, stack int64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), int64(ms.HeapInuse), int64(ms.StackInuse)
}

func writeHeapProfile(b *testing.B, name string) {
	f, err := os.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
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
