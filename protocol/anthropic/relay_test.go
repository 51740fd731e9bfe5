package anthropic_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

func TestRelay(t *testing.T) {
	type relayCase struct {
		body      string
		usage     *llm.Usage // nil: no usage reported
		errKind   llm.ErrorKind
		forwarded string // "": every event; otherwise exactly this
	}
	cases := map[string]relayCase{}
	for name, body := range streamInputs(t) {
		cases[name] = relayCase{body: string(body), usage: wireStreamUsage(t, body)}
	}
	cases["thinking"] = relayCase{body: cases["thinking"].body,
		usage: &llm.Usage{InputTokens: 2112, OutputTokens: 85, CachedTokens: 2000, CacheWriteTokens: 100, ReasoningTokens: 60}}
	cases["midstream-error"] = relayCase{body: cases["midstream-error"].body, usage: cases["midstream-error"].usage, errKind: llm.KindOverloaded}
	cases["cut-off"] = relayCase{body: cases["cut-off"].body, usage: cases["cut-off"].usage, errKind: llm.KindUpstream}
	// Nothing after message_stop is read or forwarded.
	trailing := cases["max-tokens-trailing"].body
	cases["max-tokens-trailing"] = relayCase{body: trailing, usage: cases["max-tokens-trailing"].usage,
		forwarded: strings.TrimSuffix(trailing, "event: ping\ndata: {\"type\":\"ping\"}\n\n")}
	text := cases["messages-text.stream"]
	cases["crlf"] = relayCase{body: strings.ReplaceAll(text.body, "\n", "\r\n"), usage: text.usage}
	events := sseEvents(text.body)
	cases["keep-alive behind an event"] = relayCase{
		body:  events[0] + ": keep-alive\n\n" + strings.Join(events[1:], ""),
		usage: text.usage,
	}
	cases["no event lines"] = relayCase{body: strings.ReplaceAll(strings.ReplaceAll(text.body, "event: message_stop\n", ""),
		"event: message_start\n", ""), usage: text.usage}
	cases["error first"] = relayCase{body: "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"m\"}}\n\n",
		errKind: llm.KindRateLimited}
	cases["malformed error"] = relayCase{body: "event: error\ndata: oops\n\n", errKind: llm.KindUpstream}
	cases["empty"] = relayCase{body: "", errKind: llm.KindUpstream}

	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			relay := proto.NewRelay(protocol.Peek{Model: "m", Stream: true})
			var dst bytes.Buffer
			client := &flushChecker{t: t, w: &dst}
			err := relay.Copy(client, client.flush, client.reader(iotest.HalfReader(strings.NewReader(tc.body))))
			if tc.errKind == "" {
				if err != nil {
					t.Fatalf("Copy: %v", err)
				}
			} else if e := asError(t, err); e.Kind != tc.errKind {
				t.Errorf("Copy error kind %q, want %q (%v)", e.Kind, tc.errKind, e)
			}
			want := tc.forwarded
			if want == "" {
				want = tc.body
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

func TestRelayWriteErrors(t *testing.T) {
	body := testkit.ReadFile(t, fixtureDir+"/messages-tool.stream.body.sse")
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
