package openai

import (
	"io"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/llm"
)

// EncodeModels writes a /v1/models list.
func (Protocol) EncodeModels(w io.Writer, models []llm.Model) error {
	out := modelList{Object: "list", Data: make([]modelInfo, len(models))}
	for i, m := range models {
		out.Data[i] = modelInfo{ID: m.ID, Object: "model", Created: m.Created, OwnedBy: m.OwnedBy}
	}
	return json.MarshalWrite(w, &out)
}

// ModelsEndpoint returns the model listing path.
func (Protocol) ModelsEndpoint() string { return "/models" }

// DecodeModels decodes an upstream /v1/models list.
func (Protocol) DecodeModels(body []byte) ([]llm.Model, error) {
	var l modelList
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned a malformed model list", Cause: err}
	}
	out := make([]llm.Model, 0, len(l.Data))
	for _, m := range l.Data {
		if m.ID != "" {
			out = append(out, llm.Model{ID: m.ID, OwnedBy: m.OwnedBy, Created: m.Created})
		}
	}
	return out, nil
}
