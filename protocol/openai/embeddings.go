package openai

import (
	"encoding/base64"
	"encoding/binary"
	"io"
	"math"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// embeddingInput is "input": a string, an array of strings, an array of
// token ids, or an array of token-id arrays.
type embeddingInput []llm.EmbeddingInput

func (in *embeddingInput) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch dec.PeekKind() {
	case '"':
		str, err := wirejson.ReadString(dec)
		*in = embeddingInput{{Text: str}}
		return err
	case '[':
	default:
		return wirejson.TypeError("a string or an array", dec)
	}
	var raw []jsontext.Value
	if err := json.UnmarshalDecode(dec, &raw); err != nil {
		return err
	}
	out := make(embeddingInput, 0, len(raw))
	var tokens []int
	for _, v := range raw {
		switch v.Kind() {
		case '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return err
			}
			out = append(out, llm.EmbeddingInput{Text: s})
		case '0':
			var t int
			if err := json.Unmarshal(v, &t); err != nil {
				return wirejson.TypeError("an array of integer token ids", dec)
			}
			tokens = append(tokens, t)
		case '[':
			var ts []int
			if err := json.Unmarshal(v, &ts); err != nil {
				return &llm.Error{Kind: llm.KindInvalidRequest, Message: "expected arrays of integer token ids"}
			}
			out = append(out, llm.EmbeddingInput{Tokens: ts})
		default:
			return &llm.Error{Kind: llm.KindInvalidRequest, Message: "expected strings or token ids"}
		}
	}
	if tokens != nil {
		if len(out) > 0 {
			return &llm.Error{Kind: llm.KindInvalidRequest, Message: "expected either token ids or strings, not both"}
		}
		out = embeddingInput{{Tokens: tokens}}
	}
	*in = out
	return nil
}

func (in embeddingInput) MarshalJSONTo(enc *jsontext.Encoder) error {
	if len(in) == 1 && in[0].Tokens == nil {
		return enc.WriteToken(jsontext.String(in[0].Text))
	}
	if len(in) == 1 {
		return json.MarshalEncode(enc, in[0].Tokens)
	}
	vals := make([]any, len(in))
	for i, x := range in {
		if x.Tokens != nil {
			vals[i] = x.Tokens
		} else {
			vals[i] = x.Text
		}
	}
	return json.MarshalEncode(enc, vals)
}

// DecodeEmbeddingRequest decodes a /v1/embeddings request.
func (Protocol) DecodeEmbeddingRequest(body []byte) (*llm.EmbeddingRequest, error) {
	var wr embeddingRequest
	if err := wirejson.Unmarshal(body, &wr); err != nil {
		return nil, err
	}
	if wr.Model == "" {
		return nil, llm.InvalidParam("model", "model: you must provide a model parameter")
	}
	if len(wr.Input) == 0 {
		return nil, llm.InvalidParam("input", "input: at least one input is required")
	}
	switch wr.EncodingFormat {
	case "", "float", "base64":
	default:
		return nil, llm.InvalidParam("encoding_format", "encoding_format: must be float or base64, got %q", wr.EncodingFormat)
	}
	if wr.Dimensions != nil && *wr.Dimensions < 1 {
		return nil, llm.InvalidParam("dimensions", "dimensions: must be at least 1")
	}
	return &llm.EmbeddingRequest{Model: wr.Model, Inputs: wr.Input, Dimensions: wr.Dimensions,
		EncodingFormat: wr.EncodingFormat, User: wr.User, Origin: ID, Extensions: wirejson.Extensions(wr.Unknown)}, nil
}

// EncodeEmbeddingResponse writes vectors as floats, or as base64 of
// little-endian float32 when the client asked for that.
func (Protocol) EncodeEmbeddingResponse(w io.Writer, req *llm.EmbeddingRequest, resp *llm.EmbeddingResponse) error {
	out := embeddingResponse{Object: "list", Model: resp.Model,
		Usage: embeddingUsage{PromptTokens: resp.Usage.InputTokens, TotalTokens: resp.Usage.InputTokens}}
	if out.Model == "" {
		out.Model = req.Model
	}
	out.Data = make([]embeddingData, len(resp.Vectors))
	for i, v := range resp.Vectors {
		var enc []byte
		if req.EncodingFormat == "base64" {
			raw := make([]byte, 4*len(v))
			for j, f := range v {
				binary.LittleEndian.PutUint32(raw[4*j:], math.Float32bits(f))
			}
			enc, _ = json.Marshal(base64.StdEncoding.EncodeToString(raw))
		} else {
			enc, _ = json.Marshal(v)
		}
		out.Data[i] = embeddingData{Object: "embedding", Index: i, Embedding: enc}
	}
	return json.MarshalWrite(w, &out)
}

// EmbeddingEndpoint returns the embeddings path.
func (Protocol) EmbeddingEndpoint(model string) string { return "/embeddings" }

// EncodeEmbeddingRequest encodes an upstream embeddings request; vectors are
// always asked for as floats.
func (Protocol) EncodeEmbeddingRequest(req *llm.EmbeddingRequest, model string) ([]byte, error) {
	wr := embeddingRequest{Model: model, Input: req.Inputs, Dimensions: req.Dimensions, User: req.User}
	if req.Origin == ID {
		wr.Unknown = wirejson.Unknown(req.Extensions)
	}
	return json.Marshal(&wr)
}

// DecodeEmbeddingResponse decodes an upstream embeddings response, floats or
// base64.
func (Protocol) DecodeEmbeddingResponse(body []byte) (*llm.EmbeddingResponse, error) {
	var wr embeddingResponse
	if err := json.Unmarshal(body, &wr); err != nil {
		return nil, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned a malformed embeddings response", Cause: err}
	}
	resp := &llm.EmbeddingResponse{Model: wr.Model, Vectors: make([][]float32, len(wr.Data)),
		Usage: llm.Usage{InputTokens: wr.Usage.PromptTokens}}
	for _, d := range wr.Data {
		if d.Index < 0 || d.Index >= len(wr.Data) {
			return nil, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned an embedding with a bad index"}
		}
		var vec []float32
		switch d.Embedding.Kind() {
		case '[':
			if err := json.Unmarshal(d.Embedding, &vec); err != nil {
				return nil, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned a malformed embedding", Cause: err}
			}
		case '"':
			var s string
			_ = json.Unmarshal(d.Embedding, &s)
			raw, err := base64.StdEncoding.DecodeString(s)
			if err != nil || len(raw)%4 != 0 {
				return nil, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned a malformed base64 embedding"}
			}
			vec = make([]float32, len(raw)/4)
			for j := range vec {
				vec[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
			}
		}
		resp.Vectors[d.Index] = vec
	}
	return resp, nil
}
