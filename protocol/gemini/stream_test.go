package gemini_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// chunks returns the data of each SSE event written by the encoder,
// checking Gemini's CRLF framing.
func chunks(t *testing.T, out string) []string {
	t.Helper()
	if !strings.HasSuffix(out, "\r\n\r\n") {
		t.Fatalf("stream does not end with a CRLF-framed event: %q", out)
	}
	var datas []string
	for _, ev := range strings.Split(strings.TrimSuffix(out, "\r\n\r\n"), "\r\n\r\n") {
		data, ok := strings.CutPrefix(ev, "data: ")
		if !ok || strings.Contains(data, "\n") {
			t.Fatalf("bad event %q", ev)
		}
		if !json.Valid([]byte(data)) {
			t.Fatalf("invalid JSON in %q", data)
		}
		datas = append(datas, data)
	}
	return datas
}

func encodeEvents(t *testing.T, evs []llm.Event, fail *llm.Error) []string {
	t.Helper()
	var out bytes.Buffer
	enc := proto.NewStreamEncoder(&out, &llm.Request{Model: "client-model", Stream: true})
	for _, ev := range evs {
		if err := enc.Encode(ev); err != nil {
			t.Fatalf("Encode(%s): %v", formatEvent(ev), err)
		}
	}
	var err error
	if fail != nil {
		err = enc.Fail(fail)
	} else {
		err = enc.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return chunks(t, out.String())
}

// TestStreamEncoderOpenAIUpstream: an OpenAI upstream streams reasoning,
// text, and two calls whose argument fragments interleave; a Gemini client
// gets each delta at once and the calls whole, with the finish and usage
// in the last chunk.
func TestStreamEncoderOpenAIUpstream(t *testing.T) {
	evs := []llm.Event{
		{Type: llm.EventStart, ID: "chatcmpl-1", Model: "gpt-4o"},
		{Type: llm.EventReasoning, Text: "thinking…"},
		{Type: llm.EventReasoning, Signature: "YW50aHJvcGlj"}, // someone else's signature: not written
		{Type: llm.EventText, Text: "Checking."},
		{Type: llm.EventToolCall, ToolIndex: 0, ID: "call_a", Name: "get_weather"},
		{Type: llm.EventToolCall, ToolIndex: 1, ID: "call_b", Name: "get_time"},
		{Type: llm.EventToolArgs, ToolIndex: 0, Text: `{"city":`},
		{Type: llm.EventToolArgs, ToolIndex: 1, Text: `{"tz":"CET"}`},
		{Type: llm.EventToolArgs, ToolIndex: 0, Text: `"Paris"}`},
		{Type: llm.EventFinish, FinishReason: llm.FinishToolCalls},
		{Type: llm.EventUsage, Usage: &llm.Usage{InputTokens: 50, OutputTokens: 30, ReasoningTokens: 10, CachedTokens: 20}},
	}
	got := encodeEvents(t, evs, nil)
	tail := `,"modelVersion":"client-model","responseId":"chatcmpl-1"}`
	want := []string{
		`{"candidates":[{"content":{"role":"model","parts":[{"text":"thinking…","thought":true}]},"index":0}]` + tail,
		`{"candidates":[{"content":{"role":"model","parts":[{"text":"Checking."}]},"index":0}]` + tail,
		`{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"id":"call_a","name":"get_weather","args":{"city":"Paris"}}},` +
			`{"functionCall":{"id":"call_b","name":"get_time","args":{"tz":"CET"}}}]},"finishReason":"STOP","index":0}],` +
			`"usageMetadata":{"promptTokenCount":50,"candidatesTokenCount":20,"thoughtsTokenCount":10,"cachedContentTokenCount":20,"totalTokenCount":80}` + tail,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("chunks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestStreamEncoderTextAfterCalls: held calls go out before later text,
// and arguments that are not a JSON object are wrapped.
func TestStreamEncoderTextAfterCalls(t *testing.T) {
	got := encodeEvents(t, []llm.Event{
		{Type: llm.EventToolCall, ID: "toolu_1", Name: "f"},
		{Type: llm.EventToolArgs, Text: `not json`},
		{Type: llm.EventText, Text: "after"},
		{Type: llm.EventFinish, FinishReason: llm.FinishLength},
	}, nil)
	if len(got) != 3 || !strings.Contains(got[0], `"args":{"_raw":"not json"}`) || !strings.Contains(got[1], `"text":"after"`) ||
		!strings.Contains(got[2], `"finishReason":"MAX_TOKENS"`) {
		t.Errorf("chunks:\n%s", strings.Join(got, "\n"))
	}
	// The response id is made up when the upstream gave none.
	var c struct{ ResponseID string }
	if json.Unmarshal([]byte(got[0]), &c); len(c.ResponseID) != 22 {
		t.Errorf("responseId %q", c.ResponseID)
	}
}

func TestStreamEncoderLogprobs(t *testing.T) {
	got := encodeEvents(t, []llm.Event{{Type: llm.EventText, Choice: 1, Text: "Hi", Logprobs: []llm.TokenLogprob{{Token: "Hi", Logprob: -0.5}}}}, nil)
	want := `{"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"}]},"logprobsResult":{"chosenCandidates":[{"token":"Hi","logProbability":-0.5}]},"index":1}]`
	if len(got) != 2 || !strings.HasPrefix(got[0], want) {
		t.Errorf("chunks:\n%s", strings.Join(got, "\n"))
	}
}

func TestStreamEncoderEmpty(t *testing.T) {
	got := encodeEvents(t, nil, nil)
	if len(got) != 1 || !strings.HasPrefix(got[0], `{"candidates":[{"content":{"role":"model","parts":[{"text":""}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":0,"candidatesTokenCount":0,"totalTokenCount":0}`) {
		t.Errorf("chunks: %q", got)
	}
}

func TestStreamEncoderFail(t *testing.T) {
	got := encodeEvents(t, []llm.Event{
		{Type: llm.EventText, Text: "part"},
		{Type: llm.EventToolCall, ID: "c", Name: "f"},
		{Type: llm.EventToolArgs, Text: `{"a":`},
	}, &llm.Error{Kind: llm.KindOverloaded, Message: "busy"})
	if len(got) != 2 || got[1] != `{"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}` {
		t.Errorf("chunks: %q", got)
	}
	// After Fail (or Close) nothing more is written.
	var out bytes.Buffer
	enc := proto.NewStreamEncoder(&out, nil)
	enc.Close()
	n := out.Len()
	enc.Fail(&llm.Error{Kind: llm.KindInternal, Message: "x"})
	enc.Close()
	if out.Len() != n {
		t.Errorf("wrote after Close: %q", out.String())
	}
}

func TestStreamEncoderRefusesBadChoice(t *testing.T) {
	enc := proto.NewStreamEncoder(io.Discard, nil)
	for _, c := range []int{-1, llm.MaxChoices} {
		if err := enc.Encode(llm.Event{Type: llm.EventText, Choice: c, Text: "x"}); err == nil {
			t.Errorf("choice %d accepted", c)
		}
	}
}

func TestStreamDecoderErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		kind llm.ErrorKind
		msg  string
	}{
		{"empty body", "", llm.KindUpstream, "ended before"},
		{"malformed chunk", "data: {\"candidates\":[\r\n\r\n", llm.KindUpstream, "malformed stream chunk"},
		{"index out of range", `data: {"candidates":[{"index":128,"content":{"parts":[{"text":"x"}]}}]}` + "\r\n\r\n", llm.KindUpstream, "out of range"},
		{"negative index", `data: {"candidates":[{"index":-1,"content":{"parts":[{"text":"x"}]}}]}` + "\r\n\r\n", llm.KindUpstream, "out of range"},
		{"error first", `data: {"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}` + "\r\n\r\n", llm.KindRateLimited, "quota"},
		{"call args not an object", `data: {"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":"x"}}]},"finishReason":"STOP"}]}` + "\r\n\r\n",
			llm.KindUpstream, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeStream(t, []byte(tt.body))
			if err == nil {
				t.Fatal("no error")
			}
			if e := asError(t, err); e.Kind != tt.kind || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("error %v, want kind %s and %q", e, tt.kind, tt.msg)
			}
		})
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestStreamDecoderClose(t *testing.T) {
	body := &closeRecorder{Reader: bytes.NewReader(testkit.ReadFile(t, fixtureDir+"/generate-text.stream.body.sse"))}
	s := proto.NewStreamDecoder(body)
	if ev, err := s.Next(); err != nil || ev.Type != llm.EventStart {
		t.Fatalf("first event %v, %v", ev, err)
	}
	if err := s.Close(); err != nil || !body.closed {
		t.Fatalf("Close = %v, closed %v", err, body.closed)
	}
	if _, err := s.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("Next after Close = %v", err)
	}
	s = proto.NewStreamDecoder(io.NopCloser(failingReader{}))
	_, err := s.Next()
	if e := asError(t, err); e.Kind != llm.KindUpstream || !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("read failure = %#v", e)
	}
}

func TestEncodeResponse(t *testing.T) {
	t.Run("from another protocol", func(t *testing.T) {
		resp := &llm.Response{ID: "msg_1", Model: "claude", Origin: "anthropic",
			Usage: llm.Usage{InputTokens: 10, OutputTokens: 7, ReasoningTokens: 3},
			Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: "hmm", Signature: "Y2xhdWRl", Origin: "anthropic"}},
				llm.TextPart("Sure."),
				{Type: llm.PartRefusal, Text: "But not that."},
				call("toolu_1", "f", `{"a":1}`),
			}}, FinishReason: llm.FinishToolCalls, Logprobs: []llm.TokenLogprob{{Token: "Sure", Logprob: -0.1, Top: []llm.TopLogprob{{Token: "Sure", Logprob: -0.1}}}}}},
			Extensions: llm.Extensions{"stop_sequence": json.RawMessage(`null`)},
		}
		var out bytes.Buffer
		if err := proto.EncodeResponse(&out, &llm.Request{Model: "my-model"}, resp); err != nil {
			t.Fatal(err)
		}
		want := `{"candidates":[{"content":{"role":"model","parts":[{"text":"hmm","thought":true},{"text":"Sure."},{"text":"But not that."},
			{"functionCall":{"id":"toolu_1","name":"f","args":{"a":1}}}]},"finishReason":"STOP","index":0,
			"logprobsResult":{"topCandidates":[{"candidates":[{"token":"Sure","logProbability":-0.1}]}],"chosenCandidates":[{"token":"Sure","logProbability":-0.1}]}}],
			"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":4,"thoughtsTokenCount":3,"totalTokenCount":17},
			"modelVersion":"my-model","responseId":"msg_1"}`
		if !testkit.JSONEqual(out.Bytes(), []byte(want)) {
			t.Errorf("got  %s\nwant %s", out.Bytes(), compactJSON(t, want))
		}
	})
	t.Run("from Gemini: signatures and extensions kept", func(t *testing.T) {
		body := `{"candidates":[{"content":{"role":"model","parts":[{"text":"t","thought":true,"thoughtSignature":"QQ=="},{"text":"A","thoughtSignature":"Qg=="}]},
			"finishReason":"STOP","index":0,"safetyRatings":[]}],"promptFeedback":{"safetyRatings":[]},"modelVersion":"gemini-2.5-pro","responseId":"r"}`
		resp, err := proto.DecodeResponse([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := proto.EncodeResponse(&out, &llm.Request{Model: "pro"}, resp); err != nil {
			t.Fatal(err)
		}
		want := `{"candidates":[{"content":{"role":"model","parts":[{"text":"t","thought":true,"thoughtSignature":"QQ=="},{"text":"A","thoughtSignature":"Qg=="}]},
			"finishReason":"STOP","index":0,"safetyRatings":[]}],"promptFeedback":{"safetyRatings":[]},
			"usageMetadata":{"promptTokenCount":0,"candidatesTokenCount":0,"totalTokenCount":0},"modelVersion":"pro","responseId":"r"}`
		if !testkit.JSONEqual(out.Bytes(), []byte(want)) {
			t.Errorf("got  %s\nwant %s", out.Bytes(), compactJSON(t, want))
		}
	})
}

func TestDecodeResponseBlocked(t *testing.T) {
	resp, err := proto.DecodeResponse([]byte(`{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":9,"totalTokenCount":9}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Choices) != 1 || resp.Choices[0].FinishReason != llm.FinishContentFilter || resp.Usage.InputTokens != 9 {
		t.Errorf("response = %s", testkit.Dump(resp))
	}
	if _, err := proto.DecodeResponse([]byte(`{"candidates":[]}`)); err == nil || asError(t, err).Kind != llm.KindUpstream {
		t.Errorf("no candidates and no block reason: %v", err)
	}
}

func TestFinishReasons(t *testing.T) {
	for wire, want := range map[string]llm.FinishReason{
		"STOP": llm.FinishStop, "MAX_TOKENS": llm.FinishLength, "SAFETY": llm.FinishContentFilter,
		"RECITATION": llm.FinishContentFilter, "BLOCKLIST": llm.FinishContentFilter, "PROHIBITED_CONTENT": llm.FinishContentFilter,
		"SPII": llm.FinishContentFilter, "IMAGE_SAFETY": llm.FinishContentFilter, "LANGUAGE": llm.FinishContentFilter,
		"MALFORMED_FUNCTION_CALL": llm.FinishError, "OTHER": llm.FinishError, "UNEXPECTED_TOOL_CALL": llm.FinishError,
		"SOMETHING_NEW": llm.FinishError,
	} {
		body := `{"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"` + wire + `"}]}`
		resp, err := proto.DecodeResponse([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Choices[0].FinishReason; got != want {
			t.Errorf("%s → %s, want %s", wire, got, want)
		}
	}
}
