package anthropic

import (
	"io"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/llm"
)

// EncodeCount writes a count_tokens answer: {"input_tokens":N}.
func (Protocol) EncodeCount(w io.Writer, tokens int) error {
	b := append([]byte(`{"input_tokens":`), strconv.Itoa(tokens)...)
	_, err := w.Write(append(b, '}'))
	return err
}

// DecodeCount reads an upstream count_tokens answer.
func (Protocol) DecodeCount(body []byte) (int, error) {
	var c countResponse
	if err := json.Unmarshal(body, &c); err != nil {
		return 0, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned a malformed token count", Cause: err}
	}
	if c.InputTokens < 0 {
		return 0, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned a negative token count"}
	}
	return c.InputTokens, nil
}

// EncodeModels writes a /v1/models list in Anthropic's shape. The protocol
// declares no route for it (GET /v1/models is OpenAI's at the root); the
// gateway may serve it where it tells Anthropic clients apart.
func (Protocol) EncodeModels(w io.Writer, models []llm.Model) error {
	out := modelList{Data: make([]modelInfo, len(models))}
	for i, m := range models {
		name := m.DisplayName
		if name == "" {
			name = m.ID
		}
		out.Data[i] = modelInfo{Type: "model", ID: m.ID, DisplayName: name,
			CreatedAt: time.Unix(m.Created, 0).UTC().Format(time.RFC3339)}
	}
	if n := len(out.Data); n > 0 {
		out.FirstID, out.LastID = &out.Data[0].ID, &out.Data[n-1].ID
	}
	return json.MarshalWrite(w, &out)
}

// DecodeModels decodes an upstream /v1/models list.
func (Protocol) DecodeModels(body []byte) ([]llm.Model, error) {
	var l modelList
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned a malformed model list", Cause: err}
	}
	out := make([]llm.Model, 0, len(l.Data))
	for _, m := range l.Data {
		if m.ID == "" {
			continue
		}
		lm := llm.Model{ID: m.ID, DisplayName: m.DisplayName}
		if t, err := time.Parse(time.RFC3339, m.CreatedAt); err == nil {
			lm.Created = t.Unix()
		}
		out = append(out, lm)
	}
	return out, nil
}
