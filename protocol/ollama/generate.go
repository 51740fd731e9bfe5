package ollama

import (
	"io"
	"strings"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// DecodeRequest decodes an /api/generate request: the system text becomes
// a system message and the prompt (with its images) a user message. The
// request's Origin is "ollama": its extension members (keep_alive,
// truncate, shift, options) mean the same on /api/chat. Features of a raw
// completion endpoint that a chat cannot express are refused: a suffix
// (fill-in-the-middle), raw mode, a template and a context token array.
func (Generate) DecodeRequest(body []byte) (*llm.Request, error) {
	var wr generateRequest
	if err := wirejson.Unmarshal(body, &wr); err != nil {
		return nil, err
	}
	if wr.Model == "" {
		return nil, llm.InvalidParam("model", "model is required")
	}
	switch {
	case wr.Suffix != "":
		return nil, llm.InvalidParam("suffix", "suffix (fill-in-the-middle) is not supported through llmux; send the text before and after the gap in the prompt")
	case wr.Raw:
		return nil, llm.InvalidParam("raw", "raw prompts are not supported through llmux; the upstream applies its own template")
	case wr.Template != "":
		return nil, llm.InvalidParam("template", "template is not supported through llmux; the upstream applies its own template")
	case len(wr.Context) > 0:
		return nil, llm.InvalidParam("context", "context (the token array of an earlier answer) is not supported through llmux; send the conversation to /api/chat instead")
	}
	images, err := decodeImages(wr.Images, "images")
	if err != nil {
		return nil, err
	}
	if wr.Prompt == "" && len(images) == 0 {
		return nil, llm.InvalidParam("prompt", "prompt is required (loading a model without a prompt is not supported through llmux)")
	}
	req := &llm.Request{Model: wr.Model, Origin: ID, Stream: wr.Stream == nil || *wr.Stream}
	err = decodeCommon(req, common{format: wr.Format, options: wr.Options, think: wr.Think,
		logprobs: wr.Logprobs, topLogprobs: wr.TopLogprobs, unknown: wr.Unknown})
	if err != nil {
		return nil, err
	}
	if wr.System != "" {
		req.Messages = append(req.Messages, llm.Message{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart(wr.System)}})
	}
	user := llm.Message{Role: llm.RoleUser}
	if wr.Prompt != "" {
		user.Parts = append(user.Parts, llm.TextPart(wr.Prompt))
	}
	user.Parts = append(user.Parts, images...)
	req.Messages = append(req.Messages, user)
	return req, nil
}

// EncodeResponse writes resp in /api/generate's shape: the answer's text in
// "response", its thinking in "thinking".
func (Generate) EncodeResponse(w io.Writer, req *llm.Request, resp *llm.Response) error {
	wr := generateResponse{Model: clientModel(req, resp), CreatedAt: createdAt(resp.Created), Done: true}
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
			wr.ToolCalls = append(wr.ToolCalls, encodeCallAnswer(part.ToolCall, len(wr.ToolCalls), wr.CreatedAt))
		}
	}
	wr.Response, wr.Thinking = text.String(), thinking.String()
	wr.DoneReason = doneReason(c.FinishReason)
	wr.PromptEvalCount, wr.EvalCount = resp.Usage.InputTokens, resp.Usage.OutputTokens
	d := durationsOf(resp)
	wr.TotalDuration, wr.LoadDuration, wr.PromptEvalDuration, wr.EvalDuration = d.total, d.load, d.promptEval, d.eval
	wr.Logprobs = encodeLogprobs(c.Logprobs)
	return json.MarshalWrite(w, &wr)
}

// NewStreamEncoder returns an encoder writing /api/generate NDJSON lines.
func (Generate) NewStreamEncoder(w io.Writer, req *llm.Request) protocol.StreamEncoder {
	return newStreamEncoder(w, req, true)
}

// EncodeError renders err as {"error":"…"}.
func (Generate) EncodeError(err *llm.Error) (int, []byte) { return encodeError(err) }
