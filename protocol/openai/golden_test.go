package openai_test

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
// it for an upstream, as the gateway does when it translates OpenAI to
// OpenAI. The golden file is the upstream body.
func TestRequestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/requests/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no requests in testdata/requests: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			req, err := proto.DecodeRequest(testkit.ReadFile(t, file))
			if err != nil {
				t.Fatalf("DecodeRequest: %v", err)
			}
			out, err := proto.EncodeRequest(req, req.Model)
			if err != nil {
				t.Fatalf("EncodeRequest: %v", err)
			}
			testkit.GoldenJSON(t, strings.TrimSuffix(file, ".json")+".golden", out)
		})
	}
}

// TestResponseGolden decodes every recorded chat.completion body and encodes
// it back for a client.
func TestResponseGolden(t *testing.T) {
	for _, file := range chatFixtures(t, false, true) {
		name := strings.TrimSuffix(filepath.Base(file), ".body.json")
		t.Run(name, func(t *testing.T) {
			resp, err := proto.DecodeResponse(testkit.ReadFile(t, file))
			if err != nil {
				t.Fatalf("DecodeResponse: %v", err)
			}
			var out bytes.Buffer
			if err := proto.EncodeResponse(&out, &llm.Request{Model: "client-model"}, resp); err != nil {
				t.Fatalf("EncodeResponse: %v", err)
			}
			testkit.GoldenJSON(t, filepath.Join("testdata/responses", name+".json.golden"), out.Bytes())
		})
	}
}

// streamInputs returns the SSE bodies the stream tests run on: the recorded
// fixtures and the crafted compatible-server streams in testdata/streams,
// keyed by the name their golden files use.
func streamInputs(t testing.TB) map[string][]byte {
	t.Helper()
	in := make(map[string][]byte)
	for _, file := range chatFixtures(t, true, true) {
		in[strings.TrimSuffix(filepath.Base(file), ".body.sse")] = testkit.ReadFile(t, file)
	}
	crafted, err := filepath.Glob("testdata/streams/*.sse")
	if err != nil || len(crafted) == 0 {
		t.Fatalf("no streams in testdata/streams: %v", err)
	}
	for _, file := range crafted {
		in[strings.TrimSuffix(filepath.Base(file), ".sse")] = testkit.ReadFile(t, file)
	}
	return in
}

// TestStreamGolden decodes each stream into canonical events (one line per
// event, then how the stream ended) and re-encodes the events for a client
// that asked for usage and for one that did not.
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

			for _, usage := range []bool{true, false} {
				var out bytes.Buffer
				enc := proto.NewStreamEncoder(&out, &llm.Request{Model: "client-model", Stream: true, StreamUsage: usage})
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
				suffix := ".nousage.sse.golden"
				if usage {
					suffix = ".usage.sse.golden"
				}
				testkit.Golden(t, base+suffix, out.Bytes())
			}
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
