package anthropic

import (
	"io"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// DecodeResponse decodes an upstream message body. A call of JSONToolName
// (the emulated JSON output) becomes the answer's text.
func (Protocol) DecodeResponse(body []byte) (*llm.Response, error) {
	var wr messageResponse
	if err := json.Unmarshal(body, &wr); err != nil {
		return nil, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned a malformed response", Cause: err}
	}
	if wr.Type == "error" {
		return nil, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned an error object with a success status"}
	}
	resp := &llm.Response{ID: wr.ID, Model: wr.Model, Origin: ID, Extensions: wirejson.Extensions(wr.Unknown)}
	if wr.Usage != nil {
		resp.Usage = decodeUsage(llm.Usage{}, wr.Usage)
	}
	c := llm.Choice{Message: llm.Message{Role: llm.RoleAssistant}}
	parts := make([]llm.Part, 0, len(wr.Content))
	calls, answer := 0, false
	for i := range wr.Content {
		b := &wr.Content[i]
		switch b.Type {
		case "text":
			if b.Text == nil {
				continue
			}
			parts = append(parts, llm.Part{Type: llm.PartText, Text: *b.Text, Extensions: citations(b.Unknown)})
		case "thinking":
			r := &llm.Reasoning{Origin: ID}
			if b.Thinking != nil {
				r.Text = *b.Thinking
			}
			if b.Signature != nil {
				r.Signature = *b.Signature
			}
			parts = append(parts, llm.Part{Type: llm.PartReasoning, Reasoning: r})
		case "redacted_thinking":
			parts = append(parts, llm.Part{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Redacted: true, Data: b.Data, Origin: ID}})
		case "tool_use":
			args := "{}"
			if len(b.Input) > 0 {
				args = string(b.Input)
			}
			if b.Name == JSONToolName {
				answer = true
				parts = append(parts, llm.TextPart(args))
				continue
			}
			id := b.ID
			if id == "" {
				id = newID("toolu_")
			}
			calls++
			parts = append(parts, llm.Part{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{
				ID: id, Type: llm.CallFunction, Name: b.Name, Arguments: args}})
		}
		// Server-tool blocks (server_tool_use, web_search_tool_result, …)
		// have no canonical form.
	}
	c.Message.Parts = parts
	if wr.StopReason != nil {
		c.FinishReason = finishFromWire(*wr.StopReason)
	}
	if wr.StopSequence != nil {
		c.StopSequence = *wr.StopSequence
	}
	c.FinishReason = settleFinish(c.FinishReason, calls, answer)
	resp.Choices = []llm.Choice{c}
	return resp, nil
}

// settleFinish fixes the finish reason of an answer: the emulated JSON
// output is a natural end, not a tool call.
func settleFinish(f llm.FinishReason, calls int, answer bool) llm.FinishReason {
	switch {
	case f == llm.FinishToolCalls && calls == 0 && answer:
		return llm.FinishStop
	case f == "":
		return llm.FinishStop
	}
	return f
}

// citations keeps a text block's citations (when not null) as the part's
// Extensions.
func citations(unknown jsontext.Value) llm.Extensions {
	ext := wirejson.Extensions(unknown)
	if c, ok := ext["citations"]; ok && string(c) == "null" {
		delete(ext, "citations")
	}
	if len(ext) == 0 {
		return nil
	}
	return ext
}

// decodeUsage folds a usage object into u: counts the object leaves out
// keep their value in u (a message_delta repeats only some). Anthropic's
// input_tokens excludes the cache; the canonical InputTokens includes it.
func decodeUsage(u llm.Usage, wu *usage) llm.Usage {
	input := u.InputTokens - u.CachedTokens - u.CacheWriteTokens
	if wu.InputTokens != nil {
		input = *wu.InputTokens
	}
	if wu.CacheReadInputTokens != nil {
		u.CachedTokens = *wu.CacheReadInputTokens
	}
	if wu.CacheCreationInputTokens != nil {
		u.CacheWriteTokens = *wu.CacheCreationInputTokens
	}
	u.InputTokens = input + u.CachedTokens + u.CacheWriteTokens
	if wu.OutputTokens != nil {
		u.OutputTokens = *wu.OutputTokens
	}
	if d := wu.OutputTokensDetails; d != nil {
		u.ReasoningTokens = d.ThinkingTokens
	}
	return u
}

func finishFromWire(s string) llm.FinishReason {
	switch s {
	case "max_tokens", "model_context_window_exceeded":
		return llm.FinishLength
	case "tool_use":
		return llm.FinishToolCalls
	case "refusal":
		return llm.FinishContentFilter
	case "pause_turn":
		return llm.FinishPause
	case "":
		return ""
	}
	return llm.FinishStop // end_turn, stop_sequence, and newer reasons
}

// finishToWire returns the stop_reason for a finish reason.
func finishToWire(f llm.FinishReason, stopSequence string, calls bool) string {
	switch f {
	case llm.FinishLength:
		return "max_tokens"
	case llm.FinishToolCalls:
		if calls {
			return "tool_use"
		}
	case llm.FinishContentFilter:
		return "refusal"
	case llm.FinishPause:
		return "pause_turn"
	}
	if stopSequence != "" {
		return "stop_sequence"
	}
	if calls && (f == llm.FinishStop || f == "") {
		return "tool_use" // upstreams that say stop after calling tools (Gemini)
	}
	return "end_turn"
}

// EncodeResponse writes resp as a message object for the client's model.
func (Protocol) EncodeResponse(w io.Writer, req *llm.Request, resp *llm.Response) error {
	wr := messageResponse{ID: messageID(resp.ID), Type: "message", Role: "assistant", Model: resp.Model}
	if req != nil && req.Model != "" {
		wr.Model = req.Model
	}
	if resp.Origin == ID {
		wr.Unknown = wirejson.Unknown(resp.Extensions)
	}
	var c *llm.Choice
	if len(resp.Choices) > 0 {
		c = &resp.Choices[0]
	}
	wr.Content = []block{}
	calls := false
	var stopSeq string
	finish := llm.FinishStop
	if c != nil {
		for i := range c.Message.Parts {
			b, ok := answerBlock(&c.Message.Parts[i], resp.Origin == ID)
			if ok {
				wr.Content = append(wr.Content, b)
				calls = calls || b.Type == "tool_use"
			}
		}
		finish, stopSeq = c.FinishReason, c.StopSequence
	}
	sr := finishToWire(finish, stopSeq, calls)
	wr.StopReason = &sr
	if sr == "stop_sequence" {
		wr.StopSequence = &stopSeq
	}
	wr.Usage = encodeUsage(resp.Usage)
	return json.MarshalWrite(w, &wr)
}

// messageID returns the upstream id when it has Anthropic's shape, else a
// new one.
func messageID(id string) string {
	if strings.HasPrefix(id, "msg_") {
		return id
	}
	return newID("msg_")
}

// answerBlock encodes one part of an answer; ok is false for parts that
// have no block.
func answerBlock(part *llm.Part, own bool) (block, bool) {
	switch part.Type {
	case llm.PartText, llm.PartRefusal:
		if part.Text == "" {
			return block{}, false
		}
		t := part.Text
		b := block{Type: "text", Text: &t}
		if own {
			b.Unknown = wirejson.Unknown(part.Extensions)
		}
		return b, true
	case llm.PartReasoning:
		r := part.Reasoning
		if r.Redacted {
			return block{Type: "redacted_thinking", Data: r.Data}, true
		}
		text, sig := r.Text, r.Signature
		return block{Type: "thinking", Thinking: &text, Signature: &sig}, true
	case llm.PartToolCall:
		tc := part.ToolCall
		return block{Type: "tool_use", ID: toolID(tc.ID), Name: tc.Name, Input: answerInput(tc.Arguments)}, true
	}
	return block{}, false
}

// answerInput turns a call's arguments into the input object. Arguments
// that are not a JSON object (a model's broken output from another
// upstream) are kept as {"_raw": "<text>"} rather than lost.
func answerInput(args string) jsontext.Value {
	trimmed := strings.TrimSpace(args)
	if trimmed == "" {
		return jsontext.Value("{}")
	}
	if trimmed[0] == '{' && rawjson.Valid([]byte(trimmed)) == nil {
		return jsontext.Value(trimmed)
	}
	return jsontext.Value(append(rawjson.AppendString([]byte(`{"_raw":`), args), '}'))
}

func encodeUsage(u llm.Usage) *usage {
	input := max(u.InputTokens-u.CachedTokens-u.CacheWriteTokens, 0)
	read, write, out := u.CachedTokens, u.CacheWriteTokens, u.OutputTokens
	wu := &usage{InputTokens: &input, CacheCreationInputTokens: &write, CacheReadInputTokens: &read, OutputTokens: &out}
	if u.ReasoningTokens > 0 {
		wu.OutputTokensDetails = &outputDetails{ThinkingTokens: u.ReasoningTokens}
	}
	return wu
}
