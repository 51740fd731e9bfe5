package responses

import (
	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/llm"
)

// DecodeResponse decodes an upstream response object. Output items of
// hosted tools (web_search_call, …) have no canonical form and are left
// out; a response whose status is failed is returned as its error.
func (Protocol) DecodeResponse(body []byte) (*llm.Response, error) {
	var wr wireResponse
	if err := json.Unmarshal(body, &wr); err != nil {
		return nil, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned a malformed response", Cause: err}
	}
	if wr.Status == "failed" {
		re := wr.Error
		if re == nil {
			re = &responseError{}
		}
		return nil, streamError(re.Code, re.Message, nil, "")
	}
	resp := &llm.Response{
		ID:          wr.ID,
		Model:       wr.Model,
		Created:     int64(wr.CreatedAt),
		ServiceTier: wr.ServiceTier,
		Origin:      ID,
	}
	if wr.Usage != nil {
		resp.Usage = decodeUsage(wr.Usage)
	}
	ch := llm.Choice{Message: llm.Message{Role: llm.RoleAssistant}}
	calls := false
	for i := range wr.Output {
		it := &wr.Output[i]
		switch it.Type {
		case "message":
			ch.Message.Parts = append(ch.Message.Parts, messageParts(it, true)...)
			for _, p := range it.Content.Parts {
				ch.Logprobs = append(ch.Logprobs, decodeLogprobs(p.Logprobs)...)
			}
		case "reasoning":
			ch.Message.Parts = append(ch.Message.Parts, decodeReasoningItem(it)...)
		case "function_call", "custom_tool_call":
			calls = true
			call := &llm.ToolCall{ID: it.CallID, Type: llm.CallFunction, Name: flatName(it.Namespace, it.Name)}
			if call.ID == "" {
				call.ID = newID("call_")
			}
			if it.Type == "custom_tool_call" {
				call.Type = llm.CallCustom
				if it.Input != nil {
					call.Arguments = *it.Input
				}
			} else if it.Arguments != nil {
				call.Arguments = string(*it.Arguments)
			}
			ch.Message.Parts = append(ch.Message.Parts, llm.Part{Type: llm.PartToolCall, ToolCall: call})
		}
	}
	var incomplete string
	if wr.IncompleteDetails != nil {
		incomplete = wr.IncompleteDetails.Reason
	}
	ch.FinishReason = finishReason(wr.Status, incomplete, calls)
	resp.Choices = []llm.Choice{ch}
	return resp, nil
}

// messageParts returns the text and refusal parts of an output message
// item; with annotations, non-empty annotations are kept in the parts'
// Extensions.
func messageParts(it *item, annotations bool) []llm.Part {
	if !it.Content.IsParts {
		if it.Content.Text == nil || *it.Content.Text == "" {
			return nil
		}
		return []llm.Part{llm.TextPart(*it.Content.Text)}
	}
	var parts []llm.Part
	for _, p := range it.Content.Parts {
		switch p.Type {
		case "output_text", "text", "input_text":
			if p.Text == nil {
				continue
			}
			part := llm.TextPart(*p.Text)
			if a := p.Annotations; annotations && nonEmptyArray(a) {
				part.Extensions = llm.Extensions{extAnnotations: []byte(a)}
			}
			parts = append(parts, part)
		case "refusal":
			if p.Refusal != nil {
				parts = append(parts, llm.Part{Type: llm.PartRefusal, Text: *p.Refusal})
			}
		}
	}
	return parts
}
