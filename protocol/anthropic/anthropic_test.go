package anthropic_test

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
	"github.com/llmux/llmux/protocol/anthropic"
)

// fixtureDir holds the recorded provider responses shared by all protocol
// packages.
const fixtureDir = "../../testdata/fixtures/anthropic"

var proto anthropic.Protocol

// fixtureMeta is the part of a *.meta.json file the tests read.
type fixtureMeta struct {
	Endpoint string `json:"endpoint"`
	Status   int    `json:"status"`
	BodyFile string `json:"body_file"`
	Request  struct {
		Stream bool `json:"stream"`
	} `json:"request"`
}

// fixtures returns the body files of the Messages fixtures, selected
// through their meta files: stream bodies or JSON bodies, with status 200
// (ok) or not. An error fixture's stream flag says how it was requested,
// not how it answered, so errors are selected by status alone.
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
		isStream := strings.HasSuffix(meta.BodyFile, ".sse")
		if meta.Endpoint != "anthropic.messages" || (meta.Status == 200) != ok || ok && isStream != stream {
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
		fmt.Fprintf(&b, " id=%q model=%q", ev.ID, ev.Model)
	case llm.EventText, llm.EventRefusal:
		fmt.Fprintf(&b, " choice=%d %q", ev.Choice, ev.Text)
	case llm.EventReasoning:
		fmt.Fprintf(&b, " choice=%d %q", ev.Choice, ev.Text)
		if ev.Signature != "" || ev.Data != "" || ev.Redacted {
			fmt.Fprintf(&b, " signature=%q data=%q redacted=%v", ev.Signature, ev.Data, ev.Redacted)
		}
	case llm.EventToolCall:
		fmt.Fprintf(&b, " choice=%d index=%d id=%q name=%q args=%q", ev.Choice, ev.ToolIndex, ev.ID, ev.Name, ev.Text)
	case llm.EventToolArgs:
		fmt.Fprintf(&b, " choice=%d index=%d %q", ev.Choice, ev.ToolIndex, ev.Text)
	case llm.EventFinish:
		fmt.Fprintf(&b, " choice=%d reason=%s stop=%q", ev.Choice, ev.FinishReason, ev.StopSequence)
	}
	if u := ev.Usage; u != nil {
		fmt.Fprintf(&b, " input=%d output=%d cached=%d cache_write=%d reasoning=%d",
			u.InputTokens, u.OutputTokens, u.CachedTokens, u.CacheWriteTokens, u.ReasoningTokens)
	}
	return b.String()
}

// decodeStream decodes an SSE body into events.
func decodeStream(t testing.TB, body []byte) ([]llm.Event, error) {
	t.Helper()
	return testkit.ReadEvents(t, proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(body))))
}

// asError returns err as an *llm.Error or fails the test.
func asError(t *testing.T, err error) *llm.Error {
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
	return corpus(t, "testdata/requests/*.json")
}

// canonicalCorpus returns the canonical requests in testdata/canonical
// (llm.Request as JSON, shaped as other protocols' decoders make them).
func canonicalCorpus(t testing.TB) map[string]*llm.Request {
	t.Helper()
	out := map[string]*llm.Request{}
	for name, b := range corpus(t, "testdata/canonical/*.json") {
		var req llm.Request
		if err := json.Unmarshal(b, &req); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = &req
	}
	return out
}

func corpus(t testing.TB, pattern string) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s: %v", pattern, err)
	}
	out := make(map[string][]byte, len(files))
	for _, f := range files {
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = testkit.ReadFile(t, f)
	}
	return out
}
