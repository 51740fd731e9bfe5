package openai_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// maxFuzzInput bounds the inputs of the fuzz targets: the decoders are
// linear, and larger inputs only slow the fuzzer down.
const maxFuzzInput = 64 << 10

// The seed corpora are in testdata/fuzz/<FuzzName>/: the request corpus,
// the bodies of the decode tests, the recorded fixtures and the crafted
// streams.

// FuzzDecodeRequest: a request body is refused with a 400, or decodes to a
// request that encodes for an upstream, decodes again, and encodes the same
// way the second time; the passthrough peek agrees with the decoder.
func FuzzDecodeRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		req, err := proto.DecodeRequest(body)
		if err != nil {
			if e := asError(t, err); e.Kind != llm.KindInvalidRequest || e.Message == "" {
				t.Fatalf("refusal %#v is not a 400 with a message", e)
			}
			return
		}
		if req.Model == "" || len(req.Messages) == 0 || req.Origin != "openai" {
			t.Fatalf("accepted a request without model or messages: %s", testkit.Dump(req))
		}
		p, err := proto.PeekRequest(body)
		if err != nil {
			t.Fatalf("DecodeRequest accepts what PeekRequest refuses: %v", err)
		}
		if p.Model != req.Model || p.Stream != req.Stream || p.StreamUsage != req.StreamUsage {
			t.Fatalf("PeekRequest = %+v, DecodeRequest = model %q stream %v usage %v", p, req.Model, req.Stream, req.StreamUsage)
		}
		wire, err := proto.EncodeRequest(req, req.Model)
		if err != nil {
			t.Fatalf("EncodeRequest of a decoded request: %v", err)
		}
		again, err := proto.DecodeRequest(wire)
		if err != nil {
			t.Fatalf("the encoded request does not decode: %v\n%s", err, wire)
		}
		wire2, err := proto.EncodeRequest(again, again.Model)
		if err != nil {
			t.Fatalf("EncodeRequest, second round: %v", err)
		}
		if !testkit.JSONEqual(wire, wire2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", wire, wire2)
		}
	})
}

// FuzzPeekRequest: PeekRequest refuses with a 400 or accepts; a body it
// accepts rewrites to valid JSON that the upstream reads with the new model
// and, when streaming, with usage.
func FuzzPeekRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		p, err := proto.PeekRequest(body)
		if err != nil {
			if e := asError(t, err); e.Kind != llm.KindInvalidRequest {
				t.Fatalf("refusal of kind %q", e.Kind)
			}
			return
		}
		rw := protocol.Rewrite{Model: "rewritten\u2028\"model", StreamUsage: true,
			Drop: []string{"seed"}, Rename: map[string]string{"max_tokens": "max_completion_tokens"}}
		out, err := proto.RewriteRequest([]byte("x"), body, rw)
		if err != nil {
			t.Fatalf("RewriteRequest of an accepted body: %v", err)
		}
		rw.Scan = p.Scan
		if reused, err := proto.RewriteRequest([]byte("x"), body, rw); err != nil || !bytes.Equal(reused, out) {
			t.Fatalf("RewriteRequest with PeekRequest's scan gives %s (%v), without %s", reused, err, out)
		}
		out = out[1:]
		if !json.Valid(out) {
			t.Fatalf("RewriteRequest produced invalid JSON:\n%s\nfrom\n%s", out, body)
		}
		q, err := proto.PeekRequest(out)
		if err != nil {
			t.Fatalf("the rewritten body is refused: %v\n%s", err, out)
		}
		if q.Model != rw.Model || q.Stream != p.Stream || (p.Stream && !q.StreamUsage) {
			t.Fatalf("rewritten body peeks as %+v (original %+v):\n%s", q, p, out)
		}
	})
}

// FuzzDecodeResponse: a body decodes or fails as an upstream error; a
// decoded response encodes for a client, as JSON and as a stream.
func FuzzDecodeResponse(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		resp, err := proto.DecodeResponse(body)
		if err != nil {
			if e := asError(t, err); e.Kind != llm.KindUpstream {
				t.Fatalf("error of kind %q", e.Kind)
			}
			return
		}
		var out bytes.Buffer
		if err := proto.EncodeResponse(&out, &llm.Request{Model: "m"}, resp); err != nil {
			t.Fatalf("EncodeResponse: %v", err)
		}
		again, err := proto.DecodeResponse(out.Bytes())
		if err != nil {
			t.Fatalf("the encoded response does not decode: %v\n%s", err, out.Bytes())
		}
		if again.Usage != resp.Usage || again.Text() != resp.Text() || len(again.Choices) != len(resp.Choices) {
			t.Fatalf("re-decoded response differs:\n%s\n%s", testkit.Dump(resp), testkit.Dump(again))
		}
		out.Reset()
		enc := proto.NewStreamEncoder(&out, &llm.Request{Model: "m", StreamUsage: true})
		for _, ev := range llm.Events(resp) {
			if err := enc.Encode(ev); err != nil {
				t.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzStreamDecoder: reading arbitrary bytes as a stream ends, with io.EOF
// or an *llm.Error, after well-formed events that a client's stream encoder
// accepts.
func FuzzStreamDecoder(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		s := proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(body)))
		var evs []llm.Event
		// Every event needs at least one input byte, so more events than
		// bytes (plus slack) means the decoder loops.
		for i := 0; ; i++ {
			if i > 4*len(body)+8 {
				t.Fatalf("%d events from %d bytes", i, len(body))
			}
			ev, err := s.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				asError(t, err)
				if _, err2 := s.Next(); err2 == nil {
					t.Fatal("Next returned an event after an error")
				}
				break
			}
			evs = append(evs, ev)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Next(); err == nil {
			t.Fatal("Next returned an event after Close")
		}
		started := map[[2]int]bool{}
		for i, ev := range evs {
			if (i == 0) != (ev.Type == llm.EventStart) {
				t.Fatalf("event %d is %s", i, formatEvent(ev))
			}
			if ev.Choice < 0 || ev.ToolIndex < 0 {
				t.Fatalf("negative index: %s", formatEvent(ev))
			}
			switch ev.Type {
			case llm.EventToolCall:
				started[[2]int{ev.Choice, ev.ToolIndex}] = true
				if ev.ID == "" {
					t.Fatalf("tool call without id: %s", formatEvent(ev))
				}
			case llm.EventToolArgs:
				if !started[[2]int{ev.Choice, ev.ToolIndex}] {
					t.Fatalf("arguments of a call that never started: %s", formatEvent(ev))
				}
			case llm.EventUsage:
				if ev.Usage == nil {
					t.Fatal("usage event without usage")
				}
			case llm.EventFinish:
				switch ev.FinishReason {
				case llm.FinishStop, llm.FinishLength, llm.FinishToolCalls, llm.FinishContentFilter:
				default:
					t.Fatalf("finish reason %q", ev.FinishReason)
				}
			}
		}
		var out bytes.Buffer
		enc := proto.NewStreamEncoder(&out, &llm.Request{Model: "m", StreamUsage: true})
		for _, ev := range evs {
			if err := enc.Encode(ev); err != nil {
				t.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDecodeError: any upstream error body becomes an error with a kind and
// a message, which renders as a valid OpenAI error body.
func FuzzDecodeError(f *testing.F) {
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		status = 400 + (status%200+200)%200 // an error status: 400–599
		e := proto.DecodeError(status, body)
		if e == nil || e.Kind == "" || e.Message == "" || e.HTTPStatus() != status || e.Origin != "openai" {
			t.Fatalf("DecodeError(%d) = %#v", status, e)
		}
		st, out := proto.EncodeError(e)
		if st != status || !json.Valid(out) {
			t.Fatalf("EncodeError = %d %s", st, out)
		}
	})
}

// FuzzRelay: whatever the upstream sends, the relay forwards whole pieces
// of it in order and flushes before it waits; it ends with nil or an
// *llm.Error; and when the stream decodes cleanly it taps the usage the
// decoder sees.
func FuzzRelay(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, clientUsage bool) {
		if len(body) > maxFuzzInput {
			return
		}
		relay := proto.NewRelay(protocol.Peek{Model: "m", Stream: true, StreamUsage: clientUsage})
		pos, pending := 0, 0 // how far the output got in body; bytes not flushed
		w := writerFunc(func(b []byte) (int, error) {
			i := bytes.Index(body[pos:], b)
			if i < 0 {
				t.Fatalf("forwarded %q, which is not in the rest of the input %q", b, body[pos:])
			}
			pos += i + len(b)
			pending += len(b)
			return len(b), nil
		})
		rest := body
		src := readerFunc(func(b []byte) (int, error) {
			if pending > 0 {
				t.Fatalf("reading the upstream with %d bytes not flushed", pending)
			}
			n := copy(b[:min(len(b), 61)], rest) // small reads split events
			rest = rest[n:]
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		})
		err := relay.Copy(w, func() error { pending = 0; return nil }, src)
		if err != nil {
			asError(t, err)
		}
		if pending > 0 {
			t.Fatalf("Copy returned with %d bytes not flushed", pending)
		}
		evs, derr := decodeStream(t, body)
		if derr != nil || err != nil {
			return
		}
		var want *llm.Usage
		for _, ev := range evs {
			if ev.Type == llm.EventUsage {
				want = ev.Usage
			}
		}
		got, ok := relay.Usage()
		if (want != nil) != ok || want != nil && *want != got {
			t.Fatalf("relay usage %+v %v, decoder usage %+v", got, ok, want)
		}
	})
}
