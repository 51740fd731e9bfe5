package ollama_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
	"github.com/llmux/llmux/protocol/ollama"
)

// fixtureDir holds the recorded provider responses shared by all protocol
// packages.
const fixtureDir = "../../testdata/fixtures/ollama"

var (
	proto ollama.Protocol
	gen   ollama.Generate
)

// fixedTime is the clock of tests that compare encoder output byte for
// byte: every created_at is this instant and every measured duration 0.
var fixedTime = time.Date(2026, 9, 1, 12, 0, 0, 123456789, time.UTC)

// fixClock fixes the package clock for the rest of the test.
func fixClock(t testing.TB) {
	t.Helper()
	t.Cleanup(ollama.SetNow(func() time.Time { return fixedTime }))
}

// fixtureMeta is the part of a *.meta.json file the tests read.
type fixtureMeta struct {
	Endpoint string `json:"endpoint"`
	Status   int    `json:"status"`
	BodyFile string `json:"body_file"`
	Request  struct {
		Stream bool `json:"stream"`
	} `json:"request"`
}

// chatFixtures returns the body files of the /api/chat fixtures, selected
// through their meta files: stream bodies or JSON bodies, with status 200
// (ok) or not.
func chatFixtures(t testing.TB, stream, ok bool) []string {
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
		if meta.Endpoint != "ollama.chat" || meta.Request.Stream != stream || (meta.Status == 200) != ok {
			continue
		}
		files = append(files, filepath.Join(fixtureDir, meta.BodyFile))
	}
	if len(files) == 0 {
		t.Fatalf("no chat fixtures with stream=%v ok=%v in %s", stream, ok, fixtureDir)
	}
	return files
}

// formatEvent renders a canonical event on one line, naming only the fields
// the event type uses.
func formatEvent(ev llm.Event) string {
	var b strings.Builder
	b.WriteString(ev.Type.String())
	switch ev.Type {
	case llm.EventStart:
		fmt.Fprintf(&b, " id=%q model=%q created=%d", ev.ID, ev.Model, ev.Created)
	case llm.EventText, llm.EventRefusal, llm.EventReasoning:
		fmt.Fprintf(&b, " choice=%d %q", ev.Choice, ev.Text)
	case llm.EventToolCall:
		fmt.Fprintf(&b, " choice=%d index=%d id=%q name=%q args=%q", ev.Choice, ev.ToolIndex, ev.ID, ev.Name, ev.Text)
	case llm.EventToolArgs:
		fmt.Fprintf(&b, " choice=%d index=%d %q", ev.Choice, ev.ToolIndex, ev.Text)
	case llm.EventFinish:
		fmt.Fprintf(&b, " choice=%d reason=%s", ev.Choice, ev.FinishReason)
	}
	if u := ev.Usage; u != nil {
		fmt.Fprintf(&b, " input=%d output=%d", u.InputTokens, u.OutputTokens)
	}
	if len(ev.Logprobs) > 0 {
		fmt.Fprintf(&b, " logprobs=%d", len(ev.Logprobs))
	}
	return b.String()
}

// formatEnd renders how a stream ended.
func formatEnd(err error) string {
	if err == nil {
		return "eof"
	}
	e := llm.AsError(err)
	return fmt.Sprintf("error kind=%s code=%q message=%q", e.Kind, e.Code, e.Message)
}

// decodeStream decodes an NDJSON body into events.
func decodeStream(t testing.TB, body []byte) ([]llm.Event, error) {
	t.Helper()
	return testkit.ReadEvents(t, proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(body))))
}

// encodeStream encodes events for a client of in (Protocol or Generate),
// ending with Close, or with Fail when end is not nil.
func encodeStream(t testing.TB, in protocol.Ingress, req *llm.Request, evs []llm.Event, end error) []byte {
	t.Helper()
	var out bytes.Buffer
	enc := in.NewStreamEncoder(&out, req)
	if ct := enc.ContentType(); ct != "application/x-ndjson" {
		t.Errorf("ContentType = %q", ct)
	}
	for _, ev := range evs {
		if err := enc.Encode(ev); err != nil {
			t.Fatalf("Encode(%s): %v", formatEvent(ev), err)
		}
	}
	var err error
	if end != nil {
		err = enc.Fail(llm.AsError(end))
	} else {
		err = enc.Close()
	}
	if err != nil {
		t.Fatalf("ending the stream: %v", err)
	}
	return out.Bytes()
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

// streamInputs returns the NDJSON bodies the stream tests run on: the
// recorded fixtures and the crafted streams in testdata/streams, keyed by
// the name their golden files use.
func streamInputs(t testing.TB) map[string][]byte {
	t.Helper()
	in := make(map[string][]byte)
	for _, file := range chatFixtures(t, true, true) {
		in[strings.TrimSuffix(filepath.Base(file), ".body.ndjson")] = testkit.ReadFile(t, file)
	}
	crafted, err := filepath.Glob("testdata/streams/*.ndjson")
	if err != nil || len(crafted) == 0 {
		t.Fatalf("no streams in testdata/streams: %v", err)
	}
	for _, file := range crafted {
		in[strings.TrimSuffix(filepath.Base(file), ".ndjson")] = testkit.ReadFile(t, file)
	}
	return in
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
