package openai_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

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
		Usage   json.RawMessage    `json:"usage"`
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
		forwarded string // "": every event (keep-alive comments included) but the hidden usage chunk; "-": nothing
	}
	cases := map[string]relayCase{}
	for name, body := range streamInputs(t) {
		cases[name] = relayCase{body: string(body), usage: lastWireUsage(t, body)}
	}
	// Hand-checked expectations for the crafted compatible-server streams,
	// some of which report usage elsewhere than in a top-level member.
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
		body:  ": keep-alive\n\n" + strings.TrimSuffix(text.body, "data: [DONE]\n\n"),
		usage: text.usage,
	}
	chunks := sseEvents(text.body)
	// A keep-alive right behind an event must not hold the event back until
	// the upstream's next bytes.
	cases["keep-alive behind an event"] = relayCase{
		body:  chunks[0] + ": OPENROUTER PROCESSING\n\n" + strings.Join(chunks[1:], ""),
		usage: text.usage,
	}
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
			t.Run(fmt.Sprintf("%s/client_usage=%v", name, clientUsage), func(t *testing.T) {
				relay := proto.NewRelay(protocol.Peek{Model: "m", Stream: true, StreamUsage: clientUsage})
				var dst bytes.Buffer
				client := &flushChecker{t: t, w: &dst}
				err := relay.Copy(client, client.flush, client.reader(iotest.HalfReader(strings.NewReader(tc.body))))

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
				if client.pending > 0 {
					t.Errorf("Copy returned with %d bytes written but not flushed", client.pending)
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
	body := testkit.ReadFile(t, fixtureDir+"/chat-tool.stream.body.sse")
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
	body := testkit.ReadFile(t, fixtureDir+"/chat-tool.stream.body.sse")
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

// flushChecker is a client connection that checks the relay's flushing:
// whenever the relay reads from the upstream, which may block, everything
// it wrote must have been flushed, or the client would wait for bytes the
// gateway already has.
type flushChecker struct {
	t       *testing.T
	w       io.Writer
	pending int // bytes written since the last flush
}

func (c *flushChecker) Write(b []byte) (int, error) {
	c.pending += len(b)
	return c.w.Write(b)
}

func (c *flushChecker) flush() error {
	c.pending = 0
	return nil
}

func (c *flushChecker) reader(r io.Reader) io.Reader {
	return readerFunc(func(b []byte) (int, error) {
		if c.pending > 0 {
			c.t.Errorf("the relay reads from the upstream with %d bytes not flushed to the client", c.pending)
			c.pending = 0 // report each delay once
		}
		return r.Read(b)
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
