package ollama_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol/ollama"
)

// line builds one /api/chat stream line with the given message JSON.
func line(msg string) string {
	return `{"model":"m","created_at":"2025-01-01T00:00:00Z","message":` + msg + `,"done":false}` + "\n"
}

const doneLine = `{"model":"m","created_at":"2025-01-01T00:00:01Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":4,"eval_count":2}` + "\n"

func TestStreamDecoder(t *testing.T) {
	start := `start id="" model="m" created=1735689600`
	tests := []struct {
		name string
		body string
		want []string // formatted events, then how the stream ended
	}{
		{
			name: "blank lines skipped",
			body: "\n" + line(`{"role":"assistant","content":"a"}`) + "\n\n" + doneLine,
			want: []string{start, `text choice=0 "a"`, `usage input=4 output=2`, `finish choice=0 reason=stop`, "eof"},
		},
		{
			name: "nothing after the done line is read",
			body: line(`{"role":"assistant","content":"a"}`) + doneLine + "{not json\n",
			want: []string{start, `text choice=0 "a"`, `usage input=4 output=2`, `finish choice=0 reason=stop`, "eof"},
		},
		{
			name: "done without counts reports no usage",
			body: `{"model":"m","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"a"},"done":true}`,
			want: []string{start, `text choice=0 "a"`, `finish choice=0 reason=stop`, "eof"},
		},
		{
			name: "negative counts are zero",
			body: `{"model":"m","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"prompt_eval_count":-5,"eval_count":3}`,
			want: []string{start, `usage input=0 output=3`, `finish choice=0 reason=stop`, "eof"},
		},
		{
			name: "an error first",
			body: `{"error":"model 'x' not found"}` + "\n",
			want: []string{`error kind=upstream code="" message="model 'x' not found"`},
		},
		{
			name: "an error that is not a string",
			body: line(`{"role":"assistant","content":"a"}`) + `{"error":{"message":"boom"}}` + "\n",
			want: []string{start, `text choice=0 "a"`, `error kind=upstream code="" message="{\"message\":\"boom\"}"`},
		},
		{
			name: "a context overflow in the stream is the client's",
			body: `{"error":"the input exceeds the context length of the model"}` + "\n",
			want: []string{`error kind=invalid_request code="context_length_exceeded" message="the input exceeds the context length of the model"`},
		},
		{
			name: "a null error is no error",
			body: `{"model":"m","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"a"},"done":true,"error":null}`,
			want: []string{start, `text choice=0 "a"`, `finish choice=0 reason=stop`, "eof"},
		},
		{
			name: "a malformed line",
			body: line(`{"role":"assistant","content":"a"}`) + "{\"model\":\n",
			want: []string{start, `text choice=0 "a"`, `error kind=upstream code="" message="the upstream sent a malformed stream line"`},
		},
		{
			name: "empty body",
			body: "",
			want: []string{`error kind=upstream code="" message="the upstream stream ended before the answer was complete"`},
		},
		{
			name: "calls of several lines are numbered on; null arguments are {}",
			body: line(`{"role":"assistant","content":"","tool_calls":[{"id":"a","function":{"index":0,"name":"f","arguments":null}}]}`) +
				line(`{"role":"assistant","content":"","tool_calls":[{"id":"b","function":{"index":0,"name":"g","arguments":{"x":[1]}}}]}`) + doneLine,
			want: []string{start, `tool_call choice=0 index=0 id="a" name="f" args=""`, `tool_args choice=0 index=0 "{}"`,
				`tool_call choice=0 index=1 id="b" name="g" args=""`, `tool_args choice=0 index=1 "{\"x\":[1]}"`,
				`usage input=4 output=2`, `finish choice=0 reason=tool_calls`, "eof"},
		},
		{
			name: "length after calls stays length",
			body: line(`{"role":"assistant","content":"","tool_calls":[{"id":"a","function":{"name":"f","arguments":{}}}]}`) +
				`{"model":"m","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"length"}`,
			want: []string{start, `tool_call choice=0 index=0 id="a" name="f" args=""`, `tool_args choice=0 index=0 "{}"`,
				`finish choice=0 reason=length`, "eof"},
		},
		{
			name: "unload",
			body: `{"model":"m","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"unload"}`,
			want: []string{start, `finish choice=0 reason=stop`, "eof"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := decodeStream(t, []byte(tt.body))
			var got []string
			for _, ev := range evs {
				got = append(got, formatEvent(ev))
			}
			got = append(got, formatEnd(err))
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestStreamDecoderIDs: calls without ids get ids that are stable for the
// same bytes and differ between answers (created_at) and positions.
func TestStreamDecoderIDs(t *testing.T) {
	body := func(created string) string {
		return `{"model":"m","created_at":"` + created + `","message":{"role":"assistant","content":"","tool_calls":[` +
			`{"function":{"name":"f","arguments":{}}},{"function":{"name":"f","arguments":{}}}]},"done":false}` + "\n" + doneLine
	}
	ids := func(b string) []string {
		evs, err := decodeStream(t, []byte(b))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ev := range evs {
			if ev.Type == llm.EventToolCall {
				out = append(out, ev.ID)
			}
		}
		return out
	}
	a, again, other := ids(body("2025-01-01T00:00:00Z")), ids(body("2025-01-01T00:00:00Z")), ids(body("2025-01-02T00:00:00Z"))
	if len(a) != 2 || a[0] != again[0] || a[1] != again[1] {
		t.Fatalf("ids %v then %v", a, again)
	}
	if a[0] == a[1] || a[0] == other[0] || !strings.HasPrefix(a[0], ollama.SyntheticIDPrefix) {
		t.Errorf("ids %v and %v", a, other)
	}
	// The non-streaming decoder gives the same ids to the same answer.
	resp, err := proto.DecodeResponse([]byte(strings.Replace(strings.SplitN(body("2025-01-01T00:00:00Z"), "\n", 2)[0], `"done":false`, `"done":true`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if calls := resp.Choices[0].Message.ToolCalls(); calls[0].ID != a[0] || calls[1].ID != a[1] {
		t.Errorf("response ids %s %s, stream ids %v", calls[0].ID, calls[1].ID, a)
	}
}

func TestStreamDecoderReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	s := proto.NewStreamDecoder(io.NopCloser(io.MultiReader(strings.NewReader(line(`{"role":"assistant","content":"a"}`)), iotest.ErrReader(boom))))
	evs, err := testkit.ReadEvents(t, s)
	if len(evs) != 2 {
		t.Errorf("%d events before the failure", len(evs))
	}
	if e := asError(t, err); e.Kind != llm.KindUpstream || !errors.Is(err, boom) {
		t.Errorf("error %v", err)
	}
	classified := &llm.Error{Kind: llm.KindTimeout, Message: "deadline"}
	s = proto.NewStreamDecoder(io.NopCloser(iotest.ErrReader(classified)))
	if _, err := testkit.ReadEvents(t, s); asError(t, err) != classified {
		t.Errorf("a classified read error is replaced: %v", err)
	}
	s = proto.NewStreamDecoder(io.NopCloser(strings.NewReader(line(`{"role":"assistant","content":"a"}`))))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("Next after Close = %v", err)
	}
}

func TestDecodeResponseVariants(t *testing.T) {
	t.Run("lines though not streaming", func(t *testing.T) {
		resp, err := proto.DecodeResponse([]byte(line(`{"role":"assistant","content":"a"}`) + line(`{"role":"assistant","content":"b"}`) + doneLine))
		if err != nil || resp.Text() != "ab" || resp.Usage != (llm.Usage{InputTokens: 4, OutputTokens: 2}) || resp.Origin != "ollama" {
			t.Errorf("DecodeResponse = %+v, %v", resp, err)
		}
	})
	t.Run("error body with status 200", func(t *testing.T) {
		_, err := proto.DecodeResponse([]byte(`{"error":"something broke"}`))
		if e := asError(t, err); e.Kind != llm.KindUpstream || e.Message != "something broke" {
			t.Errorf("error %v", e)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		_, err := proto.DecodeResponse([]byte(`<html>`))
		if e := asError(t, err); e.Kind != llm.KindUpstream {
			t.Errorf("error %v", e)
		}
	})
	t.Run("thinking and logprobs", func(t *testing.T) {
		resp, err := proto.DecodeResponse([]byte(`{"model":"m","created_at":"x","message":{"role":"assistant","content":"Hi","thinking":"hmm"},"done":true,"done_reason":"length","logprobs":[{"token":"Hi","logprob":-0.1}],"remote_model":"r"}`))
		if err != nil {
			t.Fatal(err)
		}
		c := resp.Choices[0]
		if c.FinishReason != llm.FinishLength || len(c.Logprobs) != 1 || c.Message.Parts[0].Reasoning.Text != "hmm" ||
			resp.Created != 0 || string(resp.Extensions["remote_model"]) != `"r"` {
			t.Errorf("response %s", testkit.Dump(resp))
		}
	})
}

// TestStreamEncoderHoldsCalls: tool calls go out whole, in one line, once
// their arguments are complete, even when an upstream interleaves the
// fragments of several calls.
func TestStreamEncoderHoldsCalls(t *testing.T) {
	fixClock(t)
	evs := []llm.Event{
		{Type: llm.EventStart, Model: "upstream"},
		{Type: llm.EventReasoning, Signature: "sig-only"},
		{Type: llm.EventText, Text: "Checking."},
		{Type: llm.EventToolCall, ToolIndex: 0, ID: "call_a", Name: "weather"},
		{Type: llm.EventToolCall, ToolIndex: 1, Name: "time", Text: `{"tz":`},
		{Type: llm.EventToolArgs, ToolIndex: 0, Text: `{"city":`},
		{Type: llm.EventToolArgs, ToolIndex: 1, Text: `"CET"}`},
		{Type: llm.EventToolArgs, ToolIndex: 0, Text: `"Paris"}`},
		{Type: llm.EventText, Choice: 1, Text: "other choice"},
		{Type: llm.EventFinish, FinishReason: llm.FinishToolCalls},
		{Type: llm.EventToolCall, ToolIndex: 2, ID: "call_c", Name: "broken", Text: `{"a":`},
		{Type: llm.EventUsage, Usage: &llm.Usage{InputTokens: 9, OutputTokens: 4}},
	}
	out := encodeStream(t, proto, &llm.Request{Model: "client"}, evs, nil)
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	want := []string{
		`{"model":"client","created_at":"2026-09-01T12:00:00.123456789Z","message":{"role":"assistant","content":"Checking."},"done":false}`,
		`{"model":"client","created_at":"2026-09-01T12:00:00.123456789Z","message":{"role":"assistant","content":"","tool_calls":[` +
			`{"id":"call_a","function":{"index":0,"name":"weather","arguments":{"city":"Paris"}}},` +
			`{"id":"IDTIME","function":{"index":1,"name":"time","arguments":{"tz":"CET"}}}]},"done":false}`,
		`{"model":"client","created_at":"2026-09-01T12:00:00.123456789Z","message":{"role":"assistant","content":"","tool_calls":[` +
			`{"id":"call_c","function":{"index":2,"name":"broken","arguments":{"_raw":"{\"a\":"}}}]},"done":false}`,
		`{"model":"client","created_at":"2026-09-01T12:00:00.123456789Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop",` +
			`"total_duration":0,"load_duration":0,"prompt_eval_count":9,"prompt_eval_duration":0,"eval_count":4,"eval_duration":0}`,
	}
	if len(lines) == len(want) {
		var l struct {
			Message struct {
				ToolCalls []struct{ ID string } `json:"tool_calls"`
			} `json:"message"`
		}
		if err := json.Unmarshal([]byte(lines[1]), &l); err == nil && len(l.Message.ToolCalls) == 2 {
			id := l.Message.ToolCalls[1].ID
			if !strings.HasPrefix(id, ollama.SyntheticIDPrefix) {
				t.Errorf("made-up id %q", id)
			}
			want[1] = strings.Replace(want[1], "IDTIME", id, 1)
		}
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestStreamEncoderEnds(t *testing.T) {
	fixClock(t)
	prefix := `{"model":"client","created_at":"2026-09-01T12:00:00.123456789Z",`
	t.Run("fail drops held calls", func(t *testing.T) {
		out := encodeStream(t, proto, &llm.Request{Model: "client"}, []llm.Event{
			{Type: llm.EventText, Text: "a"},
			{Type: llm.EventToolCall, ID: "c", Name: "f", Text: `{"x":`},
		}, &llm.Error{Kind: llm.KindOverloaded, Message: "try \"later\""})
		want := prefix + `"message":{"role":"assistant","content":"a"},"done":false}` + "\n" + `{"error":"try \"later\""}` + "\n"
		if string(out) != want {
			t.Errorf("got  %s\nwant %s", out, want)
		}
	})
	t.Run("length and generate shape", func(t *testing.T) {
		out := encodeStream(t, gen, &llm.Request{Model: "client"}, []llm.Event{
			{Type: llm.EventReasoning, Text: "hmm"},
			{Type: llm.EventText, Text: "a"},
			{Type: llm.EventFinish, FinishReason: llm.FinishLength},
		}, nil)
		want := prefix + `"response":"","thinking":"hmm","done":false}` + "\n" +
			prefix + `"response":"a","done":false}` + "\n" +
			prefix + `"response":"","done":true,"done_reason":"length","total_duration":0,"load_duration":0,"prompt_eval_count":0,"prompt_eval_duration":0,"eval_count":0,"eval_duration":0}` + "\n"
		if string(out) != want {
			t.Errorf("got  %s\nwant %s", out, want)
		}
	})
	t.Run("nothing after the end", func(t *testing.T) {
		var out bytes.Buffer
		enc := proto.NewStreamEncoder(&out, &llm.Request{Model: "client"})
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		n := out.Len()
		if err := enc.Encode(llm.Event{Type: llm.EventText, Text: "late"}); err != nil || out.Len() != n {
			t.Errorf("Encode after Close wrote %q (%v)", out.Bytes()[n:], err)
		}
		if err := enc.Fail(&llm.Error{Kind: llm.KindUpstream, Message: "x"}); err != nil || out.Len() != n {
			t.Errorf("Fail after Close wrote %q (%v)", out.Bytes()[n:], err)
		}
		if err := enc.Close(); err != nil || out.Len() != n {
			t.Errorf("second Close wrote %q (%v)", out.Bytes()[n:], err)
		}
	})
	t.Run("write errors", func(t *testing.T) {
		boom := errors.New("client gone")
		enc := proto.NewStreamEncoder(writerFunc(func([]byte) (int, error) { return 0, boom }), nil)
		if err := enc.Encode(llm.Event{Type: llm.EventText, Text: "a"}); !errors.Is(err, boom) {
			t.Errorf("Encode = %v", err)
		}
		if err := enc.Close(); !errors.Is(err, boom) {
			t.Errorf("Close = %v", err)
		}
	})
}

// TestStreamEncoderDurations: the final line reports the time to the first
// content as prompt_eval_duration and the rest as eval_duration.
func TestStreamEncoderDurations(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := []time.Time{t0, t0.Add(time.Second), t0.Add(time.Second), t0.Add(3 * time.Second), t0.Add(3 * time.Second)}
	i := 0
	t.Cleanup(ollama.SetNow(func() time.Time {
		tm := clock[min(i, len(clock)-1)]
		i++
		return tm
	}))
	out := encodeStream(t, proto, &llm.Request{Model: "m"}, []llm.Event{{Type: llm.EventText, Text: "a"}}, nil)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var final struct {
		Total      int64 `json:"total_duration"`
		PromptEval int64 `json:"prompt_eval_duration"`
		Eval       int64 `json:"eval_duration"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &final); err != nil {
		t.Fatal(err)
	}
	if final.Total != int64(3*time.Second) || final.PromptEval != int64(time.Second) || final.Eval != int64(2*time.Second) {
		t.Errorf("durations %+v", final)
	}
}
