package gemini_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol/gemini"
)

// fixtureDir holds the recorded provider responses shared by all protocol
// packages.
const fixtureDir = "../../testdata/fixtures/gemini"

var proto gemini.Protocol

// fixtureMeta is the part of a *.meta.json file the tests read.
type fixtureMeta struct {
	Endpoint string `json:"endpoint"`
	Status   int    `json:"status"`
	BodyFile string `json:"body_file"`
	Request  struct {
		Stream bool `json:"stream"`
	} `json:"request"`
}

// fixtures returns the body files of the Gemini fixtures, selected through
// their meta files: stream bodies or JSON bodies, with status 200 (ok) or
// not.
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
		if meta.Endpoint != "gemini.generateContent" || meta.Request.Stream != stream || (meta.Status == 200) != ok {
			continue
		}
		files = append(files, filepath.Join(fixtureDir, meta.BodyFile))
	}
	if len(files) == 0 {
		t.Fatalf("no fixtures with stream=%v ok=%v in %s", stream, ok, fixtureDir)
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
	case llm.EventText, llm.EventRefusal:
		fmt.Fprintf(&b, " choice=%d %q", ev.Choice, ev.Text)
	case llm.EventReasoning:
		fmt.Fprintf(&b, " choice=%d %q summary=%v", ev.Choice, ev.Text, ev.Summary)
		if ev.Signature != "" {
			fmt.Fprintf(&b, " signature=%q", abbrev(ev.Signature))
		}
	case llm.EventToolCall:
		fmt.Fprintf(&b, " choice=%d index=%d id=%q name=%q args=%q", ev.Choice, ev.ToolIndex, ev.ID, ev.Name, ev.Text)
		if ev.Signature != "" {
			fmt.Fprintf(&b, " signature=%q", abbrev(ev.Signature))
		}
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

// abbrev shortens a long signature for a golden file.
func abbrev(s string) string {
	if len(s) <= 24 {
		return s
	}
	return s[:12] + "…" + s[len(s)-8:]
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

// normalize sets empty slices and maps inside v to nil, so that a decoder
// that allocates an empty collection compares equal to an expectation that
// leaves it out.
func normalize(v any) {
	normalizeValue(reflect.ValueOf(v))
}

func normalizeValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			normalizeValue(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Field(i).CanSet() {
				normalizeValue(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			if !v.IsNil() && v.CanSet() {
				v.SetZero()
			}
			return
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		for i := range v.Len() {
			normalizeValue(v.Index(i))
		}
	case reflect.Map:
		if v.Len() == 0 && !v.IsNil() && v.CanSet() {
			v.SetZero()
		}
	}
}

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
