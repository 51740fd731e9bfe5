package ollama

import (
	"errors"
	"io"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/sse"
	"github.com/llmux/llmux/llm"
)

// NewStreamDecoder returns a stream of canonical events read from an
// upstream's /api/chat NDJSON body: one JSON object per line, ending with
// the object whose "done" is true.
func (Protocol) NewStreamDecoder(body io.ReadCloser) llm.Stream {
	return &streamDecoder{body: body, lines: sse.NewLineReader(body)}
}

type streamDecoder struct {
	body    io.ReadCloser
	lines   *sse.LineReader
	queue   []llm.Event
	head    int
	started bool
	done    bool
	err     error
	calls   int // tool calls seen, which numbers the next one
	chunk   chatResponse
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

// read decodes the next line into queued canonical events.
func (d *streamDecoder) read() error {
	if d.done {
		return io.EOF
	}
	line, err := d.lines.Next()
	if err != nil {
		d.done = true
		if errors.Is(err, io.EOF) {
			return earlyEnd()
		}
		return readFailure(err)
	}
	c := &d.chunk
	*c = chatResponse{}
	if err := json.Unmarshal(line, c); err != nil {
		d.done = true
		return &llm.Error{Kind: llm.KindUpstream, Message: "the upstream sent a malformed stream line", Cause: err}
	}
	if c.Error != nil {
		d.done = true
		return streamError(c.Error.Message)
	}
	if !d.started {
		d.started = true
		d.push(llm.Event{Type: llm.EventStart, Model: c.Model, Created: parseCreated(c.CreatedAt)})
	}
	m := &c.Message
	if m.Thinking != "" {
		d.push(llm.Event{Type: llm.EventReasoning, Text: m.Thinking})
	}
	if m.Content != "" || len(c.Logprobs) > 0 {
		d.push(llm.Event{Type: llm.EventText, Text: m.Content, Logprobs: decodeLogprobs(c.Logprobs)})
	}
	for j := range m.ToolCalls {
		tc := &m.ToolCalls[j]
		args := tc.Function.Arguments.text()
		id := tc.ID
		if id == "" {
			id = syntheticID(c.CreatedAt, d.calls, tc.Function.Name, args)
		}
		d.push(llm.Event{Type: llm.EventToolCall, ToolIndex: d.calls, ID: id, Name: tc.Function.Name})
		d.push(llm.Event{Type: llm.EventToolArgs, ToolIndex: d.calls, Text: args})
		d.calls++
	}
	if c.Done {
		d.done = true
		if c.PromptEvalCount != nil || c.EvalCount != nil {
			u := usageOf(c)
			d.push(llm.Event{Type: llm.EventUsage, Usage: &u})
		}
		d.push(llm.Event{Type: llm.EventFinish, FinishReason: finishOf(c.DoneReason, d.calls > 0)})
	}
	return nil
}

func (d *streamDecoder) push(ev llm.Event) { d.queue = append(d.queue, ev) }

func (d *streamDecoder) Close() error {
	d.done = true
	if d.err == nil {
		d.err = io.EOF
	}
	return d.body.Close()
}
