package anthropic

import (
	"bytes"
	"errors"
	"io"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/sse"
	"github.com/llmux/llmux/llm"
)

// maxBlocks bounds the content blocks of one streamed message: a block
// index is remembered, and one from a broken upstream must not grow state
// without bound.
const maxBlocks = 4096

// NewStreamDecoder returns a stream of canonical events read from an
// upstream's Messages SSE body. The stream ends cleanly after message_stop;
// an error event becomes an *llm.Error, and a body that ends before
// message_stop an upstream error.
func (Protocol) NewStreamDecoder(body io.ReadCloser) llm.Stream {
	return &streamDecoder{body: body, sse: sse.NewReader(body)}
}

type blockKind uint8

const (
	blockOther blockKind = iota
	blockText
	blockThinking
	blockTool
	blockAnswer // a call of JSONToolName: its input is the answer's text
)

type blockState struct {
	kind blockKind
	tool int // canonical tool index of a blockTool
}

type streamDecoder struct {
	body    io.ReadCloser
	sse     *sse.Reader
	queue   []llm.Event
	head    int
	started bool
	done    bool
	err     error
	blocks  map[int]blockState
	calls   int
	answer  bool
	usage   llm.Usage
	event   streamEvent
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
		d.done = true
		if errors.Is(err, io.EOF) {
			return &llm.Error{Kind: llm.KindUpstream, Message: "the upstream stream ended before the answer was complete"}
		}
		return readFailure(err)
	}
	data := bytes.TrimLeft(ev.Data, " \t\r\n")
	if len(data) == 0 || data[0] != '{' {
		return nil // keep-alive or unknown framing: skip
	}
	e := &d.event
	*e = streamEvent{}
	if err := json.Unmarshal(data, e); err != nil {
		d.done = true
		return &llm.Error{Kind: llm.KindUpstream, Message: "the upstream sent a malformed stream event", Cause: err}
	}
	switch eventType(ev.Name, e.Type) {
	case "message_start":
		d.start(e.Message)
	case "content_block_start":
		return d.blockStart(e)
	case "content_block_delta":
		return d.blockDelta(e)
	case "message_delta":
		d.ensureStart()
		if e.Delta != nil && e.Delta.StopReason != nil {
			fin := llm.Event{Type: llm.EventFinish, FinishReason: settleFinish(finishFromWire(*e.Delta.StopReason), d.calls, d.answer)}
			if e.Delta.StopSequence != nil {
				fin.StopSequence = *e.Delta.StopSequence
			}
			d.push(fin)
		}
		if e.Usage != nil {
			d.usage = decodeUsage(d.usage, e.Usage)
			u := d.usage
			d.push(llm.Event{Type: llm.EventUsage, Usage: &u})
		}
	case "message_stop":
		d.done = true
		d.ensureStart()
		return nil
	case "error":
		d.done = true
		eb := e.Error
		if eb == nil {
			eb = &errorBody{}
		}
		return streamError(eb)
	}
	// ping, content_block_stop and unknown events carry nothing.
	return nil
}

// eventType is what an event is: its SSE event name, or the type in its
// data when it has no name (as the relay reads it too).
func eventType(name []byte, dataType string) string {
	if len(name) == 0 {
		return dataType
	}
	switch string(name) {
	case "message_start":
		return "message_start"
	case "content_block_start":
		return "content_block_start"
	case "content_block_delta":
		return "content_block_delta"
	case "message_delta":
		return "message_delta"
	case "message_stop":
		return "message_stop"
	case "error":
		return "error"
	}
	return "other"
}

func (d *streamDecoder) start(m *messageResponse) {
	if d.started {
		if m != nil && m.Usage != nil { // a late or repeated message_start
			d.usage = decodeUsage(d.usage, m.Usage)
			u := d.usage
			d.push(llm.Event{Type: llm.EventUsage, Usage: &u})
		}
		return
	}
	d.started = true
	ev := llm.Event{Type: llm.EventStart}
	if m != nil {
		ev.ID, ev.Model = m.ID, m.Model
		if m.Usage != nil {
			d.usage = decodeUsage(d.usage, m.Usage)
			u := d.usage
			ev.Usage = &u
		}
	}
	d.push(ev)
}

func (d *streamDecoder) ensureStart() { d.start(nil) }

func (d *streamDecoder) blockStart(e *streamEvent) error {
	d.ensureStart()
	b := e.ContentBlock
	if e.Index == nil || b == nil {
		return nil
	}
	if d.blocks == nil {
		d.blocks = make(map[int]blockState, 4)
	}
	if _, seen := d.blocks[*e.Index]; !seen && len(d.blocks) >= maxBlocks {
		d.done = true
		return &llm.Error{Kind: llm.KindUpstream, Message: "the upstream stream has too many content blocks"}
	}
	st := blockState{}
	switch b.Type {
	case "text":
		st.kind = blockText
		if b.Text != nil && *b.Text != "" {
			d.push(llm.Event{Type: llm.EventText, Text: *b.Text})
		}
	case "thinking":
		st.kind = blockThinking
		ev := llm.Event{Type: llm.EventReasoning, Origin: ID}
		if b.Thinking != nil {
			ev.Text = *b.Thinking
		}
		if b.Signature != nil {
			ev.Signature = *b.Signature
		}
		if ev.Text != "" || ev.Signature != "" {
			d.push(ev)
		}
	case "redacted_thinking":
		d.push(llm.Event{Type: llm.EventReasoning, Redacted: true, Data: b.Data, Origin: ID})
	case "tool_use":
		input := ""
		if len(b.Input) > 0 && string(b.Input) != "{}" {
			input = string(b.Input)
		}
		if b.Name == JSONToolName {
			st.kind = blockAnswer
			d.answer = true
			if input != "" {
				d.push(llm.Event{Type: llm.EventText, Text: input})
			}
			break
		}
		st.kind, st.tool = blockTool, d.calls
		d.calls++
		id := b.ID
		if id == "" {
			id = newID("toolu_")
		}
		d.push(llm.Event{Type: llm.EventToolCall, ToolIndex: st.tool, ID: id, Name: b.Name, Text: input})
	}
	// Server-tool blocks have no canonical form; their deltas are skipped.
	d.blocks[*e.Index] = st
	return nil
}

func (d *streamDecoder) blockDelta(e *streamEvent) error {
	d.ensureStart()
	dl := e.Delta
	if e.Index == nil || dl == nil {
		return nil
	}
	st, ok := d.blocks[*e.Index]
	if !ok || st.kind == blockOther {
		return nil // a server-tool block, or one that never started
	}
	switch dl.Type {
	case "text_delta":
		if dl.Text != "" {
			d.push(llm.Event{Type: llm.EventText, Text: dl.Text})
		}
	case "thinking_delta":
		if dl.Thinking != "" {
			d.push(llm.Event{Type: llm.EventReasoning, Text: dl.Thinking, Origin: ID})
		}
	case "signature_delta":
		if dl.Signature != "" {
			d.push(llm.Event{Type: llm.EventReasoning, Signature: dl.Signature, Origin: ID})
		}
	case "input_json_delta":
		if dl.PartialJSON == "" {
			break
		}
		switch st.kind {
		case blockTool:
			d.push(llm.Event{Type: llm.EventToolArgs, ToolIndex: st.tool, Text: dl.PartialJSON})
		case blockAnswer:
			d.push(llm.Event{Type: llm.EventText, Text: dl.PartialJSON})
		}
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

// readFailure keeps an *llm.Error the body reader classified (a deadline, a
// client that left) and wraps anything else as a broken upstream stream.
func readFailure(err error) error {
	var e *llm.Error
	if errors.As(err, &e) {
		return e
	}
	return &llm.Error{Kind: llm.KindUpstream, Message: "reading the upstream stream failed", Cause: err}
}
