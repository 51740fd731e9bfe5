package gateway

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/protocol"
	"github.com/llmux/llmux/protocol/openai"
)

// benchRequest is a typical ~2 KB chat request: a system prompt, a short
// history with a tool call and its result, and two tools.
var benchRequest = func() []byte {
	system := strings.Repeat("You are a careful assistant for an online store. Answer briefly and cite order numbers. ", 8)
	return []byte(`{"model":"fast","temperature":0.3,"max_completion_tokens":512,"messages":[` +
		`{"role":"system","content":"` + system + `"},` +
		`{"role":"user","content":"Where is my order 48213? It was supposed to arrive on Monday and the tracking page has not changed since last week."},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"call_a1","type":"function","function":{"name":"order_status","arguments":"{\"order_id\":\"48213\"}"}}]},` +
		`{"role":"tool","tool_call_id":"call_a1","content":"{\"status\":\"in_transit\",\"carrier\":\"DHL\",\"eta\":\"2026-11-24\",\"last_scan\":\"Leipzig hub\"}"},` +
		`{"role":"user","content":"Can you also check whether I can still change the delivery address to my office?"}],` +
		`"tools":[{"type":"function","function":{"name":"order_status","description":"Look up the shipping status of an order","parameters":{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}}},` +
		`{"type":"function","function":{"name":"change_address","description":"Change the delivery address of an order in transit","parameters":{"type":"object","properties":{"order_id":{"type":"string"},"address":{"type":"string"}},"required":["order_id","address"]}}}]}`)
}()

// benchStream is a 100-chunk upstream stream with its usage chunk.
func benchStream() []byte {
	var b bytes.Buffer
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&b, `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"word%d "},"logprobs":null,"finish_reason":null}],"usage":null}`+"\n\n", i)
	}
	b.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}` + "\n\n")
	b.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":400,"completion_tokens":100,"total_tokens":500}}` + "\n\n")
	b.WriteString("data: [DONE]\n\n")
	return b.Bytes()
}

// benchUpstream answers every request with a fixed body: the recorded
// completion, or the 100-chunk stream.
func benchUpstream(b *testing.B) *httptest.Server {
	text := fixture(b, "openai/chat-text.body.json")
	stream := benchStream()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte(`"stream":true`)) {
			w.Header().Set("Content-Type", "text/event-stream")
			// Write chunk by chunk, flushing, as a model server does.
			f := w.(http.Flusher)
			for rest := stream; len(rest) > 0; {
				i := bytes.Index(rest, []byte("\n\n")) + 2
				w.Write(rest[:i])
				f.Flush()
				rest = rest[i:]
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(text)
	}))
	b.Cleanup(srv.Close)
	return srv
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
}

func post(b *testing.B, c *http.Client, url string, body []byte) {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer k")
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || n == 0 {
		b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
	}
}

// BenchmarkEndToEnd measures a 2 KB chat request through an in-process
// llmux (passthrough to an OpenAI-compatible upstream), through a bare
// httputil.ReverseProxy (the floor of any Go proxy), and directly against
// the upstream, in the same process and run. The difference to the direct
// call is what each proxy adds.
func BenchmarkEndToEnd(b *testing.B) {
	up := benchUpstream(b)
	cfg, err := config.Parse("bench.yaml", []byte(`
keys: [ k ]
log_requests: false
providers:
  openai: { type: openai, base_url: "`+up.URL+`/v1", api_key: sk-bench, models: { fast: gpt-4o-mini } }
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
	target, _ := url.Parse(up.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.FlushInterval = -1
	proxy := httptest.NewServer(rp)
	defer proxy.Close()

	// A streaming variant of the request for the stream benchmarks.
	streamReq := bytes.Replace(benchRequest, []byte(`"model":"fast",`), []byte(`"model":"fast","stream":true,`), 1)
	for _, mode := range []struct {
		name string
		body []byte
	}{{"2KB", benchRequest}, {"stream100", streamReq}} {
		for _, tgt := range []struct{ name, url string }{
			{"llmux", gw.URL + "/v1/chat/completions"},
			{"reverseproxy", proxy.URL + "/v1/chat/completions"},
			{"direct", up.URL + "/v1/chat/completions"},
		} {
			b.Run(mode.name+"/"+tgt.name, func(b *testing.B) {
				c := benchClient()
				defer c.CloseIdleConnections()
				post(b, c, tgt.url, mode.body) // warm the connections
				b.ReportAllocs()
				b.SetBytes(int64(len(mode.body)))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					post(b, c, tgt.url, mode.body)
				}
			})
		}
	}
}

// BenchmarkRequestCodec measures the two ways llmux handles a request body:
// passthrough (peek at the model, rewrite it in place) and translation
// (decode into the canonical model, encode again).
func BenchmarkRequestCodec(b *testing.B) {
	var p openai.Protocol
	var pt protocol.Passthrough = p
	b.Run("decode+encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchRequest)))
		for i := 0; i < b.N; i++ {
			req, err := p.DecodeRequest(benchRequest)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := p.EncodeRequest(req, "gpt-4o-mini"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("peek+rewrite", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchRequest)))
		dst := make([]byte, 0, 4096)
		for i := 0; i < b.N; i++ {
			p, err := pt.PeekRequest(benchRequest)
			if err != nil {
				b.Fatal(err)
			}
			out, err := pt.RewriteRequest(dst[:0], benchRequest, protocol.Rewrite{Model: "gpt-4o-mini", StreamUsage: true, Scan: p.Scan})
			if err != nil {
				b.Fatal(err)
			}
			dst = out
		}
	})
}

// BenchmarkStreamRelay measures relaying a 100-chunk stream in memory:
// the passthrough relay (usage tapped, extra chunk hidden) against a plain
// copy, and the translation path (decode to events, encode as chunks).
func BenchmarkStreamRelay(b *testing.B) {
	raw := benchStream()
	var p openai.Protocol
	b.Run("io.Copy", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for i := 0; i < b.N; i++ {
			io.Copy(io.Discard, bytes.NewReader(raw))
		}
	})
	b.Run("passthrough", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		flush := func() error { return nil }
		for i := 0; i < b.N; i++ {
			relay := p.NewRelay(protocol.Peek{Stream: true})
			if err := relay.Copy(io.Discard, flush, bytes.NewReader(raw)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode+encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for i := 0; i < b.N; i++ {
			st := p.NewStreamDecoder(io.NopCloser(bytes.NewReader(raw)))
			enc := p.NewStreamEncoder(io.Discard, nil)
			for {
				ev, err := st.Next()
				if err != nil {
					break
				}
				enc.Encode(ev)
			}
			enc.Close()
		}
	})
}
