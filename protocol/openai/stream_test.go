package openai_test

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// chunkOf builds one SSE event of a chunk with the given choices JSON.
func chunkOf(choices string) string {
	return `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":` + choices + "}\n\n"
}

const done = "data: [DONE]\n\n"

func TestStreamDecoder(t *testing.T) {
	start := `start id="c" model="m" created=1`
	tests := []struct {
		name string
		body string
		want []string // formatted events, then how the stream ended
	}{
		{
			name: "comments, keep-alives and non-JSON data skipped",
			body: ": ping\n\n" + chunkOf(`[{"index":0,"delta":{"content":"a"},"finish_reason":null}]`) +
				"data: \n\nevent: ping\ndata: keep-alive\n\n" + chunkOf(`[{"index":0,"delta":{},"finish_reason":"stop"}]`) + "data:  [DONE] \n\n",
			want: []string{start, `text choice=0 "a"`, `finish choice=0 reason=stop`, "eof"},
		},
		{
			name: "nothing after [DONE] is read",
			body: chunkOf(`[{"index":0,"delta":{"content":"a"},"finish_reason":"stop"}]`) + done + "data: {not json\n\n",
			want: []string{start, `text choice=0 "a"`, `finish choice=0 reason=stop`, "eof"},
		},
		{
			name: "two choices",
			body: chunkOf(`[{"index":1,"delta":{"content":"b"},"finish_reason":null},{"index":0,"delta":{"content":"a"},"finish_reason":null}]`) +
				chunkOf(`[{"index":0,"delta":{},"finish_reason":"stop"},{"index":1,"delta":{},"finish_reason":"length"}]`) + done,
			want: []string{start, `text choice=1 "b"`, `text choice=0 "a"`, `finish choice=0 reason=stop`, `finish choice=1 reason=length`, "eof"},
		},
		{
			name: "refusal and reasoning field",
			body: chunkOf(`[{"index":0,"delta":{"reasoning":"hmm","refusal":"no"},"finish_reason":null}]`) +
				chunkOf(`[{"index":0,"delta":{},"finish_reason":"content_filter"}]`) + done,
			want: []string{start, `reasoning choice=0 "hmm"`, `refusal choice=0 "no"`, `finish choice=0 reason=content_filter`, "eof"},
		},
		{
			name: "logprobs",
			body: chunkOf(`[{"index":0,"delta":{"content":"a"},"logprobs":{"content":[{"token":"a","logprob":-0.1,"bytes":[97],"top_logprobs":[]}]},"finish_reason":"stop"}]`) + done,
			want: []string{start, `text choice=0 "a" logprobs=1`, `finish choice=0 reason=stop`, "eof"},
		},
		{
			name: "empty choices first (Azure prompt filter results)",
			body: `data: {"id":"","object":"","created":0,"model":"","choices":[],"prompt_filter_results":[{"prompt_index":0}]}` + "\n\n" +
				chunkOf(`[{"index":0,"delta":{"content":"a"},"finish_reason":"stop"}]`) + done,
			want: []string{`start id="" model="" created=0`, `text choice=0 "a"`, `finish choice=0 reason=stop`, "eof"},
		},
		{
			name: "tool call without id gets one",
			body: chunkOf(`[{"index":0,"delta":{"tool_calls":[{"index":0,"type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}]`) + done,
			want: []string{start, `tool_call choice=0 index=0 id="call_ID" name="f" args=""`, `tool_args choice=0 index=0 "{}"`, `finish choice=0 reason=tool_calls`, "eof"},
		},
		{
			name: "tool call indexes not starting at zero",
			body: chunkOf(`[{"index":0,"delta":{"tool_calls":[{"index":3,"id":"a","function":{"name":"f","arguments":""}},{"index":7,"id":"b","function":{"name":"g","arguments":"{"}}]},"finish_reason":null}]`) +
				chunkOf(`[{"index":0,"delta":{"tool_calls":[{"index":3,"function":{"arguments":"{}"}},{"index":7,"function":{"arguments":"}"}}]},"finish_reason":"tool_calls"}]`) + done,
			want: []string{start, `tool_call choice=0 index=0 id="a" name="f" args=""`, `tool_call choice=0 index=1 id="b" name="g" args=""`,
				`tool_args choice=0 index=1 "{"`, `tool_args choice=0 index=0 "{}"`, `tool_args choice=0 index=1 "}"`, `finish choice=0 reason=tool_calls`, "eof"},
		},
		{
			name: "custom tool call",
			body: chunkOf(`[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","type":"custom","custom":{"name":"sql","input":"SELECT"}}]},"finish_reason":"tool_calls"}]`) + done,
			want: []string{start, `tool_call choice=0 index=0 id="a" name="sql" args=""`, `tool_args choice=0 index=0 "SELECT"`, `finish choice=0 reason=tool_calls`, "eof"},
		},
		{
			name: "ends without [DONE] after a finish",
			body: chunkOf(`[{"index":0,"delta":{"content":"a"},"finish_reason":"stop"}]`),
			want: []string{start, `text choice=0 "a"`, `finish choice=0 reason=stop`, "eof"},
		},
		{
			name: "ends without anything",
			body: "",
			want: []string{`error kind=upstream code="" message="the upstream stream ended before the answer was complete"`},
		},
		{
			name: "malformed chunk",
			body: chunkOf(`[{"index":0,"delta":{"content":"a"},"finish_reason":null}]`) + "data: {\"choices\":[{\"index\":\"zero\"}]}\n\n",
			want: []string{start, `text choice=0 "a"`, `error kind=upstream code="" message="the upstream sent a malformed stream chunk"`},
		},
		{
			name: "negative choice index",
			body: chunkOf(`[{"index":-1,"delta":{"content":"a"},"finish_reason":"stop"}]`) + done,
			want: []string{`error kind=upstream code="" message="the upstream sent a choice index out of range"`},
		},
		{
			name: "huge choice index",
			body: chunkOf(`[{"index":0,"delta":{"content":"a"},"finish_reason":null}]`) + chunkOf(`[{"index":2000000000,"delta":{"content":"a"},"finish_reason":"stop"}]`) + done,
			want: []string{start, `text choice=0 "a"`, `error kind=upstream code="" message="the upstream sent a choice index out of range"`},
		},
		{
			name: "invalid request error",
			body: `data: {"error":{"message":"bad tool schema","type":"invalid_request_error","param":"tools","code":null}}` + "\n\n",
			want: []string{`error kind=invalid_request code="" message="bad tool schema"`},
		},
		{
			name: "legacy rate limit type",
			body: `data: {"error":{"message":"slow down","type":"tokens","code":null}}` + "\n\n",
			want: []string{`error kind=rate_limited code="" message="slow down"`},
		},
		{
			name: "quota error",
			body: `data: {"error":{"message":"pay","type":"insufficient_quota","code":"insufficient_quota"}}` + "\n\n",
			want: []string{`error kind=quota code="insufficient_quota" message="pay"`},
		},
		{
			name: "context length error",
			body: `data: {"error":{"message":"too long","type":"invalid_request_error","code":"context_length_exceeded"}}` + "\n\n",
			want: []string{`error kind=invalid_request code="context_length_exceeded" message="too long"`},
		},
		{
			name: "error without a message",
			body: chunkOf(`[{"index":0,"delta":{"content":"a"},"finish_reason":null}]`) + `data: {"error":{"type":"server_error"}}` + "\n\n",
			want: []string{start, `text choice=0 "a"`, `error kind=upstream code="" message="the upstream reported an error in the stream"`},
		},
	}
	callID := regexp.MustCompile(`"call_[A-Za-z0-9]{24}"`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := decodeStream(t, []byte(tt.body))
			var got []string
			for _, ev := range evs {
				got = append(got, callID.ReplaceAllString(formatEvent(ev), `"call_ID"`))
			}
			got = append(got, strings.TrimSuffix(formatEnd(err), "\n"))
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if err != nil {
				if e := asError(t, err); e.Kind != llm.KindUpstream && e.Origin != "openai" {
					t.Errorf("an upstream's error must name its origin: %#v", e)
				}
			}
		})
	}
}

// TestStreamDecoderClose: Close closes the body and ends the stream.
func TestStreamDecoderClose(t *testing.T) {
	body := &closeRecorder{Reader: strings.NewReader(chunkOf(`[{"index":0,"delta":{"content":"a"},"finish_reason":null}]`) + done)}
	s := proto.NewStreamDecoder(body)
	if ev, err := s.Next(); err != nil || ev.Type != llm.EventStart {
		t.Fatalf("Next = %s, %v", formatEvent(ev), err)
	}
	if err := s.Close(); err != nil || !body.closed {
		t.Fatalf("Close = %v, body closed %v", err, body.closed)
	}
	// Events already decoded may still come out; then the stream is over,
	// without reading the closed body again.
	body.Reader = iotestErr{}
	var err error
	for range 3 {
		if _, err = s.Next(); err != nil {
			break
		}
	}
	for range 2 {
		if err != io.EOF {
			t.Fatalf("Next after Close: %v, want io.EOF", err)
		}
		_, err = s.Next()
	}
}

// iotestErr fails the test's stream if it is read after Close.
type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, io.ErrClosedPipe }

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

// TestStreamEncoderRefusesBadChoice: events from another protocol's decoder
// with an impossible choice index are refused, not a panic or a huge
// allocation.
func TestStreamEncoderRefusesBadChoice(t *testing.T) {
	for _, choice := range []int{-1, 1 << 30} {
		var out bytes.Buffer
		enc := proto.NewStreamEncoder(&out, &llm.Request{Model: "m"})
		if err := enc.Encode(llm.Event{Type: llm.EventText, Choice: choice, Text: "x"}); err == nil {
			t.Errorf("choice %d: Encode succeeded", choice)
		}
	}
}

func TestDecodeResponseErrors(t *testing.T) {
	for _, body := range []string{
		``,
		`[]`,
		`{"choices":{}}`,
		`{"choices":[{"index":-1,"message":{"role":"assistant","content":"x"}}]}`,
		`{"choices":[{"index":128,"message":{"role":"assistant","content":"x"}}]}`,
		`{"choices":[{"index":0,"message":{"role":"assistant","content":5}}]}`,
		`{"choices":[{"index":0,"message":{"role":"assistant","content":[{"type":"image_url","image_url":{"url":"https://x"}}]}}]}`,
	} {
		resp, err := proto.DecodeResponse([]byte(body))
		if err == nil {
			t.Errorf("DecodeResponse(%s) = %s, want an error", body, testkit.Dump(resp))
			continue
		}
		if e := asError(t, err); e.Kind != llm.KindUpstream {
			t.Errorf("DecodeResponse(%s): kind %q, want upstream", body, e.Kind)
		}
	}
}

func TestDecodeResponse(t *testing.T) {
	body := `{"id":"r","object":"chat.completion","created":5,"model":"deepseek-reasoner","service_tier":"default","system_fingerprint":"fp",
		"choices":[{"index":0,"message":{"role":"assistant","content":"Yes.","reasoning_content":"Think.","refusal":null,
			"tool_calls":[{"type":"function","function":{"name":"f","arguments":{"a":1}}}]},"logprobs":null,"finish_reason":"stop"}],
		"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3},"x_extra":{"k":true}}`
	resp, err := proto.DecodeResponse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if resp.ID != "r" || resp.Created != 5 || resp.Model != "deepseek-reasoner" || resp.ServiceTier != "default" ||
		resp.SystemFingerprint != "fp" || resp.Origin != "openai" || string(resp.Extensions["x_extra"]) != `{"k":true}` {
		t.Errorf("response fields: %s", testkit.Dump(resp))
	}
	c := resp.Choices[0]
	if c.FinishReason != llm.FinishToolCalls {
		t.Errorf("finish = %q: a server that says stop after a call means tool_calls", c.FinishReason)
	}
	parts := c.Message.Parts
	if len(parts) != 3 || parts[0].Type != llm.PartReasoning || parts[0].Reasoning.Text != "Think." ||
		parts[1].Type != llm.PartText || parts[1].Text != "Yes." || parts[2].Type != llm.PartToolCall {
		t.Fatalf("parts: %s", testkit.Dump(parts))
	}
	tc := parts[2].ToolCall
	if !regexp.MustCompile(`^call_[A-Za-z0-9]{24}$`).MatchString(tc.ID) || tc.Name != "f" || tc.Arguments != `{"a":1}` {
		t.Errorf("tool call = %+v", tc)
	}
}
