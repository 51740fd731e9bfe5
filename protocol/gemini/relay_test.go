package gemini_test

import (
	"bytes"
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
		forwarded string // "": every event
	}
	cases := map[string]relayCase{}
	for name, body := range streamInputs(t) {
		cases[name] = relayCase{body: string(body), usage: lastWireUsage(t, body)}
	}
	cases["cut-off"] = relayCase{body: cases["cut-off"].body, usage: cases["cut-off"].usage, errKind: llm.KindUpstream}
	cases["error-chunk"] = relayCase{body: cases["error-chunk"].body, usage: cases["error-chunk"].usage, errKind: llm.KindOverloaded}
	text := cases["generate-text.stream"]
	chunks := sseEvents(text.body)
	cases["keep-alive behind an event"] = relayCase{
		body:  chunks[0] + ": keep-alive\r\n\r\n" + strings.Join(chunks[1:], ""),
		usage: text.usage,
	}
	cases["lf framing"] = relayCase{body: strings.ReplaceAll(text.body, "\r\n", "\n"), usage: text.usage}
	cases["error then more"] = relayCase{
		body:      chunks[0] + `data: {"error":{"code":500,"message":"Internal error","status":"INTERNAL"}}` + "\r\n\r\n" + chunks[2],
		usage:     &llm.Usage{InputTokens: 15},
		errKind:   llm.KindUpstream,
		forwarded: chunks[0] + `data: {"error":{"code":500,"message":"Internal error","status":"INTERNAL"}}` + "\r\n\r\n",
	}
	cases["finishReason only in text"] = relayCase{
		body:    `data: {"candidates":[{"content":{"parts":[{"text":"say \"finishReason\": \"STOP\""}]}}]}` + "\r\n\r\n",
		errKind: llm.KindUpstream,
	}

	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			relay := proto.NewRelay(protocol.Peek{})
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

// TestRelayAgreesWithDecoder: on every stream, the relay taps the usage the
// decoder reports and ends the same way.
func TestRelayAgreesWithDecoder(t *testing.T) {
	for name, body := range streamInputs(t) {
		evs, derr := decodeStream(t, body)
		relay := proto.NewRelay(protocol.Peek{})
		rerr := relay.Copy(io.Discard, func() error { return nil }, bytes.NewReader(body))
		if (derr == nil) != (rerr == nil) {
			t.Errorf("%s: decoder ends with %v, relay with %v", name, derr, rerr)
		}
		var want *llm.Usage
		for _, ev := range evs {
			if ev.Type == llm.EventUsage {
				want = ev.Usage
			}
		}
		if got, ok := relay.Usage(); derr == nil && (want == nil) == ok || (ok && want != nil && got != *want) {
			t.Errorf("%s: relay usage %+v %v, decoder %+v", name, got, ok, want)
		}
	}
}

func TestRelayWriteErrors(t *testing.T) {
	body := testkit.ReadFile(t, fixtureDir+"/generate-text.stream.body.sse")
	relay := proto.NewRelay(protocol.Peek{})
	werr := fmt.Errorf("client gone")
	err := relay.Copy(writerFunc(func([]byte) (int, error) { return 0, werr }), func() error { return nil }, bytes.NewReader(body))
	if err != werr {
		t.Errorf("write error: Copy = %v", err)
	}
	ferr := fmt.Errorf("flush failed")
	relay = proto.NewRelay(protocol.Peek{})
	err = relay.Copy(io.Discard, func() error { return ferr }, iotest.OneByteReader(bytes.NewReader(body)))
	if err != ferr {
		t.Errorf("flush error: Copy = %v", err)
	}
}

// flushChecker is a client connection that records whether the relay
// flushed what it wrote before reading the upstream again.
type flushChecker struct {
	t       *testing.T
	w       io.Writer
	pending int
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
			c.t.Errorf("reading the upstream with %d bytes written but not flushed", c.pending)
		}
		return r.Read(b)
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
