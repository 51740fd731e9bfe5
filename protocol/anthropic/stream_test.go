package anthropic_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// sseEvents splits an LF- or CRLF-framed SSE body into its events, each with
// its terminating blank line.
func sseEvents(body string) []string {
	sep := "\n\n"
	if strings.Contains(body, "\r\n") {
		sep = "\r\n\r\n"
	}
	var evs []string
	for _, ev := range strings.SplitAfter(body, sep) {
		if ev != "" {
			evs = append(evs, ev)
		}
	}
	return evs
}

// encodeEvents runs events through a stream encoder and returns the SSE
// events written, checking that each is one well-formed event whose data is
// JSON with the event's name as its type.
func encodeEvents(t *testing.T, evs []llm.Event, fail *llm.Error) []string {
	t.Helper()
	var out bytes.Buffer
	enc := proto.NewStreamEncoder(&out, &llm.Request{Model: "client"})
	for _, ev := range evs {
		if err := enc.Encode(ev); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if fail != nil {
		err = enc.Fail(fail)
	} else {
		err = enc.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ev := range sseEvents(out.String()) {
		name, rest, ok := strings.Cut(ev, "\n")
		data, ok2 := strings.CutPrefix(rest, "data: ")
		name, ok3 := strings.CutPrefix(name, "event: ")
		var typed struct {
			Type string `json:"type"`
		}
		if !ok || !ok2 || !ok3 || json.Unmarshal([]byte(data), &typed) != nil || typed.Type != name {
			t.Fatalf("malformed event %q", ev)
		}
		names = append(names, name+summary(data))
	}
	return names
}

// summary names what an event carries, in a few characters.
func summary(data string) string {
	var e struct {
		Index        *int `json:"index"`
		ContentBlock *struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		} `json:"content_block"`
		Delta *struct {
			Type        string `json:"type"`
			Text        string `json:"text"`
			Thinking    string `json:"thinking"`
			PartialJSON string `json:"partial_json"`
			Signature   string `json:"signature"`
			StopReason  string `json:"stop_reason"`
		} `json:"delta"`
		Error *struct {
			Type string `json:"type"`
		} `json:"error"`
	}
	_ = json.Unmarshal([]byte(data), &e)
	s := ""
	if e.Index != nil {
		s += "#" + string(rune('0'+*e.Index))
	}
	if b := e.ContentBlock; b != nil {
		s += " " + b.Type + b.ID
	}
	if d := e.Delta; d != nil {
		s += " " + d.Text + d.Thinking + d.PartialJSON + d.Signature + d.StopReason
	}
	if e.Error != nil {
		s += " " + e.Error.Type
	}
	return s
}

func TestStreamEncoder(t *testing.T) {
	u := &llm.Usage{InputTokens: 10, OutputTokens: 3}
	tests := []struct {
		name string
		evs  []llm.Event
		fail *llm.Error
		want []string
	}{
		{
			name: "no events still make a message",
			want: []string{"message_start", "message_delta end_turn", "message_stop"},
		},
		{
			name: "text, then tools each in their own block",
			evs: []llm.Event{{Type: llm.EventStart, ID: "chatcmpl-1"}, {Type: llm.EventText, Text: "a"}, {Type: llm.EventText, Text: "b"},
				{Type: llm.EventToolCall, ID: "c1", Name: "f"}, {Type: llm.EventToolArgs, Text: `{"x":`}, {Type: llm.EventToolArgs, Text: `1}`},
				{Type: llm.EventToolCall, ToolIndex: 1, ID: "c2", Name: "g", Text: `{}`},
				{Type: llm.EventFinish, FinishReason: llm.FinishToolCalls}, {Type: llm.EventUsage, Usage: u}},
			want: []string{"message_start", "content_block_start#0 text", "content_block_delta#0 a", "content_block_delta#0 b",
				"content_block_stop#0", "content_block_start#1 tool_usec1", `content_block_delta#1 {"x":`, "content_block_delta#1 1}",
				"content_block_stop#1", "content_block_start#2 tool_usec2", "content_block_delta#2 {}", "content_block_stop#2",
				"message_delta tool_use", "message_stop"},
		},
		{
			name: "interleaved tool arguments are serialized",
			evs: []llm.Event{{Type: llm.EventToolCall, ID: "c1", Name: "f"}, {Type: llm.EventToolArgs, Text: `{"a":`},
				{Type: llm.EventToolCall, ToolIndex: 1, ID: "c2", Name: "g"}, {Type: llm.EventToolArgs, ToolIndex: 1, Text: `{"b":`},
				{Type: llm.EventToolCall, ToolIndex: 2, ID: "c3", Name: "h"}, {Type: llm.EventToolArgs, ToolIndex: 2, Text: `{}`},
				{Type: llm.EventToolArgs, ToolIndex: 1, Text: `2}`}, {Type: llm.EventToolArgs, Text: `1}`},
				{Type: llm.EventFinish, FinishReason: llm.FinishToolCalls}},
			want: []string{"message_start", "content_block_start#0 tool_usec1", `content_block_delta#0 {"a":`, "content_block_delta#0 1}",
				"content_block_stop#0", "content_block_start#1 tool_usec2", `content_block_delta#1 {"b":2}`,
				"content_block_stop#1", "content_block_start#2 tool_usec3", "content_block_delta#2 {}", "content_block_stop#2",
				"message_delta tool_use", "message_stop"},
		},
		{
			name: "thinking with signature, a second thinking, redacted, text",
			evs: []llm.Event{{Type: llm.EventReasoning, Text: "t1"}, {Type: llm.EventReasoning, Signature: "s1"},
				{Type: llm.EventReasoning, Text: "t2"}, {Type: llm.EventReasoning, Redacted: true, Data: "d"},
				{Type: llm.EventText, Text: "x"}, {Type: llm.EventReasoning}},
			want: []string{"message_start", "content_block_start#0 thinking", "content_block_delta#0 t1", "content_block_delta#0 s1",
				"content_block_stop#0", "content_block_start#1 thinking", "content_block_delta#1 t2", "content_block_stop#1",
				"content_block_start#2 redacted_thinking", "content_block_stop#2", "content_block_start#3 text", "content_block_delta#3 x",
				"content_block_stop#3", "message_delta end_turn", "message_stop"},
		},
		{
			name: "reasoning items with ids are separate blocks",
			evs: []llm.Event{{Type: llm.EventReasoning, ID: "rs_1", Text: "a"}, {Type: llm.EventReasoning, ID: "rs_1", Text: "b"},
				{Type: llm.EventReasoning, ID: "rs_2", Text: "c"}},
			want: []string{"message_start", "content_block_start#0 thinking", "content_block_delta#0 a", "content_block_delta#0 b",
				"content_block_stop#0", "content_block_start#1 thinking", "content_block_delta#1 c", "content_block_stop#1",
				"message_delta end_turn", "message_stop"},
		},
		{
			name: "other choices and empty deltas ignored",
			evs: []llm.Event{{Type: llm.EventText, Choice: 1, Text: "no"}, {Type: llm.EventText, Text: ""}, {Type: llm.EventRefusal, Text: "r"},
				{Type: llm.EventToolArgs, ToolIndex: 7, Text: "lost"}, {Type: llm.EventFinish, FinishReason: llm.FinishContentFilter}},
			want: []string{"message_start", "content_block_start#0 text", "content_block_delta#0 r", "content_block_stop#0",
				"message_delta refusal", "message_stop"},
		},
		{
			name: "failure closes the open block",
			evs:  []llm.Event{{Type: llm.EventStart}, {Type: llm.EventText, Text: "a"}},
			fail: &llm.Error{Kind: llm.KindRateLimited, Message: "slow down"},
			want: []string{"message_start", "content_block_start#0 text", "content_block_delta#0 a", "content_block_stop#0", "error rate_limit_error"},
		},
		{
			name: "failure before anything",
			fail: &llm.Error{Kind: llm.KindOverloaded, Message: "busy"},
			want: []string{"error overloaded_error"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := encodeEvents(t, tt.evs, tt.fail)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestStreamEncoderWritesAtOnce: every event is written by the Encode call
// that brings it, so that the gateway's flush after Encode sends it.
func TestStreamEncoderWritesAtOnce(t *testing.T) {
	var out bytes.Buffer
	enc := proto.NewStreamEncoder(&out, &llm.Request{Model: "m"})
	for _, ev := range []llm.Event{{Type: llm.EventStart}, {Type: llm.EventText, Text: "a"}, {Type: llm.EventText, Text: "b"},
		{Type: llm.EventReasoning, Text: "t"}, {Type: llm.EventToolCall, ID: "c", Name: "f"}, {Type: llm.EventToolArgs, Text: "{}"}} {
		before := out.Len()
		if err := enc.Encode(ev); err != nil {
			t.Fatal(err)
		}
		if out.Len() == before {
			t.Errorf("Encode(%s) wrote nothing", formatEvent(ev))
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	n := out.Len()
	if err := enc.Close(); err != nil || out.Len() != n {
		t.Error("a second Close wrote again")
	}
	if err := enc.Fail(&llm.Error{Kind: llm.KindInternal}); err != nil || out.Len() != n {
		t.Error("Fail after Close wrote")
	}
}

// TestStreamRoundTrip: decoding what the encoder wrote gives the events
// back.
func TestStreamRoundTrip(t *testing.T) {
	for name, body := range streamInputs(t) {
		evs, err := decodeStream(t, body)
		if err != nil {
			continue
		}
		var out bytes.Buffer
		enc := proto.NewStreamEncoder(&out, &llm.Request{})
		for _, ev := range evs {
			if err := enc.Encode(ev); err != nil {
				t.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		again, err := decodeStream(t, out.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		a, _ := llm.Collect(llm.NewSliceStream(evs))
		b, _ := llm.Collect(llm.NewSliceStream(again))
		if testkit.Dump(a) != testkit.Dump(b) {
			t.Errorf("%s: round trip changed the answer:\n%s\n%s", name, testkit.Dump(a), testkit.Dump(b))
		}
	}
}

func TestStreamDecoder(t *testing.T) {
	start := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"c\",\"usage\":{\"input_tokens\":3}}}\n\n"
	stop := "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
	tests := []struct {
		name, body string
		want       []string
		errKind    llm.ErrorKind
	}{
		{"empty body", "", nil, llm.KindUpstream},
		{"only pings", "event: ping\ndata: {\"type\":\"ping\"}\n\n", nil, llm.KindUpstream},
		{"start and stop", start + stop, []string{`start id="msg_1" model="c" input=3 output=0 cached=0 cache_write=0 reasoning=0`}, ""},
		{"stop without start", stop, []string{`start id="" model=""`}, ""},
		{"malformed data", start + "event: content_block_delta\ndata: {\"type\":\n\n", []string{
			`start id="msg_1" model="c" input=3 output=0 cached=0 cache_write=0 reasoning=0`}, llm.KindUpstream},
		{"delta for a block that never started", start + "data: {\"type\":\"content_block_delta\",\"index\":4,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n" + stop,
			[]string{`start id="msg_1" model="c" input=3 output=0 cached=0 cache_write=0 reasoning=0`}, ""},
		{"error without body", start + "event: error\ndata: {\"type\":\"error\"}\n\n", []string{
			`start id="msg_1" model="c" input=3 output=0 cached=0 cache_write=0 reasoning=0`}, llm.KindUpstream},
		{"rate limit in the stream", "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"m\"}}\n\n",
			nil, llm.KindRateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := decodeStream(t, []byte(tt.body))
			var got []string
			for _, ev := range evs {
				got = append(got, formatEvent(ev))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			switch {
			case tt.errKind == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.errKind != "" && (err == nil || asError(t, err).Kind != tt.errKind):
				t.Errorf("error %v, want kind %s", err, tt.errKind)
			}
		})
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestStreamDecoderClose(t *testing.T) {
	body := &closeRecorder{Reader: strings.NewReader(string(testkit.ReadFile(t, fixtureDir+"/messages-text.stream.body.sse")))}
	s := proto.NewStreamDecoder(body)
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil || !body.closed {
		t.Fatalf("Close = %v, closed %v", err, body.closed)
	}
	if _, err := s.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("Next after Close = %v, want io.EOF", err)
	}
}

func TestStreamDecoderTooManyBlocks(t *testing.T) {
	var b strings.Builder
	b.WriteString("data: {\"type\":\"message_start\",\"message\":{}}\n\n")
	for i := range 5000 {
		b.WriteString(`data: {"type":"content_block_start","index":` + itoa(i) + `,"content_block":{"type":"text","text":""}}` + "\n\n")
	}
	_, err := decodeStream(t, []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "too many content blocks") {
		t.Errorf("error %v, want too many content blocks", err)
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// TestStreamEncoderKeepsOtherVendorsSignatures: an Anthropic client gets
// the text of another vendor's reasoning, never its signature or opaque
// data, which no Anthropic upstream would accept back.
func TestStreamEncoderKeepsOtherVendorsSignatures(t *testing.T) {
	encode := func(evs ...llm.Event) string {
		var out bytes.Buffer
		enc := proto.NewStreamEncoder(&out, &llm.Request{Model: "m"})
		for _, ev := range append([]llm.Event{{Type: llm.EventStart}}, evs...) {
			if err := enc.Encode(ev); err != nil {
				t.Fatal(err)
			}
		}
		enc.Close()
		return out.String()
	}
	got := encode(llm.Event{Type: llm.EventReasoning, Text: "think", Signature: "gem-sig", Origin: "gemini"},
		llm.Event{Type: llm.EventReasoning, Redacted: true, Data: "opaque", Origin: "responses"})
	if !strings.Contains(got, `"thinking":"think"`) || strings.Contains(got, "gem-sig") || strings.Contains(got, "opaque") {
		t.Errorf("foreign reasoning: %s", got)
	}
	got = encode(llm.Event{Type: llm.EventReasoning, Text: "think", Signature: "ant-sig", Origin: "anthropic"})
	if !strings.Contains(got, `"signature":"ant-sig"`) {
		t.Errorf("own signature dropped: %s", got)
	}
}
