package gemini

import (
	"io"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/llm"
)

// DecodeCountRequest decodes a countTokens body: {"contents": […]}, or
// {"generateContentRequest": {…}} (the form that counts the system
// instruction and tools too). Top-level systemInstruction, tools and
// generationConfig, which Vertex accepts, are read as well. The model is in
// the URL.
func (Protocol) DecodeCountRequest(body []byte) (*llm.Request, error) {
	var cr countRequest
	if err := unmarshalClient(body, &cr); err != nil {
		return nil, err
	}
	if g := cr.GenerateContentRequest; g != nil {
		return decodeRequest(g, "generateContentRequest")
	}
	return decodeRequest(&generateRequest{Contents: cr.Contents, SystemInstruction: cr.SystemInstruction,
		Tools: cr.Tools, GenerationConfig: cr.GenerationConfig}, "")
}

// EncodeCount writes {"totalTokens": tokens}.
func (Protocol) EncodeCount(w io.Writer, tokens int) error {
	return json.MarshalWrite(w, countResponse{TotalTokens: tokens})
}

// EncodeCountRequest encodes req for countTokens: {"contents": […]} when
// that is all there is to count, else the generateContentRequest form,
// which the Gemini API requires for a system instruction and tools.
func (Protocol) EncodeCountRequest(req *llm.Request, model string) ([]byte, error) {
	wr, err := encodeRequest(req, model)
	if err != nil {
		return nil, err
	}
	if wr.SystemInstruction == nil && len(wr.Tools) == 0 {
		return json.Marshal(countRequest{Contents: wr.Contents})
	}
	g := &generateRequest{Model: "models/" + trimModels(model), Contents: wr.Contents,
		SystemInstruction: wr.SystemInstruction, Tools: wr.Tools}
	return json.Marshal(countRequest{GenerateContentRequest: g})
}

// DecodeCount reads totalTokens from a countTokens answer.
func (Protocol) DecodeCount(body []byte) (int, error) {
	var cr struct {
		TotalTokens *int `json:"totalTokens"`
	}
	if err := json.Unmarshal(body, &cr); err != nil || cr.TotalTokens == nil || *cr.TotalTokens < 0 {
		return 0, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned a malformed token count", Cause: err}
	}
	return *cr.TotalTokens, nil
}
