package gemini

import (
	"io"
	"strconv"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// NewStreamEncoder returns an encoder writing streamGenerateContent SSE
// chunks ("data: <GenerateContentResponse>\r\n\r\n", as Gemini frames
// them). Chunks are appended to one reused buffer: relaying a text delta
// allocates nothing.
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
	tail    []byte // `,"modelVersion":…,"responseId":…}` and the frame's end
	model   string
	id      string
	cur     int       // the choice of the chunk being built
	usage   llm.Usage // the last usage event's
	choices []encodeChoice
	closed  bool
}

type encodeChoice struct {
	seen     bool
	finish   llm.FinishReason
	finished bool
	calls    []pendingCall // held until their arguments are complete
}

type pendingCall struct {
	index         int
	id, name, sig string
	args          []byte
}

// maxPendingCalls bounds the calls held for one choice.
const maxPendingCalls = 1024

func (e *streamEncoder) ContentType() string { return "text/event-stream" }

func (e *streamEncoder) Encode(ev llm.Event) error {
	switch ev.Type {
	case llm.EventStart:
		if e.id == "" && ev.ID != "" && e.tail == nil {
			e.id = ev.ID
		}
		if ev.Usage != nil {
			e.usage = *ev.Usage
		}
		return nil
	case llm.EventUsage:
		if ev.Usage != nil {
			e.usage = *ev.Usage
		}
		return nil
	}
	if ev.Choice < 0 || ev.Choice >= llm.MaxChoices {
		return &llm.Error{Kind: llm.KindInternal, Message: "stream event for a choice index out of range"}
	}
	c := e.choice(ev.Choice)
	c.seen = true
	switch ev.Type {
	case llm.EventText, llm.EventRefusal:
		if ev.Text == "" {
			return nil
		}
		if err := e.flushCalls(ev.Choice); err != nil {
			return err
		}
		b := e.begin(ev.Choice)
		b = appendTextPart(b, ev.Text, false)
		if len(ev.Logprobs) > 0 && ev.Type == llm.EventText {
			lp, _ := json.Marshal(encodeLogprobs(ev.Logprobs))
			b = append(b, `]},"logprobsResult":`...)
			b = append(b, lp...)
			b = append(b, `,"index":`...)
			b = strconv.AppendInt(b, int64(ev.Choice), 10)
			return e.write(append(b, "}]"...))
		}
		return e.end(b)
	case llm.EventReasoning:
		// A signature is sent back only when Gemini made it.
		sig := ""
		if ev.Origin == ID {
			sig = ev.Signature
		}
		if ev.Text == "" && sig == "" {
			return nil
		}
		if err := e.flushCalls(ev.Choice); err != nil {
			return err
		}
		b := e.begin(ev.Choice)
		b = appendTextPart(b, ev.Text, true)
		if sig != "" {
			b = append(b[:len(b)-1], `,"thoughtSignature":`...)
			b = rawjson.AppendString(b, sig)
			b = append(b, '}')
		}
		return e.end(b)
	case llm.EventToolCall:
		if len(c.calls) >= maxPendingCalls {
			return &llm.Error{Kind: llm.KindUpstream, Message: "too many tool calls in one answer"}
		}
		c.calls = append(c.calls, pendingCall{index: ev.ToolIndex, id: ev.ID, name: ev.Name, sig: ev.Signature,
			args: append([]byte(nil), ev.Text...)})
	case llm.EventToolArgs:
		for i := len(c.calls) - 1; i >= 0; i-- {
			if c.calls[i].index == ev.ToolIndex {
				c.calls[i].args = append(c.calls[i].args, ev.Text...)
				break
			}
		}
	case llm.EventFinish:
		c.finish, c.finished = ev.FinishReason, true
	}
	return nil
}

func (e *streamEncoder) choice(i int) *encodeChoice {
	for len(e.choices) <= i {
		e.choices = append(e.choices, encodeChoice{})
	}
	return &e.choices[i]
}

// candidateStart opens a candidate, up to its parts.
const candidateStart = `{"content":{"role":"model","parts":[`

// begin starts a one-candidate chunk for choice, up to its parts.
func (e *streamEncoder) begin(choice int) []byte {
	e.cur = choice
	return append(e.buf[:0], `data: {"candidates":[`+candidateStart...)
}

// end closes the chunk begin started and writes it.
func (e *streamEncoder) end(b []byte) error {
	return e.write(append(closeCandidate(b, e.cur, ""), ']'))
}

// closeCandidate closes the parts and the candidate, with its index and
// finish reason ("" for none).
func closeCandidate(b []byte, index int, finish string) []byte {
	b = append(b, `]}`...)
	if finish != "" {
		b = append(b, `,"finishReason":"`...)
		b = append(b, finish...)
		b = append(b, '"')
	}
	b = append(b, `,"index":`...)
	b = strconv.AppendInt(b, int64(index), 10)
	return append(b, '}')
}

// write finishes a chunk with the model and response id and sends it.
func (e *streamEncoder) write(b []byte) error {
	if e.tail == nil {
		if e.id == "" {
			e.id = newResponseID()
		}
		t := append([]byte(nil), `,"modelVersion":`...)
		t = rawjson.AppendString(t, e.model)
		t = append(t, `,"responseId":`...)
		t = rawjson.AppendString(t, e.id)
		e.tail = append(t, "}\r\n\r\n"...)
	}
	b = append(b, e.tail...)
	e.buf = b[:0]
	_, err := e.w.Write(b)
	return err
}

// appendUsage appends usageMetadata as encoding/json would write it.
func appendUsage(b []byte, u *usageMetadata) []byte {
	b = append(b, `{"promptTokenCount":`...)
	b = strconv.AppendInt(b, int64(u.PromptTokenCount), 10)
	b = append(b, `,"candidatesTokenCount":`...)
	b = strconv.AppendInt(b, int64(u.CandidatesTokenCount), 10)
	if u.ThoughtsTokenCount != 0 {
		b = append(b, `,"thoughtsTokenCount":`...)
		b = strconv.AppendInt(b, int64(u.ThoughtsTokenCount), 10)
	}
	if u.CachedContentTokenCount != 0 {
		b = append(b, `,"cachedContentTokenCount":`...)
		b = strconv.AppendInt(b, int64(u.CachedContentTokenCount), 10)
	}
	b = append(b, `,"totalTokenCount":`...)
	b = strconv.AppendInt(b, int64(u.TotalTokenCount), 10)
	return append(b, '}')
}

func appendTextPart(b []byte, text string, thought bool) []byte {
	b = append(b, `{"text":`...)
	b = rawjson.AppendString(b, text)
	if thought {
		b = append(b, `,"thought":true`...)
	}
	return append(b, '}')
}

// appendCalls appends the held calls of a choice as functionCall parts.
func appendCalls(b []byte, calls []pendingCall) []byte {
	for i, c := range calls {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"functionCall":{`...)
		if c.id != "" {
			b = append(b, `"id":`...)
			b = rawjson.AppendString(b, c.id)
			b = append(b, ',')
		}
		b = append(b, `"name":`...)
		b = rawjson.AppendString(b, c.name)
		b = append(b, `,"args":`...)
		b = append(b, answerArgs(string(c.args))...)
		b = append(b, '}')
		if c.sig != "" {
			b = append(b, `,"thoughtSignature":`...)
			b = rawjson.AppendString(b, c.sig)
		}
		b = append(b, '}')
	}
	return b
}

// flushCalls writes the calls held for a choice, whose arguments are
// complete now that other content follows them.
func (e *streamEncoder) flushCalls(choice int) error {
	c := &e.choices[choice]
	if len(c.calls) == 0 {
		return nil
	}
	b := e.begin(choice)
	b = appendCalls(b, c.calls)
	c.calls = c.calls[:0]
	return e.end(b)
}

// Close writes the final chunk: every choice's held calls, its finish
// reason, and the usage. Gemini streams have no terminator beyond it.
func (e *streamEncoder) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	if len(e.choices) == 0 {
		e.choice(0).seen = true
	}
	b := append(e.buf[:0], `data: {"candidates":[`...)
	first := true
	for i := range e.choices {
		c := &e.choices[i]
		if !c.seen {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, candidateStart...)
		if len(c.calls) > 0 {
			b = appendCalls(b, c.calls)
			c.calls = nil
		} else {
			b = append(b, `{"text":""}`...)
		}
		finish := c.finish
		if !c.finished {
			finish = llm.FinishStop
		}
		b = closeCandidate(b, i, finishToWire(finish))
	}
	b = append(b, `],"usageMetadata":`...)
	b = appendUsage(b, encodeUsage(e.usage))
	return e.write(b)
}

// Fail ends the stream with an error chunk, {"error":{code, message,
// status}}, the shape Gemini itself uses; held calls are dropped.
func (e *streamEncoder) Fail(err *llm.Error) error {
	if e.closed {
		return nil
	}
	e.closed = true
	b := append(e.buf[:0], "data: "...)
	b = appendError(b, err)
	b = append(b, "\r\n\r\n"...)
	e.buf = b[:0]
	_, werr := e.w.Write(b)
	return werr
}
