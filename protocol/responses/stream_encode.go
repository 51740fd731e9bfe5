package responses

import (
	"io"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// NewStreamEncoder returns an encoder writing the response.* event family:
// response.created and response.in_progress, then for every output item
// its added, delta, done events, and finally response.completed (or
// response.incomplete) carrying the whole response with usage. Items are
// written one after another: an item is closed when an item of another
// kind starts (consecutive tool calls stay open together, as their
// arguments may interleave). Events are built by appending to reused
// buffers; relaying a text delta allocates nothing.
func (Protocol) NewStreamEncoder(w io.Writer, req *llm.Request) protocol.StreamEncoder {
	return &streamEncoder{w: w, req: req, idx: newToolIndex(req), msg: -1, rs: -1}
}

type streamEncoder struct {
	w    io.Writer
	req  *llm.Request
	idx  toolIndex
	out  []byte // events of the current Encode call
	seq  int
	obj  *responseObject
	done bool // Close or Fail ran

	items  []outItem
	srcIDs []string // per item: the upstream's reasoning id, to tell items apart
	msg    int      // open message item, or -1
	part   bool     // its last part is open
	rs     int      // open reasoning item, or -1
	rsPart bool     // its last summary part is open
	calls  []int    // open call items, in order
	tools  map[int]int

	usage  *llm.Usage
	finish llm.FinishReason
}

func (e *streamEncoder) ContentType() string { return "text/event-stream" }

func (e *streamEncoder) Encode(ev llm.Event) error {
	switch ev.Type {
	case llm.EventStart:
		e.start(ev.ID, ev.Model, ev.Created)
		if ev.Usage != nil {
			u := *ev.Usage
			e.usage = &u
		}
		return e.flush()
	case llm.EventUsage:
		if ev.Usage != nil {
			u := *ev.Usage
			e.usage = &u
		}
		return nil
	}
	if ev.Choice != 0 || e.done {
		return nil // the Responses API has one answer
	}
	e.start("", "", 0)
	switch ev.Type {
	case llm.EventText:
		if ev.Text == "" && len(ev.Logprobs) == 0 {
			break
		}
		e.delta(false, ev.Text, ev.Logprobs)
	case llm.EventRefusal:
		if ev.Text != "" {
			e.delta(true, ev.Text, nil)
		}
	case llm.EventReasoning:
		e.reasoning(ev)
	case llm.EventToolCall:
		e.toolCall(ev)
	case llm.EventToolArgs:
		e.toolArgs(ev.ToolIndex, ev.Text)
	case llm.EventFinish:
		e.finish = ev.FinishReason
		e.closeAll("completed")
	}
	return e.flush()
}

func (e *streamEncoder) flush() error {
	if len(e.out) == 0 {
		return nil
	}
	_, err := e.w.Write(e.out)
	e.out = e.out[:0]
	return err
}

// begin starts an event of type typ, up to its sequence number.
func (e *streamEncoder) begin(typ string) {
	b := append(e.out, "event: "...)
	b = append(b, typ...)
	b = append(b, "\ndata: {\"type\":\""...)
	b = append(b, typ...)
	b = append(b, `","sequence_number":`...)
	e.out = appendInt(b, e.seq)
	e.seq++
}

// end finishes the event begun last.
func (e *streamEncoder) end() { e.out = append(e.out, "}\n\n"...) }

// itemRef appends the item_id and output_index members of item i.
func (e *streamEncoder) itemRef(i int) {
	b := append(e.out, `,"item_id":`...)
	b = rawjson.AppendString(b, e.items[i].id)
	b = append(b, `,"output_index":`...)
	e.out = appendInt(b, i)
}

// start sends response.created and response.in_progress once.
func (e *streamEncoder) start(id, model string, created int64) {
	if e.obj != nil {
		return
	}
	if !strings.HasPrefix(id, "resp_") {
		id = ""
	}
	e.obj = newResponseObject(e.req, id, created)
	if e.obj.Model == "" {
		e.obj.Model = model
	}
	raw, _ := json.Marshal(e.obj)
	for _, typ := range [...]string{"response.created", "response.in_progress"} {
		e.begin(typ)
		e.out = append(e.out, `,"response":`...)
		e.out = append(e.out, raw...)
		e.end()
	}
}

// add appends a new item of kind k and sends output_item.added.
func (e *streamEncoder) add(it outItem, srcID string) int {
	e.items = append(e.items, it)
	e.srcIDs = append(e.srcIDs, srcID)
	i := len(e.items) - 1
	e.begin("response.output_item.added")
	e.out = append(e.out, `,"output_index":`...)
	e.out = appendInt(e.out, i)
	e.out = append(e.out, `,"item":`...)
	e.out = appendItem(e.out, &e.items[i], "in_progress", true)
	e.end()
	return i
}

// itemDone sends output_item.done for item i.
func (e *streamEncoder) itemDone(i int, status string) {
	e.begin("response.output_item.done")
	e.out = append(e.out, `,"output_index":`...)
	e.out = appendInt(e.out, i)
	e.out = append(e.out, `,"item":`...)
	e.out = appendItem(e.out, &e.items[i], status, false)
	e.end()
}

// delta sends a text or refusal delta, opening the message item and the
// part as needed.
func (e *streamEncoder) delta(refusal bool, text string, lps []llm.TokenLogprob) {
	if e.msg < 0 {
		e.closeAll("completed")
		e.msg = e.add(outItem{kind: kindMessage, id: itemID(kindMessage)}, "")
	}
	m := &e.items[e.msg]
	if e.part && m.parts[len(m.parts)-1].refusal != refusal {
		e.closePart()
	}
	if !e.part {
		m.parts = append(m.parts, outPart{refusal: refusal})
		e.part = true
		e.begin("response.content_part.added")
		e.partRef()
		e.out = append(e.out, `,"part":`...)
		e.out = appendEmptyPart(e.out, refusal)
		e.end()
	}
	p := &m.parts[len(m.parts)-1]
	p.text = append(p.text, text...)
	if refusal {
		e.begin("response.refusal.delta")
	} else {
		p.logprobs = append(p.logprobs, lps...)
		e.begin("response.output_text.delta")
	}
	e.partRef()
	e.out = append(e.out, `,"delta":`...)
	e.out = rawjson.AppendString(e.out, text)
	if !refusal {
		e.out = append(e.out, `,"logprobs":`...)
		e.out = appendLogprobs(e.out, lps)
	}
	e.end()
}

// partRef appends item_id, output_index and content_index of the open
// message part.
func (e *streamEncoder) partRef() {
	e.itemRef(e.msg)
	e.out = append(e.out, `,"content_index":`...)
	e.out = appendInt(e.out, len(e.items[e.msg].parts)-1)
}

func (e *streamEncoder) closePart() {
	if !e.part {
		return
	}
	e.part = false
	p := &e.items[e.msg].parts[len(e.items[e.msg].parts)-1]
	if p.refusal {
		e.begin("response.refusal.done")
		e.partRef()
		e.out = append(e.out, `,"refusal":`...)
		e.out = appendStringBytes(e.out, p.text)
	} else {
		e.begin("response.output_text.done")
		e.partRef()
		e.out = append(e.out, `,"text":`...)
		e.out = appendStringBytes(e.out, p.text)
		e.out = append(e.out, `,"logprobs":`...)
		e.out = appendLogprobs(e.out, p.logprobs)
	}
	e.end()
	e.begin("response.content_part.done")
	e.partRef()
	e.out = append(e.out, `,"part":`...)
	e.out = appendPart(e.out, p)
	e.end()
}

func (e *streamEncoder) closeMessage(status string) {
	if e.msg < 0 {
		return
	}
	e.closePart()
	e.itemDone(e.msg, status)
	e.msg = -1
}

// reasoning sends reasoning text as summary deltas, and keeps encrypted
// reasoning of a Responses upstream for the item's done event. Signatures
// and redacted thinking of other protocols have no form here.
func (e *streamEncoder) reasoning(ev llm.Event) {
	own := ev.Data != "" && !ev.Redacted && (ev.Origin == ID || ev.Origin == "" && ev.Signature == "")
	if ev.Text == "" && !own {
		return
	}
	if e.rs < 0 || ev.ID != "" && ev.ID != e.srcIDs[e.rs] {
		e.closeAll("completed")
		id := ev.ID
		if !strings.HasPrefix(id, "rs_") {
			id = itemID(kindReasoning)
		}
		e.rs = e.add(outItem{kind: kindReasoning, id: id}, ev.ID)
	}
	it := &e.items[e.rs]
	if own && it.encrypted == "" {
		it.encrypted = ev.Data
	}
	if ev.Text == "" {
		return
	}
	if !e.rsPart {
		it.summary = append(it.summary, "")
		e.rsPart = true
		e.begin("response.reasoning_summary_part.added")
		e.summaryRef()
		e.out = append(e.out, `,"part":{"type":"summary_text","text":""}`...)
		e.end()
	}
	it.summary[len(it.summary)-1] += ev.Text
	e.begin("response.reasoning_summary_text.delta")
	e.summaryRef()
	e.out = append(e.out, `,"delta":`...)
	e.out = rawjson.AppendString(e.out, ev.Text)
	e.end()
}

func (e *streamEncoder) summaryRef() {
	e.itemRef(e.rs)
	e.out = append(e.out, `,"summary_index":`...)
	e.out = appendInt(e.out, len(e.items[e.rs].summary)-1)
}

func (e *streamEncoder) closeReasoning() {
	if e.rs < 0 {
		return
	}
	if e.rsPart {
		e.rsPart = false
		text := e.items[e.rs].summary[len(e.items[e.rs].summary)-1]
		e.begin("response.reasoning_summary_text.done")
		e.summaryRef()
		e.out = append(e.out, `,"text":`...)
		e.out = rawjson.AppendString(e.out, text)
		e.end()
		e.begin("response.reasoning_summary_part.done")
		e.summaryRef()
		e.out = append(e.out, `,"part":`...)
		e.out = appendTextPart(e.out, "summary_text", text)
		e.end()
	}
	e.itemDone(e.rs, "completed")
	e.rs = -1
}

func (e *streamEncoder) toolCall(ev llm.Event) {
	e.closeMessage("completed")
	e.closeReasoning()
	if e.tools == nil {
		e.tools = make(map[int]int, 2)
	}
	if _, dup := e.tools[ev.ToolIndex]; dup {
		e.toolArgs(ev.ToolIndex, ev.Text) // a repeated start: its arguments go on
		return
	}
	i := e.add(callItem(ev.ID, ev.Name, false, e.idx), "")
	e.tools[ev.ToolIndex] = i
	e.calls = append(e.calls, i)
	e.toolArgs(ev.ToolIndex, ev.Text)
}

func (e *streamEncoder) isOpen(i int) bool {
	for _, c := range e.calls {
		if c == i {
			return true
		}
	}
	return false
}

func (e *streamEncoder) toolArgs(index int, text string) {
	i, ok := e.tools[index]
	if !ok || text == "" || !e.isOpen(i) {
		return
	}
	it := &e.items[i]
	it.args = append(it.args, text...)
	if it.kind == kindCustom {
		e.begin("response.custom_tool_call_input.delta")
	} else {
		e.begin("response.function_call_arguments.delta")
	}
	e.itemRef(i)
	e.out = append(e.out, `,"delta":`...)
	e.out = rawjson.AppendString(e.out, text)
	e.end()
}

func (e *streamEncoder) closeCalls(status string) {
	for _, i := range e.calls {
		it := &e.items[i]
		if it.kind == kindCustom {
			e.begin("response.custom_tool_call_input.done")
			e.itemRef(i)
			e.out = append(e.out, `,"input":`...)
		} else {
			if len(it.args) == 0 {
				it.args = append(it.args, "{}"...)
			}
			e.begin("response.function_call_arguments.done")
			e.itemRef(i)
			e.out = append(e.out, `,"name":`...)
			e.out = rawjson.AppendString(e.out, it.name)
			e.out = append(e.out, `,"arguments":`...)
		}
		e.out = appendStringBytes(e.out, it.args)
		e.end()
		e.itemDone(i, status)
	}
	e.calls = e.calls[:0]
}

// closeAll closes every open item.
func (e *streamEncoder) closeAll(status string) {
	e.closeMessage(status)
	e.closeReasoning()
	e.closeCalls(status)
}

// output renders every item for the final response.
func (e *streamEncoder) output(status string) []jsontext.Value {
	out := make([]jsontext.Value, len(e.items))
	for i := range e.items {
		out[i] = appendItem(nil, &e.items[i], status, false)
	}
	return out
}

// Close ends the stream with response.completed, or response.incomplete
// when the answer was cut short.
func (e *streamEncoder) Close() error {
	if e.done {
		return nil
	}
	e.start("", "", 0)
	e.done = true
	e.closeAll("completed")
	status := "completed"
	if e.finish == llm.FinishLength || e.finish == llm.FinishContentFilter {
		status = "incomplete"
	}
	e.obj.finish(e.finish, e.output(status), e.usage)
	e.lifecycle("response." + e.obj.Status)
	return e.flush()
}

// lifecycle sends an event carrying the whole response.
func (e *streamEncoder) lifecycle(typ string) {
	raw, err := json.Marshal(e.obj)
	if err != nil {
		raw = []byte(`{}`)
	}
	e.begin(typ)
	e.out = append(e.out, `,"response":`...)
	e.out = append(e.out, raw...)
	e.end()
}

// Fail closes what is open as incomplete and ends the stream with an error
// event followed by response.failed, as the API does. It sends no
// response.created of its own: on the passthrough path the upstream
// already did.
func (e *streamEncoder) Fail(err *llm.Error) error {
	if e.done {
		return nil
	}
	e.done = true
	if e.obj == nil {
		e.obj = newResponseObject(e.req, "", 0)
	}
	e.closeAll("incomplete")
	code := failCode(err)
	e.begin("error")
	e.out = append(e.out, `,"code":`...)
	e.out = rawjson.AppendString(e.out, code)
	e.out = append(e.out, `,"message":`...)
	e.out = rawjson.AppendString(e.out, err.Message)
	e.out = append(e.out, `,"param":`...)
	if err.Param != "" {
		e.out = rawjson.AppendString(e.out, err.Param)
	} else {
		e.out = append(e.out, "null"...)
	}
	e.end()
	e.obj.Status = "failed"
	e.obj.Error = &responseError{Code: code, Message: err.Message}
	e.obj.Output = e.output("incomplete")
	if e.usage != nil {
		e.obj.Usage = encodeUsage(e.usage)
	}
	e.lifecycle("response.failed")
	return e.flush()
}
