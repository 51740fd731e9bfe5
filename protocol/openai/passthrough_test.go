package openai_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

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
			want: `{"model":"a", ` + user + `}`,
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
		if dump(before) != dump(after) {
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
		if _, ok := proto.TapResponse(readFile(t, file)); ok {
			t.Errorf("%s: TapResponse found usage in an error body", file)
		}
	}
}

// sseEvents splits an LF- or CRLF-framed SSE body into its events, each with
// its terminating blank line.
func sseEvents(body string) []string {
	sep := "\n\n"
	if strings.Contains(body, "\r\n") {
		sep = "\r\n\r\n"
	}
	var evs []string
	for _, ev := range strings.SplitAfter(body, sep) {
		if ev != "" {
			evs = append(evs, ev)
		}
	}
	return evs
}

// isUsageChunk reports whether an SSE event is the extra chunk an upstream
// sends for stream_options.include_usage: no choices, and usage.
func isUsageChunk(ev string) bool {
	data, ok := strings.CutPrefix(strings.TrimSpace(ev), "data:")
	if !ok {
		return false
	}
	var c struct {
		Choices *[]json.RawMessage `json:"choices"`
		Usage   json.RawMessage   `json:"usage"`
	}
	if json.Unmarshal([]byte(data), &c) != nil {
		return false
	}
	return c.Choices != nil && len(*c.Choices) == 0 && len(c.Usage) > 0 && string(c.Usage) != "null"
}

func TestRelay(t *testing.T) {
	type relayCase struct {
		body      string
		usage     *llm.Usage // nil: no usage reported
		errKind   llm.ErrorKind
		errCode   string
		forwarded string // "" means: every event but the hidden usage chunk
	}
	cases := map[string]relayCase{}
	for name, body := range streamInputs(t) {
		c := relayCase{body: string(body)}
		if evs, err := decodeStream(t, body); err == nil {
			// The decoder and the relay must agree on the usage.
			for _, ev := range evs {
				if ev.Type == llm.EventUsage {
					c.usage = ev.Usage
				}
			}
		}
		cases[name] = c
	}
	// Hand-checked expectations for the crafted compatible-server streams.
	cases["moonshot-usage"] = relayCase{body: cases["moonshot-usage"].body, usage: &llm.Usage{InputTokens: 11, OutputTokens: 2}}
	cases["groq-usage"] = relayCase{body: cases["groq-usage"].body, usage: &llm.Usage{InputTokens: 15, OutputTokens: 3}}
	cases["python-spacing"] = relayCase{body: cases["python-spacing"].body, usage: &llm.Usage{InputTokens: 5, OutputTokens: 1}}
	cases["parallel-tools"] = relayCase{body: cases["parallel-tools"].body,
		usage: &llm.Usage{InputTokens: 80, OutputTokens: 40, CachedTokens: 64}}
	cases["deepseek-reasoning"] = relayCase{body: cases["deepseek-reasoning"].body,
		usage: &llm.Usage{InputTokens: 20, OutputTokens: 50, CachedTokens: 16, ReasoningTokens: 42}}
	cases["no-index-tools"] = relayCase{body: cases["no-index-tools"].body}
	mid := cases["midstream-error"].body
	cases["midstream-error"] = relayCase{body: mid, errKind: llm.KindRateLimited, errCode: "rate_limit_exceeded",
		forwarded: strings.Join(sseEvents(mid)[:2], "")}
	cases["cut-off"] = relayCase{body: cases["cut-off"].body, errKind: llm.KindUpstream}
	// Variants of the recorded text stream.
	text := cases["chat-text-after-tool.stream"]
	cases["crlf"] = relayCase{body: strings.ReplaceAll(text.body, "\n", "\r\n"), usage: text.usage}
	cases["comments and no [DONE]"] = relayCase{
		body:      ": keep-alive\n\n" + strings.TrimSuffix(text.body, "data: [DONE]\n\n"),
		usage:     text.usage,
		forwarded: strings.TrimSuffix(text.body, "data: [DONE]\n\n"),
	}
	chunks := sseEvents(text.body)
	cases["cut before finish_reason"] = relayCase{body: strings.Join(chunks[:5], ""), errKind: llm.KindUpstream}
	cases["server error chunk"] = relayCase{
		body:      chunks[0] + `data: {"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}` + "\n\n",
		errKind:   llm.KindUpstream,
		forwarded: chunks[0],
	}
	cases["quota error chunk"] = relayCase{
		body:      `data: {"error":{"message":"quota","type":"insufficient_quota","code":"insufficient_quota"}}` + "\n\n",
		errKind:   llm.KindQuota,
		errCode:   "insufficient_quota",
		forwarded: "-",
	}
	cases["usage with choices kept"] = relayCase{
		body: chunks[0] + `data: {"id":"x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":8,"total_tokens":15}}` +
			"\n\ndata: [DONE]\n\n",
		usage: &llm.Usage{InputTokens: 7, OutputTokens: 8},
	}

	for name, tc := range cases {
		for _, clientUsage := range []bool{false, true} {
			t.Run(name+"/client_usage="+map[bool]string{false: "false", true: "true"}[clientUsage], func(t *testing.T) {
				relay := proto.NewRelay(protocol.Peek{Model: "m", Stream: true, StreamUsage: clientUsage})
				var dst bytes.Buffer
				var writes, flushes int
				w := writerFunc(func(b []byte) (int, error) { writes++; return dst.Write(b) })
				err := relay.Copy(w, func() error { flushes++; return nil }, iotest.HalfReader(strings.NewReader(tc.body)))

				if tc.errKind == "" {
					if err != nil {
						t.Fatalf("Copy: %v", err)
					}
				} else {
					e := asError(t, err)
					if e.Kind != tc.errKind || e.Code != tc.errCode {
						t.Errorf("Copy error kind %q code %q, want %q %q (%v)", e.Kind, e.Code, tc.errKind, tc.errCode, e)
					}
				}

				want := tc.forwarded
				switch want {
				case "":
					for _, ev := range sseEvents(tc.body) {
						if !clientUsage && isUsageChunk(ev) {
							continue
						}
						want += ev
					}
				case "-":
					want = ""
				}
				if dst.String() != want {
					t.Errorf("forwarded:\n%q\nwant:\n%q", dst.String(), want)
				}
				if flushes != writes {
					t.Errorf("%d writes but %d flushes", writes, flushes)
				}

				u, ok := relay.Usage()
				switch {
				case tc.usage == nil && ok:
					t.Errorf("Usage() = %+v, want none", u)
				case tc.usage != nil && (!ok || u != *tc.usage):
					t.Errorf("Usage() = %+v, %v, want %+v", u, ok, *tc.usage)
				}
			})
		}
	}
}

// TestRelayHidesOnlyGatewayUsage: the usage chunk the gateway asked for is
// hidden from a client that did not ask, and it is the only chunk hidden.
func TestRelayHidesOnlyGatewayUsage(t *testing.T) {
	body := readFile(t, fixtureDir+"/chat-tool.stream.body.sse")
	relay := proto.NewRelay(protocol.Peek{Model: "m", Stream: true})
	var dst bytes.Buffer
	if err := relay.Copy(&dst, func() error { return nil }, bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(dst.Bytes(), []byte(`"usage":{`)) {
		t.Error("the usage chunk reached a client that did not ask for it")
	}
	if got, want := len(body)-dst.Len(), len(sseEvents(string(body))[7]); got != want {
		t.Errorf("%d bytes hidden, want %d (the usage chunk)", got, want)
	}
	if !bytes.HasSuffix(dst.Bytes(), []byte("data: [DONE]\n\n")) {
		t.Error("[DONE] was not forwarded")
	}
	if u, ok := relay.Usage(); !ok || u != (llm.Usage{InputTokens: 53, OutputTokens: 15}) {
		t.Errorf("Usage() = %+v, %v", u, ok)
	}
}

func TestRelayWriteErrors(t *testing.T) {
	body := readFile(t, fixtureDir+"/chat-tool.stream.body.sse")
	errWrite := errors.New("client gone")
	relay := proto.NewRelay(protocol.Peek{Model: "m", Stream: true})
	err := relay.Copy(writerFunc(func([]byte) (int, error) { return 0, errWrite }), func() error { return nil }, bytes.NewReader(body))
	if !errors.Is(err, errWrite) {
		t.Errorf("write error: Copy = %v, want %v", err, errWrite)
	}
	relay = proto.NewRelay(protocol.Peek{Model: "m", Stream: true})
	err = relay.Copy(io.Discard, func() error { return errWrite }, bytes.NewReader(body))
	if !errors.Is(err, errWrite) {
		t.Errorf("flush error: Copy = %v, want %v", err, errWrite)
	}
	relay = proto.NewRelay(protocol.Peek{Model: "m", Stream: true})
	err = relay.Copy(io.Discard, func() error { return nil }, iotest.ErrReader(errWrite))
	if e := asError(t, err); e.Kind != llm.KindUpstream || !errors.Is(err, errWrite) {
		t.Errorf("read error: Copy = %v, want an upstream error wrapping %v", err, errWrite)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
