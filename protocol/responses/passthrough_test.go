package responses_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

const in = `"input":"Hi"`

func TestPeekRequest(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		want  protocol.Peek
		param string // for refused bodies; "" with msg set for whole-body errors
		msg   string
	}{
		{name: "model only", body: `{"model":"gpt-4.1",` + in + `}`, want: protocol.Peek{Model: "gpt-4.1"}},
		{name: "stream", body: `{"model":"m","stream":true,` + in + `}`, want: protocol.Peek{Model: "m", Stream: true, StreamUsage: true}},
		{name: "stream false", body: `{"model":"m","stream":false,` + in + `}`, want: protocol.Peek{Model: "m"}},
		{name: "stream null", body: `{"model":"m","stream":null,` + in + `}`, want: protocol.Peek{Model: "m"}},
		{name: "background false", body: `{"model":"m","background":false,` + in + `}`, want: protocol.Peek{Model: "m"}},
		{name: "state is the upstream's", body: `{"model":"m","previous_response_id":"resp_1","conversation":"c",` + in + `}`, want: protocol.Peek{Model: "m"}},
		{name: "no input", body: `{"model":"m","prompt":{"id":"pmpt_1"}}`, want: protocol.Peek{Model: "m"}},
		{name: "white space and unknown fields", body: " {\n \"x\" : [1, {\"model\":\"inner\"}],\n \"model\" : \"m\\u002d1\" ,\n" + in + "\n} \n",
			want: protocol.Peek{Model: "m-1"}},
		{name: "escaped key", body: `{"mod\u0065l":"m",` + in + `}`, want: protocol.Peek{Model: "m"}},
		{name: "many members", body: `{` + strings.Repeat(`"a":1,`, 40) + `"model":"m",` + in + `}`, want: protocol.Peek{Model: "m"}},

		{name: "model number", body: `{"model":5,` + in + `}`, param: "model", msg: "expected a string, got number"},
		{name: "model null", body: `{"model":null,` + in + `}`, param: "model", msg: "expected a string"},
		{name: "model empty", body: `{"model":"",` + in + `}`, param: "model", msg: "provide a model"},
		{name: "model missing", body: `{` + in + `}`, param: "model", msg: "provide a model"},
		{name: "stream string", body: `{"model":"m","stream":"true",` + in + `}`, param: "stream", msg: "expected a boolean, got string"},
		{name: "background", body: `{"model":"m","background":true,` + in + `}`, param: "background", msg: "not supported"},
		{name: "background string", body: `{"model":"m","background":"no",` + in + `}`, param: "background", msg: "expected a boolean"},
		{name: "duplicate model", body: `{"model":"cheap",` + in + `,"model":"expensive"}`, param: "model", msg: "more than once"},
		{name: "duplicate model escaped", body: `{"model":"cheap",` + in + `,"mod\u0065l":"expensive"}`, param: "model", msg: "more than once"},
		{name: "duplicate model all escaped", body: `{"\u006d\u006f\u0064\u0065\u006c":"a","\u006dodel":"b",` + in + `}`, param: "model", msg: "more than once"},
		{name: "duplicate stream", body: `{"model":"m","stream":false,"str\u0065am":true,` + in + `}`, param: "stream", msg: "more than once"},
		{name: "duplicate background", body: `{"model":"m","background":false,"background":true,` + in + `}`, param: "background", msg: "more than once"},
		{name: "malformed", body: `{"model":"m",` + in, msg: "not valid JSON"},
		{name: "trailing garbage", body: `{"model":"m",` + in + `}x`, msg: "not valid JSON"},
		{name: "empty", body: ``, msg: "not valid JSON"},
		{name: "array", body: `[{"model":"m"}]`, msg: "must be a JSON object"},
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
// and stream flag as the full decoder on the request corpus.
func TestPeekAgreesWithDecode(t *testing.T) {
	bodies := requestCorpus(t)
	for _, tt := range decodeRequestTests {
		bodies["table/"+tt.name] = []byte(tt.body)
	}
	for name, body := range bodies {
		req, err := proto.DecodeRequest(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p, err := proto.PeekRequest(body)
		if err != nil {
			t.Fatalf("%s: PeekRequest: %v", name, err)
		}
		if p.Model != req.Model || p.Stream != req.Stream {
			t.Errorf("%s: PeekRequest = %+v, DecodeRequest = %q %v", name, p, req.Model, req.Stream)
		}
	}
}

func TestRewriteRequest(t *testing.T) {
	tests := []struct {
		name string
		body string
		rw   protocol.Rewrite
		want string // "" for a refusal
	}{
		{"model", `{"model":"alias","input":"x","stream":true}`, protocol.Rewrite{Model: "gpt-4.1", StreamUsage: true},
			`{"model":"gpt-4.1","input":"x","stream":true}`},
		{"keep model", `{"model":"m","input":"x"}`, protocol.Rewrite{}, `{"model":"m","input":"x"}`},
		{"escaped model key", `{"mod\u0065l":"alias","input":"x"}`, protocol.Rewrite{Model: "real"}, `{"mod\u0065l":"real","input":"x"}`},
		{"quote in model", `{"model":"a","input":"x"}`, protocol.Rewrite{Model: "b\"c"}, `{"model":"b\"c","input":"x"}`},
		{"drop", `{"model":"m","service_tier":"flex","input":"x","truncation":"auto"}`,
			protocol.Rewrite{Drop: []string{"service_tier", "truncation"}}, `{"model":"m","input":"x"}`},
		{"rename", `{"model":"m","user":"u","input":"x"}`, protocol.Rewrite{Rename: map[string]string{"user": "safety_identifier"}},
			`{"model":"m","safety_identifier":"u","input":"x"}`},
		{"rename onto existing", `{"model":"m","user":"u","safety_identifier":"s"}`, protocol.Rewrite{Rename: map[string]string{"user": "safety_identifier"}},
			`{"model":"m","safety_identifier":"s"}`},
		{"refuse null is fine", `{"model":"m","prompt":null}`, protocol.Rewrite{Refuse: []string{"prompt"}}, `{"model":"m","prompt":null}`},
		{"refuse", `{"model":"m","prompt":{"id":"p"}}`, protocol.Rewrite{Refuse: []string{"prompt"}, Upstream: "azure"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := proto.RewriteRequest(nil, []byte(tt.body), tt.rw)
			if tt.want == "" {
				e := asError(t, err)
				if e.Kind != llm.KindInvalidRequest || !strings.Contains(e.Message, "not supported by the upstream azure") {
					t.Errorf("refusal %v", e)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("RewriteRequest = %s\nwant %s", out, tt.want)
			}
		})
	}
}

// TestRewriteKeepsBytes: every byte the rewrite does not touch survives,
// including the codex request's unknown members and layout, and the scan
// of PeekRequest gives the same result.
func TestRewriteKeepsBytes(t *testing.T) {
	body := testkit.ReadFile(t, "testdata/requests/codex.json")
	p, err := proto.PeekRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	rw := protocol.Rewrite{Model: "gpt-5-codex-upstream"}
	plain, err := proto.RewriteRequest(nil, body, rw)
	if err != nil {
		t.Fatal(err)
	}
	rw.Scan = p.Scan
	reused, err := proto.RewriteRequest(nil, body, rw)
	if err != nil || !bytes.Equal(plain, reused) {
		t.Fatalf("with the scan: %v\n%s\nwithout:\n%s", err, reused, plain)
	}
	want := bytes.Replace(body, []byte(`"gpt-5.1-codex"`), []byte(`"gpt-5-codex-upstream"`), 1)
	if !bytes.Equal(plain, want) {
		t.Errorf("rewrite changed more than the model:\n%s", plain)
	}
	// A scan of another body is not used.
	rw.Scan = p.Scan
	other := []byte(`{"model":"x","input":"y"}`)
	out, err := proto.RewriteRequest(nil, other, rw)
	if err != nil || string(out) != `{"model":"gpt-5-codex-upstream","input":"y"}` {
		t.Errorf("with another body's scan: %s %v", out, err)
	}
}

func TestTapResponse(t *testing.T) {
	tests := []struct {
		body string
		want llm.Usage
		ok   bool
	}{
		{`{"usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":4,"cache_write_tokens":2},"output_tokens":5,"output_tokens_details":{"reasoning_tokens":3},"total_tokens":15}}`,
			llm.Usage{InputTokens: 10, CachedTokens: 4, CacheWriteTokens: 2, OutputTokens: 5, ReasoningTokens: 3}, true},
		{`{"usage":{"input_tokens":10,"total_tokens":25}}`, llm.Usage{InputTokens: 10, OutputTokens: 15}, true},
		{`{"usage":null}`, llm.Usage{}, false},
		{`{"id":"x"}`, llm.Usage{}, false},
		{`{"usage":{"input_tokens":"many"}}`, llm.Usage{}, false},
		{`not json`, llm.Usage{}, false},
	}
	for _, tt := range tests {
		got, ok := proto.TapResponse([]byte(tt.body))
		if got != tt.want || ok != tt.ok {
			t.Errorf("TapResponse(%s) = %+v %v, want %+v %v", tt.body, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRoutes(t *testing.T) {
	var r protocol.Routed = proto
	if got := testkit.Dump(r.Routes()); !strings.Contains(got, `"/v1/responses"`) || !strings.Contains(got, `"chat"`) {
		t.Errorf("Routes = %s", got)
	}
	if got := r.Prefixes(); len(got) != 1 || got[0] != "/openai" {
		t.Errorf("Prefixes = %v", got)
	}
	if got := proto.Endpoint("m", true); got != "/responses" {
		t.Errorf("Endpoint = %q", got)
	}
	if proto.ID() != "responses" {
		t.Errorf("ID = %q", proto.ID())
	}
}
