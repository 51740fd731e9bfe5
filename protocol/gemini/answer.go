package gemini

import (
	"bytes"
	"io"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// EncodeResponse writes resp as a GenerateContentResponse. modelVersion is
// the model the client asked for; signatures and the extensions of the
// answer are written only when it came from a Gemini upstream.
func (Protocol) EncodeResponse(w io.Writer, req *llm.Request, resp *llm.Response) error {
	gemini := resp.Origin == ID
	wr := generateResponse{
		ResponseID:    resp.ID,
		ModelVersion:  resp.Model,
		UsageMetadata: encodeUsage(resp.Usage),
	}
	if req != nil && req.Model != "" {
		wr.ModelVersion = req.Model
	}
	if wr.ResponseID == "" {
		wr.ResponseID = newResponseID()
	}
	if gemini && len(resp.Extensions) > 0 {
		x := resp.Extensions.Clone()
		wr.PromptFeedback = jsontext.Value(x["promptFeedback"])
		for _, k := range []string{"promptFeedback", "candidates", "usageMetadata", "modelVersion", "responseId", "createTime", "error"} {
			delete(x, k)
		}
		wr.Unknown = wirejson.Unknown(x)
	}
	wr.Candidates = make([]candidate, 0, len(resp.Choices))
	for i := range resp.Choices {
		c := &resp.Choices[i]
		idx := c.Index
		wc := candidate{Index: &idx, FinishReason: finishToWire(c.FinishReason), LogprobsResult: encodeLogprobs(c.Logprobs)}
		if parts := answerParts(c.Message.Parts, gemini); len(parts) > 0 {
			wc.Content = &content{Role: "model", Parts: parts}
		}
		if gemini && len(c.Message.Extensions) > 0 {
			x := c.Message.Extensions.Clone()
			for _, k := range []string{"content", "finishReason", "index", "logprobsResult"} {
				delete(x, k)
			}
			wc.Unknown = wirejson.Unknown(x)
		}
		wr.Candidates = append(wr.Candidates, wc)
	}
	return json.MarshalWrite(w, &wr)
}

// answerParts encodes the parts of an answer for a Gemini client. Thinking
// is sent as thought parts (its signature only when Gemini made it), tool
// calls as functionCall parts with their ids.
func answerParts(parts []llm.Part, gemini bool) []part {
	out := make([]part, 0, len(parts))
	for j := range parts {
		lp := &parts[j]
		switch lp.Type {
		case llm.PartText, llm.PartRefusal:
			if wp, ok := textPart(lp, gemini); ok {
				out = append(out, wp)
			}
		case llm.PartReasoning:
			r := lp.Reasoning
			if r == nil || r.Redacted {
				continue
			}
			t, sig := r.Text, ""
			if gemini && r.Origin == ID {
				sig = r.Signature
			}
			switch {
			case t != "":
				out = append(out, part{Text: someText(t), Thought: true, ThoughtSignature: sig})
			case sig != "":
				out = append(out, part{Text: someText(t), ThoughtSignature: sig})
			}
		case llm.PartToolCall:
			if tc := lp.ToolCall; tc != nil {
				out = append(out, part{ThoughtSignature: tc.Signature, FunctionCall: &functionCall{
					ID: tc.ID, Name: tc.Name, Args: answerArgs(tc.Arguments)}})
			}
		case llm.PartImage, llm.PartAudio, llm.PartFile:
			if wp, err := mediaPart(lp, nil, j, gemini); err == nil {
				out = append(out, wp)
			}
		}
	}
	return out
}

// answerArgs returns a call's arguments as the object a Gemini client
// expects. Arguments an upstream produced that are not a JSON object
// (invalid JSON, or a custom tool's free-form input) are wrapped as
// {"_raw": text} rather than dropped.
func answerArgs(args string) jsontext.Value {
	a := bytes.TrimSpace([]byte(args))
	switch {
	case len(a) == 0:
		return jsontext.Value("{}")
	case a[0] == '{' && rawjson.Valid(a) == nil:
		return jsontext.Value(a)
	}
	return jsontext.Value(append(rawjson.AppendString([]byte(`{"_raw":`), args), '}'))
}
