package openai

import (
	"bytes"
	"errors"
	"io"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/sse"
	"github.com/llmux/llmux/llm"
)

// NewStreamDecoder returns a stream of canonical events read from an
// upstream's chat.completion.chunk SSE body.
func (Protocol) NewStreamDecoder(body io.ReadCloser) llm.Stream {
	return &streamDecoder{body: body, sse: sse.NewReader(body)}
}

type streamDecoder struct {
	body     io.ReadCloser
	sse      *sse.Reader
	queue    []llm.Event
	head     int
	started  bool
	finished bool
	done     bool
	err      error
	choices  map[int]*decodeChoice
	chunk    chunk
}

type decodeChoice struct {
	tools   map[int]int // wire tool index → canonical index
	lastID  string
	calls   int
	current int
}

func (d *streamDecoder) Next() (llm.Event, error) {
	for d.head >= len(d.queue) {
		if d.err != nil {
			return llm.Event{}, d.err
		}
		d.queue, d.head = d.queue[:0], 0
		d.err = d.read()
	}
	ev := d.queue[d.head]
	d.head++
	return ev, nil
}

// read decodes the next SSE event into queued canonical events.
func (d *streamDecoder) read() error {
	if d.done {
		return io.EOF
	}
	ev, err := d.sse.Next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			d.done = true
			if d.finished {
				return io.EOF // some servers omit [DONE]
			}
			return &llm.Error{Kind: llm.KindUpstream, Message: "the upstream stream ended before the answer was complete"}
		}
		return readFailure(err)
	}
	data := bytes.TrimSpace(ev.Data)
	if bytes.Equal(data, []byte("[DONE]")) {
		d.done = true
		return io.EOF
	}
	if len(data) == 0 || data[0] != '{' {
		return nil // keep-alive or unknown framing: skip
	}
	c := &d.chunk
	*c = chunk{}
	if err := json.Unmarshal(data, c); err != nil {
		return &llm.Error{Kind: llm.KindUpstream, Message: "the upstream sent a malformed stream chunk", Cause: err}
	}
	if c.Error != nil {
		return streamError(c.Error)
	}
	for i := range c.Choices {
		if c.Choices[i].Index < 0 || c.Choices[i].Index >= maxChoices {
			return &llm.Error{Kind: llm.KindUpstream, Message: "the upstream sent a choice index out of range"}
		}
	}
	if !d.started {
		d.started = true
		d.push(llm.Event{Type: llm.EventStart, ID: c.ID, Model: c.Model, Created: c.Created})
	}
	for i := range c.Choices {
		d.choiceEvents(&c.Choices[i])
	}
	switch {
	case c.Usage != nil:
		d.pushUsage(c.Usage)
	case c.XGroq != nil && c.XGroq.Usage != nil:
		d.pushUsage(c.XGroq.Usage)
	}
	return nil
}

func (d *streamDecoder) choiceEvents(wc *chunkChoice) {
	idx := wc.Index
	st := d.choice(idx)
	dl := &wc.Delta
	if r := dl.ReasoningContent; r != nil && *r != "" {
		d.push(llm.Event{Type: llm.EventReasoning, Choice: idx, Text: *r})
	} else if r := dl.Reasoning; r != nil && *r != "" {
		d.push(llm.Event{Type: llm.EventReasoning, Choice: idx, Text: *r})
	}
	if dl.Content != nil && *dl.Content != "" {
		ev := llm.Event{Type: llm.EventText, Choice: idx, Text: *dl.Content}
		if wc.Logprobs != nil {
			ev.Logprobs = decodeLogprobs(wc.Logprobs.Content)
		}
		d.push(ev)
	}
	if dl.Refusal != nil && *dl.Refusal != "" {
		d.push(llm.Event{Type: llm.EventRefusal, Choice: idx, Text: *dl.Refusal})
	}
	for _, tc := range dl.ToolCalls {
		d.toolEvents(idx, st, &tc)
	}
	if wc.FinishReason != nil && *wc.FinishReason != "" {
		d.finished = true
		fr := finishFromWire(*wc.FinishReason)
		if fr == llm.FinishStop && st.calls > 0 {
			fr = llm.FinishToolCalls // Ollama's /v1 and others say "stop"
		}
		d.push(llm.Event{Type: llm.EventFinish, Choice: idx, FinishReason: fr})
	}
	if wc.Usage != nil {
		d.pushUsage(wc.Usage)
	}
}

// toolEvents maps one tool_calls delta. Calls are keyed by their wire index;
// servers that omit the index are keyed by id instead.
func (d *streamDecoder) toolEvents(choice int, st *decodeChoice, tc *toolCall) {
	wire := -1
	if tc.Index != nil {
		wire = *tc.Index
	}
	var name, args string
	if tc.Function != nil {
		name, args = tc.Function.Name, string(tc.Function.Arguments)
	} else if tc.Custom != nil {
		name, args = tc.Custom.Name, tc.Custom.Input
	}
	canon, known := -1, false
	if wire >= 0 {
		canon, known = st.tools[wire]
	} else if tc.ID == "" || tc.ID == st.lastID {
		canon, known = st.current, st.calls > 0
	}
	if !known {
		canon = st.calls
		st.calls++
		if wire >= 0 {
			st.tools[wire] = canon
		}
		st.current, st.lastID = canon, tc.ID
		id := tc.ID
		if id == "" {
			id = newID("call_")
		}
		d.push(llm.Event{Type: llm.EventToolCall, Choice: choice, ToolIndex: canon, ID: id, Name: name})
	}
	if args != "" {
		d.push(llm.Event{Type: llm.EventToolArgs, Choice: choice, ToolIndex: canon, Text: args})
	}
}

func (d *streamDecoder) choice(i int) *decodeChoice {
	if d.choices == nil {
		d.choices = make(map[int]*decodeChoice, 1)
	}
	st := d.choices[i]
	if st == nil {
		st = &decodeChoice{tools: make(map[int]int, 2)}
		d.choices[i] = st
	}
	return st
}

func (d *streamDecoder) push(ev llm.Event) { d.queue = append(d.queue, ev) }

func (d *streamDecoder) pushUsage(u *usage) {
	cu := decodeUsage(u)
	d.push(llm.Event{Type: llm.EventUsage, Usage: &cu})
}

func (d *streamDecoder) Close() error {
	d.done = true
	if d.err == nil {
		d.err = io.EOF
	}
	return d.body.Close()
}

// streamError maps an error object sent inside a stream.
func streamError(eb *errorBody) *llm.Error {
	e := &llm.Error{Kind: llm.KindUpstream, Message: eb.Message, Type: eb.Type, Code: codeString(eb.Code), Origin: ID}
	switch eb.Type {
	case "invalid_request_error":
		e.Kind = llm.KindInvalidRequest
	case "rate_limit_error", "tokens", "requests":
		e.Kind = llm.KindRateLimited
	}
	classify(e)
	if e.Message == "" {
		e.Message = "the upstream reported an error in the stream"
	}
	return e
}

// readFailure keeps an *llm.Error the body reader classified (a deadline, a
// client that left) and wraps anything else as a broken upstream stream.
func readFailure(err error) error {
	var e *llm.Error
	if errors.As(err, &e) {
		return e
	}
	return &llm.Error{Kind: llm.KindUpstream, Message: "reading the upstream stream failed", Cause: err}
}
