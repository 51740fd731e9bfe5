package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"
)

// TestAccumulatorInterleavedToolCalls: OpenAI streams parallel calls with
// their argument fragments interleaved; each call must get its own.
func TestAccumulatorInterleavedToolCalls(t *testing.T) {
	var acc Accumulator
	for _, ev := range []Event{
		{Type: EventStart, ID: "r1", Model: "m"},
		{Type: EventText, Text: "Let me "},
		{Type: EventText, Text: "check."},
		{Type: EventToolCall, ToolIndex: 0, ID: "a", Name: "weather"},
		{Type: EventToolCall, ToolIndex: 1, ID: "b", Name: "time"},
		{Type: EventToolArgs, ToolIndex: 0, Text: `{"city":`},
		{Type: EventToolArgs, ToolIndex: 1, Text: `{"tz":"CET"}`},
		{Type: EventToolArgs, ToolIndex: 0, Text: `"Paris"}`},
		{Type: EventFinish, FinishReason: FinishToolCalls},
		{Type: EventUsage, Usage: &Usage{InputTokens: 9, OutputTokens: 4}},
	} {
		acc.Add(ev)
	}
	resp := acc.Response()
	msg := resp.Choices[0].Message
	if got := msg.Text(); got != "Let me check." {
		t.Errorf("text = %q", got)
	}
	calls := msg.ToolCalls()
	if len(calls) != 2 || calls[0].Arguments != `{"city":"Paris"}` || calls[1].Arguments != `{"tz":"CET"}` {
		t.Fatalf("calls = %+v %+v", calls[0], calls[1])
	}
	if resp.ID != "r1" || resp.Usage.Total() != 13 || resp.Choices[0].FinishReason != FinishToolCalls {
		t.Errorf("resp = %+v", resp)
	}
}

func TestAccumulatorReasoningBlocks(t *testing.T) {
	var acc Accumulator
	for _, ev := range []Event{
		{Type: EventReasoning, Text: "first "},
		{Type: EventReasoning, Text: "thought"},
		{Type: EventReasoning, Signature: "sig1"},
		{Type: EventReasoning, Text: "second"}, // a new block after a signature
		{Type: EventReasoning, Data: "opaque", Redacted: true},
		{Type: EventText, Text: "answer"},
	} {
		acc.Add(ev)
	}
	parts := acc.Response().Choices[0].Message.Parts
	if len(parts) != 4 {
		t.Fatalf("parts = %d", len(parts))
	}
	r0, r1, r2 := parts[0].Reasoning, parts[1].Reasoning, parts[2].Reasoning
	if r0.Text != "first thought" || r0.Signature != "sig1" || r1.Text != "second" || !r2.Redacted || r2.Data != "opaque" {
		t.Fatalf("reasoning = %+v %+v %+v", r0, r1, r2)
	}
}

// TestEventsRoundTrip: a response turned into events and collected again
// is the same response.
func TestEventsRoundTrip(t *testing.T) {
	resp := &Response{ID: "x", Model: "m", Created: 5, Usage: Usage{InputTokens: 3, OutputTokens: 2, CachedTokens: 1},
		Choices: []Choice{{Index: 0, FinishReason: FinishToolCalls, Message: Message{Role: RoleAssistant, Parts: []Part{
			{Type: PartReasoning, Reasoning: &Reasoning{Text: "hmm", Signature: "s"}},
			TextPart("hi"),
			{Type: PartToolCall, ToolCall: &ToolCall{ID: "c1", Name: "f", Arguments: `{"a":1}`}},
		}}}}}
	got, err := Collect(NewSliceStream(Events(resp)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, resp) {
		t.Fatalf("round trip\n got %+v\nwant %+v", got, resp)
	}
}

type failingStream struct{ n int }

func (f *failingStream) Next() (Event, error) {
	f.n++
	if f.n > 1 {
		return Event{}, &Error{Kind: KindOverloaded, Message: "busy"}
	}
	return Event{Type: EventText, Text: "x"}, nil
}
func (f *failingStream) Close() error { return nil }

func TestCollectPropagatesErrors(t *testing.T) {
	_, err := Collect(&failingStream{})
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindOverloaded {
		t.Fatalf("err = %v", err)
	}
	s := NewSliceStream(nil)
	if _, err := s.Next(); err != io.EOF {
		t.Fatalf("empty stream: %v", err)
	}
}

func TestParseDataURL(t *testing.T) {
	tests := []struct {
		in, mime, data string
		ok             bool
	}{
		{"data:image/png;base64,iVBOR", "image/png", "iVBOR", true},
		{"data:text/plain;charset=utf-8;base64,aGk=", "text/plain", "aGk=", true},
		{"data:,hello", "", "", false},
		{"https://x/y.png", "", "", false},
		{"data:image/png;base64", "", "", false},
	}
	for _, tt := range tests {
		mime, data, ok := ParseDataURL(tt.in)
		if mime != tt.mime || data != tt.data || ok != tt.ok {
			t.Errorf("ParseDataURL(%q) = %q %q %v", tt.in, mime, data, ok)
		}
	}
	m := Media{MIMEType: "image/png", Data: "AAA"}
	if m.DataURL() != "data:image/png;base64,AAA" {
		t.Errorf("DataURL = %q", m.DataURL())
	}
}

func TestErrors(t *testing.T) {
	for status, kind := range map[int]ErrorKind{400: KindInvalidRequest, 401: KindAuth, 402: KindQuota, 403: KindPermission,
		404: KindNotFound, 408: KindTimeout, 413: KindTooLarge, 422: KindInvalidRequest, 429: KindRateLimited,
		500: KindUpstream, 502: KindUpstream, 503: KindOverloaded, 504: KindTimeout, 529: KindOverloaded} {
		if got := KindForStatus(status); got != kind {
			t.Errorf("KindForStatus(%d) = %s, want %s", status, got, kind)
		}
	}
	for kind, status := range kindStatus {
		if got := (&Error{Kind: kind}).HTTPStatus(); got != status {
			t.Errorf("%s status = %d", kind, got)
		}
	}
	if (&Error{Kind: KindUpstream, Status: 529}).HTTPStatus() != 529 {
		t.Error("explicit status ignored")
	}
	cause := errors.New("dial tcp 10.0.0.1:80: refused")
	e := &Error{Kind: KindUpstream, Message: "could not reach", Cause: cause}
	if !errors.Is(e, cause) {
		t.Error("Unwrap broken")
	}
	if AsError(context.DeadlineExceeded).Kind != KindTimeout || AsError(context.Canceled).Kind != KindCanceled {
		t.Error("context errors misclassified")
	}
	wrapped := fmt.Errorf("attempt: %w", e)
	if AsError(wrapped) != e {
		t.Error("AsError does not find a wrapped *Error")
	}
	if got := AsError(cause); got.Kind != KindInternal || got.Message != "internal error" {
		t.Errorf("a plain error leaks into the message: %+v", got)
	}
	if AsError(nil) != nil {
		t.Error("AsError(nil) != nil")
	}
}

// TestAccumulatorBoundsChoices: an out-of-range choice index (from a broken
// upstream) neither allocates per index nor corrupts choice 0.
func TestAccumulatorBoundsChoices(t *testing.T) {
	var acc Accumulator
	acc.Add(Event{Type: EventText, Text: "ok"})
	acc.Add(Event{Type: EventText, Choice: 1 << 30, Text: "huge"})
	acc.Add(Event{Type: EventText, Choice: -1, Text: "negative"})
	resp := acc.Response()
	if len(resp.Choices) != 1 || resp.Text() != "ok" {
		t.Fatalf("choices = %+v", resp.Choices)
	}
}

// TestAccumulatorKeepsReasoningOrigin: whose signature a reasoning part
// carries survives collecting a stream.
func TestAccumulatorKeepsReasoningOrigin(t *testing.T) {
	resp, err := Collect(NewSliceStream([]Event{
		{Type: EventReasoning, Text: "a", Origin: "anthropic"},
		{Type: EventReasoning, Signature: "sig", Origin: "anthropic"},
		{Type: EventFinish, FinishReason: FinishStop},
	}))
	if err != nil {
		t.Fatal(err)
	}
	r := resp.Choices[0].Message.Parts[0].Reasoning
	if r.Origin != "anthropic" || r.Signature != "sig" || r.Text != "a" {
		t.Errorf("reasoning = %+v", r)
	}
}
