package anthropic_test

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// The benchmarks share their payloads so that their figures compare: a
// request of about 2 KB (an OpenAI client's tool conversation, and the
// Anthropic body it translates to), and a stream of 100 events.

// benchRequest returns the OpenAI-shaped canonical request and the
// Anthropic body of the same conversation.
func benchRequest(b *testing.B) (*llm.Request, []byte) {
	b.Helper()
	req := canonicalCorpus(b)["openai-tools"]
	body, err := proto.EncodeRequest(req, "claude-sonnet-4-5")
	if err != nil {
		b.Fatal(err)
	}
	return req, body
}

// benchStream returns an SSE body of 100 events: message_start, a text
// block of 95 deltas, message_delta and message_stop.
func benchStream() []byte {
	var s strings.Builder
	s.WriteString("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01Bench\",\"type\":\"message\",\"role\":\"assistant\"," +
		"\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null," +
		"\"usage\":{\"input_tokens\":565,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":1}}}\n\n")
	s.WriteString("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n")
	for i := range 95 {
		s.WriteString("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"word " +
			strconv.Itoa(i) + " of the answer, \"}}\n\n")
	}
	s.WriteString("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n")
	s.WriteString("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":190}}\n\n")
	s.WriteString("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	return []byte(s.String())
}

func BenchmarkTranslate(b *testing.B) {
	req, body := benchRequest(b)
	b.Run("canonical-to-anthropic", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := proto.EncodeRequest(req, "claude-sonnet-4-5"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("anthropic-to-canonical", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := proto.DecodeRequest(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkStream(b *testing.B) {
	body := benchStream()
	evs, err := decodeStream(b, body)
	if err != nil || len(evs) < 95 {
		b.Fatalf("%d events, %v", len(evs), err)
	}
	b.Run("decode-100", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		r := bytes.NewReader(body)
		for b.Loop() {
			r.Reset(body)
			s := proto.NewStreamDecoder(io.NopCloser(r))
			for {
				if _, err := s.Next(); err != nil {
					if err != io.EOF {
						b.Fatal(err)
					}
					break
				}
			}
		}
	})
	b.Run("encode-100", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		req := &llm.Request{Model: "client-model"}
		for b.Loop() {
			enc := proto.NewStreamEncoder(io.Discard, req)
			for _, ev := range evs {
				if err := enc.Encode(ev); err != nil {
					b.Fatal(err)
				}
			}
			if err := enc.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkPassthrough(b *testing.B) {
	_, body := benchRequest(b)
	b.Run("peek-rewrite", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		dst := make([]byte, 0, 2*len(body))
		for b.Loop() {
			p, err := proto.PeekRequest(body)
			if err != nil {
				b.Fatal(err)
			}
			if dst, err = proto.RewriteRequest(dst[:0], body, protocol.Rewrite{Model: "claude-sonnet-4-5-20250929", Scan: p.Scan}); err != nil {
				b.Fatal(err)
			}
		}
	})
	stream := benchStream()
	b.Run("relay-100", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(stream)))
		r := bytes.NewReader(stream)
		flush := func() error { return nil }
		for b.Loop() {
			r.Reset(stream)
			relay := proto.NewRelay(protocol.Peek{Model: "m", Stream: true})
			if err := relay.Copy(io.Discard, flush, r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
