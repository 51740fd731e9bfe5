package responses_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol/responses"
)

// fixtureDir holds the recorded provider responses shared by all protocol
// packages; this package reads the OpenAI Responses ones.
const fixtureDir = "../../testdata/fixtures/openai"

var proto responses.Protocol

// fixtureMeta is the part of a *.meta.json file the tests read.
type fixtureMeta struct {
	Endpoint string `json:"endpoint"`
	Status   int    `json:"status"`
	BodyFile string `json:"body_file"`
	Request  struct {
		Stream bool `json:"stream"`
	} `json:"request"`
}

// fixtures returns the body files of the Responses fixtures, selected
// through their meta files: stream bodies or JSON bodies, with status 200
// (ok) or not.
func fixtures(t testing.TB, stream, ok bool) []string {
	t.Helper()
	metas, err := filepath.Glob(filepath.Join(fixtureDir, "*.meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, m := range metas {
		var meta fixtureMeta
		if err := json.Unmarshal(testkit.ReadFile(t, m), &meta); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if meta.Endpoint != "openai.responses" || (meta.Status == 200) != ok {
			continue
		}
		isStream := strings.HasSuffix(meta.BodyFile, ".sse")
		if ok && isStream != stream {
			continue
		}
		files = append(files, filepath.Join(fixtureDir, meta.BodyFile))
	}
	if len(files) == 0 {
		t.Fatalf("no responses fixtures with stream=%v ok=%v in %s", stream, ok, fixtureDir)
	}
	return files
}

// deterministic makes generated ids and times reproducible for the test.
func deterministic(t testing.TB) {
	t.Helper()
	t.Cleanup(responses.Deterministic())
}

// formatEvent renders a canonical event on one line, naming only the fields
// the event type uses.
func formatEvent(ev llm.Event) string {
	var b strings.Builder
	b.WriteString(ev.Type.String())
	switch ev.Type {
	case llm.EventStart:
		fmt.Fprintf(&b, " id=%q model=%q created=%d", ev.ID, ev.Model, ev.Created)
	case llm.EventText, llm.EventRefusal:
		fmt.Fprintf(&b, " choice=%d %q", ev.Choice, ev.Text)
	case llm.EventReasoning:
		fmt.Fprintf(&b, " choice=%d %q summary=%v", ev.Choice, ev.Text, ev.Summary)
		if ev.ID != "" || ev.Signature != "" || ev.Data != "" {
			fmt.Fprintf(&b, " id=%q signature=%q data=%q", ev.ID, ev.Signature, ev.Data)
		}
	case llm.EventToolCall:
		fmt.Fprintf(&b, " choice=%d index=%d id=%q name=%q args=%q", ev.Choice, ev.ToolIndex, ev.ID, ev.Name, ev.Text)
	case llm.EventToolArgs:
		fmt.Fprintf(&b, " choice=%d index=%d %q", ev.Choice, ev.ToolIndex, ev.Text)
	case llm.EventFinish:
		fmt.Fprintf(&b, " choice=%d reason=%s", ev.Choice, ev.FinishReason)
	}
	if u := ev.Usage; u != nil {
		fmt.Fprintf(&b, " input=%d output=%d cached=%d cache_write=%d reasoning=%d",
			u.InputTokens, u.OutputTokens, u.CachedTokens, u.CacheWriteTokens, u.ReasoningTokens)
	}
	if len(ev.Logprobs) > 0 {
		fmt.Fprintf(&b, " logprobs=%d", len(ev.Logprobs))
	}
	return b.String()
}

// decodeStream decodes an SSE body into events.
func decodeStream(t testing.TB, body []byte) ([]llm.Event, error) {
	t.Helper()
	return testkit.ReadEvents(t, proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(body))))
}

// asError returns err as an *llm.Error or fails the test.
func asError(t testing.TB, err error) *llm.Error {
	t.Helper()
	var e *llm.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
	}
	return e
}

func ptr[T any](v T) *T { return &v }

// requestCorpus returns the request bodies in testdata/requests by name.
func requestCorpus(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/requests/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no requests in testdata/requests: %v", err)
	}
	corpus := make(map[string][]byte, len(files))
	for _, f := range files {
		corpus[strings.TrimSuffix(filepath.Base(f), ".json")] = testkit.ReadFile(t, f)
	}
	return corpus
}

// sseData returns the data lines of an SSE body, parsed, in order.
func sseData(t testing.TB, body []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(string(body), "\n") {
		data, ok := strings.CutPrefix(strings.TrimSuffix(line, "\r"), "data: ")
		if !ok {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			t.Fatalf("data line %s: %v", data, err)
		}
		out = append(out, m)
	}
	return out
}
