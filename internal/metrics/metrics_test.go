package metrics

import (
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestModelLabelsBounded: clients choose model names for providers without
// a model list; they must not be able to grow the label set without bound.
func TestModelLabelsBounded(t *testing.T) {
	m := New()
	for i := 0; i < MaxModels+100; i++ {
		m.Usage("openrouter", "model-"+strconv.Itoa(i), 1, 1, 0, 0)
	}
	m.Usage("openrouter", strings.Repeat("x", 200), 1, 0, 0, 0)
	if n := testutil.CollectAndCount(m.Tokens); n != 2*MaxModels+2 {
		t.Fatalf("series = %d, want %d (input and output per model and for other)", n, 2*MaxModels+2)
	}
	if v := testutil.ToFloat64(m.Tokens.WithLabelValues("openrouter", "other", "input")); v != 101 {
		t.Fatalf("other input tokens = %v, want 101", v)
	}
	// A model seen before the cap keeps its own series.
	m.Usage("openrouter", "model-1", 5, 0, 0, 0)
	if v := testutil.ToFloat64(m.Tokens.WithLabelValues("openrouter", "model-1", "input")); v != 6 {
		t.Fatalf("model-1 input = %v", v)
	}
}
