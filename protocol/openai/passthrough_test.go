package openai_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

func TestPeekRequest(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		want  protocol.Peek
		param string // for refused bodies; "" with msg set for whole-body errors
		msg   string // substring of the refusal message
	}{
		{name: "model only", body: `{"model":"gpt-4.1",` + user + `}`, want: protocol.Peek{Model: "gpt-4.1"}},
		{name: "stream", body: `{"model":"m","stream":true,` + user + `}`, want: protocol.Peek{Model: "m", Stream: true}},
		{name: "stream false", body: `{"model":"m","stream":false,` + user + `}`, want: protocol.Peek{Model: "m"}},
		{name: "stream null", body: `{"model":"m","stream":null,` + user + `}`, want: protocol.Peek{Model: "m"}},
		{name: "include usage", body: `{"stream":true,"stream_options":{"include_obfuscation":false,"include_usage":true},"model":"m",` + user + `}`,
			want: protocol.Peek{Model: "m", Stream: true, StreamUsage: true}},
		{name: "include usage false", body: `{"model":"m","stream":true,"stream_options":{"include_usage":false},` + user + `}`,
			want: protocol.Peek{Model: "m", Stream: true}},
		{name: "include usage null", body: `{"model":"m","stream_options":{"include_usage":null},` + user + `}`, want: protocol.Peek{Model: "m"}},
		{name: "stream options null", body: `{"model":"m","stream_options":null,` + user + `}`, want: protocol.Peek{Model: "m"}},
		{name: "white space and unknown fields", body: " {\n \"x\" : [1, {\"model\":\"inner\"}],\n \"model\" : \"m\\u002d1\" ,\n" + user + "\n} \n",
			want: protocol.Peek{Model: "m-1"}},
		{name: "escaped key", body: `{"mod\u0065l":"m",` + user + `}`, want: protocol.Peek{Model: "m"}},
		{name: "many members", body: `{` + strings.Repeat(`"a":1,`, 40) + `"model":"m",` + user + `}`, want: protocol.Peek{Model: "m"}},

		{name: "model number", body: `{"model":5,` + user + `}`, param: "model", msg: "expected a string, got number"},
		{name: "model null", body: `{"model":null,` + user + `}`, param: "model", msg: "expected a string"},
		{name: "model empty", body: `{"model":"",` + user + `}`, param: "model", msg: "provide a model"},
		{name: "model missing", body: `{` + user + `}`, param: "model", msg: "provide a model"},
		{name: "stream string", body: `{"model":"m","stream":"true",` + user + `}`, param: "stream", msg: "expected a boolean, got string"},
		{name: "stream number", body: `{"model":"m","stream":1,` + user + `}`, param: "stream", msg: "expected a boolean"},
		{name: "stream options array", body: `{"model":"m","stream_options":[],` + user + `}`, param: "stream_options", msg: "expected an object"},
		{name: "include usage string", body: `{"model":"m","stream_options":{"include_usage":"yes"},` + user + `}`,
			param: "stream_options.include_usage", msg: "expected a boolean"},
		{name: "duplicate model", body: `{"model":"cheap","messages":[{"role":"user","content":"x"}],"model":"expensive"}`,
			param: "model", msg: "more than once"},
		{name: "duplicate model escaped", body: `{"model":"cheap",` + user + `,"mod\u0065l":"expensive"}`, param: "model", msg: "more than once"},
		{name: "duplicate model all escaped", body: `{"\u006d\u006f\u0064\u0065\u006c":"a","\u006dodel":"b",` + user + `}`, param: "model", msg: "more than once"},
		{name: "duplicate stream", body: `{"model":"m","stream":false,"stream":true,` + user + `}`, param: "stream", msg: "more than once"},
		{name: "duplicate stream escaped", body: `{"model":"m","stream":false,"str\u0065am":true,` + user + `}`, param: "stream", msg: "more than once"},
		{name: "duplicate stream options", body: `{"model":"m","stream_options":{},"stream_options":{"include_usage":true},` + user + `}`,
			param: "stream_options", msg: "more than once"},
		{name: "messages missing", body: `{"model":"m"}`, param: "messages", msg: "at least one message"},
		{name: "messages empty", body: `{"model":"m","messages":[ ]}`, param: "messages", msg: "at least one message"},
		{name: "messages object", body: `{"model":"m","messages":{}}`, param: "messages", msg: "expected an array"},
		{name: "malformed", body: `{"model":"m",` + user, msg: "not valid JSON"},
		{name: "trailing garbage", body: `{"model":"m",` + user + `}x`, msg: "not valid JSON"},
		{name: "bad escape", body: `{"model":"m\q",` + user + `}`, msg: "not valid JSON"},
		{name: "empty", body: ``, msg: "not valid JSON"},
		{name: "array", body: `[{"model":"m"}]`, msg: "must be a JSON object"},
		{name: "string", body: `"model"`, msg: "must be a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := proto.PeekRequest([]byte(tt.body))
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("PeekRequest: %v", err)
				}
				if got.Scan == nil {
					t.Error("PeekRequest left no Scan for RewriteRequest")
				}
				got.Scan = nil
				if got != tt.want {
					t.Errorf("PeekRequest = %+v, want %+v", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("PeekRequest = %+v, want an error", got)
			}
			e := asError(t, err)
			if e.Kind != llm.KindInvalidRequest || e.HTTPStatus() != 400 {
				t.Errorf("kind %q status %d, want invalid_request 400", e.Kind, e.HTTPStatus())
			}
			if e.Param != tt.param {
				t.Errorf("Param = %q, want %q", e.Param, tt.param)
			}
			if !strings.Contains(e.Message, tt.param) || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message %q, want it to name %q and contain %q", e.Message, tt.param, tt.msg)
			}
		})
	}
}

// TestPeekAgreesWithDecode checks that the fast path reads the same model
// and stream flags as the full decoder on the request corpus.
func TestPeekAgreesWithDecode(t *testing.T) {
	for name, body := range requestCorpus(t) {
		req, err := proto.DecodeRequest(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p, err := proto.PeekRequest(body)
		if err != nil {
			t.Fatalf("%s: PeekRequest: %v", name, err)
		}
		p.Scan = nil
		if want := (protocol.Peek{Model: req.Model, Stream: req.Stream, StreamUsage: req.StreamUsage}); p != want {
			t.Errorf("%s: PeekRequest = %+v, DecodeRequest says %+v", name, p, want)
		}
	}
}

func TestRewriteRequest(t *testing.T) {
	tests := []struct {
		name string
		body string
		rw   protocol.Rewrite
		want string // exact bytes
		err  string // param of a refusal
	}{
		{
			name: "model replaced, every other byte kept",
			body: "{\n  \"zeta\": {\"nested\" : [1, 2.50, \"\\u00e9\"]},\n  \"model\":  \"alias\" ,\n  \"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\n  \"alpha\": null\n}\n",
			rw:   protocol.Rewrite{Model: "gpt-4.1-2025-04-14"},
			want: "{\n  \"zeta\": {\"nested\" : [1, 2.50, \"\\u00e9\"]},\n  \"model\":  \"gpt-4.1-2025-04-14\" ,\n  \"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\n  \"alpha\": null\n}\n",
		},
		{
			name: "model needing escapes",
			body: `{"model":"a",` + user + `}`,
			rw:   protocol.Rewrite{Model: "we\"ird\\model\n"},
			want: `{"model":"we\"ird\\model\n",` + user + `}`,
		},
		{
			name: "empty rewrite keeps the body",
			body: ` {"model" : "a", ` + user + ` } `,
			want: ` {"model" : "a", ` + user + ` } `,
		},
		{
			name: "stream gets include_usage",
			body: `{"model":"a","stream":true,` + user + `}`,
			rw:   protocol.Rewrite{Model: "b", StreamUsage: true},
			want: `{"model":"b","stream":true,` + user + `,"stream_options":{"include_usage":true}}`,
		},
		{
			name: "include_usage merged into stream_options",
			body: `{"model":"a","stream":true,"stream_options": {"include_obfuscation": false} ,` + user + `}`,
			rw:   protocol.Rewrite{StreamUsage: true},
			want: `{"model":"a","stream":true,"stream_options": {"include_obfuscation": false,"include_usage":true} ,` + user + `}`,
		},
		{
			name: "include_usage false turned true",
			body: `{"model":"a","stream":true,"stream_options":{"include_usage":false,"include_obfuscation":false},` + user + `}`,
			rw:   protocol.Rewrite{StreamUsage: true},
			want: `{"model":"a","stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false},` + user + `}`,
		},
		{
			name: "stream_options null replaced",
			body: `{"model":"a","stream":true,"stream_options":null,` + user + `}`,
			rw:   protocol.Rewrite{StreamUsage: true},
			want: `{"model":"a","stream":true,"stream_options":{"include_usage":true},` + user + `}`,
		},
		{
			name: "no include_usage without stream",
			body: `{"model":"a",` + user + `}`,
			rw:   protocol.Rewrite{StreamUsage: true},
			want: `{"model":"a",` + user + `}`,
		},
		{
			name: "no include_usage when stream is false",
			body: `{"model":"a","stream":false,` + user + `}`,
			rw:   protocol.Rewrite{StreamUsage: true},
			want: `{"model":"a","stream":false,` + user + `}`,
		},
		{
			name: "no include_usage unless asked",
			body: `{"model":"a","stream":true,` + user + `}`,
			rw:   protocol.Rewrite{Model: "b"},
			want: `{"model":"b","stream":true,` + user + `}`,
		},
		{
			name: "drop",
			body: `{"logit_bias":{"1":2}, "model":"a", "seed":1, ` + user + `, "user":"u"}`,
			rw:   protocol.Rewrite{Drop: []string{"seed", "logit_bias", "user", "absent"}},
			want: `{"model":"a",` + user + `}`,
		},
		{
			name: "dropped stream_options is not added back",
			body: `{"model":"a","stream":true,"stream_options":{"include_usage":true},` + user + `}`,
			rw:   protocol.Rewrite{StreamUsage: true, Drop: []string{"stream_options"}},
			want: `{"model":"a","stream":true,` + user + `}`,
		},
		{
			name: "rename",
			body: `{"model":"a","max_completion_tokens": 100,` + user + `}`,
			rw:   protocol.Rewrite{Rename: map[string]string{"max_completion_tokens": "max_tokens", "absent": "x"}},
			want: `{"model":"a","max_tokens": 100,` + user + `}`,
		},
		{
			name: "rename onto an existing field keeps the existing one",
			body: `{"model":"a","max_completion_tokens":100,"max_tokens":50,` + user + `}`,
			rw:   protocol.Rewrite{Rename: map[string]string{"max_completion_tokens": "max_tokens"}},
			want: `{"model":"a","max_tokens":50,` + user + `}`,
		},
		{
			name: "refused field set",
			body: `{"model":"a","logprobs":true,` + user + `}`,
			rw:   protocol.Rewrite{Refuse: []string{"n", "logprobs"}, Upstream: "acme"},
			err:  "logprobs",
		},
		{
			name: "refused field null passes",
			body: `{"model":"a","logprobs":null,` + user + `}`,
			rw:   protocol.Rewrite{Refuse: []string{"logprobs"}, Upstream: "acme"},
			want: `{"model":"a","logprobs":null,` + user + `}`,
		},
		{
			name: "refused field absent passes",
			body: `{"model":"a",` + user + `}`,
			rw:   protocol.Rewrite{Model: "b", Refuse: []string{"logprobs"}},
			want: `{"model":"b",` + user + `}`,
		},
		// The keys below are spelled with escapes. PeekRequest decodes them,
		// so the rewrite must find them too: otherwise the upstream gets a
		// second "model" member, or a stream without usage to bill from.
		{
			name: "escaped model key replaced in place",
			body: `{"mod\u0065l":"alias",` + user + `}`,
			rw:   protocol.Rewrite{Model: "real"},
			want: `{"mod\u0065l":"real",` + user + `}`,
		},
		{
			name: "escaped stream key gets include_usage",
			body: `{"model":"a","stre\u0061m":true,` + user + `}`,
			rw:   protocol.Rewrite{StreamUsage: true},
			want: `{"model":"a","stre\u0061m":true,` + user + `,"stream_options":{"include_usage":true}}`,
		},
		{
			name: "escaped stream_options key merged",
			body: `{"model":"a","stream":true,"stream_opti\u006fns":{"include_obfuscation":false},` + user + `}`,
			rw:   protocol.Rewrite{StreamUsage: true},
			want: `{"model":"a","stream":true,"stream_opti\u006fns":{"include_obfuscation":false,"include_usage":true},` + user + `}`,
		},
		{
			name: "escaped refused field",
			body: `{"model":"a","logpr\u006fbs":true,` + user + `}`,
			rw:   protocol.Rewrite{Refuse: []string{"logprobs"}},
			err:  "logprobs",
		},
		{
			name: "refused field repeated",
			body: `{"model":"a","logprobs":null,"logprobs":true,` + user + `}`,
			rw:   protocol.Rewrite{Refuse: []string{"logprobs"}},
			err:  "logprobs",
		},
		{
			name: "escaped dropped field",
			body: `{"model":"a","s\u0065ed":1,` + user + `}`,
			rw:   protocol.Rewrite{Drop: []string{"seed"}},
			want: `{"model":"a",` + user + `}`,
		},
		{
			// rawjson decides which value edits to add as new members by
			// tracking only the first 16 edits.
			name: "many drops and a model",
			body: `{"d1":1,"d2":2,"d3":3,"d4":4,"d5":5,"d6":6,"d7":7,"d8":8,"d9":9,"d10":10,"d11":11,"d12":12,"d13":13,"d14":14,"d15":15,"d16":16,"d17":17,"d18":18,"model":"a","stream":true,` + user + `}`,
			rw: protocol.Rewrite{Model: "b", StreamUsage: true, Drop: []string{"d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8",
				"d9", "d10", "d11", "d12", "d13", "d14", "d15", "d16", "d17", "d18"}},
			want: `{"model":"b","stream":true,` + user + `,"stream_options":{"include_usage":true}}`,
		},
		{
			name: "malformed",
			body: `{"model":"a",`,
			rw:   protocol.Rewrite{Model: "b"},
			err:  "-",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("PREFIX")
			out, err := proto.RewriteRequest(prefix, []byte(tt.body), tt.rw)
			if tt.err != "" {
				if err == nil {
					t.Fatalf("RewriteRequest = %s, want an error", out)
				}
				e := asError(t, err)
				if e.Kind != llm.KindInvalidRequest {
					t.Errorf("kind = %q", e.Kind)
				}
				if tt.err != "-" && (e.Param != tt.err || !strings.Contains(e.Message, tt.err)) {
					t.Errorf("error %v, want one naming %q", e, tt.err)
				}
				if tt.rw.Upstream != "" && !strings.Contains(e.Message, tt.rw.Upstream) {
					t.Errorf("message %q does not name the upstream %q", e.Message, tt.rw.Upstream)
				}
				return
			}
			if err != nil {
				t.Fatalf("RewriteRequest: %v", err)
			}
			got, ok := bytes.CutPrefix(out, prefix)
			if !ok {
				t.Fatalf("RewriteRequest did not append to dst: %s", out)
			}
			if string(got) != tt.want {
				t.Errorf("RewriteRequest:\ngot  %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("result is not valid JSON: %s", got)
			}
			// What the upstream sees must agree with the rewrite.
			p, err := proto.PeekRequest(got)
			if err != nil {
				t.Fatalf("PeekRequest(result): %v", err)
			}
			if tt.rw.Model != "" && p.Model != tt.rw.Model {
				t.Errorf("upstream model = %q, want %q", p.Model, tt.rw.Model)
			}
			if tt.rw.StreamUsage && p.Stream && !p.StreamUsage && !strings.Contains(tt.name, "dropped") {
				t.Errorf("upstream stream does not ask for usage: %s", got)
			}
		})
	}
}

// TestRewriteKeepsCorpus rewrites the model of every request body in the
// corpus and checks that nothing else changed: the result decodes to the same
// canonical request apart from the model.
func TestRewriteKeepsCorpus(t *testing.T) {
	for name, body := range requestCorpus(t) {
		out, err := proto.RewriteRequest(nil, body, protocol.Rewrite{Model: "upstream-model"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		before, err := proto.DecodeRequest(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		after, err := proto.DecodeRequest(out)
		if err != nil {
			t.Fatalf("%s: rewritten body: %v\n%s", name, err, out)
		}
		before.Model = "upstream-model"
		if testkit.Dump(before) != testkit.Dump(after) {
			t.Errorf("%s: rewrite changed more than the model:\n%s", name, out)
		}
		if i := bytes.Index(body, []byte(`"model"`)); i < 0 || !bytes.Equal(body[:i], out[:i]) {
			t.Errorf("%s: bytes before the model changed", name)
		}
	}
}

func TestTapResponse(t *testing.T) {
	tests := []struct {
		name string
		body string
		want llm.Usage
		ok   bool
	}{
		{"no usage", `{"id":"x","choices":[]}`, llm.Usage{}, false},
		{"usage null", `{"id":"x","usage":null}`, llm.Usage{}, false},
		{"not JSON", `{"id":`, llm.Usage{}, false},
		{"usage wrong type", `{"usage":{"prompt_tokens":"many"}}`, llm.Usage{}, false},
		{"usage after choices", `{"choices":[{"message":{"content":"\"usage\":{\"prompt_tokens\":99}"}}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}`,
			llm.Usage{InputTokens: 3, OutputTokens: 4}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := proto.TapResponse([]byte(tt.body))
			if got != tt.want || ok != tt.ok {
				t.Errorf("TapResponse = %+v, %v, want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
	for _, file := range chatFixtures(t, false, false) {
		if _, ok := proto.TapResponse(testkit.ReadFile(t, file)); ok {
			t.Errorf("%s: TapResponse found usage in an error body", file)
		}
	}
}

// TestRewriteReusesScan: with PeekRequest's Scan, RewriteRequest gives the
// same bytes as with its own pass, and a Scan of another body is ignored.
func TestRewriteReusesScan(t *testing.T) {
	rw := protocol.Rewrite{Model: "up", StreamUsage: true, Drop: []string{"user"},
		Rename: map[string]string{"max_completion_tokens": "max_tokens"}}
	other, err := proto.PeekRequest([]byte(`{"model":"x","messages":[{"role":"user","content":"a"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range requestCorpus(t) {
		p, err := proto.PeekRequest(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, err := proto.RewriteRequest(nil, body, rw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, sc := range []any{p.Scan, other.Scan} {
			r := rw
			r.Scan = sc
			got, err := proto.RewriteRequest(nil, body, r)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: with a scan: %s (%v), want %s", name, got, err, want)
			}
		}
		// A copy of the body at another address is not the scanned body.
		r := rw
		r.Scan = p.Scan
		if got, err := proto.RewriteRequest(nil, bytes.Clone(body), r); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: copy: %s (%v)", name, got, err)
		}
	}
}
