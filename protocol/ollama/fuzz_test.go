package ollama_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
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
// request that the passthrough peek reads alike, that encodes for an
// upstream, decodes again, and encodes the same way the second time.
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
		if req.Model == "" || len(req.Messages) == 0 || req.Origin != "ollama" {
			t.Fatalf("accepted a request without model or messages: %s", testkit.Dump(req))
		}
		p, err := proto.PeekRequest(body)
		if err != nil {
			t.Fatalf("DecodeRequest accepts what PeekRequest refuses: %v", err)
		}
		if p.Model != req.Model || p.Stream != req.Stream {
			t.Fatalf("PeekRequest = %+v, DecodeRequest = model %q stream %v", p, req.Model, req.Stream)
		}
		checkReencode(t, req)
	})
}

// checkReencode encodes a decoded request for an Ollama upstream, decodes
// that, and checks that the second encoding equals the first.
func checkReencode(t *testing.T, req *llm.Request) {
	t.Helper()
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
}

// FuzzGenerateDecodeRequest: an /api/generate body is refused with a 400,
// or decodes to a chat request that an Ollama upstream can be sent.
func FuzzGenerateDecodeRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		req, err := gen.DecodeRequest(body)
		if err != nil {
			if e := asError(t, err); e.Kind != llm.KindInvalidRequest || e.Message == "" {
				t.Fatalf("refusal %#v is not a 400 with a message", e)
			}
			return
		}
		if req.Model == "" || len(req.Messages) == 0 || req.Messages[len(req.Messages)-1].Role != llm.RoleUser {
			t.Fatalf("accepted a request without model or prompt: %s", testkit.Dump(req))
		}
		checkReencode(t, req)
	})
}

// FuzzPeekRequest: PeekRequest refuses with a 400 or accepts; a body it
// accepts rewrites to valid JSON that peeks with the new model.
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
		rw := protocol.Rewrite{Model: "rewritten\u2028\"model", Drop: []string{"keep_alive"}, Rename: map[string]string{"think": "thinking"}}
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

// FuzzDecodeResponse: a body decodes or fails with a typed error; a decoded
// response encodes for chat and generate clients, and the chat encoding
// decodes to the same text, calls and usage.
func FuzzDecodeResponse(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		resp, err := proto.DecodeResponse(body)
		if err != nil {
			if e := asError(t, err); e.Message == "" {
				t.Fatalf("error without a message: %#v", e)
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
		if again.Usage != resp.Usage || again.Text() != resp.Text() ||
			len(again.Choices[0].Message.ToolCalls()) != len(resp.Choices[0].Message.ToolCalls()) {
			t.Fatalf("re-decoded response differs:\n%s\n%s", testkit.Dump(resp), testkit.Dump(again))
		}
		out.Reset()
		if err := gen.EncodeResponse(&out, &llm.Request{Model: "m"}, resp); err != nil || !json.Valid(out.Bytes()) {
			t.Fatalf("Generate.EncodeResponse = %s, %v", out.Bytes(), err)
		}
		encodeStream(t, proto, &llm.Request{Model: "m"}, llm.Events(resp), nil)
	})
}

// FuzzStreamDecoder: any body yields a well-formed event sequence that ends
// with io.EOF or an *llm.Error, and re-encodes for both kinds of client as
// valid NDJSON.
func FuzzStreamDecoder(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		s := proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(body)))
		var evs []llm.Event
		var end error
		for i := 0; ; i++ {
			// Every event needs input bytes: more events than bytes means
			// the decoder loops.
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
				end = err
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
		finished := false
		for i, ev := range evs {
			if (i == 0) != (ev.Type == llm.EventStart) || ev.Choice != 0 || ev.ToolIndex < 0 || finished {
				t.Fatalf("event %d is %s (finished %v)", i, formatEvent(ev), finished)
			}
			switch ev.Type {
			case llm.EventToolCall:
				if ev.ID == "" || started[ev.ToolIndex] {
					t.Fatalf("tool call without id or restarted: %s", formatEvent(ev))
				}
				started[ev.ToolIndex] = true
			case llm.EventToolArgs:
				if !started[ev.ToolIndex] || !json.Valid([]byte(ev.Text)) {
					t.Fatalf("arguments of a call that never started, or not JSON: %s", formatEvent(ev))
				}
			case llm.EventUsage:
				if ev.Usage == nil || ev.Usage.InputTokens < 0 || ev.Usage.OutputTokens < 0 {
					t.Fatalf("usage event %+v", ev.Usage)
				}
			case llm.EventFinish:
				finished = true
			}
		}
		if end == nil && !finished && len(evs) > 0 {
			t.Fatal("a clean end without a finish")
		}
		for _, in := range []protocol.Ingress{proto, gen} {
			out := encodeStream(t, in, &llm.Request{Model: "m"}, evs, end)
			for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
				if !json.Valid([]byte(l)) {
					t.Fatalf("encoded line is not JSON: %s", l)
				}
			}
		}
	})
}

// FuzzDecodeError: any upstream error body becomes an error with a kind and
// a message, which renders as a valid Ollama error body.
func FuzzDecodeError(f *testing.F) {
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		status = 400 + (status%200+200)%200 // an error status: 400–599
		e := proto.DecodeError(status, body)
		if e == nil || e.Kind == "" || e.Message == "" || e.HTTPStatus() != status || e.Origin != "ollama" {
			t.Fatalf("DecodeError(%d) = %#v", status, e)
		}
		st, out := proto.EncodeError(e)
		var back struct{ Error string }
		if st != status || json.Unmarshal(out, &back) != nil || back.Error != e.Message {
			t.Fatalf("EncodeError = %d %s", st, out)
		}
	})
}

// FuzzRelay: whatever the upstream sends, the relay forwards whole lines of
// it in order and flushes before it waits; it ends with nil or an
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
			l := bytes.TrimSuffix(b, []byte("\n"))
			i := bytes.Index(body[pos:], l)
			if i < 0 || len(l) == len(b) {
				t.Fatalf("forwarded %q, which is not a line of the rest of the input %q", b, body[pos:])
			}
			pos += i + len(l)
			pending += len(b)
			return len(b), nil
		})
		rest := body
		src := readerFunc(func(b []byte) (int, error) {
			if pending > 0 {
				t.Fatalf("reading the upstream with %d bytes not flushed", pending)
			}
			n := copy(b[:min(len(b), 61)], rest) // small reads split lines
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

// FuzzTapResponse: TapResponse never fails loudly and agrees with
// DecodeResponse on the counts of a body both read.
func FuzzTapResponse(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		u, ok := proto.TapResponse(body)
		if u.InputTokens < 0 || u.OutputTokens < 0 || !ok && u != (llm.Usage{}) {
			t.Fatalf("TapResponse = %+v, %v", u, ok)
		}
		resp, err := proto.DecodeResponse(body)
		if err != nil || !ok || bytes.IndexByte(bytes.TrimSpace(body), '\n') >= 0 {
			return
		}
		if resp.Usage != u {
			t.Fatalf("TapResponse %+v, DecodeResponse %+v", u, resp.Usage)
		}
	})
}

// FuzzDecodeModels: an upstream /api/tags body decodes to models with ids,
// or is refused as an upstream error.
func FuzzDecodeModels(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		models, err := proto.DecodeModels(body)
		if err != nil {
			if e := asError(t, err); e.Kind != llm.KindUpstream {
				t.Fatalf("error of kind %q", e.Kind)
			}
			return
		}
		for _, m := range models {
			if m.ID == "" {
				t.Fatalf("model without id: %+v", models)
			}
		}
	})
}

// FuzzDecodeShowRequest: an /api/show body names a model or is a 400.
func FuzzDecodeShowRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		m, err := proto.DecodeShowRequest(body)
		if err != nil {
			if e := asError(t, err); e.Kind != llm.KindInvalidRequest {
				t.Fatalf("error of kind %q", e.Kind)
			}
			return
		}
		if m == "" {
			t.Fatal("no model and no error")
		}
	})
}
