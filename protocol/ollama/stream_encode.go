package ollama

import (
	"io"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// NewStreamEncoder returns an encoder writing /api/chat NDJSON lines. Lines
// are built by appending to one reused buffer: relaying a text delta
// allocates nothing.
func (Protocol) NewStreamEncoder(w io.Writer, req *llm.Request) protocol.StreamEncoder {
	return newStreamEncoder(w, req, false)
}

// streamEncoder writes the lines of one answer, in /api/chat's shape or,
// with generate, in /api/generate's. Text and thinking deltas go out at
// once; tool calls are held until their arguments are complete (the next
// event of another kind, or the end), then written whole in one line, as
// Ollama sends them. The final line (done true) waits for Close, as usage
// may follow the finish reason.
type streamEncoder struct {
	w        io.Writer
	buf      []byte
	model    string
	generate bool
	scope    string // created_at of the start, for ids of calls without one
	start    time.Time
	first    time.Time // when the first content went out
	usage    llm.Usage
	finish   llm.FinishReason
	calls    []heldCall
	written  int // tool calls written so far
	closed   bool
}

// heldCall is a tool call whose arguments may still grow.
type heldCall struct {
	index    int
	id, name string
	args     []byte
}

func newStreamEncoder(w io.Writer, req *llm.Request, generate bool) *streamEncoder {
	e := &streamEncoder{w: w, generate: generate, start: now()}
	if req != nil {
		e.model = req.Model
	}
	e.scope = e.start.UTC().Format(time.RFC3339Nano)
	return e
}

func (e *streamEncoder) ContentType() string { return "application/x-ndjson" }

func (e *streamEncoder) Encode(ev llm.Event) error {
	if e.closed {
		return nil
	}
	switch ev.Type {
	case llm.EventStart, llm.EventUsage:
		if ev.Usage != nil {
			e.usage = *ev.Usage
		}
		return nil
	}
	if ev.Choice != 0 {
		return nil // Ollama answers have one choice, and its clients never ask for more
	}
	switch ev.Type {
	case llm.EventText, llm.EventRefusal:
		if ev.Text == "" && len(ev.Logprobs) == 0 {
			return nil
		}
		if err := e.flushCalls(); err != nil {
			return err
		}
		e.started()
		b := e.begin()
		b = rawjson.AppendString(b, ev.Text)
		b = e.end(b, ev.Logprobs)
		return e.write(b)
	case llm.EventReasoning:
		if ev.Text == "" {
			return nil // signatures and opaque reasoning have no Ollama form
		}
		if err := e.flushCalls(); err != nil {
			return err
		}
		e.started()
		b := append(e.begin(), `"","thinking":`...)
		b = rawjson.AppendString(b, ev.Text)
		return e.write(e.end(b, nil))
	case llm.EventToolCall:
		e.started()
		e.calls = append(e.calls, heldCall{index: ev.ToolIndex, id: ev.ID, name: ev.Name, args: append([]byte(nil), ev.Text...)})
	case llm.EventToolArgs:
		for i := len(e.calls) - 1; i >= 0; i-- {
			if e.calls[i].index == ev.ToolIndex {
				e.calls[i].args = append(e.calls[i].args, ev.Text...)
				break
			}
		}
	case llm.EventFinish:
		e.finish = ev.FinishReason
		return e.flushCalls()
	}
	return nil
}

func (e *streamEncoder) started() {
	if e.first.IsZero() {
		e.first = now()
	}
}

// begin starts a line, up to the opening of the text value:
// `{"model":…,"created_at":…,"message":{"role":"assistant","content":` for
// chat, `…,"response":` for generate.
func (e *streamEncoder) begin() []byte {
	b := append(e.buf[:0], `{"model":`...)
	b = rawjson.AppendString(b, e.model)
	b = append(b, `,"created_at":"`...)
	b = now().UTC().AppendFormat(b, time.RFC3339Nano)
	if e.generate {
		return append(b, `","response":`...)
	}
	return append(b, `","message":{"role":"assistant","content":`...)
}

// end closes a line that is not the last.
func (e *streamEncoder) end(b []byte, lps []llm.TokenLogprob) []byte {
	if !e.generate {
		b = append(b, '}')
	}
	if len(lps) > 0 {
		lb, _ := json.Marshal(encodeLogprobs(lps))
		b = append(b, `,"logprobs":`...)
		b = append(b, lb...)
	}
	return append(b, `,"done":false}`+"\n"...)
}

func (e *streamEncoder) write(b []byte) error {
	e.buf = b[:0]
	_, err := e.w.Write(b)
	return err
}

// flushCalls writes the held tool calls in one line.
func (e *streamEncoder) flushCalls() error {
	if len(e.calls) == 0 {
		return nil
	}
	b := append(e.begin(), `"","tool_calls":[`...)
	for i := range e.calls {
		c := &e.calls[i]
		if i > 0 {
			b = append(b, ',')
		}
		id := c.id
		if id == "" {
			id = syntheticID(e.scope, e.written, c.name, string(c.args))
		}
		b = append(b, `{"id":`...)
		b = rawjson.AppendString(b, id)
		b = append(b, `,"function":{"index":`...)
		b = strconv.AppendInt(b, int64(e.written), 10)
		b = append(b, `,"name":`...)
		b = rawjson.AppendString(b, c.name)
		b = append(b, `,"arguments":`...)
		if args := argsObject(string(c.args)); len(args) > 0 {
			b = append(b, args...)
		} else {
			b = append(b, "{}"...)
		}
		b = append(b, "}}"...)
		e.written++
	}
	e.calls = e.calls[:0]
	b = append(b, ']')
	return e.write(e.end(b, nil))
}

// Close writes the held tool calls and the final line: done true, the done
// reason, the counts and the durations the gateway measured (load_duration
// is 0: the gateway does not load models).
func (e *streamEncoder) Close() error {
	if e.closed {
		return nil
	}
	if err := e.flushCalls(); err != nil {
		return err
	}
	e.closed = true
	end := now()
	total := end.Sub(e.start)
	promptEval, eval := total, time.Duration(0)
	if !e.first.IsZero() {
		promptEval, eval = e.first.Sub(e.start), end.Sub(e.first)
	}
	b := append(e.begin(), `""`...)
	if !e.generate {
		b = append(b, '}')
	}
	b = append(b, `,"done":true,"done_reason":"`...)
	b = append(b, doneReason(e.finish)...)
	b = append(b, `","total_duration":`...)
	b = strconv.AppendInt(b, max(int64(total), 0), 10)
	b = append(b, `,"load_duration":0,"prompt_eval_count":`...)
	b = strconv.AppendInt(b, int64(e.usage.InputTokens), 10)
	b = append(b, `,"prompt_eval_duration":`...)
	b = strconv.AppendInt(b, max(int64(promptEval), 0), 10)
	b = append(b, `,"eval_count":`...)
	b = strconv.AppendInt(b, int64(e.usage.OutputTokens), 10)
	b = append(b, `,"eval_duration":`...)
	b = strconv.AppendInt(b, max(int64(eval), 0), 10)
	return e.write(append(b, "}\n"...))
}

// Fail ends the stream with {"error":"…"}, the line Ollama itself sends
// when generation fails after the first byte; the official client returns
// it as an error. Tool calls still held are dropped, as their arguments may
// be incomplete.
func (e *streamEncoder) Fail(err *llm.Error) error {
	if e.closed {
		return nil
	}
	e.closed = true
	e.calls = nil
	b := append(e.buf[:0], `{"error":`...)
	b = rawjson.AppendString(b, errorMessage(err))
	return e.write(append(b, "}\n"...))
}
