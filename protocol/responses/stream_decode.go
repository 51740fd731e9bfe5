package responses

import (
	"bytes"
	"errors"
	"io"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/internal/sse"
	"github.com/llmux/llmux/llm"
)

// NewStreamDecoder returns a stream of canonical events read from an
// upstream's response.* SSE body. The stream ends after response.completed
// or response.incomplete; response.failed and error events end it with an
// *llm.Error, and a body that ends before any of them with a KindUpstream
// error.
func (Protocol) NewStreamDecoder(body io.ReadCloser) llm.Stream {
	return &streamDecoder{body: body, sse: sse.NewReader(body)}
}

type streamDecoder struct {
	body     io.ReadCloser
	sse      *sse.Reader
	queue    []llm.Event
	head     int
	started  bool
	done     bool
	err      error
	items    map[string]*decodeItem // by item id
	byIndex  map[int]*decodeItem    // by output_index, for servers without item ids
	calls    int                    // tool calls started
	anything bool                   // an output item was seen
	ev       streamEvent
}

// decodeItem is what the decoder remembers of one output item.
type decodeItem struct {
	id      string
	tool    int  // the call's canonical index
	started bool // its EventToolCall went out
	sent    int  // bytes of its arguments sent
	text    bool // text, refusal or summary deltas were seen
	summary int  // index of the summary part last seen, -1 before
}

// streamEvent is the union of the event payloads the decoder reads.
type streamEvent struct {
	Type         string        `json:"type"`
	Response     *wireResponse `json:"response"`
	Item         *item         `json:"item"`
	ItemID       string        `json:"item_id"`
	OutputIndex  *int          `json:"output_index"`
	SummaryIndex int           `json:"summary_index"`
	Delta        string        `json:"delta"`
	Text         *string       `json:"text"`
	Refusal      *string       `json:"refusal"`
	Arguments    *string       `json:"arguments"`
	Input        *string       `json:"input"`
	Logprobs     []logprob     `json:"logprobs"`
	// The error event: flat, or nested under error by some servers.
	Code    any          `json:"code"`
	Message string       `json:"message"`
	Param   *string      `json:"param"`
	Error   *nestedError `json:"error"`
}

type nestedError struct {
	Type    string  `json:"type"`
	Code    any     `json:"code"`
	Message string  `json:"message"`
	Param   *string `json:"param"`
}

// handled lists the event types the decoder reads; the SSE event name
// lets it skip the others without decoding them.
var handled = map[string]bool{
	"response.created": true, "response.in_progress": true, "response.queued": true,
	"response.output_item.added": true, "response.output_item.done": true,
	"response.output_text.delta": true, "response.output_text.done": true,
	"response.refusal.delta": true, "response.refusal.done": true,
	"response.function_call_arguments.delta": true, "response.function_call_arguments.done": true,
	"response.custom_tool_call_input.delta": true, "response.custom_tool_call_input.done": true,
	"response.reasoning_summary_text.delta": true, "response.reasoning_text.delta": true,
	"response.completed": true, "response.incomplete": true, "response.failed": true, "error": true,
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

const errEarlyEnd = "the upstream stream ended before the answer was complete"

// read decodes the next SSE event into queued canonical events.
func (d *streamDecoder) read() error {
	if d.done {
		return io.EOF
	}
	sev, err := d.sse.Next()
	if err != nil {
		d.done = true
		if errors.Is(err, io.EOF) {
			return &llm.Error{Kind: llm.KindUpstream, Message: errEarlyEnd}
		}
		return readFailure(err)
	}
	if len(sev.Name) > 0 && !handled[string(sev.Name)] {
		return nil
	}
	data := bytes.TrimSpace(sev.Data)
	if len(data) == 0 || data[0] != '{' {
		if bytes.Equal(data, []byte("[DONE]")) {
			d.done = true
			return &llm.Error{Kind: llm.KindUpstream, Message: errEarlyEnd}
		}
		return nil // keep-alive or unknown framing: skip
	}
	if d.fastDelta(data) {
		return nil
	}
	ev := &d.ev
	*ev = streamEvent{}
	if err := json.Unmarshal(data, ev); err != nil {
		// An event of a type this decoder does not read may have any
		// shape; a malformed one it reads ends the stream.
		var t struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(data, &t) == nil && !handled[t.Type] {
			return nil
		}
		d.done = true
		return &llm.Error{Kind: llm.KindUpstream, Message: "the upstream sent a malformed stream event", Cause: err}
	}
	return d.event(ev)
}

func (d *streamDecoder) event(ev *streamEvent) error {
	switch ev.Type {
	case "response.created", "response.in_progress", "response.queued":
		d.start(ev.Response)
	case "response.output_item.added":
		d.start(nil)
		if ev.Item != nil {
			d.itemAdded(ev.Item, ev.OutputIndex)
		}
	case "response.output_item.done":
		d.start(nil)
		if ev.Item != nil {
			d.itemDone(ev.Item, ev.OutputIndex)
		}
	case "response.output_text.delta", "response.refusal.delta", "response.function_call_arguments.delta",
		"response.custom_tool_call_input.delta", "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
		d.delta(ev.Type, d.find(ev), ev.Delta, ev.SummaryIndex, ev.Logprobs)
	case "response.output_text.done", "response.refusal.done":
		// Servers that skip the deltas send the whole text here.
		d.start(nil)
		it := d.find(ev)
		if it.text {
			return nil
		}
		it.text = true
		if ev.Type == "response.refusal.done" && ev.Refusal != nil && *ev.Refusal != "" {
			d.push(llm.Event{Type: llm.EventRefusal, Text: *ev.Refusal})
		} else if ev.Text != nil && *ev.Text != "" {
			d.push(llm.Event{Type: llm.EventText, Text: *ev.Text, Logprobs: decodeLogprobs(ev.Logprobs)})
		}
	case "response.function_call_arguments.done", "response.custom_tool_call_input.done":
		final := ev.Arguments
		if ev.Input != nil {
			final = ev.Input
		}
		if final != nil {
			d.rest(d.find(ev), *final)
		}
	case "response.completed", "response.incomplete":
		d.start(ev.Response)
		d.finish(ev.Type, ev.Response)
		d.done = true
	case "response.failed", "error":
		d.done = true
		return failureOf(ev)
	}
	return nil
}

// failureOf returns the error a response.failed or error event reports.
func failureOf(ev *streamEvent) *llm.Error {
	if ev.Type == "response.failed" {
		re := &responseError{}
		if ev.Response != nil && ev.Response.Error != nil {
			re = ev.Response.Error
		}
		return streamError(re.Code, re.Message, nil, "")
	}
	if ne := ev.Error; ne != nil {
		return streamError(codeString(ne.Code), ne.Message, ne.Param, ne.Type)
	}
	return streamError(codeString(ev.Code), ev.Message, ev.Param, "")
}

// delta maps one delta event of item it.
func (d *streamDecoder) delta(typ string, it *decodeItem, delta string, summaryIndex int, lps []logprob) {
	switch typ {
	case "response.output_text.delta", "response.refusal.delta":
		d.start(nil)
		it.text = true
		switch {
		case delta == "" && len(lps) == 0:
		case typ == "response.refusal.delta":
			d.push(llm.Event{Type: llm.EventRefusal, Text: delta})
		default:
			d.push(llm.Event{Type: llm.EventText, Text: delta, Logprobs: decodeLogprobs(lps)})
		}
	case "response.function_call_arguments.delta", "response.custom_tool_call_input.delta":
		if it.started && delta != "" {
			it.sent += len(delta)
			d.push(llm.Event{Type: llm.EventToolArgs, ToolIndex: it.tool, Text: delta})
		}
	case "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
		d.start(nil)
		summary := typ == "response.reasoning_summary_text.delta"
		if summary && summaryIndex != it.summary {
			if it.summary >= 0 && it.text && delta != "" {
				delta = "\n\n" + delta // the next summary part
			}
			it.summary = summaryIndex
		}
		if delta == "" {
			return
		}
		it.text = true
		d.push(llm.Event{Type: llm.EventReasoning, ID: it.id, Text: delta, Summary: summary})
	}
}

// deltaTypes are the events read without reflection: nearly all of a
// stream's events are one of them.
var deltaTypes = [...]string{
	"response.output_text.delta", "response.function_call_arguments.delta", "response.reasoning_summary_text.delta",
	"response.refusal.delta", "response.custom_tool_call_input.delta", "response.reasoning_text.delta",
}

// fastDelta maps a delta event from its top-level members. It reports
// false for anything else, and for deltas it does not read on its own
// (with logprobs, or escaped ids), which the full decoder then takes.
func (d *streamDecoder) fastDelta(data []byte) bool {
	var buf [12]rawjson.Member
	ms, err := rawjson.Members(data, buf[:0])
	if err != nil || len(ms) > len(buf) {
		return false // not a delta event as the API sends them
	}
	typ := ""
	var id, delta []byte
	index, summary := -1, 0
	for i := range ms {
		v := ms[i].Value(data)
		switch string(ms[i].Key) {
		case "type":
			for _, t := range deltaTypes {
				if len(v) == len(t)+2 && string(v[1:len(v)-1]) == t {
					typ = t
				}
			}
			if typ == "" {
				return false
			}
		case "item_id":
			if len(v) < 2 || v[0] != '"' || bytes.IndexByte(v, '\\') >= 0 {
				return false
			}
			id = v[1 : len(v)-1]
		case "output_index", "summary_index":
			n, ok := smallInt(v)
			if !ok {
				return false
			}
			if ms[i].KeyIs("output_index") {
				index = n
			} else {
				summary = n
			}
		case "delta":
			delta = v
		case "logprobs":
			if s := string(v); s != "[]" && s != "null" {
				return false
			}
		}
	}
	if typ == "" || rawjson.Kind(delta) != "string" {
		return false
	}
	text, err := rawjson.String(delta)
	if err != nil {
		return false
	}
	var it *decodeItem
	if len(id) > 0 {
		it = d.items[string(id)]
	}
	if it == nil {
		var ip *int
		if index >= 0 {
			ip = &index
		}
		it = d.lookup(string(id), ip)
	}
	d.delta(typ, it, text, summary, nil)
	return true
}

// smallInt parses a non-negative JSON integer below a million.
func smallInt(v []byte) (int, bool) {
	if len(v) == 0 || len(v) > 6 {
		return 0, false
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// start sends EventStart once, with what the first lifecycle event says.
func (d *streamDecoder) start(r *wireResponse) {
	if d.started {
		return
	}
	d.started = true
	ev := llm.Event{Type: llm.EventStart}
	if r != nil {
		ev.ID, ev.Model, ev.Created = r.ID, r.Model, int64(r.CreatedAt)
	}
	d.push(ev)
}

// find returns the item an event refers to, by item id or output index.
func (d *streamDecoder) find(ev *streamEvent) *decodeItem {
	return d.lookup(ev.ItemID, ev.OutputIndex)
}

func (d *streamDecoder) lookup(id string, index *int) *decodeItem {
	if d.items == nil {
		d.items = make(map[string]*decodeItem, 4)
		d.byIndex = make(map[int]*decodeItem, 4)
	}
	var it *decodeItem
	if id != "" {
		it = d.items[id]
	}
	if it == nil && index != nil {
		it = d.byIndex[*index]
	}
	if it == nil {
		it = &decodeItem{id: id, summary: -1}
		if id != "" {
			d.items[id] = it
		}
		if index != nil {
			d.byIndex[*index] = it
		}
	}
	if it.id == "" && id != "" {
		it.id = id
		d.items[id] = it
	}
	return it
}

func (d *streamDecoder) itemAdded(wi *item, index *int) {
	d.anything = true
	it := d.lookup(wi.ID, index)
	switch wi.Type {
	case "function_call", "custom_tool_call":
		d.startCall(it, wi)
		if wi.Type == "custom_tool_call" && wi.Input != nil {
			d.rest(it, *wi.Input)
		} else if wi.Arguments != nil {
			d.rest(it, string(*wi.Arguments))
		}
	}
}

// itemDone completes an item from its final form: what no delta carried is
// sent now (some servers send only whole items), and a reasoning item's
// encrypted content goes out as opaque reasoning.
func (d *streamDecoder) itemDone(wi *item, index *int) {
	d.anything = true
	it := d.lookup(wi.ID, index)
	switch wi.Type {
	case "function_call":
		d.startCall(it, wi)
		if wi.Arguments != nil {
			d.rest(it, string(*wi.Arguments))
		}
	case "custom_tool_call":
		d.startCall(it, wi)
		if wi.Input != nil {
			d.rest(it, *wi.Input)
		}
	case "message":
		if it.text {
			return
		}
		it.text = true
		for _, p := range messageParts(wi, false) {
			switch p.Type {
			case llm.PartText:
				d.push(llm.Event{Type: llm.EventText, Text: p.Text})
			case llm.PartRefusal:
				d.push(llm.Event{Type: llm.EventRefusal, Text: p.Text})
			}
		}
	case "reasoning":
		if !it.text {
			it.text = true
			for _, p := range decodeReasoningItem(wi) {
				if p.Reasoning.Text != "" {
					d.push(llm.Event{Type: llm.EventReasoning, ID: wi.ID, Text: p.Reasoning.Text, Summary: p.Reasoning.Summary})
				}
			}
		}
		if wi.EncryptedContent != nil && *wi.EncryptedContent != "" {
			d.push(llm.Event{Type: llm.EventReasoning, ID: wi.ID, Data: *wi.EncryptedContent, Origin: ID})
		}
	}
}

// startCall sends the EventToolCall of a call item once.
func (d *streamDecoder) startCall(it *decodeItem, wi *item) {
	if it.started {
		return
	}
	it.started, it.tool = true, d.calls
	d.calls++
	id := wi.CallID
	if id == "" {
		id = newID("call_")
	}
	d.push(llm.Event{Type: llm.EventToolCall, ToolIndex: it.tool, ID: id, Name: flatName(wi.Namespace, wi.Name)})
}

// rest sends the part of a call's final arguments its deltas did not.
func (d *streamDecoder) rest(it *decodeItem, final string) {
	if !it.started || len(final) <= it.sent {
		return
	}
	d.push(llm.Event{Type: llm.EventToolArgs, ToolIndex: it.tool, Text: final[it.sent:]})
	it.sent = len(final)
}

// finish sends usage and the finish reason. A server that streamed no
// items at all has its output read from the final response.
func (d *streamDecoder) finish(typ string, r *wireResponse) {
	if r != nil && !d.anything {
		for i := range r.Output {
			d.itemDone(&r.Output[i], nil)
		}
	}
	if r != nil && r.Usage != nil {
		u := decodeUsage(r.Usage)
		d.push(llm.Event{Type: llm.EventUsage, Usage: &u})
	}
	status := "completed"
	if typ == "response.incomplete" || r != nil && r.Status == "incomplete" {
		status = "incomplete"
	}
	var reason string
	if r != nil && r.IncompleteDetails != nil {
		reason = r.IncompleteDetails.Reason
	}
	d.push(llm.Event{Type: llm.EventFinish, FinishReason: finishReason(status, reason, d.calls > 0)})
}

// finishReason derives a canonical finish reason from a response's status.
func finishReason(status, incomplete string, calls bool) llm.FinishReason {
	if status == "incomplete" {
		if incomplete == "content_filter" {
			return llm.FinishContentFilter
		}
		return llm.FinishLength
	}
	if calls {
		return llm.FinishToolCalls
	}
	return llm.FinishStop
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
