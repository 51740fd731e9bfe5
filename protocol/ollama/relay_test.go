package ollama_test

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

// ndjsonLines splits a body into its non-blank lines, each ending in "\n"
// as the relay forwards them.
func ndjsonLines(body string) []string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		l = strings.TrimSuffix(l, "\r")
		if strings.TrimSpace(l) != "" {
			out = append(out, l+"\n")
		}
	}
	return out
}

// lastUsage returns the counts of the done line of a body, read without the
// package's decoder; nil when the stream has no counts.
func lastUsage(t *testing.T, body []byte) *llm.Usage {
	t.Helper()
	var u *llm.Usage
	for _, l := range wireLines(t, bytes.ReplaceAll(body, []byte("\r"), nil)) {
		if l.Done {
			u = l.usage()
		}
	}
	return u
}

func TestRelay(t *testing.T) {
	type relayCase struct {
		body      string
		usage     *llm.Usage // nil: no usage reported
		errKind   llm.ErrorKind
		forwarded int // lines forwarded; -1: all
	}
	cases := map[string]relayCase{}
	for name, body := range streamInputs(t) {
		cases[name] = relayCase{body: string(body), usage: lastUsage(t, body), forwarded: -1}
	}
	mid := cases["midstream-error"]
	mid.errKind, mid.usage = llm.KindUpstream, nil
	cases["midstream-error"] = mid
	cut := cases["cut-off"]
	cut.errKind = llm.KindUpstream
	cases["cut-off"] = cut
	text := cases["chat-text.stream"].body
	cases["lines after done are not read"] = relayCase{body: text + "garbage\n", forwarded: len(ndjsonLines(text))}
	tool := cases["chat-tool.stream"]
	cases["done mentioned inside content"] = relayCase{
		body:      line(`{"role":"assistant","content":"{\"done\":true}"}`) + line(`{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{"done":true,"error":"x"}}}]}`) + tool.body,
		usage:     tool.usage,
		forwarded: -1,
	}
	cases["spaced members"] = relayCase{
		body:      line(`{"role":"assistant","content":"a"}`) + `{ "done" : true , "prompt_eval_count" : 3, "eval_count" : 1 }` + "\n",
		usage:     &llm.Usage{InputTokens: 3, OutputTokens: 1},
		forwarded: -1,
	}
	cases["error first"] = relayCase{body: `{"error":"model 'x' not found"}` + "\n", errKind: llm.KindUpstream, forwarded: -1}
	cases["empty"] = relayCase{body: "", errKind: llm.KindUpstream, forwarded: -1}

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
			want := ndjsonLines(tc.body)
			if tc.forwarded >= 0 {
				want = want[:tc.forwarded]
			}
			if dst.String() != strings.Join(want, "") {
				t.Errorf("forwarded:\n%q\nwant:\n%q", dst.String(), strings.Join(want, ""))
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

// TestRelayErrorLine: the upstream's error line reaches the client, and
// Copy reports it.
func TestRelayErrorLine(t *testing.T) {
	body := testkit.ReadFile(t, "testdata/streams/midstream-error.ndjson")
	var dst bytes.Buffer
	err := proto.NewRelay(protocol.Peek{}).Copy(&dst, func() error { return nil }, bytes.NewReader(body))
	if e := asError(t, err); e.Message != "an error was encountered while running the model: unexpected EOF" || e.Origin != "ollama" {
		t.Errorf("Copy = %v", e)
	}
	if !bytes.Equal(dst.Bytes(), body) {
		t.Errorf("forwarded %q, want %q", dst.Bytes(), body)
	}
}

func TestRelayWriteErrors(t *testing.T) {
	body := testkit.ReadFile(t, fixtureDir+"/chat-tool.stream.body.ndjson")
	errWrite := errors.New("client gone")
	err := proto.NewRelay(protocol.Peek{}).Copy(writerFunc(func([]byte) (int, error) { return 0, errWrite }), func() error { return nil }, bytes.NewReader(body))
	if !errors.Is(err, errWrite) {
		t.Errorf("write error: Copy = %v", err)
	}
	err = proto.NewRelay(protocol.Peek{}).Copy(io.Discard, func() error { return errWrite }, iotest.OneByteReader(bytes.NewReader(body)))
	if !errors.Is(err, errWrite) {
		t.Errorf("flush error: Copy = %v", err)
	}
	err = proto.NewRelay(protocol.Peek{}).Copy(io.Discard, func() error { return nil }, iotest.ErrReader(errWrite))
	if e := asError(t, err); e.Kind != llm.KindUpstream || !errors.Is(err, errWrite) {
		t.Errorf("read error: Copy = %v", err)
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
