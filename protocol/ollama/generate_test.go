package ollama_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

func TestGenerateDecodeRequest(t *testing.T) {
	tests := []struct {
		name string
		body string
		want llm.Request
	}{
		{
			name: "prompt, stream by default",
			body: `{"model":"llama3.2","prompt":"Why is the sky blue?"}`,
			want: llm.Request{Model: "llama3.2", Stream: true, Origin: "ollama", Messages: []llm.Message{userMsg("Why is the sky blue?")}},
		},
		{
			name: "as the official client sends it: empty suffix, system, template; options null",
			body: `{"model":"m","prompt":"Hi","suffix":"","system":"","template":"","stream":false,"options":null}`,
			want: llm.Request{Model: "m", Origin: "ollama", Messages: []llm.Message{userMsg("Hi")}},
		},
		{
			name: "system, images, think, format, options, keep_alive, empty context",
			body: `{"model":"llava","prompt":"What is this?","system":"Be terse.","images":["` + pngB64 + `"],"think":"low","format":"json",
				"options":{"num_predict":20,"num_ctx":2048},"keep_alive":-1,"context":[],"raw":false,"stream":false}`,
			want: llm.Request{Model: "llava", Origin: "ollama",
				Messages: []llm.Message{textMsg(llm.RoleSystem, "Be terse."),
					{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("What is this?"), image("image/png", pngB64)}}},
				Reasoning:      &llm.ReasoningConfig{Mode: llm.ReasoningEnabled, Effort: "low"},
				ResponseFormat: &llm.ResponseFormat{Type: llm.FormatJSONObject},
				MaxTokens:      ptr(20),
				Extensions:     llm.Extensions{"keep_alive": []byte("-1"), "options": []byte(`{"num_ctx":2048}`)}},
		},
		{
			name: "images without a prompt",
			body: `{"model":"llava","images":["` + jpegB64 + `"],"stream":false}`,
			want: llm.Request{Model: "llava", Origin: "ollama", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{image("image/jpeg", jpegB64)}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := gen.DecodeRequest([]byte(tt.body))
			if err != nil {
				t.Fatalf("DecodeRequest: %v", err)
			}
			if !reflect.DeepEqual(got, &tt.want) {
				t.Errorf("DecodeRequest:\ngot  %s\nwant %s", testkit.Dump(got), testkit.Dump(&tt.want))
			}
		})
	}
}

func TestGenerateDecodeRequestErrors(t *testing.T) {
	tests := []struct {
		name, body, param, msg string
	}{
		{"no model", `{"prompt":"x"}`, "model", "required"},
		{"no prompt: Ollama would load the model", `{"model":"m"}`, "prompt", "required"},
		{"suffix", `{"model":"m","prompt":"def f(","suffix":"return x"}`, "suffix", "fill-in-the-middle"},
		{"raw", `{"model":"m","prompt":"[INST] x [/INST]","raw":true}`, "raw", "raw prompts"},
		{"template", `{"model":"m","prompt":"x","template":"{{ .Prompt }}"}`, "template", "template"},
		{"context", `{"model":"m","prompt":"x","context":[1,2,3]}`, "context", "context"},
		{"context not numbers", `{"model":"m","prompt":"x","context":"abc"}`, "context", "expected an array"},
		{"bad image", `{"model":"m","prompt":"x","images":["%%%%"]}`, "images[0]", "base64"},
		{"think", `{"model":"m","prompt":"x","think":"ultra"}`, "think", "must be"},
		{"options", `{"model":"m","prompt":"x","options":{"seed":"s"}}`, "options.seed", "integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := gen.DecodeRequest([]byte(tt.body))
			e := asError(t, err)
			if e.Kind != llm.KindInvalidRequest || e.Param != tt.param || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("error = kind %q param %q message %q; want param %q message containing %q", e.Kind, e.Param, e.Message, tt.param, tt.msg)
			}
			if st, _ := gen.EncodeError(e); st != 400 {
				t.Errorf("status %d", st)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	if proto.ID() != "ollama" || gen.ID() != "ollama-generate" {
		t.Errorf("ids %q %q", proto.ID(), gen.ID())
	}
	want := []protocol.Route{
		{Method: "POST", Path: "/api/chat", Op: protocol.OpChat},
		{Method: "GET", Path: "/api/tags", Op: protocol.OpModels},
		{Method: "POST", Path: "/api/show", Op: protocol.OpShow},
		{Method: "GET", Path: "/api/version", Op: protocol.OpVersion},
	}
	if !reflect.DeepEqual(proto.Routes(), want) {
		t.Errorf("routes %+v", proto.Routes())
	}
	if got := gen.Routes(); len(got) != 1 || got[0] != (protocol.Route{Method: "POST", Path: "/api/generate", Op: protocol.OpChat}) {
		t.Errorf("generate routes %+v", got)
	}
	for _, p := range [][]string{proto.Prefixes(), gen.Prefixes()} {
		if strings.Join(p, " ") != "/ollama /ollama/{key}" {
			t.Errorf("prefixes %v", p)
		}
	}
}

func TestDecodeShowRequest(t *testing.T) {
	tests := []struct {
		body, model, param string
	}{
		{`{"model":"llama3.2","verbose":true}`, "llama3.2", ""},
		{`{"name":"old-client"}`, "old-client", ""},
		{`{"model":"new","name":"old"}`, "new", ""},
		{`{}`, "", "model"},
		{`{"model":5}`, "", "model"},
		{`nope`, "", ""},
	}
	for _, tt := range tests {
		got, err := proto.DecodeShowRequest([]byte(tt.body))
		if tt.model != "" {
			if err != nil || got != tt.model {
				t.Errorf("DecodeShowRequest(%s) = %q, %v", tt.body, got, err)
			}
			continue
		}
		if e := asError(t, err); e.Kind != llm.KindInvalidRequest || e.Param != tt.param {
			t.Errorf("DecodeShowRequest(%s) error %v (param %q)", tt.body, e, e.Param)
		}
	}
}

func TestDecodeModels(t *testing.T) {
	body := `{"models":[{"name":"llama3.2:latest","model":"llama3.2:latest","modified_at":"2025-05-04T17:37:44.706015396-07:00","size":2019393189,"digest":"sha256:a80c","details":{"parent_model":"","format":"gguf","family":"llama","families":["llama"],"parameter_size":"3.2B","quantization_level":"Q4_K_M"}},
		{"name":"old-only-name"},{"model":""}]}`
	got, err := proto.DecodeModels([]byte(body))
	want := []llm.Model{{ID: "llama3.2:latest", Created: 1746405464}, {ID: "old-only-name"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeModels = %+v, %v", got, err)
	}
	if _, err := proto.DecodeModels([]byte(`{"models":{}}`)); asError(t, err).Kind != llm.KindUpstream {
		t.Errorf("malformed list: %v", err)
	}
}

func TestEncodeErrorStatuses(t *testing.T) {
	for kind, status := range map[llm.ErrorKind]int{
		llm.KindInvalidRequest: 400, llm.KindAuth: 401, llm.KindPermission: 403, llm.KindNotFound: 404,
		llm.KindRateLimited: 429, llm.KindQuota: 429, llm.KindInternal: 500, llm.KindUpstream: 502,
		llm.KindOverloaded: 503, llm.KindTimeout: 504,
	} {
		st, body := proto.EncodeError(&llm.Error{Kind: kind, Message: "m"})
		if st != status || string(body) != `{"error":"m"}` {
			t.Errorf("%s: %d %s", kind, st, body)
		}
	}
	if _, body := proto.EncodeError(&llm.Error{Kind: llm.KindRateLimited}); string(body) != `{"error":"rate limited"}` {
		t.Errorf("no message: %s", body)
	}
	if st, _ := proto.EncodeError(&llm.Error{Kind: llm.KindInvalidRequest, Status: 405}); st != 405 {
		t.Errorf("explicit status %d", st)
	}
}

func TestDecodeError(t *testing.T) {
	tests := []struct {
		status int
		body   string
		kind   llm.ErrorKind
		code   string
		msg    string
	}{
		{400, `{"error":"invalid think value: \"x\""}`, llm.KindInvalidRequest, "", `invalid think value: "x"`},
		{400, `{"error":"prompt too long; exceeded max context length by 100 tokens"}`, llm.KindInvalidRequest, "context_length_exceeded", ""},
		{401, `{"error":"unauthorized","signin_url":"https://ollama.com/connect"}`, llm.KindAuth, "", "unauthorized"},
		{404, `{"error":"model \"x\" not found, try pulling it first"}`, llm.KindNotFound, "model_not_found", ""},
		{429, `{"error":"too many requests"}`, llm.KindRateLimited, "", ""},
		{500, `{"error":"llama runner process has terminated"}`, llm.KindUpstream, "", ""},
		{502, `<html>Bad Gateway</html>`, llm.KindUpstream, "", "the upstream answered HTTP 502"},
		{503, `{"error":"server busy, please try again.  maximum pending requests exceeded"}`, llm.KindOverloaded, "", ""},
		{504, ``, llm.KindTimeout, "", "the upstream answered HTTP 504"},
	}
	for _, tt := range tests {
		e := proto.DecodeError(tt.status, []byte(tt.body))
		if e.Kind != tt.kind || e.Code != tt.code || e.Status != tt.status || e.Origin != "ollama" || tt.msg != "" && e.Message != tt.msg {
			t.Errorf("DecodeError(%d, %s) = %#v", tt.status, tt.body, e)
		}
	}
}
