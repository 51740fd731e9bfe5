package responses

import (
	"io"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/llm"
)

// EncodeResponse writes resp as a response object answering req. Only the
// first choice is sent: the Responses API has no alternatives.
func (Protocol) EncodeResponse(w io.Writer, req *llm.Request, resp *llm.Response) error {
	id := resp.ID
	if !strings.HasPrefix(id, "resp_") {
		id = "" // another protocol's id: make one of ours
	}
	o := newResponseObject(req, id, resp.Created)
	if o.Model == "" {
		o.Model = resp.Model
	}
	if resp.ServiceTier != "" {
		st := resp.ServiceTier
		o.ServiceTier = &st
	}
	var reason llm.FinishReason
	var items []outItem
	if len(resp.Choices) > 0 {
		ch := &resp.Choices[0]
		reason = ch.FinishReason
		items = answerItems(ch, newToolIndex(req), resp.Origin == ID)
	}
	status := "completed"
	if reason == llm.FinishLength || reason == llm.FinishContentFilter {
		status = "incomplete"
	}
	output := make([]jsontext.Value, len(items))
	for i := range items {
		output[i] = appendItem(nil, &items[i], status, false)
	}
	u := resp.Usage
	o.finish(reason, output, &u)
	return json.MarshalWrite(w, o)
}

// answerItems builds the output items of an answer: reasoning items,
// message items for runs of text and refusals, and tool calls. ours says
// whether the parts' Extensions are this protocol's.
func answerItems(ch *llm.Choice, idx toolIndex, ours bool) []outItem {
	var items []outItem
	msg, rs := -1, -1
	for _, part := range ch.Message.Parts {
		switch part.Type {
		case llm.PartText, llm.PartRefusal:
			rs = -1
			if msg < 0 {
				items = append(items, outItem{kind: kindMessage, id: itemID(kindMessage)})
				msg = len(items) - 1
			}
			m := &items[msg]
			refusal := part.Type == llm.PartRefusal
			var ann jsontext.Value
			if a, ok := part.Extensions[extAnnotations]; ours && ok && rawKind(a) == "array" {
				ann = jsontext.Value(a)
			}
			if n := len(m.parts); n > 0 && m.parts[n-1].refusal == refusal && len(m.parts[n-1].annotations) == 0 && len(ann) == 0 {
				m.parts[n-1].text = append(m.parts[n-1].text, part.Text...)
				continue
			}
			m.parts = append(m.parts, outPart{refusal: refusal, text: []byte(part.Text), annotations: ann})
		case llm.PartReasoning:
			msg = -1
			r := part.Reasoning
			if r == nil {
				continue
			}
			own := ownReasoning(r)
			if rs < 0 || own && r.ID != "" && r.ID != items[rs].id {
				id := r.ID
				if !strings.HasPrefix(id, "rs_") {
					id = itemID(kindReasoning)
				}
				items = append(items, outItem{kind: kindReasoning, id: id})
				rs = len(items) - 1
			}
			it := &items[rs]
			switch {
			case r.Text == "":
			case own && !r.Summary:
				it.content = append(it.content, r.Text)
			default:
				it.summary = append(it.summary, r.Text)
			}
			if own && r.Data != "" && !r.Redacted && it.encrypted == "" {
				it.encrypted = r.Data
			}
		case llm.PartToolCall:
			msg, rs = -1, -1
			tc := part.ToolCall
			if tc == nil {
				continue
			}
			items = append(items, callItem(tc.ID, tc.Name, tc.Type == llm.CallCustom, idx))
			items[len(items)-1].args = []byte(tc.Arguments)
		}
	}
	// Attach logprobs to the first text part; drop reasoning that says
	// nothing (another protocol's signature-only or redacted thinking).
	out := items[:0]
	lps := ch.Logprobs
	for _, it := range items {
		if it.kind == kindReasoning && len(it.summary) == 0 && len(it.content) == 0 && it.encrypted == "" {
			continue
		}
		if it.kind == kindMessage && len(lps) > 0 {
			for i := range it.parts {
				if !it.parts[i].refusal {
					it.parts[i].logprobs, lps = lps, nil
					break
				}
			}
		}
		out = append(out, it)
	}
	return out
}

// callItem returns a new function or custom tool call item for a call of
// the canonical tool name, split into its namespace where it has one.
func callItem(callID, name string, custom bool, idx toolIndex) outItem {
	it := outItem{kind: kindFunction, callID: callID}
	if custom || idx.custom(name) {
		it.kind = kindCustom
	}
	it.id = itemID(it.kind)
	if it.callID == "" {
		it.callID = newID("call_")
	}
	it.namespace, it.name = idx.split(name)
	return it
}

// ownReasoning reports whether reasoning was made by a Responses upstream:
// its origin says so, or (for reasoning folded from a stream, which has no
// origin) its opaque data is neither another protocol's signature nor
// redacted thinking.
func ownReasoning(r *llm.Reasoning) bool {
	if r.Origin != "" {
		return r.Origin == ID
	}
	return r.Data != "" && !r.Redacted && r.Signature == ""
}
