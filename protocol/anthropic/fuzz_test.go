package anthropic_test

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
// the recorded fixtures and the crafted streams; the decode tables are
// added here.

// FuzzDecodeRequest: a request body is refused with a 400, or decodes to a
// request whose model and stream the passthrough peek reads alike; encoded
// for an Anthropic upstream (or refused with a 400), it decodes again and
// encodes the same way the second time. The count decoder agrees.
func FuzzDecodeRequest(f *testing.F) {
	for _, tt := range decodeRequestTests {
		f.Add([]byte(tt.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		count, cerr := proto.DecodeCountRequest(body)
		req, err := proto.DecodeRequest(body)
		if err != nil {
			if e := asError(t, err); e.Kind != llm.KindInvalidRequest || e.Message == "" {
				t.Fatalf("refusal %#v is not a 400 with a message", e)
			}
			return
		}
		if cerr != nil || count.Model != req.Model || len(count.Messages) != len(req.Messages) {
			t.Fatalf("DecodeCountRequest disagrees: %v", cerr)
		}
		if req.Model == "" || len(req.Messages) == 0 || req.MaxTokens == nil || req.Origin != "anthropic" {
			t.Fatalf("accepted a request without model, messages or max_tokens: %s", testkit.Dump(req))
		}
		p, err := proto.PeekRequest(body)
		if err != nil {
			t.Fatalf("DecodeRequest accepts what PeekRequest refuses: %v", err)
		}
		if p.Model != req.Model || p.Stream != req.Stream {
			t.Fatalf("PeekRequest = %+v, DecodeRequest = model %q stream %v", p, req.Model, req.Stream)
		}
		wire, err := proto.EncodeRequest(req, req.Model)
		if err != nil {
			if e := asError(t, err); e.Kind != llm.KindInvalidRequest {
				t.Fatalf("EncodeRequest failed with %#v", e)
			}
			return
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
		if _, err := proto.EncodeCountRequest(req, "m"); err != nil {
			t.Fatalf("EncodeCountRequest: %v", err)
		}
	})
}

// FuzzPeekRequest: PeekRequest refuses with a 400 or accepts; a body it
// accepts rewrites to valid JSON that peeks with the new model and the same
// stream flag, with or without the scan.
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
		rw := protocol.Rewrite{Model: "rewritten\u2028\"model", Drop: []string{"top_k"}, Rename: map[string]string{"metadata": "meta"}}
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
		if q.Model != rw.Model || q.Stream != p.Stream {
			t.Fatalf("rewritten body peeks as %+v (original %+v):\n%s", q, p, out)
		}
	})
}

// FuzzDecodeResponse: a body decodes or fails as an upstream error; a
// decoded response encodes for a client, as JSON that decodes to the same
// text and usage, and as a stream.
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
		if again.Usage != resp.Usage || again.Text() != resp.Text() || len(again.Choices) != 1 {
			t.Fatalf("re-decoded response differs:\n%s\n%s", testkit.Dump(resp), testkit.Dump(again))
		}
		out.Reset()
		enc := proto.NewStreamEncoder(&out, &llm.Request{Model: "m"})
		for _, ev := range llm.Events(resp) {
			if err := enc.Encode(ev); err != nil {
				t.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		streamed, err := llm.Collect(proto.NewStreamDecoder(io.NopCloser(&out)))
		if err != nil || streamed.Text() != resp.Text() {
			t.Fatalf("the encoded stream decodes to %q (%v), want %q", streamed.Text(), err, resp.Text())
		}
	})
}

// FuzzStreamDecoder: reading arbitrary bytes as a stream ends, with io.EOF
// or an *llm.Error, after well-formed events that a client's stream encoder
// accepts and writes as a stream that decodes to the same answer.
func FuzzStreamDecoder(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		s := proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(body)))
		var evs []llm.Event
		var streamErr error
		for i := 0; ; i++ {
			// Every event needs input bytes, so more events than bytes
			// (plus slack) means the decoder loops.
			if i > 4*len(body)+8 {
				t.Fatalf("%d events from %d bytes", i, len(body))
			}
			ev, err := s.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				asError(t, err)
				streamErr = err
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
		started := map[int]bool{}
		for i, ev := range evs {
			if (i == 0) != (ev.Type == llm.EventStart) {
				t.Fatalf("event %d is %s", i, formatEvent(ev))
			}
			if ev.Choice != 0 || ev.ToolIndex < 0 {
				t.Fatalf("bad index: %s", formatEvent(ev))
			}
			switch ev.Type {
			case llm.EventToolCall:
				if started[ev.ToolIndex] || ev.ID == "" {
					t.Fatalf("tool call restarted or without id: %s", formatEvent(ev))
				}
				started[ev.ToolIndex] = true
			case llm.EventToolArgs:
				if !started[ev.ToolIndex] {
					t.Fatalf("arguments of a call that never started: %s", formatEvent(ev))
				}
			case llm.EventUsage:
				if ev.Usage == nil {
					t.Fatal("usage event without usage")
				}
			}
		}
		var out bytes.Buffer
		enc := proto.NewStreamEncoder(&out, &llm.Request{Model: "m"})
		for _, ev := range evs {
			if err := enc.Encode(ev); err != nil {
				t.Fatal(err)
			}
		}
		if streamErr != nil {
			if err := enc.Fail(llm.AsError(streamErr)); err != nil {
				t.Fatal(err)
			}
			return
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		again, err := decodeStream(t, out.Bytes())
		if err != nil {
			t.Fatalf("the re-encoded stream fails: %v\n%s", err, out.Bytes())
		}
		a, _ := llm.Collect(llm.NewSliceStream(evs))
		b, _ := llm.Collect(llm.NewSliceStream(again))
		if a.Text() != b.Text() || len(a.Choices[0].Message.ToolCalls()) != len(b.Choices[0].Message.ToolCalls()) || a.Usage != b.Usage {
			t.Fatalf("re-encoding changed the answer:\n%s\n%s\n%s", testkit.Dump(a), testkit.Dump(b), out.Bytes())
		}
	})
}

// FuzzDecodeError: any upstream error body becomes an error with a kind and
// a message, which renders as a valid Anthropic error body.
func FuzzDecodeError(f *testing.F) {
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		status = 400 + (status%200+200)%200 // an error status: 400–599
		e := proto.DecodeError(status, body)
		if e == nil || e.Kind == "" || e.Message == "" || e.HTTPStatus() != status || e.Origin != "anthropic" {
			t.Fatalf("DecodeError(%d) = %#v", status, e)
		}
		st, out := proto.EncodeError(e)
		if st < 400 || st > 599 || !json.Valid(out) {
			t.Fatalf("EncodeError = %d %s", st, out)
		}
	})
}

// FuzzRelay: whatever the upstream sends, the relay forwards whole pieces
// of it in order and flushes before it waits; it ends with nil or an
// *llm.Error; and when the stream decodes cleanly it taps the usage the
// decoder sees.
func FuzzRelay(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		relay := proto.NewRelay(protocol.Peek{Model: "m", Stream: true})
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
			if ev.Usage != nil {
				want = ev.Usage
			}
		}
		got, ok := relay.Usage()
		if (want != nil) != ok || want != nil && *want != got {
			t.Fatalf("relay usage %+v %v, decoder usage %+v", got, ok, want)
		}
	})
}

// FuzzTapResponse: TapResponse never panics, and agrees with the decoder
// on the usage of a body both read.
func FuzzTapResponse(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		u, ok := proto.TapResponse(body)
		resp, err := proto.DecodeResponse(body)
		if ok && err == nil && resp.Usage != u {
			t.Fatalf("TapResponse %+v, DecodeResponse %+v", u, resp.Usage)
		}
	})
}

// FuzzDecodeModels: a model list decodes or fails as an upstream error, and
// what decodes encodes back.
func FuzzDecodeModels(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		models, err := proto.DecodeModels(body)
		if err != nil {
			if asError(t, err).Kind != llm.KindUpstream {
				t.Fatal(err)
			}
			return
		}
		for _, m := range models {
			if m.ID == "" {
				t.Fatal("a model without id")
			}
		}
		if err := proto.EncodeModels(io.Discard, models); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDecodeCount: a count decodes to a non-negative number or fails as an
// upstream error.
func FuzzDecodeCount(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := proto.DecodeCount(body)
		if err != nil {
			if asError(t, err).Kind != llm.KindUpstream {
				t.Fatal(err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("count %d", n)
		}
	})
}
