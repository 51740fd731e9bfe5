package ollama_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// TestRequestRoundTrip: an Ollama request decoded, encoded for an Ollama
// upstream and decoded again is the same canonical request, made-up tool
// call ids included (they are not sent, and come back the same).
func TestRequestRoundTrip(t *testing.T) {
	for name, body := range requestCorpus(t) {
		t.Run(name, func(t *testing.T) {
			req, err := proto.DecodeRequest(body)
			if err != nil {
				t.Fatal(err)
			}
			wire, err := proto.EncodeRequest(req, req.Model)
			if err != nil {
				t.Fatal(err)
			}
			again, err := proto.DecodeRequest(wire)
			if err != nil {
				t.Fatalf("%s: %v", wire, err)
			}
			if testkit.Dump(again) != testkit.Dump(req) {
				t.Errorf("round trip differs:\n%s\n%s", testkit.Dump(again), testkit.Dump(req))
			}
		})
	}
}

// TestResponseRoundTrip: every decoded stream, encoded for an /api/chat
// client and decoded again, folds to the same answer (ids, text, thinking,
// calls, finish and usage).
func TestResponseRoundTrip(t *testing.T) {
	for name, body := range streamInputs(t) {
		t.Run(name, func(t *testing.T) {
			evs, streamErr := decodeStream(t, body)
			if streamErr != nil {
				return
			}
			var want llm.Accumulator
			for _, ev := range evs {
				want.Add(ev)
			}
			out := encodeStream(t, proto, &llm.Request{Model: "m"}, evs, nil)
			got, err := llm.Collect(proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(out))))
			if err != nil {
				t.Fatal(err)
			}
			w := want.Response()
			w.Model, w.Created, got.Created = "m", 0, 0
			if testkit.Dump(got) != testkit.Dump(w) {
				t.Errorf("round trip differs:\n%s\n%s", testkit.Dump(got), testkit.Dump(w))
			}
		})
	}
}
