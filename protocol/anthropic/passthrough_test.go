package anthropic_test

import (
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
		{name: "model only", body: `{"model":"claude-sonnet-4-5","max_tokens":5,` + user + `}`, want: protocol.Peek{Model: "claude-sonnet-4-5"}},
		{name: "stream", body: `{"model":"m","stream":true,` + user + `}`, want: protocol.Peek{Model: "m", Stream: true}},
		{name: "stream null", body: `{"model":"m","stream":null,` + user + `}`, want: protocol.Peek{Model: "m"}},
		{name: "escaped key and value", body: " {\n \"mod\\u0065l\" : \"m\\u002d1\",\n" + user + "\n} ", want: protocol.Peek{Model: "m-1"}},
		{name: "count body without max_tokens", body: `{"model":"m","system":"s",` + user + `}`, want: protocol.Peek{Model: "m"}},

		{name: "model number", body: `{"model":5,` + user + `}`, param: "model", msg: "expected a string, got number"},
		{name: "model missing", body: `{` + user + `}`, param: "model", msg: "Field required"},
		{name: "model empty", body: `{"model":"",` + user + `}`, param: "model", msg: "Field required"},
		{name: "stream string", body: `{"model":"m","stream":"yes",` + user + `}`, param: "stream", msg: "expected a boolean"},
		{name: "duplicate model", body: `{"model":"cheap",` + user + `,"model":"expensive"}`, param: "model", msg: "more than once"},
		{name: "duplicate model escaped", body: `{"model":"cheap",` + user + `,"\u006dodel":"expensive"}`, param: "model", msg: "more than once"},
		{name: "duplicate stream escaped", body: `{"model":"m","stream":false,"str\u0065am":true,` + user + `}`, param: "stream", msg: "more than once"},
		{name: "messages missing", body: `{"model":"m"}`, param: "messages", msg: "at least one message"},
		{name: "messages empty", body: `{"model":"m","messages":[]}`, param: "messages", msg: "at least one message"},
		{name: "messages object", body: `{"model":"m","messages":{}}`, param: "messages", msg: "expected an array"},
		{name: "malformed", body: `{"model":"m",` + user, msg: "not valid JSON"},
		{name: "trailing garbage", body: `{"model":"m",` + user + `}x`, msg: "not valid JSON"},
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
			if e.Kind != llm.KindInvalidRequest || e.Param != tt.param || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("refusal kind %q param %q message %q, want param %q and %q", e.Kind, e.Param, e.Message, tt.param, tt.msg)
			}
		})
	}
}

// TestPeekAgreesWithDecode checks that the fast path reads the same model
// and stream flag as the full decoder on the request corpus.
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
		if p.Model != req.Model || p.Stream != req.Stream {
			t.Errorf("%s: PeekRequest = %+v, DecodeRequest says %q %v", name, p, req.Model, req.Stream)
		}
	}
}

func TestRewriteRequest(t *testing.T) {
	tests := []struct {
		name, body string
		rw         protocol.Rewrite
		want       string // exact bytes
		param      string // of a refusal
	}{
		{name: "model replaced, all else kept",
			body: `{ "model" : "alias", "max_tokens":5,"system":[{"type":"text","text":"x","cache_control":{"type":"ephemeral"}}]}`,
			rw:   protocol.Rewrite{Model: "claude-sonnet-4-5"},
			want: `{ "model" : "claude-sonnet-4-5", "max_tokens":5,"system":[{"type":"text","text":"x","cache_control":{"type":"ephemeral"}}]}`},
		{name: "no model keeps the body", body: `{"model":"a","x":1}`, rw: protocol.Rewrite{}, want: `{"model":"a","x":1}`},
		{name: "escaped model key", body: `{"mod\u0065l":"a","x":1}`, rw: protocol.Rewrite{Model: "b"}, want: `{"mod\u0065l":"b","x":1}`},
		{name: "drop and rename", body: `{"model":"a","context_management":{},"top_k":5,"service_tier":"auto"}`,
			rw:   protocol.Rewrite{Model: "b", Drop: []string{"context_management", "service_tier"}, Rename: map[string]string{"top_k": "topK"}},
			want: `{"model":"b","topK":5}`},
		{name: "rename onto an existing member drops", body: `{"model":"a","x":1,"y":2}`,
			rw: protocol.Rewrite{Rename: map[string]string{"x": "y"}}, want: `{"model":"a","y":2}`},
		{name: "stream usage needs nothing", body: `{"model":"a","stream":true}`, rw: protocol.Rewrite{StreamUsage: true},
			want: `{"model":"a","stream":true}`},
		{name: "refused field", body: `{"model":"a","mcp_servers":[{}]}`, rw: protocol.Rewrite{Refuse: []string{"mcp_servers"}, Upstream: "vertex"},
			param: "mcp_servers"},
		{name: "refused field null passes", body: `{"model":"a","mcp_servers":null}`, rw: protocol.Rewrite{Refuse: []string{"mcp_servers"}},
			want: `{"model":"a","mcp_servers":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := proto.RewriteRequest([]byte("prefix:"), []byte(tt.body), tt.rw)
			if tt.param != "" {
				if e := asError(t, err); e.Param != tt.param || !strings.Contains(e.Message, tt.rw.Upstream) {
					t.Errorf("refusal %v, want one naming %s and %s", err, tt.param, tt.rw.Upstream)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "prefix:"+tt.want {
				t.Errorf("got  %s\nwant prefix:%s", got, tt.want)
			}
		})
	}
}

// TestRewriteKeepsCorpus: rewriting only the model of a real request keeps
// every other byte, and the result decodes to the same request with the new
// model.
func TestRewriteKeepsCorpus(t *testing.T) {
	for name, body := range requestCorpus(t) {
		p, err := proto.PeekRequest(body)
		if err != nil {
			t.Fatal(err)
		}
		out, err := proto.RewriteRequest(nil, body, protocol.Rewrite{Model: "upstream", Scan: p.Scan})
		if err != nil {
			t.Fatal(err)
		}
		before, _ := proto.DecodeRequest(body)
		after, err := proto.DecodeRequest(out)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		before.Model = "upstream"
		if testkit.Dump(before) != testkit.Dump(after) {
			t.Errorf("%s: the rewrite changed more than the model", name)
		}
		if d := len(out) - len(body); d != len("upstream")-len(p.Model) {
			t.Errorf("%s: length changed by %d", name, d)
		}
	}
}

// TestRewriteReusesScan: the scan of one body is used for that body only,
// not for another body of the same length laid out differently.
func TestRewriteReusesScan(t *testing.T) {
	body := []byte(`{"model":"a","x":12,` + user + `}`)
	other := []byte(`{"x":1,"model":"a2",` + user + `}`)
	if len(body) != len(other) {
		t.Fatal("the bodies must have one length")
	}
	p, err := proto.PeekRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := proto.RewriteRequest(nil, other, protocol.Rewrite{Model: "m", Scan: p.Scan})
	if want := `{"x":1,"model":"m",` + user + `}`; err != nil || string(got) != want {
		t.Errorf("RewriteRequest(other body, scan) = %s, %v; want %s", got, err, want)
	}
	got, err = proto.RewriteRequest(nil, body, protocol.Rewrite{Model: "m", Scan: p.Scan})
	if want := `{"model":"m","x":12,` + user + `}`; err != nil || string(got) != want {
		t.Errorf("RewriteRequest(body, scan) = %s, %v; want %s", got, err, want)
	}
}

func TestTapResponse(t *testing.T) {
	for _, file := range fixtures(t, false, true) {
		body := testkit.ReadFile(t, file)
		resp, err := proto.DecodeResponse(body)
		if err != nil {
			t.Fatal(err)
		}
		u, ok := proto.TapResponse(body)
		if !ok || u != resp.Usage {
			t.Errorf("%s: TapResponse = %+v %v, want %+v", file, u, ok, resp.Usage)
		}
	}
	u, ok := proto.TapResponse([]byte(`{"usage":{"input_tokens":1,"cache_read_input_tokens":10,"cache_creation_input_tokens":5,"output_tokens":2}}`))
	if want := (llm.Usage{InputTokens: 16, OutputTokens: 2, CachedTokens: 10, CacheWriteTokens: 5}); !ok || u != want {
		t.Errorf("TapResponse = %+v %v, want %+v", u, ok, want)
	}
	for _, bad := range []string{`{}`, `{"usage":null}`, `{"usage":{"input_tokens":"x"}}`, `not json`} {
		if u, ok := proto.TapResponse([]byte(bad)); ok {
			t.Errorf("TapResponse(%s) = %+v, true", bad, u)
		}
	}
}
