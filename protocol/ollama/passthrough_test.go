package ollama_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

func TestPeekRequest(t *testing.T) {
	tests := []struct {
		name, body string
		model      string
		stream     bool
	}{
		{"stream absent means a stream", `{"model":"llama3.2","messages":[{"role":"user","content":"Hi"}]}`, "llama3.2", true},
		{"stream null means a stream", `{"model":"m","stream":null,"messages":[]}`, "m", true},
		{"stream false", `{"stream":false,"model":"m","messages":[{"role":"user","content":"Hi"}]}`, "m", false},
		{"stream true", `{"model":"m","stream":true}`, "m", true},
		{"no messages: the upstream loads the model", `{"model":"m","keep_alive":0}`, "m", true},
		{"escaped names", `{"mod\u0065l":"m\u00e9","str\u0065am":false}`, "mé", false},
		{"white space", " \n{ \"model\" : \"m\" , \"stream\" : false }\n", "m", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := proto.PeekRequest([]byte(tt.body))
			if err != nil {
				t.Fatalf("PeekRequest: %v", err)
			}
			if p.Model != tt.model || p.Stream != tt.stream || p.StreamUsage {
				t.Errorf("Peek = %+v, want model %q stream %v", p, tt.model, tt.stream)
			}
		})
	}
}

func TestPeekRequestErrors(t *testing.T) {
	tests := []struct {
		name, body, param, msg string
	}{
		{"not JSON", `{"model":"m"`, "", "not valid JSON"},
		{"not an object", `["model"]`, "", "must be a JSON object"},
		{"empty", ``, "", "not valid JSON"},
		{"no model", `{"messages":[]}`, "model", "required"},
		{"empty model", `{"model":""}`, "model", "required"},
		{"model not a string", `{"model":5}`, "model", "expected a string"},
		{"stream not a boolean", `{"model":"m","stream":"false"}`, "stream", "expected a boolean"},
		{"messages not an array", `{"model":"m","messages":{}}`, "messages", "expected an array"},
		{"model twice", `{"model":"cheap","messages":[],"model":"expensive"}`, "model", "more than once"},
		{"model twice, once escaped", `{"model":"cheap","\u006dodel":"expensive"}`, "model", "more than once"},
		{"stream twice", `{"model":"m","stream":false,"str\u0065am":true}`, "stream", "more than once"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := proto.PeekRequest([]byte(tt.body))
			e := asError(t, err)
			if e.Kind != llm.KindInvalidRequest || e.Param != tt.param || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("error = %q param %q (%s), want param %q message %q", e.Message, e.Param, e.Kind, tt.param, tt.msg)
			}
		})
	}
}

func TestRewriteRequest(t *testing.T) {
	const body = `{"model":"alias", "messages":[{"role":"user","content":"Hi"}],"options":{"num_ctx":4096},"keep_alive":"5m","think":true,"x_vendor":1}`
	tests := []struct {
		name string
		body string
		rw   protocol.Rewrite
		want string
	}{
		{"model only, every other byte kept", body, protocol.Rewrite{Model: "llama3.2:8b", StreamUsage: true},
			`{"model":"llama3.2:8b", "messages":[{"role":"user","content":"Hi"}],"options":{"num_ctx":4096},"keep_alive":"5m","think":true,"x_vendor":1}`},
		{"keep the model", body, protocol.Rewrite{}, body},
		{"drop and rename", body, protocol.Rewrite{Model: "m", Drop: []string{"keep_alive", "absent"}, Rename: map[string]string{"x_vendor": "y_vendor", "nope": "x"}},
			`{"model":"m", "messages":[{"role":"user","content":"Hi"}],"options":{"num_ctx":4096},"think":true,"y_vendor":1}`},
		{"rename onto an existing member drops the old one", body, protocol.Rewrite{Rename: map[string]string{"think": "keep_alive"}},
			`{"model":"alias", "messages":[{"role":"user","content":"Hi"}],"options":{"num_ctx":4096},"keep_alive":"5m","x_vendor":1}`},
		{"escaped model name rewritten", `{"m\u006fdel":"a","messages":[]}`, protocol.Rewrite{Model: "b\"c"},
			`{"m\u006fdel":"b\"c","messages":[]}`},
		{"a null refused field passes", `{"model":"a","think":null}`, protocol.Rewrite{Refuse: []string{"think"}, Upstream: "x"},
			`{"model":"a","think":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := proto.RewriteRequest(nil, []byte(tt.body), tt.rw)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got  %s\nwant %s", out, tt.want)
			}
			p, err := proto.PeekRequest([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			tt.rw.Scan = p.Scan
			if again, err := proto.RewriteRequest([]byte("prefix:"), []byte(tt.body), tt.rw); err != nil || string(again) != "prefix:"+tt.want {
				t.Errorf("with the peek's scan: %s (%v)", again, err)
			}
		})
	}
	_, err := proto.RewriteRequest(nil, []byte(body), protocol.Rewrite{Refuse: []string{"think"}, Upstream: "ollama-cloud"})
	if e := asError(t, err); e.Param != "think" || !strings.Contains(e.Message, "ollama-cloud") {
		t.Errorf("refusal = %v", e)
	}
	if _, err := proto.RewriteRequest(nil, []byte(`{"model":`), protocol.Rewrite{Model: "m"}); err == nil {
		t.Error("a malformed body was rewritten")
	}
	// A scan of another body is not reused.
	p, _ := proto.PeekRequest([]byte(`{"model":"a","stream":false,"messages":[]}`))
	out, err := proto.RewriteRequest(nil, []byte(`{"model":"b"}`), protocol.Rewrite{Model: "c", Scan: p.Scan})
	if err != nil || string(out) != `{"model":"c"}` {
		t.Errorf("foreign scan: %s (%v)", out, err)
	}
}

func TestTapResponse(t *testing.T) {
	tests := []struct {
		body string
		want llm.Usage
		ok   bool
	}{
		{`{"model":"m","done":true,"prompt_eval_count":26,"eval_count":282}`, llm.Usage{InputTokens: 26, OutputTokens: 282}, true},
		{`{"model":"m","done":true,"eval_count":3}`, llm.Usage{OutputTokens: 3}, true},
		{`{"model":"m","done":true}`, llm.Usage{}, false},
		{`{"model":"m","prompt_eval_count":-4,"eval_count":1.5}`, llm.Usage{}, true},
		// A stream where one object was asked for is no valid answer: the
		// gateway fails over rather than relay what the client cannot parse.
		{line(`{"role":"assistant","content":"a"}`) + doneLine, llm.Usage{}, false},
		{`not json`, llm.Usage{}, false},
	}
	for _, tt := range tests {
		got, ok := proto.TapResponse([]byte(tt.body))
		if got != tt.want || ok != tt.ok {
			t.Errorf("TapResponse(%s) = %+v %v, want %+v %v", tt.body, got, ok, tt.want, tt.ok)
		}
	}
}

// TestPassthroughAgreesWithDecoder: for every request in the corpus, the
// peek reads what the decoder reads, and a rewritten body decodes to the
// same request but for the model.
func TestPassthroughAgreesWithDecoder(t *testing.T) {
	for name, body := range requestCorpus(t) {
		t.Run(name, func(t *testing.T) {
			req, err := proto.DecodeRequest(body)
			if err != nil {
				t.Fatal(err)
			}
			p, err := proto.PeekRequest(body)
			if err != nil {
				t.Fatal(err)
			}
			if p.Model != req.Model || p.Stream != req.Stream {
				t.Errorf("peek %+v, decoder model %q stream %v", p, req.Model, req.Stream)
			}
			out, err := proto.RewriteRequest(nil, body, protocol.Rewrite{Model: "up", Scan: p.Scan})
			if err != nil || !json.Valid(out) {
				t.Fatalf("RewriteRequest = %s, %v", out, err)
			}
			again, err := proto.DecodeRequest(out)
			if err != nil {
				t.Fatal(err)
			}
			again.Model = req.Model
			if testkit.Dump(again) != testkit.Dump(req) {
				t.Errorf("the rewritten body decodes differently:\n%s\n%s", testkit.Dump(again), testkit.Dump(req))
			}
		})
	}
}
