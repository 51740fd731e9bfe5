package gemini_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

func TestAddress(t *testing.T) {
	tests := []struct {
		rest, query string
		want        protocol.Address
	}{
		{"gemini-2.5-flash:generateContent", "", protocol.Address{Op: protocol.OpChat, Model: "gemini-2.5-flash"}},
		{"gemini-2.5-flash:streamGenerateContent", "alt=sse", protocol.Address{Op: protocol.OpChat, Model: "gemini-2.5-flash", Stream: true}},
		// Without alt=sse the answer is still SSE (see the package comment).
		{"gemini-2.5-flash:streamGenerateContent", "", protocol.Address{Op: protocol.OpChat, Model: "gemini-2.5-flash", Stream: true}},
		{"gemini-2.5-flash:countTokens", "", protocol.Address{Op: protocol.OpCountTokens, Model: "gemini-2.5-flash"}},
		// The model may contain '/' and ':'; the method follows the last ':'.
		{"claude/sonnet:streamGenerateContent", "alt=sse", protocol.Address{Op: protocol.OpChat, Model: "claude/sonnet", Stream: true}},
		{"ollama/llama3:8b:generateContent", "", protocol.Address{Op: protocol.OpChat, Model: "ollama/llama3:8b"}},
		{"models/gemini-pro:generateContent", "", protocol.Address{Op: protocol.OpChat, Model: "gemini-pro"}},
	}
	for _, tt := range tests {
		got, err := proto.Address(tt.rest, tt.query)
		if err != nil || got != tt.want {
			t.Errorf("Address(%q, %q) = %+v, %v; want %+v", tt.rest, tt.query, got, err, tt.want)
		}
	}
	errs := []struct {
		rest string
		kind llm.ErrorKind
		msg  string
	}{
		{"gemini-2.5-flash:embedContent", llm.KindNotFound, `"embedContent"`},
		{"gemini-2.5-flash:batchEmbedContents", llm.KindNotFound, `"batchEmbedContents"`},
		{"gemini-2.5-flash", llm.KindNotFound, "names no method"},
		{":generateContent", llm.KindInvalidRequest, "names no model"},
		{"models/:countTokens", llm.KindInvalidRequest, "names no model"},
		{"m:" + strings.Repeat("x", 500), llm.KindNotFound, "…"},
	}
	for _, tt := range errs {
		_, err := proto.Address(tt.rest, "")
		if e := asError(t, err); e.Kind != tt.kind || !strings.Contains(e.Message, tt.msg) || len(e.Message) > 300 {
			t.Errorf("Address(%q): %v", tt.rest, e)
		}
	}
}

func TestRoutes(t *testing.T) {
	var addressed, models int
	for _, r := range proto.Routes() {
		switch r.Op {
		case protocol.OpAddressed:
			addressed++
			if r.Method != "POST" || !strings.HasSuffix(r.Path, "/models/") {
				t.Errorf("route %+v", r)
			}
		case protocol.OpModels:
			models++
			if r.Method != "GET" {
				t.Errorf("route %+v", r)
			}
		default:
			t.Errorf("unexpected route %+v", r)
		}
	}
	if addressed != 2 || models != 2 {
		t.Errorf("routes %+v", proto.Routes())
	}
	if p := proto.Prefixes(); len(p) != 1 || p[0] != "/gemini" {
		t.Errorf("prefixes %v", p)
	}
	if proto.ID() != "gemini" || !proto.InlineMedia() {
		t.Error("ID or InlineMedia")
	}
}

func TestEndpoints(t *testing.T) {
	tests := []struct{ got, want string }{
		{proto.Endpoint("gemini-2.5-flash", false), "/v1beta/models/gemini-2.5-flash:generateContent"},
		{proto.Endpoint("gemini-2.5-flash", true), "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"},
		{proto.Endpoint("models/gemini-2.5-pro", false), "/v1beta/models/gemini-2.5-pro:generateContent"},
		{proto.Endpoint("tuned/my model?x", false), "/v1beta/models/tuned/my%20model%3Fx:generateContent"},
		{proto.CountEndpoint("gemini-2.5-flash"), "/v1beta/models/gemini-2.5-flash:countTokens"},
		{proto.ModelsEndpoint(), "/v1beta/models?pageSize=1000"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestModels(t *testing.T) {
	var out bytes.Buffer
	if err := proto.EncodeModels(&out, []llm.Model{{ID: "fast", OwnedBy: "llmux"}, {ID: "claude/sonnet", DisplayName: "Sonnet"}}); err != nil {
		t.Fatal(err)
	}
	want := `{"models":[
		{"name":"models/fast","baseModelId":"fast","displayName":"fast","supportedGenerationMethods":["generateContent","streamGenerateContent","countTokens"]},
		{"name":"models/claude/sonnet","baseModelId":"claude/sonnet","displayName":"Sonnet","supportedGenerationMethods":["generateContent","streamGenerateContent","countTokens"]}]}`
	if !testkit.JSONEqual(out.Bytes(), []byte(want)) {
		t.Errorf("EncodeModels = %s", out.Bytes())
	}
	models, err := proto.DecodeModels([]byte(`{"models":[
		{"name":"models/gemini-2.5-flash","displayName":"Gemini 2.5 Flash","supportedGenerationMethods":["generateContent","countTokens"]},
		{"name":"models/text-embedding-004","supportedGenerationMethods":["embedContent"]},
		{"name":"models/legacy"},{"name":""}],"nextPageToken":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(models) != 2 || models[0].ID != "gemini-2.5-flash" || models[0].DisplayName != "Gemini 2.5 Flash" || models[1].ID != "legacy" {
		t.Errorf("DecodeModels = %+v", models)
	}
	if _, err := proto.DecodeModels([]byte(`{"models":{}}`)); err == nil || asError(t, err).Kind != llm.KindUpstream {
		t.Errorf("malformed list: %v", err)
	}
}

func TestCount(t *testing.T) {
	var out bytes.Buffer
	if err := proto.EncodeCount(&out, 42); err != nil || out.String() != `{"totalTokens":42}` {
		t.Errorf("EncodeCount = %s, %v", out.String(), err)
	}
	if n, err := proto.DecodeCount([]byte(`{"totalTokens":31,"promptTokensDetails":[{"modality":"TEXT","tokenCount":31}]}`)); err != nil || n != 31 {
		t.Errorf("DecodeCount = %d, %v", n, err)
	}
	for _, body := range []string{`{}`, `{"totalTokens":-1}`, `nope`} {
		if _, err := proto.DecodeCount([]byte(body)); err == nil || asError(t, err).Kind != llm.KindUpstream {
			t.Errorf("DecodeCount(%s) = %v", body, err)
		}
	}
}
