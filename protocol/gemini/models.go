package gemini

import (
	"io"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/llm"
)

// generationMethods are the methods the gateway serves for every model.
var generationMethods = []string{"generateContent", "streamGenerateContent", "countTokens"}

// EncodeModels writes a models list: each model as "models/<id>".
func (Protocol) EncodeModels(w io.Writer, models []llm.Model) error {
	out := modelList{Models: make([]modelInfo, len(models))}
	for i, m := range models {
		name := m.DisplayName
		if name == "" {
			name = m.ID
		}
		out.Models[i] = modelInfo{Name: "models/" + m.ID, BaseModelID: m.ID, DisplayName: name,
			SupportedGenerationMethods: generationMethods}
	}
	return json.MarshalWrite(w, &out)
}

// ModelsEndpoint returns the model list path, asking for the largest page
// the API serves (its default page of 50 would cut the list short).
func (Protocol) ModelsEndpoint() string { return "/v1beta/models?pageSize=1000" }

// DecodeModels decodes an upstream model list, stripping "models/" from
// the names. Models that say they cannot generateContent (embedding and
// other special-purpose models) are left out.
func (Protocol) DecodeModels(body []byte) ([]llm.Model, error) {
	var l modelList
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned a malformed model list", Cause: err}
	}
	out := make([]llm.Model, 0, len(l.Models))
	for _, m := range l.Models {
		id := trimModels(m.Name)
		if id == "" {
			continue
		}
		if len(m.SupportedGenerationMethods) > 0 && !slices.Contains(m.SupportedGenerationMethods, "generateContent") {
			continue
		}
		out = append(out, llm.Model{ID: id, DisplayName: m.DisplayName, OwnedBy: "google"})
	}
	return out, nil
}

// trimModels strips the resource prefix of a model name.
func trimModels(name string) string { return strings.TrimPrefix(name, "models/") }
