package anthropic

import (
	"io"
	"strconv"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// NewStreamEncoder returns an encoder writing Messages SSE events. Content
// blocks never interleave: a block is closed when another kind starts, and
// tool calls are blocks of their own. Events are built by appending to one
// reused buffer, so relaying a text delta allocates nothing.
//
// Upstreams that interleave the arguments of parallel tool calls (OpenAI
// may) get them serialized: a call that starts while another's arguments
// are not yet a complete JSON value waits, with its arguments buffered,
// until that one is complete or other content begins.
//
// message_delta, which carries the stop reason and usage, is written by
// Close: usage often arrives after the finish. It repeats the input counts,
// which message_start cannot know for upstreams that report them late.
func (Protocol) NewStreamEncoder(w io.Writer, req *llm.Request) protocol.StreamEncoder {
	e := &streamEncoder{w: w}
	if req != nil {
		e.model = req.Model
	}
	return e
}

type streamEncoder struct {
	w       io.Writer
	buf     []byte
	model   string
	started bool
	closed  bool

	open     blockKind // the open block's kind; blockOther when none is open
	index    int       // the open block's index
	next     int       // index of the next block
	openTool int       // ToolIndex of an open tool block
	args     []byte    // arguments of the open tool block so far
	reasonID string    // reasoning item id of an open thinking block
	signed   bool      // the open thinking block has its signature
	queued   []queuedTool
	calls    bool // a tool_use block was written

	finish  llm.FinishReason
	stopSeq string
	usage   llm.Usage
}

// queuedTool is a tool call waiting for the open tool block to finish.
type queuedTool struct {
	index    int
	id, name string
	args     []byte
}

func (e *streamEncoder) ContentType() string { return "text/event-stream" }

func (e *streamEncoder) Encode(ev llm.Event) error {
	if e.closed {
		return nil
	}
	b := e.buf[:0]
	switch ev.Type {
	case llm.EventStart:
		if ev.Usage != nil {
			e.usage = *ev.Usage
		}
		b = e.start(b, ev.ID, ev.Model)
	case llm.EventUsage:
		if ev.Usage != nil {
			e.usage = *ev.Usage
		}
		return nil
	}
	if ev.Choice != 0 {
		return nil // Messages has one choice
	}
	switch ev.Type {
	case llm.EventText, llm.EventRefusal:
		if ev.Text == "" {
			return nil
		}
		b = e.start(b, "", "")
		if e.open != blockText {
			b = e.closeAll(b)
			b = e.openBlock(b, blockText, `{"type":"text","text":""}`)
		}
		b = e.delta(b, `{"type":"text_delta","text":`, ev.Text)
	case llm.EventReasoning:
		b = e.start(b, "", "")
		b = e.reasoning(b, &ev)
	case llm.EventToolCall:
		b = e.start(b, "", "")
		b = e.toolCall(b, &ev)
	case llm.EventToolArgs:
		if ev.Text == "" {
			return nil
		}
		b = e.toolArgs(b, &ev)
	case llm.EventFinish:
		b = e.start(b, "", "")
		b = e.closeAll(b)
		e.finish, e.stopSeq = ev.FinishReason, ev.StopSequence
	}
	return e.write(b)
}

// start writes message_start once.
func (e *streamEncoder) start(b []byte, id, model string) []byte {
	if e.started {
		return b
	}
	e.started = true
	if e.model != "" {
		model = e.model
	}
	b = append(b, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"...)
	b = rawjson.AppendString(b, messageID(id))
	b = append(b, `,"type":"message","role":"assistant","model":`...)
	b = rawjson.AppendString(b, model)
	b = append(b, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":`...)
	b = appendUsage(b, e.usage)
	return append(b, "}}\n\n"...)
}

func appendUsage(b []byte, u llm.Usage) []byte {
	b = append(b, `{"input_tokens":`...)
	b = strconv.AppendInt(b, int64(max(u.InputTokens-u.CachedTokens-u.CacheWriteTokens, 0)), 10)
	b = append(b, `,"cache_creation_input_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CacheWriteTokens), 10)
	b = append(b, `,"cache_read_input_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CachedTokens), 10)
	b = append(b, `,"output_tokens":`...)
	b = strconv.AppendInt(b, int64(u.OutputTokens), 10)
	if u.ReasoningTokens > 0 {
		b = append(b, `,"output_tokens_details":{"thinking_tokens":`...)
		b = strconv.AppendInt(b, int64(u.ReasoningTokens), 10)
		b = append(b, '}')
	}
	return append(b, '}')
}

// openBlock writes content_block_start for a new block of kind whose
// content_block is a constant.
func (e *streamEncoder) openBlock(b []byte, kind blockKind, contentBlock string) []byte {
	b = e.beginBlock(b, kind)
	b = append(b, contentBlock...)
	return append(b, "}\n\n"...)
}

// beginBlock writes content_block_start up to its content_block, which the
// caller appends, followed by "}\n\n".
func (e *streamEncoder) beginBlock(b []byte, kind blockKind) []byte {
	e.open, e.index = kind, e.next
	e.next++
	b = append(b, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":"...)
	b = strconv.AppendInt(b, int64(e.index), 10)
	return append(b, `,"content_block":`...)
}

// delta writes a content_block_delta for the open block: prefix is the
// delta object up to its string member, s the member's value.
func (e *streamEncoder) delta(b []byte, prefix, s string) []byte {
	b = append(b, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":"...)
	b = strconv.AppendInt(b, int64(e.index), 10)
	b = append(b, `,"delta":`...)
	b = append(b, prefix...)
	b = rawjson.AppendString(b, s)
	return append(b, "}}\n\n"...)
}

// closeBlock writes content_block_stop for the open block.
func (e *streamEncoder) closeBlock(b []byte) []byte {
	if e.open == blockOther {
		return b
	}
	e.open = blockOther
	b = append(b, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":"...)
	b = strconv.AppendInt(b, int64(e.index), 10)
	return append(b, "}\n\n"...)
}

// closeAll closes the open block and writes every waiting tool call as a
// whole block: other content begins.
func (e *streamEncoder) closeAll(b []byte) []byte {
	b = e.closeBlock(b)
	for len(e.queued) > 0 {
		b = e.openQueued(b)
		b = e.closeBlock(b)
	}
	return b
}

func (e *streamEncoder) reasoning(b []byte, ev *llm.Event) []byte {
	if ev.Origin != "" && ev.Origin != ID {
		// Another vendor's signature or opaque reasoning is no Anthropic
		// signature: only the text is sent.
		if ev.Redacted || ev.Text == "" {
			return b
		}
		ev.Signature, ev.Data = "", ""
	}
	if ev.Redacted {
		b = e.closeAll(b)
		b = e.beginBlock(b, blockThinking)
		b = append(b, `{"type":"redacted_thinking","data":`...)
		b = rawjson.AppendString(b, ev.Data)
		b = append(b, "}}\n\n"...)
		return e.closeBlock(b)
	}
	if ev.Text == "" && ev.Signature == "" {
		return b
	}
	if e.open != blockThinking || e.signed || ev.ID != "" && ev.ID != e.reasonID {
		b = e.closeAll(b)
		b = e.openBlock(b, blockThinking, `{"type":"thinking","thinking":"","signature":""}`)
		e.reasonID, e.signed = ev.ID, false
	}
	if ev.Text != "" {
		b = e.delta(b, `{"type":"thinking_delta","thinking":`, ev.Text)
	}
	if ev.Signature != "" {
		b = e.delta(b, `{"type":"signature_delta","signature":`, ev.Signature)
		e.signed = true
	}
	return b
}

func (e *streamEncoder) toolCall(b []byte, ev *llm.Event) []byte {
	if e.open == blockTool && (len(e.queued) > 0 || !complete(e.args)) {
		// The open call may still get arguments: this one waits.
		e.queued = append(e.queued, queuedTool{index: ev.ToolIndex, id: ev.ID, name: ev.Name, args: []byte(ev.Text)})
		return b
	}
	b = e.closeAll(b)
	return e.startTool(b, ev.ToolIndex, ev.ID, ev.Name, ev.Text)
}

func (e *streamEncoder) startTool(b []byte, index int, id, name, args string) []byte {
	if id == "" {
		id = newID("toolu_")
	}
	b = e.beginBlock(b, blockTool)
	b = append(b, `{"type":"tool_use","id":`...)
	b = rawjson.AppendString(b, toolID(id))
	b = append(b, `,"name":`...)
	b = rawjson.AppendString(b, name)
	b = append(b, `,"input":{}}}`+"\n\n"...)
	e.openTool, e.calls = index, true
	e.args = append(e.args[:0], args...)
	if args != "" {
		b = e.delta(b, `{"type":"input_json_delta","partial_json":`, args)
	}
	return b
}

// openQueued opens the first waiting tool call with what it got so far.
func (e *streamEncoder) openQueued(b []byte) []byte {
	q := e.queued[0]
	e.queued = e.queued[1:]
	return e.startTool(b, q.index, q.id, q.name, string(q.args))
}

func (e *streamEncoder) toolArgs(b []byte, ev *llm.Event) []byte {
	if e.open == blockTool && ev.ToolIndex == e.openTool {
		e.args = append(e.args, ev.Text...)
		b = e.delta(b, `{"type":"input_json_delta","partial_json":`, ev.Text)
		// A finished call lets the waiting ones go.
		for len(e.queued) > 0 && complete(e.args) {
			b = e.closeBlock(b)
			b = e.openQueued(b)
		}
		return b
	}
	for i := range e.queued {
		if e.queued[i].index == ev.ToolIndex {
			e.queued[i].args = append(e.queued[i].args, ev.Text...)
			break
		}
	}
	return b
}

// complete reports whether a call's arguments so far are a whole JSON
// value, so that no more can follow.
func complete(args []byte) bool {
	return len(args) > 0 && rawjson.Valid(args) == nil
}

func (e *streamEncoder) write(b []byte) error {
	e.buf = b[:0]
	if len(b) == 0 {
		return nil
	}
	_, err := e.w.Write(b)
	return err
}

// Close ends the answer: it closes what is open, then writes message_delta
// with the stop reason and usage, and message_stop.
func (e *streamEncoder) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	b := e.start(e.buf[:0], "", "")
	b = e.closeAll(b)
	b = append(b, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\""...)
	sr := finishToWire(e.finish, e.stopSeq, e.calls)
	b = append(b, sr...)
	b = append(b, `","stop_sequence":`...)
	if sr == "stop_sequence" {
		b = rawjson.AppendString(b, e.stopSeq)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `},"usage":`...)
	b = appendUsage(b, e.usage)
	b = append(b, "}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"...)
	return e.write(b)
}

// Fail closes the open block and sends an error event, which the Anthropic
// SDKs raise as a stream error; no message_stop follows, so that no client
// mistakes the answer for complete.
func (e *streamEncoder) Fail(err *llm.Error) error {
	if e.closed {
		return nil
	}
	e.closed = true
	b := e.closeBlock(e.buf[:0])
	b = append(b, "event: error\ndata: "...)
	b = appendError(b, err, errorStatus(err))
	return e.write(append(b, "\n\n"...))
}
