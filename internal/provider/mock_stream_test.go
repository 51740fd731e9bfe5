package provider

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/llm"
)

// TestMockStream checks the shape of a mock stream and that it tells the
// same answer as Do.
func TestMockStream(t *testing.T) {
	tools := userRequest("weather?")
	tools.Tools = []llm.Tool{weatherTool, searchTool}
	schema := userRequest("json")
	schema.ResponseFormat = &llm.ResponseFormat{Type: llm.FormatJSONSchema, Schema: json.RawMessage(weatherSchema)}
	tests := []struct {
		name  string
		model string
		req   *llm.Request
		delta llm.EventType
	}{
		{"text", "chat", userRequest("Tell me a story"), llm.EventText},
		{"echo", "echo", userRequest("say this back to me"), llm.EventText},
		{"tools", "chat-parallel", tools, llm.EventToolArgs},
		{"json schema", "chat", schema, llm.EventText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMock("mock", &config.Mock{OutputTokens: 12})
			s, err := m.Stream(t.Context(), &Call{Request: tt.req, Model: tt.model})
			if err != nil {
				t.Fatal(err)
			}
			evs, err := drain(s)
			if err != nil {
				t.Fatal(err)
			}
			var shape []string
			for _, ev := range evs {
				name := ev.Type.String()
				if ev.Type == llm.EventToolCall || ev.Type == llm.EventToolArgs {
					name = "delta" // calls and their arguments interleave
				}
				if ev.Type == tt.delta {
					name = "delta"
				}
				if n := len(shape); n == 0 || shape[n-1] != name {
					shape = append(shape, name)
				}
			}
			if got := strings.Join(shape, " "); got != "start delta finish usage" {
				t.Errorf("stream shape = %s, want start delta finish usage", got)
			}
			var acc llm.Accumulator
			for _, ev := range evs {
				acc.Add(ev)
			}
			streamed := acc.Response()
			done, err := m.Do(t.Context(), &Call{Request: tt.req, Model: tt.model})
			if err != nil {
				t.Fatal(err)
			}
			if streamed.ID != done.ID || streamed.Model != done.Model || streamed.Usage != done.Usage ||
				!reflect.DeepEqual(streamed.Choices, done.Choices) {
				t.Errorf("stream and Do differ:\nstream %s\ndo     %s", dump(streamed), dump(done))
			}
			if streamed.Text() == "" && len(streamed.Choices[0].Message.ToolCalls()) == 0 {
				t.Errorf("empty answer")
			}
		})
	}
}

// TestMockPacing proves the pacing options by order and lower bounds only:
// timers never fire early, so these hold however slow the machine is.
func TestMockPacing(t *testing.T) {
	const latency, interval = 30 * time.Millisecond, 10 * time.Millisecond
	m := NewMock("mock", &config.Mock{Latency: config.Duration(latency), TokensPerSecond: float64(time.Second / interval), OutputTokens: 4})
	start := time.Now()
	s, err := m.Stream(t.Context(), &Call{Request: userRequest("hi"), Model: "chat"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var content []time.Duration
	for {
		ev, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type == llm.EventText {
			content = append(content, time.Since(start))
		}
	}
	if len(content) != 4 {
		t.Fatalf("%d text events, want 4", len(content))
	}
	if content[0] < latency {
		t.Errorf("first token after %v, before the latency of %v", content[0], latency)
	}
	for i := 1; i < len(content); i++ {
		if gap := content[i] - content[i-1]; gap < interval {
			t.Errorf("token %d came %v after the previous one, want at least %v", i, gap, interval)
		}
	}

	before := time.Now()
	if _, err := m.Do(t.Context(), &Call{Request: userRequest("hi"), Model: "chat"}); err != nil {
		t.Fatal(err)
	}
	if took, want := time.Since(before), latency+3*interval; took < want {
		t.Errorf("Do answered after %v, want at least the latency and generation time %v", took, want)
	}
}

// TestMockCancel: a paced mock stops at once, with the right kind, when
// the caller's context ends.
func TestMockCancel(t *testing.T) {
	slow := func(latency time.Duration, tps float64) *Mock {
		return NewMock("mock", &config.Mock{Latency: config.Duration(latency), TokensPerSecond: tps})
	}
	tests := []struct {
		name   string
		mock   *Mock
		stream bool
		expire bool // deadline instead of cancel
		before string
		want   llm.ErrorKind
	}{
		{"stream waiting for the first token", slow(time.Hour, 0), true, false, "start", llm.KindCanceled},
		{"stream waiting between tokens", slow(0, 0.001), true, false, "start text", llm.KindCanceled},
		{"stream past its deadline", slow(time.Hour, 0), true, true, "start", llm.KindTimeout},
		{"do waiting", slow(time.Hour, 0), false, false, "", llm.KindCanceled},
		{"do past its deadline", slow(0, 0.001), false, true, "", llm.KindTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tt.expire {
				ctx, cancel = context.WithTimeout(ctx, 20*time.Millisecond)
				defer cancel()
			}
			// cancelSoon ends the context while the mock waits: once the
			// expected events are out, so that the test does not depend on
			// how fast the machine is.
			cancelSoon := func() {
				if !tt.expire {
					time.AfterFunc(10*time.Millisecond, cancel)
				}
			}
			type result struct {
				events []string
				err    error
			}
			done := make(chan result, 1)
			go func() {
				var r result
				if !tt.stream {
					cancelSoon()
					_, r.err = tt.mock.Do(ctx, &Call{Request: userRequest("hi"), Model: "chat"})
					done <- r
					return
				}
				s, err := tt.mock.Stream(ctx, &Call{Request: userRequest("hi"), Model: "chat"})
				if err != nil {
					r.err = err
					done <- r
					return
				}
				defer s.Close()
				for {
					if strings.Join(r.events, " ") == tt.before {
						cancelSoon()
					}
					ev, err := s.Next()
					if err != nil {
						r.err = err
						done <- r
						return
					}
					r.events = append(r.events, ev.Type.String())
				}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the mock kept waiting after its context ended")
			}
			e := asLLMError(t, r.err)
			if e.Kind != tt.want {
				t.Errorf("kind = %s, want %s (%v)", e.Kind, tt.want, r.err)
			}
			if got := strings.Join(r.events, " "); got != tt.before {
				t.Errorf("events before the end = %q, want %q", got, tt.before)
			}
		})
	}
}
