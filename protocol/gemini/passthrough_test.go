package gemini_test

import (
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

func TestPeekRequest(t *testing.T) {
	for name, body := range requestCorpus(t) {
		t.Run("corpus/"+name, func(t *testing.T) {
			p, err := proto.PeekRequest(body)
			if err != nil {
				t.Fatal(err)
			}
			if p.Model != "" || p.Stream || p.StreamUsage || p.Scan != nil {
				t.Errorf("Peek = %+v; the URL carries model and stream", p)
			}
		})
	}
	errs := []struct{ name, body, param, msg string }{
		{"not JSON", `{"contents":[`, "", "not valid JSON"},
		{"trailing garbage", `{"contents":[{}]} x`, "", "not valid JSON"},
		{"not an object", `[]`, "", "must be a JSON object"},
		{"no contents", `{"generationConfig":{}}`, "contents", "at least one"},
		{"empty contents", `{"contents":[ ]}`, "contents", "at least one"},
		{"contents an object", `{"contents":{}}`, "contents", "expected an array"},
		// Names match as DecodeRequest matches them (snake_case, any case).
		{"Contents empty", `{"Con_tents":[]}`, "contents", "at least one"},
	}
	if _, err := proto.PeekRequest([]byte(`{"Contents":[{"parts":[{"text":"x"}]}]}`)); err != nil {
		t.Errorf("Contents refused: %v", err)
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := proto.PeekRequest([]byte(tt.body))
			e := asError(t, err)
			if e.Kind != llm.KindInvalidRequest || e.Param != tt.param || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("error %#v", e)
			}
		})
	}
}

// TestPeekAgreesWithDecode: what DecodeRequest accepts, PeekRequest accepts.
func TestPeekAgreesWithDecode(t *testing.T) {
	bodies := []string{}
	for _, b := range requestCorpus(t) {
		bodies = append(bodies, string(b))
	}
	for _, tt := range decodeRequestTests {
		bodies = append(bodies, tt.body)
	}
	for _, body := range bodies {
		if _, err := proto.DecodeRequest([]byte(body)); err != nil {
			continue
		}
		if _, err := proto.PeekRequest([]byte(body)); err != nil {
			t.Errorf("DecodeRequest accepts what PeekRequest refuses (%v):\n%s", err, body)
		}
	}
}

func TestRewriteRequest(t *testing.T) {
	body := `{"contents":[{"parts":[{"text":"Hi"}]}], "safetySettings":[], "cachedContent":"c/1","labels":null, "model":"models/x"}`
	tests := []struct {
		name string
		rw   protocol.Rewrite
		want string
		err  string
	}{
		{"nothing to change: byte for byte, model ignored", protocol.Rewrite{Model: "gemini-2.5-pro", StreamUsage: true}, body, ""},
		{"drop", protocol.Rewrite{Drop: []string{"safetySettings", "absent"}},
			`{"contents":[{"parts":[{"text":"Hi"}]}],"cachedContent":"c/1","labels":null, "model":"models/x"}`, ""},
		{"rename", protocol.Rewrite{Rename: map[string]string{"cachedContent": "cached_content"}},
			`{"contents":[{"parts":[{"text":"Hi"}]}], "safetySettings":[], "cached_content":"c/1","labels":null, "model":"models/x"}`, ""},
		{"rename onto an existing member drops the old one", protocol.Rewrite{Rename: map[string]string{"cachedContent": "labels"}},
			`{"contents":[{"parts":[{"text":"Hi"}]}], "safetySettings":[],"labels":null, "model":"models/x"}`, ""},
		{"refuse set member", protocol.Rewrite{Refuse: []string{"cachedContent"}, Upstream: "vertex"}, "", "cachedContent: not supported by the upstream vertex"},
		{"refuse null member passes", protocol.Rewrite{Refuse: []string{"labels"}}, body, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := proto.RewriteRequest([]byte("x"), []byte(body), tt.rw)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != "x"+tt.want {
				t.Errorf("got  %s\nwant x%s", out, tt.want)
			}
		})
	}
	if _, err := proto.RewriteRequest(nil, []byte(`{"a":`), protocol.Rewrite{Drop: []string{"a"}}); err == nil {
		t.Error("RewriteRequest edited invalid JSON")
	}
}

func TestTapResponse(t *testing.T) {
	for _, file := range fixtures(t, false, true) {
		body := testkit.ReadFile(t, file)
		u, ok := proto.TapResponse(body)
		resp, err := proto.DecodeResponse(body)
		if err != nil || !ok || u != resp.Usage {
			t.Errorf("%s: tapped %+v %v, decoded %+v (%v)", file, u, ok, resp.Usage, err)
		}
	}
	u, ok := proto.TapResponse([]byte(`{"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5,"thoughtsTokenCount":7,"cachedContentTokenCount":4,"totalTokenCount":22}}`))
	if want := (llm.Usage{InputTokens: 10, OutputTokens: 12, CachedTokens: 4, ReasoningTokens: 7}); !ok || u != want {
		t.Errorf("usage = %+v %v", u, ok)
	}
	for _, body := range []string{`{}`, `{"usageMetadata":[]}`, `not json`, `{"usageMetadata":{"promptTokenCount":"x"}}`} {
		if u, ok := proto.TapResponse([]byte(body)); ok {
			t.Errorf("%s: tapped %+v", body, u)
		}
	}
}
