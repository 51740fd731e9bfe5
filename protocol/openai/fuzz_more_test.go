package openai_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/llmux/llmux/llm"
)

// FuzzDecodeEmbeddingRequest: an embeddings body is refused with a 400, or
// decodes to inputs that encode for an upstream as valid JSON.
func FuzzDecodeEmbeddingRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		req, err := proto.DecodeEmbeddingRequest(body)
		if err != nil {
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != llm.KindInvalidRequest || e.Message == "" {
				t.Fatalf("DecodeEmbeddingRequest error is not a 400: %#v", err)
			}
			return
		}
		if req.Model == "" || len(req.Inputs) == 0 {
			t.Fatalf("accepted without model or input: %+v", req)
		}
		out, err := proto.EncodeEmbeddingRequest(req, "m")
		if err != nil || !json.Valid(out) {
			t.Fatalf("EncodeEmbeddingRequest = %s, %v", out, err)
		}
	})
}

// FuzzDecodeEmbeddingResponse: an upstream embeddings body decodes to one
// vector slot per input index, or is refused as an upstream error.
func FuzzDecodeEmbeddingResponse(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		resp, err := proto.DecodeEmbeddingResponse(body)
		if err != nil {
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != llm.KindUpstream {
				t.Fatalf("error is not an upstream error: %#v", err)
			}
			return
		}
		if resp == nil {
			t.Fatal("nil response without error")
		}
	})
}

// FuzzDecodeModels: an upstream model list decodes to models with ids, or
// is refused as an upstream error.
func FuzzDecodeModels(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		models, err := proto.DecodeModels(body)
		if err != nil {
			var e *llm.Error
			if !errors.As(err, &e) || e.Kind != llm.KindUpstream {
				t.Fatalf("error is not an upstream error: %#v", err)
			}
			return
		}
		for _, m := range models {
			if m.ID == "" {
				t.Fatalf("model without id in %s", body)
			}
		}
	})
}

// FuzzTapResponse: tapping usage from any upstream body never panics, and
// reports usage only for valid JSON.
func FuzzTapResponse(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		u, ok := proto.TapResponse(body)
		if !ok && !u.IsZero() {
			t.Fatalf("usage %+v reported without ok", u)
		}
		if ok && !json.Valid(body) {
			t.Fatalf("usage tapped from invalid JSON: %s", body)
		}
	})
}
