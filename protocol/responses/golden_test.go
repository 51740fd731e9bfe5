package responses_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// TestRequestGolden decodes each request in testdata/requests and encodes
// it for a Responses upstream, as the gateway does when it translates
// Responses to Responses. The .golden file is the upstream body, and the
// .canonical.golden file the canonical request in between.
func TestRequestGolden(t *testing.T) {
	for name, body := range requestCorpus(t) {
		t.Run(name, func(t *testing.T) {
			req, err := proto.DecodeRequest(body)
			if err != nil {
				t.Fatalf("DecodeRequest: %v", err)
			}
			canon := compactJSON(t, req)
			base := filepath.Join("testdata/requests", name)
			testkit.GoldenJSON(t, base+".canonical.golden", canon)
			out, err := proto.EncodeRequest(req, req.Model)
			if err != nil {
				t.Fatalf("EncodeRequest: %v", err)
			}
			testkit.GoldenJSON(t, base+".golden", out)
		})
	}
}

// TestResponseGolden decodes every recorded response body and encodes it
// back for a client.
func TestResponseGolden(t *testing.T) {
	for _, file := range fixtures(t, false, true) {
		name := strings.TrimSuffix(filepath.Base(file), ".body.json")
		t.Run(name, func(t *testing.T) {
			deterministic(t)
			resp, err := proto.DecodeResponse(testkit.ReadFile(t, file))
			if err != nil {
				t.Fatalf("DecodeResponse: %v", err)
			}
			var out bytes.Buffer
			if err := proto.EncodeResponse(&out, &llm.Request{Model: "client-model", Origin: "responses"}, resp); err != nil {
				t.Fatalf("EncodeResponse: %v", err)
			}
			testkit.GoldenJSON(t, filepath.Join("testdata/responses", name+".json.golden"), out.Bytes())
		})
	}
}

// streamInputs returns the SSE bodies the stream tests run on: the recorded
// fixtures and the crafted streams in testdata/streams, keyed by the name
// their golden files use.
func streamInputs(t testing.TB) map[string][]byte {
	t.Helper()
	in := make(map[string][]byte)
	for _, file := range fixtures(t, true, true) {
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
// event, then how the stream ended) and re-encodes the events for a client.
func TestStreamGolden(t *testing.T) {
	for name, body := range streamInputs(t) {
		t.Run(name, func(t *testing.T) {
			deterministic(t)
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
			enc := proto.NewStreamEncoder(&out, &llm.Request{Model: "client-model", Stream: true, Origin: "responses"})
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
			checkSequence(t, out.Bytes())
		})
	}
}

// checkSequence checks the rules every encoded stream keeps: sequence
// numbers count from 0 by one, every event's name is its type, and the
// stream ends with exactly one terminal event.
func checkSequence(t *testing.T, body []byte) {
	t.Helper()
	var names []string
	for _, line := range strings.Split(string(body), "\n") {
		if n, ok := strings.CutPrefix(line, "event: "); ok {
			names = append(names, n)
		}
	}
	data := sseData(t, body)
	if len(data) != len(names) {
		t.Fatalf("%d event names for %d data lines", len(names), len(data))
	}
	terminals := 0
	for i, d := range data {
		if d["type"] != names[i] {
			t.Errorf("event %d is named %q but has type %v", i, names[i], d["type"])
		}
		if seq, _ := d["sequence_number"].(float64); int(seq) != i {
			t.Errorf("event %d (%s) has sequence_number %v", i, names[i], d["sequence_number"])
		}
		switch names[i] {
		case "response.completed", "response.incomplete", "response.failed":
			terminals++
			if i != len(data)-1 {
				t.Errorf("terminal event %s at %d of %d", names[i], i, len(data))
			}
		}
	}
	if terminals != 1 {
		t.Errorf("%d terminal events", terminals)
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

// compactJSON renders v as JSON without its zero members, so that a golden
// file of a canonical value shows what is set.
func compactJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(prune(tree))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e = prune(e); e == nil {
				delete(x, k)
			} else {
				x[k] = e
			}
		}
		if len(x) == 0 {
			return nil
		}
	case []any:
		for i := range x {
			x[i] = prune(x[i])
		}
		if len(x) == 0 {
			return nil
		}
	case string:
		if x == "" {
			return nil
		}
	case bool:
		if !x {
			return nil
		}
	case float64:
		if x == 0 {
			return nil
		}
	}
	return v
}
