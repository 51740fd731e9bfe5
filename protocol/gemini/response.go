package gemini

import (
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// DecodeResponse decodes an upstream GenerateContentResponse body. A
// prompt the upstream blocked (promptFeedback.blockReason, no candidates)
// is an empty answer with finish content_filter.
func (Protocol) DecodeResponse(body []byte) (*llm.Response, error) {
	var wr generateResponse
	if err := json.Unmarshal(body, &wr); err != nil {
		return nil, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned a malformed response", Cause: err}
	}
	if wr.Error != nil {
		return nil, streamError(wr.Error)
	}
	resp := &llm.Response{
		ID:         wr.ResponseID,
		Model:      wr.ModelVersion,
		Created:    parseTime(wr.CreateTime),
		Origin:     ID,
		Extensions: wirejson.Extensions(wr.Unknown),
	}
	if len(wr.PromptFeedback) > 0 {
		resp.Extensions = withExtension(resp.Extensions, "promptFeedback", wr.PromptFeedback)
	}
	if wr.UsageMetadata != nil {
		resp.Usage = decodeUsage(wr.UsageMetadata)
	}
	if len(wr.Candidates) > llm.MaxChoices {
		return nil, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned too many candidates"}
	}
	d := partDecoder{upstream: true, scope: wr.ResponseID}
	resp.Choices = make([]llm.Choice, 0, len(wr.Candidates))
	for i := range wr.Candidates {
		wc := &wr.Candidates[i]
		idx := i
		if wc.Index != nil {
			idx = *wc.Index
		}
		if idx < 0 || idx >= llm.MaxChoices {
			return nil, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned a candidate index out of range"}
		}
		c := llm.Choice{Index: idx, Message: llm.Message{Role: llm.RoleAssistant, Extensions: wirejson.Extensions(wc.Unknown)}}
		if wc.Content != nil {
			parts, err := d.modelParts(nil, wc.Content.Parts, nil, idx)
			if err != nil {
				return nil, err
			}
			c.Message.Parts = parts
		}
		c.FinishReason = finishFromWire(wc.FinishReason, len(c.Message.ToolCalls()) > 0)
		if wc.LogprobsResult != nil {
			c.Logprobs = decodeLogprobs(wc.LogprobsResult)
		}
		resp.Choices = append(resp.Choices, c)
	}
	if len(resp.Choices) == 0 {
		if blockReason(wr.PromptFeedback) == "" {
			return nil, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned no candidates"}
		}
		resp.Choices = []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant}, FinishReason: llm.FinishContentFilter}}
	}
	return resp, nil
}

// blockReason returns promptFeedback.blockReason, or "".
func blockReason(pf jsontext.Value) string {
	if len(pf) == 0 {
		return ""
	}
	var f promptFeedback
	if json.Unmarshal(pf, &f) != nil {
		return ""
	}
	return f.BlockReason
}

// parseTime reads an RFC 3339 createTime (Vertex sends one) as Unix
// seconds; 0 when absent or malformed.
func parseTime(s string) int64 {
	if s == "" {
		return 0
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0
	}
	return t.Unix()
}

// decodeUsage converts usageMetadata: the prompt count includes cached
// tokens (and tool-use prompts), the output adds thoughts to candidates.
func decodeUsage(u *usageMetadata) llm.Usage {
	return llm.Usage{
		InputTokens:     u.PromptTokenCount + u.ToolUsePromptTokenCount,
		OutputTokens:    u.CandidatesTokenCount + u.ThoughtsTokenCount,
		CachedTokens:    u.CachedContentTokenCount,
		ReasoningTokens: u.ThoughtsTokenCount,
	}
}

// encodeUsage is decodeUsage reversed.
func encodeUsage(u llm.Usage) *usageMetadata {
	return &usageMetadata{
		PromptTokenCount:        u.InputTokens,
		CandidatesTokenCount:    max(u.OutputTokens-u.ReasoningTokens, 0),
		ThoughtsTokenCount:      u.ReasoningTokens,
		CachedContentTokenCount: u.CachedTokens,
		TotalTokenCount:         u.Total(),
	}
}

// finishFromWire maps a finishReason; STOP with function calls is a
// tool-calls finish. "" means the candidate is not finished.
func finishFromWire(s string, calls bool) llm.FinishReason {
	switch s {
	case "":
		if calls {
			return llm.FinishToolCalls
		}
		return llm.FinishStop
	case "STOP", "FINISH_REASON_UNSPECIFIED":
		if calls {
			return llm.FinishToolCalls
		}
		return llm.FinishStop
	case "MAX_TOKENS":
		return llm.FinishLength
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "LANGUAGE",
		"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
		return llm.FinishContentFilter
	}
	// OTHER, MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL,
	// TOO_MANY_TOOL_CALLS, NO_IMAGE, IMAGE_OTHER and reasons added later.
	return llm.FinishError
}

// finishToWire maps a finish reason for a Gemini client.
func finishToWire(f llm.FinishReason) string {
	switch f {
	case llm.FinishStop, llm.FinishToolCalls, "":
		return "STOP"
	case llm.FinishLength:
		return "MAX_TOKENS"
	case llm.FinishContentFilter:
		return "SAFETY"
	}
	return "OTHER"
}

func decodeLogprobs(lr *logprobsResult) []llm.TokenLogprob {
	if len(lr.ChosenCandidates) == 0 {
		return nil
	}
	out := make([]llm.TokenLogprob, len(lr.ChosenCandidates))
	for i, c := range lr.ChosenCandidates {
		out[i] = llm.TokenLogprob{Token: c.Token, Logprob: c.LogProbability}
		if i < len(lr.TopCandidates) {
			for _, t := range lr.TopCandidates[i].Candidates {
				out[i].Top = append(out[i].Top, llm.TopLogprob{Token: t.Token, Logprob: t.LogProbability})
			}
		}
	}
	return out
}

func encodeLogprobs(lps []llm.TokenLogprob) *logprobsResult {
	if len(lps) == 0 {
		return nil
	}
	lr := &logprobsResult{ChosenCandidates: make([]logprobCandidate, len(lps))}
	top := false
	for i, lp := range lps {
		lr.ChosenCandidates[i] = logprobCandidate{Token: lp.Token, LogProbability: lp.Logprob}
		top = top || len(lp.Top) > 0
	}
	if top {
		lr.TopCandidates = make([]topCandidates, len(lps))
		for i, lp := range lps {
			cs := make([]logprobCandidate, len(lp.Top))
			for j, t := range lp.Top {
				cs[j] = logprobCandidate{Token: t.Token, LogProbability: t.Logprob}
			}
			lr.TopCandidates[i] = topCandidates{Candidates: cs}
		}
	}
	return lr
}
