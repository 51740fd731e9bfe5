package openai

import (
	"io"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// NewStreamEncoder returns an encoder writing chat.completion.chunk events.
// Chunks are built by appending to one reused buffer: relaying a text delta
// allocates nothing.
func (Protocol) NewStreamEncoder(w io.Writer, req *llm.Request) protocol.StreamEncoder {
	e := &streamEncoder{w: w}
	if req != nil {
		e.includeUsage = req.StreamUsage
		e.model = req.Model
	}
	return e
}

type streamEncoder struct {
	w            io.Writer
	buf          []byte
	prefix       []byte // `data: {"id":…,"choices":[{"index":`
	model        string
	includeUsage bool
	usage        *llm.Usage
	choices      []choiceState
	closed       bool
}

type choiceState struct {
	started  bool // the role chunk went out
	finished bool
}

func (e *streamEncoder) ContentType() string { return "text/event-stream" }

func (e *streamEncoder) Encode(ev llm.Event) error {
	switch ev.Type {
	case llm.EventStart:
		if e.prefix == nil {
			e.setPrefix(ev.ID, ev.Model, ev.Created)
		}
		if ev.Usage != nil {
			u := *ev.Usage
			e.usage = &u
		}
		return e.role(0)
	case llm.EventUsage:
		if ev.Usage != nil {
			u := *ev.Usage
			e.usage = &u
		}
		return nil
	}
	if ev.Choice < 0 || ev.Choice >= maxChoices {
		return &llm.Error{Kind: llm.KindInternal, Message: "stream event for a choice index out of range"}
	}
	if err := e.role(ev.Choice); err != nil {
		return err
	}
	b := e.begin(ev.Choice)
	switch ev.Type {
	case llm.EventText:
		b = append(b, `"delta":{"content":`...)
		b = rawjson.AppendString(b, ev.Text)
		b = append(b, '}')
		if len(ev.Logprobs) > 0 {
			lp, _ := json.Marshal(encodeLogprobs(ev.Logprobs))
			b = append(b, `,"logprobs":`...)
			b = append(b, lp...)
		}
	case llm.EventRefusal:
		b = append(b, `"delta":{"refusal":`...)
		b = rawjson.AppendString(b, ev.Text)
		b = append(b, '}')
	case llm.EventReasoning:
		if ev.Text == "" {
			return nil // signatures and opaque reasoning have no Chat Completions form
		}
		b = append(b, `"delta":{"reasoning_content":`...)
		b = rawjson.AppendString(b, ev.Text)
		b = append(b, '}')
	case llm.EventToolCall:
		b = append(b, `"delta":{"tool_calls":[{"index":`...)
		b = strconv.AppendInt(b, int64(ev.ToolIndex), 10)
		b = append(b, `,"id":`...)
		b = rawjson.AppendString(b, ev.ID)
		b = append(b, `,"type":"function","function":{"name":`...)
		b = rawjson.AppendString(b, ev.Name)
		b = append(b, `,"arguments":`...)
		b = rawjson.AppendString(b, ev.Text)
		b = append(b, `}}]}`...)
	case llm.EventToolArgs:
		b = append(b, `"delta":{"tool_calls":[{"index":`...)
		b = strconv.AppendInt(b, int64(ev.ToolIndex), 10)
		b = append(b, `,"function":{"arguments":`...)
		b = rawjson.AppendString(b, ev.Text)
		b = append(b, `}}]}`...)
	case llm.EventFinish:
		e.choice(ev.Choice).finished = true
		b = append(b, `"delta":{},"finish_reason":"`...)
		b = append(b, finishToWire(ev.FinishReason)...)
		b = append(b, `"}]}`...)
		return e.flush(append(b, "\n\n"...))
	default:
		return nil
	}
	return e.flush(append(b, `,"finish_reason":null}]}`+"\n\n"...))
}

// setPrefix fixes the id, creation time and model every chunk repeats.
func (e *streamEncoder) setPrefix(id, model string, created int64) {
	if id == "" {
		id = newID("chatcmpl-")
	}
	if model == "" {
		model = e.model
	}
	if created == 0 {
		created = time.Now().Unix()
	}
	p := append([]byte(nil), `data: {"id":`...)
	p = rawjson.AppendString(p, id)
	p = append(p, `,"object":"chat.completion.chunk","created":`...)
	p = strconv.AppendInt(p, created, 10)
	p = append(p, `,"model":`...)
	p = rawjson.AppendString(p, model)
	e.prefix = append(p, `,"choices":[`...)
}

// begin starts a chunk for one choice, up to and including `{"index":i,`.
func (e *streamEncoder) begin(i int) []byte {
	if e.prefix == nil {
		e.setPrefix("", "", 0)
	}
	b := append(e.buf[:0], e.prefix...)
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(i), 10)
	return append(b, ',')
}

func (e *streamEncoder) choice(i int) *choiceState {
	for len(e.choices) <= i {
		e.choices = append(e.choices, choiceState{})
	}
	return &e.choices[i]
}

// role sends the opening chunk of choice i once, as OpenAI does.
func (e *streamEncoder) role(i int) error {
	c := e.choice(i)
	if c.started {
		return nil
	}
	c.started = true
	b := e.begin(i)
	b = append(b, `"delta":{"role":"assistant","content":""},"finish_reason":null}]}`+"\n\n"...)
	return e.flush(b)
}

func (e *streamEncoder) flush(b []byte) error {
	e.buf = b[:0]
	_, err := e.w.Write(b)
	return err
}

// Close finishes choices that never got a finish reason, sends the usage
// chunk when the client asked for it, and then "data: [DONE]".
func (e *streamEncoder) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	if e.prefix == nil {
		if err := e.role(0); err != nil {
			return err
		}
	}
	for i := range e.choices {
		if e.choices[i].started && !e.choices[i].finished {
			if err := e.Encode(llm.Event{Type: llm.EventFinish, Choice: i, FinishReason: llm.FinishStop}); err != nil {
				return err
			}
		}
	}
	b := e.buf[:0]
	if e.includeUsage {
		u := llm.Usage{}
		if e.usage != nil {
			u = *e.usage
		}
		ub, _ := json.Marshal(encodeUsage(u))
		b = append(b, e.prefix...)
		b = append(b, `],"usage":`...)
		b = append(b, ub...)
		b = append(b, "}\n\n"...)
	}
	b = append(b, "data: [DONE]\n\n"...)
	return e.flush(b)
}

// Fail sends the error as a chunk with an "error" member, which the OpenAI
// SDKs raise as a stream error, and ends the stream without [DONE] so that no
// client mistakes it for a complete answer.
func (e *streamEncoder) Fail(err *llm.Error) error {
	if e.closed {
		return nil
	}
	e.closed = true
	b := append(e.buf[:0], "data: "...)
	b = appendError(b, err)
	return e.flush(append(b, "\n\n"...))
}
