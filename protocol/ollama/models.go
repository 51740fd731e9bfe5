package ollama

import (
	"io"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// EncodeModels writes an /api/tags list. The gateway knows names, not
// files: size is 0, digest and details are empty, and modified_at is the
// model's creation time when known, else now.
func (Protocol) EncodeModels(w io.Writer, models []llm.Model) error {
	out := tagList{Models: make([]tagModel, len(models))}
	for i, m := range models {
		out.Models[i] = tagModel{Name: m.ID, Model: m.ID, ModifiedAt: createdAt(m.Created),
			Details: modelDetails{Families: []string{}}}
	}
	return json.MarshalWrite(w, &out)
}

// ModelsEndpoint returns the model listing path.
func (Protocol) ModelsEndpoint() string { return "/api/tags" }

// DecodeModels decodes an upstream /api/tags list.
func (Protocol) DecodeModels(body []byte) ([]llm.Model, error) {
	var l struct {
		Models []struct {
			Name       string `json:"name"`
			Model      string `json:"model"`
			ModifiedAt string `json:"modified_at"`
		} `json:"models"`
	}
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned a malformed model list", Cause: err}
	}
	out := make([]llm.Model, 0, len(l.Models))
	for _, m := range l.Models {
		id := m.Model
		if id == "" {
			id = m.Name
		}
		if id != "" {
			out = append(out, llm.Model{ID: id, Created: parseCreated(m.ModifiedAt)})
		}
	}
	return out, nil
}

// DecodeShowRequest returns the model an /api/show body asks about: "model",
// or the deprecated "name".
func (Protocol) DecodeShowRequest(body []byte) (string, error) {
	var r struct {
		Model string `json:"model"`
		Name  string `json:"name"`
	}
	if err := wirejson.Unmarshal(body, &r); err != nil {
		return "", err
	}
	if r.Model != "" {
		return r.Model, nil
	}
	if r.Name != "" {
		return r.Name, nil
	}
	return "", llm.InvalidParam("model", "model is required")
}

// showResponse is what /api/show answers for a model the gateway routes:
// no modelfile or template of its own, and the capabilities every routed
// model has.
type showResponse struct {
	Modelfile    string         `json:"modelfile"`
	Parameters   string         `json:"parameters"`
	Template     string         `json:"template"`
	Details      modelDetails   `json:"details"`
	ModelInfo    map[string]any `json:"model_info"`
	Capabilities []string       `json:"capabilities"`
	ModifiedAt   string         `json:"modified_at"`
}

// EncodeShow writes the /api/show description of m.
func (Protocol) EncodeShow(w io.Writer, m llm.Model) error {
	return json.MarshalWrite(w, &showResponse{
		Details:      modelDetails{Families: []string{}},
		ModelInfo:    map[string]any{},
		Capabilities: []string{"completion", "tools"},
		ModifiedAt:   createdAt(m.Created),
	})
}

// EncodeVersion writes {"version": version}.
func (Protocol) EncodeVersion(w io.Writer, version string) error {
	return json.MarshalWrite(w, &struct {
		Version string `json:"version"`
	}{version})
}
