package anthropic

import (
	stdjson "encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// TestEmbedFieldLists: the names an embedded Unknown member is checked
// against are the JSON names of its struct's fields.
func TestEmbedFieldLists(t *testing.T) {
	for _, tt := range []struct {
		v      any
		fields []string
	}{
		{messagesRequest{}, requestFields},
		{message{}, messageFields},
		{block{}, blockFields},
		{tool{}, toolFields},
		{thinking{}, thinkingFields},
		{outputConfig{}, outputConfigFields},
		{metadata{}, metadataFields},
	} {
		typ := reflect.TypeOf(tt.v)
		var want []string
		for f := range typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && name != "-" {
				want = append(want, name)
			}
		}
		if !slices.Equal(tt.fields, want) {
			t.Errorf("%s: fields %q, struct tags %q", typ.Name(), tt.fields, want)
		}
	}
}

// BenchmarkEncodeJSON compares the two encoders of one body, the Messages
// request of the benchmarks' OpenAI tool conversation (bench_test.go).
func BenchmarkEncodeJSON(b *testing.B) {
	var req llm.Request
	if err := stdjson.Unmarshal(testkit.ReadFile(b, "testdata/canonical/openai-tools.json"), &req); err != nil {
		b.Fatal(err)
	}
	wr, err := encodeRequest(&req, "claude-sonnet-4-5", false)
	if err != nil {
		b.Fatal(err)
	}
	body, err := json.Marshal(wr)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("marshal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		defer testkit.ReportCPU(b)()
		for b.Loop() {
			if _, err := json.Marshal(wr); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		defer testkit.ReportCPU(b)()
		for b.Loop() {
			if _, err := marshalRequest(wr); err != nil {
				b.Fatal(err)
			}
		}
	})
}
