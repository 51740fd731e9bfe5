package responses_test

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// benchRequest is a typical ~2 KB Responses request: instructions, a short
// history with a reasoning item, a tool call and its result, and two tools.
var benchRequest = func() []byte {
	instructions := strings.Repeat("You are a careful assistant for an online store. Answer briefly and cite order numbers. ", 8)
	return []byte(`{"model":"fast","instructions":"` + instructions + `","max_output_tokens":512,"store":false,` +
		`"reasoning":{"effort":"low","summary":"auto"},"include":["reasoning.encrypted_content"],"input":[` +
		`{"type":"message","role":"user","content":[{"type":"input_text","text":"Where is my order 48213? It was supposed to arrive on Monday and the tracking page has not changed since last week."}]},` +
		`{"type":"reasoning","summary":[],"encrypted_content":"gAAAAABpZ1-opaque-reasoning-state"},` +
		`{"type":"function_call","call_id":"call_a1","name":"order_status","arguments":"{\"order_id\":\"48213\"}"},` +
		`{"type":"function_call_output","call_id":"call_a1","output":"{\"status\":\"in_transit\",\"carrier\":\"DHL\",\"eta\":\"2026-11-24\",\"last_scan\":\"Leipzig hub\"}"},` +
		`{"type":"message","role":"user","content":[{"type":"input_text","text":"Can you also check whether I can still change the delivery address to my office?"}]}],` +
		`"tools":[{"type":"function","name":"order_status","description":"Look up the shipping status of an order","strict":false,"parameters":{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}},` +
		`{"type":"function","name":"change_address","description":"Change the delivery address of an order in transit","strict":false,"parameters":{"type":"object","properties":{"order_id":{"type":"string"},"address":{"type":"string"}},"required":["order_id","address"]}}],` +
		`"tool_choice":"auto","parallel_tool_calls":true}`)
}()

// benchStream is a 100-delta upstream stream with its lifecycle events.
func benchStream() []byte {
	var b bytes.Buffer
	resp := `{"id":"resp_1","object":"response","created_at":1,"model":"gpt-5-mini","status":"in_progress","output":[],"usage":null}`
	fmt.Fprintf(&b, "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":%s}\n\n", resp)
	fmt.Fprintf(&b, "event: response.in_progress\ndata: {\"type\":\"response.in_progress\",\"sequence_number\":1,\"response\":%s}\n\n", resp)
	b.WriteString(`event: response.output_item.added` + "\n" + `data: {"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"msg_1","type":"message","status":"in_progress","content":[],"role":"assistant"}}` + "\n\n")
	b.WriteString(`event: response.content_part.added` + "\n" + `data: {"type":"response.content_part.added","sequence_number":3,"item_id":"msg_1","output_index":0,"content_index":0,"part":{"type":"output_text","annotations":[],"logprobs":[],"text":""}}` + "\n\n")
	var text strings.Builder
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&b, "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":%d,\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"word%d \",\"logprobs\":[],\"obfuscation\":\"abc\"}\n\n", 4+i, i)
		fmt.Fprintf(&text, "word%d ", i)
	}
	fmt.Fprintf(&b, "event: response.output_text.done\ndata: {\"type\":\"response.output_text.done\",\"sequence_number\":104,\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"text\":%q,\"logprobs\":[]}\n\n", text.String())
	fmt.Fprintf(&b, "event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"sequence_number\":105,\"output_index\":0,\"item\":{\"id\":\"msg_1\",\"type\":\"message\",\"status\":\"completed\",\"content\":[{\"type\":\"output_text\",\"annotations\":[],\"text\":%q}],\"role\":\"assistant\"}}\n\n", text.String())
	fmt.Fprintf(&b, "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":106,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"created_at\":1,\"model\":\"gpt-5-mini\",\"status\":\"completed\",\"output\":[{\"id\":\"msg_1\",\"type\":\"message\",\"status\":\"completed\",\"content\":[{\"type\":\"output_text\",\"annotations\":[],\"text\":%q}],\"role\":\"assistant\"}],\"usage\":{\"input_tokens\":400,\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":100,\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":500}}}\n\n", text.String())
	return b.Bytes()
}

// BenchmarkRequestCodec measures the ways a ~2 KB request body is handled:
// translation (decode into the canonical model; encode from it) and
// passthrough (peek at the model, rewrite it in place).
func BenchmarkRequestCodec(b *testing.B) {
	req, err := proto.DecodeRequest(benchRequest)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchRequest)))
		for i := 0; i < b.N; i++ {
			if _, err := proto.DecodeRequest(benchRequest); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchRequest)))
		for i := 0; i < b.N; i++ {
			if _, err := proto.EncodeRequest(req, "gpt-5-mini"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("peek+rewrite", func(b *testing.B) {
		var pt protocol.Passthrough = proto
		b.ReportAllocs()
		b.SetBytes(int64(len(benchRequest)))
		dst := make([]byte, 0, 4096)
		for i := 0; i < b.N; i++ {
			p, err := pt.PeekRequest(benchRequest)
			if err != nil {
				b.Fatal(err)
			}
			out, err := pt.RewriteRequest(dst[:0], benchRequest, protocol.Rewrite{Model: "gpt-5-mini", Scan: p.Scan})
			if err != nil {
				b.Fatal(err)
			}
			dst = out
		}
	})
}

// BenchmarkStream measures a 100-delta stream: decoding it into canonical
// events, encoding canonical events for a client, both in a row (the
// translation path), the passthrough relay, and a plain copy.
func BenchmarkStream(b *testing.B) {
	raw := benchStream()
	evs, err := decodeStream(b, raw)
	if err != nil || len(evs) != 103 {
		b.Fatalf("%d events, %v", len(evs), err)
	}
	req := &llm.Request{Model: "fast", Stream: true, Origin: "responses"}
	b.Run("io.Copy", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for i := 0; i < b.N; i++ {
			io.Copy(io.Discard, bytes.NewReader(raw))
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for i := 0; i < b.N; i++ {
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
		for i := 0; i < b.N; i++ {
			enc := proto.NewStreamEncoder(io.Discard, req)
			for _, ev := range evs {
				enc.Encode(ev)
			}
			enc.Close()
		}
	})
	b.Run("decode+encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for i := 0; i < b.N; i++ {
			st := proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(raw)))
			enc := proto.NewStreamEncoder(io.Discard, req)
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
	b.Run("passthrough", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		flush := func() error { return nil }
		for i := 0; i < b.N; i++ {
			relay := proto.NewRelay(protocol.Peek{Stream: true})
			if err := relay.Copy(io.Discard, flush, bytes.NewReader(raw)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
