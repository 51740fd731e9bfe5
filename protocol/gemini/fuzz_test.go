package gemini_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// maxFuzzInput bounds the inputs of the fuzz targets: the decoders are
// linear, and larger inputs only slow the fuzzer down.
const maxFuzzInput = 64 << 10

// The seed corpora are in testdata/fuzz/<FuzzName>/; go test -seeds
// rewrites them from the request corpus, the fixtures and the crafted
// streams.
var seeds = flag.Bool("seeds", false, "rewrite the fuzz seed corpora in testdata/fuzz")

// FuzzDecodeRequest: a request body is refused with a 400, or decodes to a
// request that the passthrough peek accepts too, that encodes for a Gemini
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
		if req.Model != "" || req.Stream || len(req.Messages) == 0 || req.Origin != "gemini" {
			t.Fatalf("decoded %s", testkit.Dump(req))
		}
		if _, err := proto.PeekRequest(body); err != nil {
			t.Fatalf("DecodeRequest accepts what PeekRequest refuses: %v", err)
		}
		wire, err := proto.EncodeRequest(req, "gemini-2.5-flash")
		if err != nil {
			t.Fatalf("EncodeRequest of a decoded request: %v", err)
		}
		again, err := proto.DecodeRequest(wire)
		if err != nil {
			t.Fatalf("the encoded request does not decode: %v\n%s", err, wire)
		}
		wire2, err := proto.EncodeRequest(again, "gemini-2.5-flash")
		if err != nil {
			t.Fatalf("EncodeRequest, second round: %v", err)
		}
		if !testkit.JSONEqual(wire, wire2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", wire, wire2)
		}
		// As a foreign request, it encodes or is refused with a 400.
		req.Origin = "openai"
		if _, err := proto.EncodeRequest(req, "gemini-3-pro-preview"); err != nil && asError(t, err).Kind != llm.KindInvalidRequest {
			t.Fatalf("foreign encoding failed with %v", err)
		}
	})
}

// FuzzDecodeCountRequest: a countTokens body is refused with a 400, or
// decodes to a request that encodes for the upstream's countTokens.
func FuzzDecodeCountRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		req, err := proto.DecodeCountRequest(body)
		if err != nil {
			if e := asError(t, err); e.Kind != llm.KindInvalidRequest {
				t.Fatalf("refusal of kind %q", e.Kind)
			}
			return
		}
		out, err := proto.EncodeCountRequest(req, "gemini-2.5-flash")
		if err != nil || !json.Valid(out) {
			t.Fatalf("EncodeCountRequest = %s, %v", out, err)
		}
	})
}

// FuzzPeekRequest: PeekRequest refuses with a 400 or accepts; a body it
// accepts rewrites to valid JSON that it accepts again.
func FuzzPeekRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		if _, err := proto.PeekRequest(body); err != nil {
			if e := asError(t, err); e.Kind != llm.KindInvalidRequest {
				t.Fatalf("refusal of kind %q", e.Kind)
			}
			return
		}
		same, err := proto.RewriteRequest(nil, body, protocol.Rewrite{Model: "ignored"})
		if err != nil || !bytes.Equal(same, body) {
			t.Fatalf("a rewrite without edits changed the body: %s (%v)", same, err)
		}
		rw := protocol.Rewrite{Drop: []string{"safetySettings"}, Rename: map[string]string{"cachedContent": "cached_content"}}
		out, err := proto.RewriteRequest([]byte("x"), body, rw)
		if err != nil {
			t.Fatalf("RewriteRequest of an accepted body: %v", err)
		}
		out = out[1:]
		if !json.Valid(out) {
			t.Fatalf("RewriteRequest produced invalid JSON:\n%s\nfrom\n%s", out, body)
		}
		if _, err := proto.PeekRequest(out); err != nil {
			t.Fatalf("the rewritten body is refused: %v\n%s", err, out)
		}
	})
}

// FuzzDecodeResponse: a body decodes or fails as an upstream error; a
// decoded response encodes for a client, as JSON and as a stream, and the
// JSON decodes again to the same text, usage and choices.
func FuzzDecodeResponse(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		resp, err := proto.DecodeResponse(body)
		if err != nil {
			asError(t, err)
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
		enc := proto.NewStreamEncoder(&out, &llm.Request{Model: "m"})
		for _, ev := range llm.Events(resp) {
			if err := enc.Encode(ev); err != nil {
				t.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		checkStreamOutput(t, out.Bytes())
	})
}

// checkStreamOutput checks that an encoded stream is CRLF-framed data
// events holding valid JSON.
func checkStreamOutput(t *testing.T, out []byte) {
	t.Helper()
	for _, ev := range strings.Split(strings.TrimSuffix(string(out), "\r\n\r\n"), "\r\n\r\n") {
		data, ok := strings.CutPrefix(ev, "data: ")
		if !ok || !json.Valid([]byte(data)) {
			t.Fatalf("bad event %q in\n%s", ev, out)
		}
	}
}

// FuzzStreamDecoder: reading arbitrary bytes as a stream ends, with io.EOF
// or an *llm.Error, after well-formed events that the Gemini stream
// encoder turns into valid chunks.
func FuzzStreamDecoder(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		s := proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(body)))
		var evs []llm.Event
		var streamErr error
		for i := 0; ; i++ {
			if i > 4*len(body)+8 {
				t.Fatalf("%d events from %d bytes", i, len(body))
			}
			ev, err := s.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				streamErr = asError(t, err)
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
			if ev.Choice < 0 || ev.Choice >= llm.MaxChoices || ev.ToolIndex < 0 {
				t.Fatalf("index out of range: %s", formatEvent(ev))
			}
			switch ev.Type {
			case llm.EventToolCall:
				started[[2]int{ev.Choice, ev.ToolIndex}] = true
				if ev.ID == "" || ev.Name == "" {
					t.Fatalf("tool call without id or name: %s", formatEvent(ev))
				}
			case llm.EventToolArgs:
				if !started[[2]int{ev.Choice, ev.ToolIndex}] || !json.Valid([]byte(ev.Text)) || ev.Text[0] != '{' {
					t.Fatalf("bad arguments: %s", formatEvent(ev))
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
			enc.Fail(llm.AsError(streamErr))
		} else {
			enc.Close()
		}
		checkStreamOutput(t, out.Bytes())
	})
}

// FuzzDecodeError: any upstream error body becomes an error with a kind and
// a message, which renders as a valid Gemini error body.
func FuzzDecodeError(f *testing.F) {
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		status = 400 + (status%200+200)%200 // an error status: 400–599
		e := proto.DecodeError(status, body)
		if e == nil || e.Kind == "" || e.Message == "" || e.HTTPStatus() != status || e.Origin != "gemini" || e.RetryAfter < 0 {
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
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		relay := proto.NewRelay(protocol.Peek{})
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

// FuzzTapResponse: tapping usage never panics, and reports usage only for
// valid JSON.
func FuzzTapResponse(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		u, ok := proto.TapResponse(body)
		if !ok && !u.IsZero() {
			t.Fatalf("usage %+v reported without ok", u)
		}
		if ok && !json.Valid(body) {
			t.Fatalf("usage tapped from invalid JSON: %s", body)
		}
	})
}

// FuzzDecodeModels: a model list decodes to models with ids, or is refused
// as an upstream error; so is a token count.
func FuzzDecodeModels(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		models, err := proto.DecodeModels(body)
		if err != nil {
			if asError(t, err).Kind != llm.KindUpstream {
				t.Fatalf("error %v", err)
			}
		}
		for _, m := range models {
			if m.ID == "" {
				t.Fatalf("model without id in %s", body)
			}
		}
		if n, err := proto.DecodeCount(body); err != nil && asError(t, err).Kind != llm.KindUpstream || n < 0 {
			t.Fatalf("DecodeCount = %d, %v", n, err)
		}
	})
}

// FuzzAddress: a URL below models/ addresses a chat or a count with a
// model, or is refused with a 400 or 404.
func FuzzAddress(f *testing.F) {
	for _, s := range []string{"gemini-2.5-flash:generateContent", "claude/sonnet:streamGenerateContent", "x:countTokens", ":", "a:b:c"} {
		f.Add(s, "alt=sse")
	}
	f.Fuzz(func(t *testing.T, rest, query string) {
		a, err := proto.Address(rest, query)
		if err != nil {
			if k := asError(t, err).Kind; k != llm.KindNotFound && k != llm.KindInvalidRequest {
				t.Fatalf("kind %q", k)
			}
			return
		}
		if a.Model == "" || (a.Op != protocol.OpChat && a.Op != protocol.OpCountTokens) || a.Stream && a.Op != protocol.OpChat {
			t.Fatalf("Address(%q) = %+v", rest, a)
		}
	})
}

// TestWriteSeeds rewrites the seed corpora with -seeds.
func TestWriteSeeds(t *testing.T) {
	if !*seeds {
		t.Skip("go test -seeds rewrites the fuzz seed corpora")
	}
	write := func(target, name string, args ...any) {
		dir := filepath.Join("testdata/fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, a := range args {
			switch v := a.(type) {
			case []byte:
				b.WriteString("[]byte(" + strconv.Quote(string(v)) + ")\n")
			case int:
				fmt.Fprintf(&b, "int(%d)\n", v)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range requestCorpus(t) {
		write("FuzzDecodeRequest", name, body)
		write("FuzzPeekRequest", name, body)
		write("FuzzDecodeCountRequest", name, []byte(`{"generateContentRequest":`+string(body)+`}`))
	}
	for i, tt := range decodeRequestTests {
		write("FuzzDecodeRequest", fmt.Sprintf("table-%02d", i), []byte(tt.body))
	}
	write("FuzzDecodeCountRequest", "contents", []byte(`{`+hello+`}`))
	for _, file := range fixtures(t, false, true) {
		name := strings.TrimSuffix(filepath.Base(file), ".body.json")
		write("FuzzDecodeResponse", name, testkit.ReadFile(t, file))
		write("FuzzTapResponse", name, testkit.ReadFile(t, file))
	}
	write("FuzzDecodeResponse", "blocked", []byte(`{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":3}}`))
	write("FuzzDecodeResponse", "thought-and-call", []byte(`{"candidates":[{"content":{"role":"model","parts":[{"text":"t","thought":true,"thoughtSignature":"QQ=="},{"functionCall":{"name":"f","args":{"a":[1,{"b":null}]}},"thoughtSignature":"Qg=="}]},"finishReason":"STOP","index":0,"logprobsResult":{"chosenCandidates":[{"token":"t","logProbability":-1}]}}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":2,"thoughtsTokenCount":9},"responseId":"r"}`))
	for name, body := range streamInputs(t) {
		write("FuzzStreamDecoder", name, body)
		write("FuzzRelay", name, body)
	}
	for _, file := range fixtures(t, false, false) {
		meta := strings.TrimSuffix(file, ".body.json") + ".meta.json"
		var m fixtureMeta
		if err := json.Unmarshal(testkit.ReadFile(t, meta), &m); err != nil {
			t.Fatal(err)
		}
		write("FuzzDecodeError", strings.TrimSuffix(filepath.Base(file), ".body.json"), m.Status, testkit.ReadFile(t, file))
	}
	write("FuzzDecodeError", "array-form", 503, []byte(`[{"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}]`))
	write("FuzzDecodeModels", "list", []byte(`{"models":[{"name":"models/gemini-2.5-flash","supportedGenerationMethods":["generateContent"]},{"name":"models/e","supportedGenerationMethods":["embedContent"]}]}`))
	write("FuzzDecodeModels", "count", []byte(`{"totalTokens":12}`))
}
