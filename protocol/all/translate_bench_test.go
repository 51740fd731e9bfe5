package all

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// The benchmarks here measure translation between protocols — a client's
// body decoded by its protocol and encoded for another, an upstream's
// stream decoded by its protocol and encoded for the client's — beside the
// passthrough of the same payload (peek and rewrite of the body, relay of
// the stream), in the same run. Per-event figures are ns/op divided by
// streamEvents.

const streamEvents = 100

// sampleRequest is a ~2 KB chat request: a system prompt, a few turns with a
// tool call and its result, and one tool definition.
func sampleRequest() *llm.Request {
	text := func(s string) []llm.Part { return []llm.Part{{Type: llm.PartText, Text: s}} }
	max := 512
	temp := 0.2
	return &llm.Request{
		Model: "bench-model",
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Parts: text(strings.Repeat("You are a careful assistant for a travel company. ", 12))},
			{Role: llm.RoleUser, Parts: text(strings.Repeat("I am planning a trip to Lisbon in May and want to know the weather. ", 6))},
			{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{
				ID: "call_1", Type: llm.CallFunction, Name: "get_weather", Arguments: `{"city":"Lisbon","month":"May"}`}}}},
			{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{
				CallID: "call_1", Name: "get_weather", Content: text(`{"avg_high_c":22,"avg_low_c":14,"rain_days":6}`)}}}},
			{Role: llm.RoleAssistant, Parts: text("May in Lisbon is mild: highs around 22°C, lows near 14°C, and about six rainy days.")},
			{Role: llm.RoleUser, Parts: text(strings.Repeat("What should I pack for a week of walking around the city? ", 4))},
		},
		Tools: []llm.Tool{{Type: llm.ToolFunction, Name: "get_weather", Description: "Climate averages of a city for a month",
			Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string","description":"City name"},"month":{"type":"string","description":"Month name"}},"required":["city","month"]}`)}},
		MaxTokens:   &max,
		Temperature: &temp,
	}
}

// body encodes the sample request in protocol id's own request format.
func body(b *testing.B, reg *protocol.Registry, id string, stream bool) []byte {
	eg, _ := reg.Egress(id)
	req := sampleRequest()
	req.Stream = stream
	out, err := eg.EncodeRequest(req, "bench-model")
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// upstreamStream is a stream of streamEvents text deltas, with start,
// finish and usage, in protocol id's own stream format.
func upstreamStream(b *testing.B, reg *protocol.Registry, id string) []byte {
	ing, _ := reg.Ingress(id)
	var buf bytes.Buffer
	req := sampleRequest()
	req.Model, req.Stream, req.StreamUsage = "bench-model", true, true
	enc := ing.NewStreamEncoder(&buf, req)
	enc.Encode(llm.Event{Type: llm.EventStart, ID: "resp_1", Model: "bench-model", Created: 1700000000})
	for i := 0; i < streamEvents; i++ {
		enc.Encode(llm.Event{Type: llm.EventText, Text: fmt.Sprintf("word%d ", i)})
	}
	enc.Encode(llm.Event{Type: llm.EventFinish, FinishReason: llm.FinishStop})
	enc.Encode(llm.Event{Type: llm.EventUsage, Usage: &llm.Usage{InputTokens: 420, OutputTokens: streamEvents}})
	if err := enc.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

var pairs = []struct{ client, upstream string }{
	{"openai", "anthropic"},
	{"anthropic", "openai"},
	{"openai", "gemini"},
	{"responses", "openai"},
}

func BenchmarkTranslateRequest(b *testing.B) {
	reg := Registry()
	for _, p := range pairs {
		in := body(b, reg, p.client, false)
		ing, _ := reg.Ingress(p.client)
		eg, _ := reg.Egress(p.upstream)
		b.Run(p.client+"_to_"+p.upstream+"/translate", func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			defer testkit.ReportCPU(b)()
			for b.Loop() {
				req, err := ing.DecodeRequest(in)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := eg.EncodeRequest(req, "upstream-model"); err != nil {
					b.Fatal(err)
				}
			}
		})
		pt, _ := reg.Passthrough(p.client)
		b.Run(p.client+"_to_"+p.upstream+"/passthrough", func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			defer testkit.ReportCPU(b)()
			var dst []byte
			for b.Loop() {
				peek, err := pt.PeekRequest(in)
				if err != nil {
					b.Fatal(err)
				}
				dst, err = pt.RewriteRequest(dst[:0], in, protocol.Rewrite{Model: "upstream-model", Scan: peek.Scan})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTranslateStream(b *testing.B) {
	reg := Registry()
	for _, p := range pairs {
		raw := upstreamStream(b, reg, p.upstream)
		ing, _ := reg.Ingress(p.client)
		eg, _ := reg.Egress(p.upstream)
		req := sampleRequest()
		req.Stream, req.StreamUsage = true, true
		b.Run(p.upstream+"_to_"+p.client+"/translate", func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			defer testkit.ReportCPU(b)()
			for b.Loop() {
				s := eg.NewStreamDecoder(io.NopCloser(bytes.NewReader(raw)))
				enc := ing.NewStreamEncoder(io.Discard, req)
				n := 0
				for {
					ev, err := s.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					enc.Encode(ev)
					n++
				}
				enc.Close()
				s.Close()
				if n < streamEvents {
					b.Fatalf("decoded %d events", n)
				}
			}
		})
		pt, _ := reg.Passthrough(p.upstream)
		b.Run(p.upstream+"_to_"+p.client+"/relay", func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			flush := func() error { return nil }
			for b.Loop() {
				r := pt.NewRelay(protocol.Peek{Model: "bench-model", Stream: true, StreamUsage: true})
				if err := r.Copy(io.Discard, flush, bytes.NewReader(raw)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTranslateResponse is the answer's half of a translated call: an
// upstream's complete answer (about 1 KB of text, usage) decoded by its
// protocol and encoded for the client's.
func BenchmarkTranslateResponse(b *testing.B) {
	reg := Registry()
	for _, p := range pairs {
		ing, _ := reg.Ingress(p.upstream)
		eg, _ := reg.Egress(p.upstream)
		cl, _ := reg.Ingress(p.client)
		req := sampleRequest()
		resp := &llm.Response{ID: "resp_1", Model: "bench-model", Created: 1700000000,
			Choices: []llm.Choice{{FinishReason: llm.FinishStop, Message: llm.Message{Role: llm.RoleAssistant,
				Parts: []llm.Part{{Type: llm.PartText, Text: strings.Repeat("Pack light layers and good shoes. ", 30)}}}}},
			Usage: llm.Usage{InputTokens: 420, OutputTokens: 210}}
		var raw bytes.Buffer
		if err := ing.EncodeResponse(&raw, req, resp); err != nil {
			b.Fatal(err)
		}
		b.Run(p.upstream+"_to_"+p.client, func(b *testing.B) {
			b.SetBytes(int64(raw.Len()))
			b.ReportAllocs()
			defer testkit.ReportCPU(b)()
			var out bytes.Buffer
			for b.Loop() {
				r, err := eg.DecodeResponse(raw.Bytes())
				if err != nil {
					b.Fatal(err)
				}
				out.Reset()
				if err := cl.EncodeResponse(&out, req, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
