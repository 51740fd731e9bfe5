package gemini_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// TestRequestGolden decodes each request in testdata/requests and encodes
// it for a Gemini upstream, as the gateway does when it translates Gemini
// to Gemini. Two golden files per request: the canonical request
// (<name>.canonical.golden, what every other protocol's encoder sees) and
// the upstream body (<name>.golden).
func TestRequestGolden(t *testing.T) {
	for name, body := range requestCorpus(t) {
		t.Run(name, func(t *testing.T) {
			req, err := proto.DecodeRequest(body)
			if err != nil {
				t.Fatalf("DecodeRequest: %v", err)
			}
			base := filepath.Join("testdata/requests", name)
			testkit.GoldenJSON(t, base+".canonical.golden", []byte(testkit.Dump(req)))
			out, err := proto.EncodeRequest(req, "gemini-2.5-flash")
			if err != nil {
				t.Fatalf("EncodeRequest: %v", err)
			}
			testkit.GoldenJSON(t, base+".golden", out)
		})
	}
}

// TestResponseGolden decodes every recorded GenerateContentResponse and
// encodes it back for a client.
func TestResponseGolden(t *testing.T) {
	for _, file := range fixtures(t, false, true) {
		name := strings.TrimSuffix(filepath.Base(file), ".body.json")
		t.Run(name, func(t *testing.T) {
			resp, err := proto.DecodeResponse(testkit.ReadFile(t, file))
			if err != nil {
				t.Fatalf("DecodeResponse: %v", err)
			}
			base := filepath.Join("testdata/responses", name)
			testkit.GoldenJSON(t, base+".canonical.golden", []byte(testkit.Dump(resp)))
			var out bytes.Buffer
			if err := proto.EncodeResponse(&out, &llm.Request{Model: "client-model"}, resp); err != nil {
				t.Fatalf("EncodeResponse: %v", err)
			}
			testkit.GoldenJSON(t, base+".json.golden", out.Bytes())
		})
	}
}

// TestStreamGolden decodes each stream into canonical events (one line per
// event, then how the stream ended) and re-encodes the events for a Gemini
// client.
func TestStreamGolden(t *testing.T) {
	for name, body := range streamInputs(t) {
		t.Run(name, func(t *testing.T) {
			evs, streamErr := decodeStream(t, body)
			var text strings.Builder
			for _, ev := range evs {
				text.WriteString(formatEvent(ev))
				text.WriteByte('\n')
			}
			text.WriteString(formatEnd(streamErr))
			base := filepath.Join("testdata/streams", name)
			testkit.Golden(t, base+".events.golden", []byte(text.String()))

			var out bytes.Buffer
			enc := proto.NewStreamEncoder(&out, &llm.Request{Model: "client-model", Stream: true})
			if ct := enc.ContentType(); ct != "text/event-stream" {
				t.Errorf("ContentType = %q", ct)
			}
			for _, ev := range evs {
				if err := enc.Encode(ev); err != nil {
					t.Fatalf("Encode(%s): %v", formatEvent(ev), err)
				}
			}
			var err error
			if streamErr != nil {
				err = enc.Fail(llm.AsError(streamErr))
			} else {
				err = enc.Close()
			}
			if err != nil {
				t.Fatalf("ending the stream: %v", err)
			}
			testkit.Golden(t, base+".sse.golden", out.Bytes())
		})
	}
}

// formatEnd renders how a stream ended, as the last line of an events
// golden file.
func formatEnd(err error) string {
	if err == nil {
		return "eof\n"
	}
	e := llm.AsError(err)
	return fmt.Sprintf("error kind=%s code=%q message=%q\n", e.Kind, e.Code, e.Message)
}
