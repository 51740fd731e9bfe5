package provider

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/protocol"
	"github.com/llmux/llmux/protocol/openai"
)

// BenchmarkForward is one non-streamed passthrough call through Forward to
// an in-process upstream: the provider's share of the gateway's
// passthrough path, with the upstream's cost included.
func BenchmarkForward(b *testing.B) {
	answer := []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		strings.Repeat("Your order left the hub. ", 40) + `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":412,"completion_tokens":100,"total_tokens":512}}`)
	up := newUpstream(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	})
	body := []byte(`{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("Where is my order? ", 90) + `"}]}`)
	eachTransport(b, func(b *testing.B, useTransport func(*HTTP)) {
		p := newHTTPProvider(b, "openai", up.URL+"/v1", nil)
		useTransport(p)
		b.ReportAllocs()
		defer testkit.ReportCPU(b)()
		for b.Loop() {
			resp, err := p.Forward(b.Context(), &Forward{Model: "m", Body: body})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ReadBody(resp); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
}

// eachTransport runs bench once with each upstream transport a plain
// http:// upstream could have: internal/h1's (the default) and net/http's,
// the baseline of the same run.
func eachTransport(b *testing.B, bench func(b *testing.B, useTransport func(*HTTP))) {
	b.Run("transport=h1", func(b *testing.B) { bench(b, func(*HTTP) {}) })
	b.Run("transport=net", func(b *testing.B) {
		bench(b, func(p *HTTP) {
			p.client.CloseIdleConnections()
			p.client.Transport = netTransport(DefaultConnectTimeout)
		})
	})
}

// BenchmarkForwardStream is one streamed passthrough call of 100 chunks
// through Forward and the OpenAI relay, the upstream flushing each chunk
// as the load benchmark's mock does.
func BenchmarkForwardStream(b *testing.B) {
	chunk := []byte(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"word "},"finish_reason":null}]}` + "\n\n")
	tail := []byte(chunkFinish + "data: [DONE]\n\n")
	up := newUpstream(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for range 100 {
			w.Write(chunk)
			w.(http.Flusher).Flush()
		}
		w.Write(tail)
	})
	body := []byte(`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	eachTransport(b, func(b *testing.B, useTransport func(*HTTP)) {
		p := newHTTPProvider(b, "openai", up.URL+"/v1", nil)
		useTransport(p)
		b.ReportAllocs()
		defer testkit.ReportCPU(b)()
		for b.Loop() {
			resp, err := p.Forward(b.Context(), &Forward{Model: "m", Stream: true, Body: body})
			if err != nil {
				b.Fatal(err)
			}
			err = openai.Protocol{}.NewRelay(protocol.Peek{}).Copy(io.Discard, func() error { return nil }, resp.Body)
			resp.Body.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
