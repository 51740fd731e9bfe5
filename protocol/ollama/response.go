package ollama

import (
	"bytes"
	"io"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// DecodeResponse decodes an upstream's complete /api/chat answer. A body of
// several NDJSON lines (a server that streamed although asked not to) is
// folded like a stream.
func (p Protocol) DecodeResponse(body []byte) (*llm.Response, error) {
	var wr chatResponse
	if err := json.Unmarshal(body, &wr); err != nil {
		if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '{' && bytes.IndexByte(trimmed, '\n') > 0 {
			resp, err := llm.Collect(p.NewStreamDecoder(io.NopCloser(bytes.NewReader(trimmed))))
			if err != nil {
				return nil, err
			}
			resp.Origin = ID
			return resp, nil
		}
		return nil, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned a malformed response", Cause: err}
	}
	if wr.Error != nil {
		return nil, streamError(wr.Error.Message)
	}
	resp := &llm.Response{Model: wr.Model, Created: parseCreated(wr.CreatedAt), Origin: ID,
		Extensions: wirejson.Extensions(wr.Unknown)}
	c := llm.Choice{Message: llm.Message{Role: llm.RoleAssistant}}
	wm := &wr.Message
	if wm.Thinking != "" {
		c.Message.Parts = append(c.Message.Parts, llm.Part{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: wm.Thinking, Origin: ID}})
	}
	if wm.Content != "" {
		c.Message.Parts = append(c.Message.Parts, llm.TextPart(wm.Content))
	}
	for j := range wm.ToolCalls {
		tc := &wm.ToolCalls[j]
		args := tc.Function.Arguments.text()
		id := tc.ID
		if id == "" {
			id = syntheticID(wr.CreatedAt, j, tc.Function.Name, args)
		}
		c.Message.Parts = append(c.Message.Parts, llm.Part{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{
			ID: id, Type: llm.CallFunction, Name: tc.Function.Name, Arguments: args}})
	}
	c.FinishReason = finishOf(wr.DoneReason, len(wm.ToolCalls) > 0)
	c.Logprobs = decodeLogprobs(wr.Logprobs)
	resp.Choices = []llm.Choice{c}
	resp.Usage = usageOf(&wr)
	for i, d := range [...]int64{wr.TotalDuration, wr.LoadDuration, wr.PromptEvalDuration, wr.EvalDuration} {
		if d > 0 {
			if resp.Extensions == nil {
				resp.Extensions = llm.Extensions{}
			}
			resp.Extensions[durationKeys[i]] = strconv.AppendInt(nil, d, 10)
		}
	}
	return resp, nil
}

// finishOf maps done_reason. Ollama says "stop" after tool calls; "load"
// and "unload" answer requests without messages and end like "stop".
func finishOf(reason string, calls bool) llm.FinishReason {
	switch {
	case reason == "length":
		return llm.FinishLength
	case calls:
		return llm.FinishToolCalls
	}
	return llm.FinishStop
}

// usageOf reads the counts: prompt_eval_count is the whole prompt and
// eval_count everything generated, thinking included.
func usageOf(wr *chatResponse) llm.Usage {
	var u llm.Usage
	if wr.PromptEvalCount != nil {
		u.InputTokens = max(*wr.PromptEvalCount, 0)
	}
	if wr.EvalCount != nil {
		u.OutputTokens = max(*wr.EvalCount, 0)
	}
	return u
}

// parseCreated returns created_at as Unix seconds, 0 when it is missing or
// malformed.
func parseCreated(s string) int64 {
	if s == "" {
		return 0
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0
	}
	return t.Unix()
}
