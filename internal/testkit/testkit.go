// Package testkit holds the helpers the protocol packages' tests share:
// golden files rewritten with -update, JSON comparison ignoring layout, and
// draining a canonical stream; and the benchmarks' CPU reading and
// held-stream upstream. Only tests import it.
package testkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/llmux/llmux/llm"
)

// Update is the -update flag: golden files are rewritten instead of
// compared.
var Update = flag.Bool("update", false, "rewrite golden files")

// MaxEvents bounds ReadEvents, so that a decoder that never ends fails a
// test instead of hanging it.
const MaxEvents = 100000

// ReadFile returns a file's contents, failing the test when it cannot be
// read.
func ReadFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Golden compares got byte for byte with the golden file, or rewrites the
// file with -update.
func Golden(t *testing.T, name string, got []byte) {
	t.Helper()
	want := GoldenFile(t, name, got)
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// GoldenJSON is Golden for JSON: member order and white space aside.
func GoldenJSON(t *testing.T, name string, got []byte) {
	t.Helper()
	got = IndentJSON(t, got)
	want := GoldenFile(t, name, got)
	if !JSONEqual(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// GoldenFile returns the golden file's contents, after writing got to it
// when -update is set.
func GoldenFile(t *testing.T, name string, got []byte) []byte {
	t.Helper()
	if *Update {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	return want
}

// JSONEqual reports whether a and b hold the same JSON value (member order
// and white space aside).
func JSONEqual(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// IndentJSON makes a golden file readable; the comparison ignores layout.
func IndentJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// ReadEvents drains s (closing it) and returns its events and the error
// that ended it, nil for a clean end.
func ReadEvents(t testing.TB, s llm.Stream) ([]llm.Event, error) {
	t.Helper()
	defer s.Close()
	var evs []llm.Event
	for range MaxEvents {
		ev, err := s.Next()
		if errors.Is(err, io.EOF) {
			return evs, nil
		}
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
	t.Fatalf("stream did not end after %d events", MaxEvents)
	return nil, nil
}

// Dump renders v as indented JSON for a failure message.
func Dump(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}
