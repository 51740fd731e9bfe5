package provider

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"net/http"
	"reflect"
	"testing"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/llm"
)

func TestHTTPListModels(t *testing.T) {
	up := newUpstream(t, reply(200, []byte(`{"object":"list","data":[
		{"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"system"},
		{"id":"","object":"model","owned_by":"system"},
		{"id":"ft:gpt-4o-mini:acme::abc","object":"model","created":1730000000,"owned_by":"acme"}]}`)))
	p := newHTTPProvider(t, "openai", up.URL+"/v1", func(pc *config.Provider) {
		pc.Headers = map[string]string{"X-Team": "blue"}
	})
	got, err := p.ListModels(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []llm.Model{
		{ID: "gpt-4o-mini", OwnedBy: "system", Created: 1721172741},
		{ID: "ft:gpt-4o-mini:acme::abc", OwnedBy: "acme", Created: 1730000000},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("models = %+v, want %+v", got, want)
	}
	r := up.last(t)
	if r.Method != http.MethodGet || r.Path != "/v1/models" || r.Header.Get("Authorization") != "Bearer "+testKey || r.Header.Get("X-Team") != "blue" {
		t.Errorf("upstream got %s %s with %v", r.Method, r.Path, r.Header)
	}
}

// base64Vector encodes v the way OpenAI does for encoding_format=base64.
func base64Vector(v []float32) string {
	raw := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
	}
	return base64.StdEncoding.EncodeToString(raw)
}

func TestHTTPEmbed(t *testing.T) {
	a, b := []float32{0.25, -0.5, 0.125}, []float32{1e-3, 2.5, -3}
	tests := []struct {
		name string
		body string
	}{
		{"floats", `{"object":"list","data":[
			{"object":"embedding","index":0,"embedding":[0.25,-0.5,0.125]},
			{"object":"embedding","index":1,"embedding":[0.001,2.5,-3]}],
			"model":"text-embedding-3-small","usage":{"prompt_tokens":7,"total_tokens":7}}`},
		{"base64, out of order", `{"object":"list","data":[
			{"object":"embedding","index":1,"embedding":"` + base64Vector(b) + `"},
			{"object":"embedding","index":0,"embedding":"` + base64Vector(a) + `"}],
			"model":"text-embedding-3-small","usage":{"prompt_tokens":7,"total_tokens":7}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, reply(200, []byte(tt.body)))
			p := newHTTPProvider(t, "openai", up.URL+"/v1", nil)
			dims := 3
			got, err := p.Embed(t.Context(), &llm.EmbeddingRequest{Model: "alias", Dimensions: &dims,
				Inputs: []llm.EmbeddingInput{{Text: "first"}, {Text: "second"}}, EncodingFormat: "base64"}, "text-embedding-3-small")
			if err != nil {
				t.Fatal(err)
			}
			want := &llm.EmbeddingResponse{Model: "text-embedding-3-small", Vectors: [][]float32{a, b}, Usage: llm.Usage{InputTokens: 7}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Embed = %+v, want %+v", got, want)
			}
			r := up.last(t)
			if r.Method != http.MethodPost || r.Path != "/v1/embeddings" || r.Header.Get("Authorization") != "Bearer "+testKey {
				t.Errorf("upstream got %s %s with %v", r.Method, r.Path, r.Header)
			}
			wantBody := map[string]any{"model": "text-embedding-3-small", "input": []any{"first", "second"}, "dimensions": 3.0}
			if !reflect.DeepEqual(r.Body, wantBody) {
				t.Errorf("upstream body = %v, want %v (vectors are always asked for as floats)", r.Body, wantBody)
			}
		})
	}
}
