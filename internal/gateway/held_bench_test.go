package gateway

import (
	"context"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/testkit"
)

// heldUpstreamEnv makes the test binary the upstream of
// BenchmarkHeldStreams, in a child process so that its connections and
// goroutines are not counted as the gateway's.
const heldUpstreamEnv = "LLMUX_GATEWAY_HELD_UPSTREAM"

// heldChunk is one event of the held streams.
const heldChunk = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}` + "\n\n"

// TestHeldStreamUpstream is that upstream (see testkit.ServeHeldStreams).
func TestHeldStreamUpstream(t *testing.T) {
	testkit.ServeHeldStreams(t, os.Getenv(heldUpstreamEnv) != "", heldChunk)
}

// BenchmarkHeldStreams holds LLMUX_HELD_STREAMS (default 1,000) streamed
// passthrough calls open through an in-process gateway and reports the
// goroutines and the memory (heap and stacks in use) each one holds in the
// gateway: the figure behind the load benchmark's memory per held stream,
// without the collector's headroom. The clients are bare connections that
// stop reading after the first event, so they hold no goroutine or buffer
// of their own. Run it with -benchtime 1x. While the streams are held,
// LLMUX_HELD_HEAPPROFILE names a file for the heap profile and
// LLMUX_HELD_GOROUTINES one for the goroutines' stacks.
// LLMUX_HELD_MAXSTACK=8192 makes the first goroutine whose stack outgrows
// 8 KB crash with its stack trace: the way to find what doubles every held
// stream's stack (the crash at the streams' end, when the gateway decodes
// what they delivered, is after the hold and harmless).
func BenchmarkHeldStreams(b *testing.B) {
	n := 1000
	if s := os.Getenv("LLMUX_HELD_STREAMS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	addr := testkit.StartHeldStreams(b, "TestHeldStreamUpstream", heldUpstreamEnv)
	cfg, err := config.Parse("bench.yaml", []byte(`
keys: [ k ]
log_requests: false
providers:
  openai: { type: openai, base_url: "http://`+addr+`/v1", api_key: sk-bench, models: { fast: gpt-4o-mini } }
`), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(cfg, Options{Registry: registry()})
	if err != nil {
		b.Fatal(err)
	}
	gw := httptest.NewServer(srv)
	defer gw.Close()
	body := `{"model":"fast","stream":true,"messages":[{"role":"user","content":"` + strings.Repeat("Where is my order? ", 100) + `"}]}`
	req := "POST /v1/chat/completions HTTP/1.1\r\nHost: llmux\r\nAuthorization: Bearer k\r\nContent-Type: application/json\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	gwAddr := gw.Listener.Addr().String()
	if os.Getenv("LLMUX_HELD_MAXSTACK") != "" {
		m, _ := strconv.Atoi(os.Getenv("LLMUX_HELD_MAXSTACK"))
		debug.SetMaxStack(m)
	}
	for b.Loop() {
		g0, h0, s0 := testkit.InUse()
		conns := make([]net.Conn, 0, n)
		for range n {
			c, err := net.Dial("tcp", gwAddr)
			if err != nil {
				b.Fatal(err)
			}
			conns = append(conns, c)
			if _, err := io.WriteString(c, req); err != nil {
				b.Fatal(err)
			}
		}
		// Wait for every stream's first event, reading each answer's start
		// with a throwaway buffer.
		buf := make([]byte, 4096)
		for _, c := range conns {
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			got := 0
			for !strings.Contains(string(buf[:got]), "data: ") {
				k, err := c.Read(buf[got:])
				if err != nil {
					b.Fatalf("waiting for the first event: %v (%q)", err, buf[:got])
				}
				got += k
			}
		}
		buf = nil
		g1, h1, s1 := testkit.InUse()
		if f := os.Getenv("LLMUX_HELD_HEAPPROFILE"); f != "" {
			testkit.WriteProfile(b, "heap", f, 0)
		}
		if f := os.Getenv("LLMUX_HELD_GOROUTINES"); f != "" {
			testkit.WriteProfile(b, "goroutine", f, 2)
		}
		b.ReportMetric(float64(g1-g0)/float64(n), "goroutines/stream")
		b.ReportMetric(float64(h1-h0+s1-s0)/float64(n), "B/stream")
		b.ReportMetric(float64(s1-s0)/float64(n), "stackB/stream")
		for _, c := range conns {
			c.Close()
		}
		// Let the gateway notice the closed clients before the next round.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		for runtime.NumGoroutine() > g0+10 && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}
}
