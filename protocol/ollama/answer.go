package ollama

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/llm"
)

// EncodeResponse writes resp as a complete /api/chat answer (the final
// object of a stream, holding the whole message). The model is the one the
// client asked for.
func (Protocol) EncodeResponse(w io.Writer, req *llm.Request, resp *llm.Response) error {
	created := createdAt(resp.Created)
	wr := chatResponse{Model: clientModel(req, resp), CreatedAt: created, Message: message{Role: "assistant"}, Done: true}
	var c llm.Choice
	if len(resp.Choices) > 0 {
		c = resp.Choices[0]
	}
	var text, thinking strings.Builder
	for _, part := range c.Message.Parts {
		switch part.Type {
		case llm.PartText, llm.PartRefusal:
			text.WriteString(part.Text)
		case llm.PartReasoning:
			thinking.WriteString(part.Reasoning.Text)
		case llm.PartToolCall:
			wr.Message.ToolCalls = append(wr.Message.ToolCalls, encodeCallAnswer(part.ToolCall, len(wr.Message.ToolCalls), created))
		}
	}
	wr.Message.Content, wr.Message.Thinking = text.String(), thinking.String()
	wr.DoneReason = doneReason(c.FinishReason)
	in, out := resp.Usage.InputTokens, resp.Usage.OutputTokens
	wr.PromptEvalCount, wr.EvalCount = &in, &out
	d := durationsOf(resp)
	wr.TotalDuration, wr.LoadDuration, wr.PromptEvalDuration, wr.EvalDuration = d.total, d.load, d.promptEval, d.eval
	wr.Logprobs = encodeLogprobs(c.Logprobs)
	return json.MarshalWrite(w, &wr)
}

// clientModel is the model name an answer carries: the one the client
// asked for.
func clientModel(req *llm.Request, resp *llm.Response) string {
	if req != nil && req.Model != "" {
		return req.Model
	}
	return resp.Model
}

// createdAt formats a Unix time as Ollama does (RFC 3339 with nanoseconds,
// UTC); 0 means now.
func createdAt(unix int64) string {
	t := now()
	if unix != 0 {
		t = time.Unix(unix, 0)
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// doneReason maps a finish reason to done_reason. Ollama reports "stop"
// after tool calls too, and has no word for a content filter.
func doneReason(f llm.FinishReason) string {
	if f == llm.FinishLength {
		return "length"
	}
	return "stop"
}

// durations are an answer's timings in nanoseconds.
type durations struct {
	total, load, promptEval, eval int64
}

// durationKeys name the timings an Ollama upstream reported, as kept in a
// decoded response's Extensions.
var durationKeys = [...]string{"total_duration", "load_duration", "prompt_eval_duration", "eval_duration"}

// durationsOf returns the timings an Ollama upstream reported for resp, or
// zeros: the gateway cannot measure a complete answer it did not time.
func durationsOf(resp *llm.Response) durations {
	var d durations
	if resp.Origin != ID {
		return d
	}
	dst := [...]*int64{&d.total, &d.load, &d.promptEval, &d.eval}
	for i, k := range durationKeys {
		if v, err := strconv.ParseInt(string(resp.Extensions[k]), 10, 64); err == nil && v > 0 {
			*dst[i] = v
		}
	}
	return d
}

// encodeCallAnswer encodes a call of an answer. A call without an id gets
// a stable one (scope is the answer's created_at).
func encodeCallAnswer(tc *llm.ToolCall, index int, scope string) toolCall {
	id := tc.ID
	if id == "" {
		id = syntheticID(scope, index, tc.Name, tc.Arguments)
	}
	return toolCall{ID: id, Function: toolCallFunction{Index: &index, Name: tc.Name, Arguments: argsObject(tc.Arguments)}}
}

// argsObject returns arguments as the JSON object Ollama clients expect.
// Text that is not an object (an upstream's broken JSON, a free-form
// input) is wrapped as {"_raw": text} rather than lost.
func argsObject(s string) arguments {
	t := strings.TrimSpace(s)
	if t == "" {
		return nil
	}
	if rawjson.Kind([]byte(t)) == "object" && rawjson.Valid([]byte(t)) == nil {
		return arguments(t)
	}
	b := rawjson.AppendString([]byte(`{"_raw":`), s)
	return arguments(append(b, '}'))
}

func encodeLogprobs(lps []llm.TokenLogprob) []logprob {
	if len(lps) == 0 {
		return nil
	}
	out := make([]logprob, len(lps))
	for i, lp := range lps {
		out[i] = logprob{Token: lp.Token, Logprob: lp.Logprob, Bytes: bytesToInts(lp.Bytes)}
		for _, t := range lp.Top {
			out[i].TopLogprobs = append(out[i].TopLogprobs, tokenLogprob{Token: t.Token, Logprob: t.Logprob, Bytes: bytesToInts(t.Bytes)})
		}
	}
	return out
}

func decodeLogprobs(lps []logprob) []llm.TokenLogprob {
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

func bytesToInts(b []byte) []int {
	if b == nil {
		return nil
	}
	out := make([]int, len(b))
	for i, c := range b {
		out[i] = int(c)
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
