package ollama_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// TestRequestGolden decodes each request in testdata/requests and encodes
// it for an upstream, as the gateway does when it translates Ollama to
// Ollama. The golden file is the upstream body.
func TestRequestGolden(t *testing.T) {
	for name, body := range requestCorpus(t) {
		t.Run(name, func(t *testing.T) {
			req, err := proto.DecodeRequest(body)
			if err != nil {
				t.Fatalf("DecodeRequest: %v", err)
			}
			out, err := proto.EncodeRequest(req, "upstream-model")
			if err != nil {
				t.Fatalf("EncodeRequest: %v", err)
			}
			testkit.GoldenJSON(t, filepath.Join("testdata/requests", name+".golden"), out)
		})
	}
}

// TestResponseGolden decodes every recorded 200 body and encodes it back
// for a client, in /api/chat's and in /api/generate's shape.
func TestResponseGolden(t *testing.T) {
	for _, file := range chatFixtures(t, false, true) {
		name := strings.TrimSuffix(filepath.Base(file), ".body.json")
		t.Run(name, func(t *testing.T) {
			resp, err := proto.DecodeResponse(testkit.ReadFile(t, file))
			if err != nil {
				t.Fatalf("DecodeResponse: %v", err)
			}
			req := &llm.Request{Model: "client-model"}
			var out bytes.Buffer
			if err := proto.EncodeResponse(&out, req, resp); err != nil {
				t.Fatalf("EncodeResponse: %v", err)
			}
			testkit.GoldenJSON(t, filepath.Join("testdata/responses", name+".chat.json.golden"), out.Bytes())
			out.Reset()
			if err := gen.EncodeResponse(&out, req, resp); err != nil {
				t.Fatalf("Generate.EncodeResponse: %v", err)
			}
			testkit.GoldenJSON(t, filepath.Join("testdata/responses", name+".generate.json.golden"), out.Bytes())
		})
	}
}

// TestStreamGolden decodes each stream into canonical events (one line per
// event, then how the stream ended) and encodes the events again for an
// /api/chat and an /api/generate client, on a fixed clock.
func TestStreamGolden(t *testing.T) {
	fixClock(t)
	for name, body := range streamInputs(t) {
		t.Run(name, func(t *testing.T) {
			evs, streamErr := decodeStream(t, body)
			var text strings.Builder
			for _, ev := range evs {
				text.WriteString(formatEvent(ev))
				text.WriteByte('\n')
			}
			text.WriteString(formatEnd(streamErr) + "\n")
			base := filepath.Join("testdata/streams", name)
			testkit.Golden(t, base+".events.golden", []byte(text.String()))
			req := &llm.Request{Model: "client-model", Stream: true}
			testkit.Golden(t, base+".chat.ndjson.golden", encodeStream(t, proto, req, evs, streamErr))
			testkit.Golden(t, base+".generate.ndjson.golden", encodeStream(t, gen, req, evs, streamErr))
		})
	}
}
