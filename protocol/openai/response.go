package openai

import (
	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// DecodeResponse decodes an upstream chat.completion body.
func (Protocol) DecodeResponse(body []byte) (*llm.Response, error) {
	var wr chatResponse
	if err := json.Unmarshal(body, &wr); err != nil {
		return nil, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned a malformed response", Cause: err}
	}
	resp := &llm.Response{
		ID:                wr.ID,
		Model:             wr.Model,
		Created:           wr.Created,
		ServiceTier:       wr.ServiceTier,
		SystemFingerprint: wr.SystemFingerprint,
		Origin:            ID,
		Extensions:        wirejson.Extensions(wr.Unknown),
	}
	if wr.Usage != nil {
		resp.Usage = decodeUsage(wr.Usage)
	}
	resp.Choices = make([]llm.Choice, 0, len(wr.Choices))
	for i := range wr.Choices {
		wc := &wr.Choices[i]
		if wc.Index < 0 || wc.Index >= maxChoices {
			return nil, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned a choice index out of range"}
		}
		c := llm.Choice{Index: wc.Index, Message: llm.Message{Role: llm.RoleAssistant}}
		parts, err := decodeAnswer(&wc.Message)
		if err != nil {
			return nil, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned a malformed response", Cause: err}
		}
		c.Message.Parts = parts
		if wc.FinishReason != nil {
			c.FinishReason = finishFromWire(*wc.FinishReason)
		}
		if c.FinishReason == "" {
			c.FinishReason = llm.FinishStop
		}
		if c.FinishReason == llm.FinishStop && len(c.Message.ToolCalls()) > 0 {
			c.FinishReason = llm.FinishToolCalls // some compatible servers say "stop"
		}
		if wc.Logprobs != nil {
			c.Logprobs = decodeLogprobs(wc.Logprobs.Content)
		}
		resp.Choices = append(resp.Choices, c)
	}
	return resp, nil
}

// decodeAnswer turns a response message into parts: reasoning first, then
// text, refusal and tool calls. Unlike a request, tool calls without ids get
// one (some compatible servers omit them).
func decodeAnswer(wm *message) ([]llm.Part, error) {
	var parts []llm.Part
	reasoning := wm.ReasoningContent
	if reasoning == nil {
		reasoning = wm.Reasoning
	}
	if reasoning != nil && *reasoning != "" {
		parts = append(parts, llm.Part{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: *reasoning, Origin: ID}})
	}
	mp := wirejson.Root("message")
	mc := mp.Field("content")
	c, err := decodeContent(&wm.Content, &mc, false)
	if err != nil {
		return nil, err
	}
	parts = append(parts, c...)
	if wm.Refusal != nil && *wm.Refusal != "" {
		parts = append(parts, llm.Part{Type: llm.PartRefusal, Text: *wm.Refusal})
	}
	for _, tc := range wm.ToolCalls {
		call := &llm.ToolCall{ID: tc.ID, Type: llm.CallFunction}
		switch {
		case tc.Function != nil:
			call.Name, call.Arguments = tc.Function.Name, string(tc.Function.Arguments)
		case tc.Custom != nil:
			call.Type, call.Name, call.Arguments = llm.CallCustom, tc.Custom.Name, tc.Custom.Input
		}
		if call.ID == "" {
			call.ID = newID("call_")
		}
		parts = append(parts, llm.Part{Type: llm.PartToolCall, ToolCall: call})
	}
	return parts, nil
}

func decodeUsage(u *usage) llm.Usage {
	out := llm.Usage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens}
	if d := u.PromptTokensDetails; d != nil {
		out.CachedTokens, out.CacheWriteTokens = d.CachedTokens, d.CacheWriteTokens
	}
	if out.CachedTokens == 0 && u.PromptCacheHitTokens != nil {
		out.CachedTokens = *u.PromptCacheHitTokens
	}
	if d := u.CompletionTokensDetails; d != nil {
		out.ReasoningTokens = d.ReasoningTokens
	}
	if out.OutputTokens == 0 && u.TotalTokens > u.PromptTokens {
		out.OutputTokens = u.TotalTokens - u.PromptTokens
	}
	return out
}

func decodeLogprobs(lps []tokenLogprob) []llm.TokenLogprob {
	if len(lps) == 0 {
		return nil
	}
	out := make([]llm.TokenLogprob, len(lps))
	for i, lp := range lps {
		out[i] = llm.TokenLogprob{Token: lp.Token, Logprob: lp.Logprob, Bytes: intsToBytes(lp.Bytes)}
		for _, t := range lp.TopLogprobs {
			out[i].Top = append(out[i].Top, llm.TopLogprob{Token: t.Token, Logprob: t.Logprob, Bytes: intsToBytes(t.Bytes)})
		}
	}
	return out
}

func intsToBytes(in []int) []byte {
	if in == nil {
		return nil
	}
	out := make([]byte, len(in))
	for i, v := range in {
		out[i] = byte(v)
	}
	return out
}
