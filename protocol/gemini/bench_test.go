package gemini_test

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

// benchRequest is the canonical form of the gateway's typical ~2 KB
// OpenAI-shaped chat request (internal/gateway's benchRequest): a system
// prompt, a short history with a tool call and its result, and two tools.
func benchRequest() *llm.Request {
	system := strings.Repeat("You are a careful assistant for an online store. Answer briefly and cite order numbers. ", 8)
	return &llm.Request{
		Origin:      "openai",
		Temperature: ptr(0.3),
		MaxTokens:   ptr(512),
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart(system)}},
			userMsg("Where is my order 48213? It was supposed to arrive on Monday and the tracking page has not changed since last week."),
			{Role: llm.RoleAssistant, Parts: []llm.Part{call("call_a1", "order_status", `{"order_id":"48213"}`)}},
			{Role: llm.RoleTool, Parts: []llm.Part{result("call_a1", `{"status":"in_transit","carrier":"DHL","eta":"2026-11-24","last_scan":"Leipzig hub"}`)}},
			userMsg("Can you also check whether I can still change the delivery address to my office?"),
		},
		Tools: []llm.Tool{
			{Type: llm.ToolFunction, Name: "order_status", Description: "Look up the shipping status of an order",
				Parameters: json.RawMessage(`{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}`)},
			{Type: llm.ToolFunction, Name: "change_address", Description: "Change the delivery address of an order in transit",
				Parameters: json.RawMessage(`{"type":"object","properties":{"order_id":{"type":"string"},"address":{"type":"string"}},"required":["order_id","address"]}`)},
		},
	}
}

// benchBody is benchRequest as a Gemini client sends it.
func benchBody(b *testing.B) []byte {
	body, err := proto.EncodeRequest(benchRequest(), "gemini-2.5-flash")
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// benchStream is a 100-chunk Gemini stream: text deltas with usage on
// every chunk, as Gemini sends it, the last one finishing.
func benchStream() []byte {
	var b bytes.Buffer
	for i := 0; i < 100; i++ {
		finish := ""
		if i == 99 {
			finish = `,"finishReason":"STOP"`
		}
		fmt.Fprintf(&b, `data: {"candidates":[{"content":{"parts":[{"text":"word%d "}],"role":"model"}%s,"index":0}],"usageMetadata":{"promptTokenCount":400,"candidatesTokenCount":%d,"totalTokenCount":%d},"modelVersion":"gemini-2.5-flash","responseId":"r1"}`+"\r\n\r\n",
			i, finish, i+1, 401+i)
	}
	return b.Bytes()
}

// BenchmarkRequest measures translation of the ~2 KB request both ways,
// and the passthrough path for the same payload.
func BenchmarkRequest(b *testing.B) {
	req := benchRequest()
	body := benchBody(b)
	b.Run("encode canonical→gemini", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := proto.EncodeRequest(req, "gemini-2.5-flash"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode gemini→canonical", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := proto.DecodeRequest(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	cli := testkit.ReadFile(b, "testdata/requests/gemini-cli-recorded.json")
	b.Run("decode gemini-cli 40KB", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(cli)))
		for b.Loop() {
			if _, err := proto.DecodeRequest(cli); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("passthrough peek gemini-cli 40KB", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(cli)))
		for b.Loop() {
			if _, err := proto.PeekRequest(cli); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("passthrough peek+rewrite", func(b *testing.B) {
		var pt protocol.Passthrough = proto
		dst := make([]byte, 0, 4096)
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			p, err := pt.PeekRequest(body)
			if err != nil {
				b.Fatal(err)
			}
			out, err := pt.RewriteRequest(dst[:0], body, protocol.Rewrite{Model: "gemini-2.5-pro", Scan: p.Scan})
			if err != nil {
				b.Fatal(err)
			}
			dst = out
		}
	})
	b.Run("passthrough peek+rewrite with a drop", func(b *testing.B) {
		dst := make([]byte, 0, 4096)
		rw := protocol.Rewrite{Drop: []string{"safetySettings"}}
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := proto.PeekRequest(body); err != nil {
				b.Fatal(err)
			}
			out, err := proto.RewriteRequest(dst[:0], body, rw)
			if err != nil {
				b.Fatal(err)
			}
			dst = out
		}
	})
}

// BenchmarkStream measures the 100-chunk stream: decoding to events,
// encoding events for a Gemini client, both (the translation path), the
// passthrough relay, and a plain copy.
func BenchmarkStream(b *testing.B) {
	raw := benchStream()
	evs, err := decodeStream(b, raw)
	if err != nil || len(evs) != 103 {
		b.Fatalf("%d events, %v", len(evs), err)
	}
	b.Run("io.Copy", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			io.Copy(io.Discard, bytes.NewReader(raw))
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			st := proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(raw)))
			for {
				if _, err := st.Next(); err != nil {
					break
				}
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			enc := proto.NewStreamEncoder(io.Discard, nil)
			for _, ev := range evs {
				enc.Encode(ev)
			}
			enc.Close()
		}
	})
	b.Run("decode+encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			st := proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(raw)))
			enc := proto.NewStreamEncoder(io.Discard, nil)
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
	b.Run("passthrough relay", func(b *testing.B) {
		flush := func() error { return nil }
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			relay := proto.NewRelay(protocol.Peek{Stream: true})
			if err := relay.Copy(io.Discard, flush, bytes.NewReader(raw)); err != nil {
				b.Fatal(err)
			}
			if _, ok := relay.Usage(); !ok {
				b.Fatal("no usage")
			}
		}
	})
}
