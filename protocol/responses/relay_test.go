package responses_test

import (
	"bytes"
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

func TestRelay(t *testing.T) {
	type relayCase struct {
		body      string
		usage     *llm.Usage // nil: no usage reported
		errKind   llm.ErrorKind
		errCode   string
		forwarded string // "": every event; "-": nothing; otherwise exactly this
	}
	cases := map[string]relayCase{}
	for name, body := range streamInputs(t) {
		cases[name] = relayCase{body: string(body), usage: completedUsage(t, body)}
	}
	// Streams that end in a failure: everything before the failure is
	// forwarded, the failure itself is the gateway's to render.
	for name, want := range map[string]struct {
		kind llm.ErrorKind
		code string
	}{
		"failed":       {llm.KindUpstream, "server_error"},
		"error-event":  {llm.KindRateLimited, "rate_limit_exceeded"},
		"nested-error": {llm.KindInvalidRequest, "context_length_exceeded"},
	} {
		body := cases[name].body
		evs := sseEvents(body)
		fwd := strings.Join(evs[:len(evs)-1], "")
		if fwd == "" {
			fwd = "-"
		}
		cases[name] = relayCase{body: body, errKind: want.kind, errCode: want.code, forwarded: fwd}
	}
	cases["cut-off"] = relayCase{body: cases["cut-off"].body, errKind: llm.KindUpstream}
	text := cases["responses-text.stream"]
	evs := sseEvents(text.body)
	cases["crlf"] = relayCase{body: strings.ReplaceAll(text.body, "\n", "\r\n"), usage: text.usage}
	cases["keep-alive behind an event"] = relayCase{
		body:  evs[0] + ": keep-alive\n\n" + strings.Join(evs[1:], ""),
		usage: text.usage,
	}
	cases["cut before completion"] = relayCase{body: strings.Join(evs[:5], ""), errKind: llm.KindUpstream}
	cases["trailing bytes after completion"] = relayCase{body: text.body + "event: response.output_text.delta\ndata: {}\n\n",
		usage: text.usage, forwarded: text.body}
	cases["failure with usage"] = relayCase{
		body: evs[0] + `data: {"type":"response.failed","response":{"status":"failed","error":{"code":"rate_limit_exceeded","message":"m"},` +
			`"usage":{"input_tokens":7,"output_tokens":1,"total_tokens":8}}}` + "\n\n",
		usage: &llm.Usage{InputTokens: 7, OutputTokens: 1}, errKind: llm.KindRateLimited, errCode: "rate_limit_exceeded", forwarded: evs[0]}

	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			relay := proto.NewRelay(protocol.Peek{Model: "m", Stream: true, StreamUsage: true})
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
				want = tc.body
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

func TestRelayWriteErrors(t *testing.T) {
	body := testkit.ReadFile(t, fixtureDir+"/responses-tool.stream.body.sse")
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

// TestRelayAgreesWithDecoder: on every stream that decodes cleanly, the
// relay taps the usage the decoder reports.
func TestRelayAgreesWithDecoder(t *testing.T) {
	for name, body := range streamInputs(t) {
		evs, derr := decodeStream(t, body)
		relay := proto.NewRelay(protocol.Peek{Model: "m", Stream: true})
		rerr := relay.Copy(io.Discard, func() error { return nil }, bytes.NewReader(body))
		if (derr == nil) != (rerr == nil) {
			t.Errorf("%s: decoder ends with %v, relay with %v", name, derr, rerr)
			continue
		}
		var want *llm.Usage
		for _, ev := range evs {
			if ev.Type == llm.EventUsage {
				want = ev.Usage
			}
		}
		got, ok := relay.Usage()
		if derr == nil && ((want != nil) != ok || want != nil && *want != got) {
			t.Errorf("%s: relay usage %+v %v, decoder %s", name, got, ok, fmt.Sprint(want))
		}
	}
}

// flushChecker is a client connection that checks the relay's flushing:
// whenever the relay reads from the upstream, which may block, everything
// it wrote must have been flushed.
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
			c.pending = 0
		}
		return r.Read(b)
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
