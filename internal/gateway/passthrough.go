package gateway

import (
	"net/http"
	"strings"
	"time"

	"github.com/llmux/llmux/internal/provider"
	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/internal/router"
	"github.com/llmux/llmux/llm"
)

// passthrough serves one attempt by forwarding the client's body to an
// upstream of the same protocol, with only the model (and the vendor's
// documented quirks) changed, and relaying the answer while tapping usage.
func (s *Server) passthrough(w *responseWriter, r *http.Request, rc *reqCtx, c *chatCall,
	cand router.Candidate, ptp provider.Passthrougher) (bool, error) {
	resp, op, err := s.forwardRaw(r, c, cand, ptp)
	if op != nil {
		defer putBytes(op)
	}
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if c.peek.Stream {
		c.shrink() // the pooled request buffer is not held for the whole stream
	}
	if up := resp.Header.Get("X-Request-Id"); up != "" {
		w.Header().Set("X-Llmux-Upstream-Request-Id", up)
	}

	if !c.peek.Stream {
		return s.passthroughBody(w, rc, c, resp)
	}

	relay := c.pt.NewRelay(c.peek)
	lw := &lazyWriter{w: w, commit: func() {
		h := w.Header()
		streamHeaders(h, contentType(resp.Header, "text/event-stream"))
		routed(h, rc)
		w.WriteHeader(http.StatusOK)
	}, rc: rc}
	err = relay.Copy(lw, w.Flush, resp.Body)
	if u, ok := relay.Usage(); ok {
		rc.usage, rc.hasUsage = u, true
	}
	if err == nil {
		return true, nil
	}
	if !lw.started {
		return false, err
	}
	if r.Context().Err() != nil {
		return true, llm.AsError(r.Context().Err())
	}
	return true, s.streamFailed(w, rc, c, ptp.Sanitize(err)) // errors the upstream put in its stream
}

// forwardRaw rewrites the client's body for cand and sends it. A
// non-streamed call's body is in the returned pooled buffer, for the
// caller to put back once the upstream has answered (the transport may
// read the body until then).
func (s *Server) forwardRaw(r *http.Request, c *chatCall, cand router.Candidate, ptp provider.Passthrougher) (*http.Response, *[]byte, error) {
	// A stream holds its request for as long as it runs, so it gets a
	// buffer of its own size, dropped once sent, instead of a pooled one.
	var op *[]byte
	var dst []byte
	if c.peek.Stream {
		dst = make([]byte, 0, len(c.body)+len(cand.Model)+64)
	} else {
		op = getBytes()
		dst = (*op)[:0]
	}
	rw := ptp.Rewrite(cand.Model)
	rw.Scan = c.peek.Scan
	out, err := c.pt.RewriteRequest(dst, c.body, rw)
	if err != nil {
		return nil, op, err
	}
	if op != nil {
		*op = out[:0] // a grown buffer goes back to the pool
	}
	resp, err := ptp.Forward(r.Context(), &provider.Forward{Model: cand.Model, Stream: c.peek.Stream, Body: out, Headers: c.headers})
	return resp, op, err
}

// The other parts of passthrough live in functions of their own, so that
// what they need does not sit in passthrough's frame, which every held
// stream keeps on its goroutine's stack.

// passthroughBody relays a complete upstream answer.
func (s *Server) passthroughBody(w *responseWriter, rc *reqCtx, c *chatCall, resp *http.Response) (bool, error) {
	data, err := provider.ReadBody(resp)
	if err != nil {
		return false, err
	}
	u, tapped := c.pt.TapResponse(data) // true only for valid JSON
	if tapped {
		rc.usage, rc.hasUsage = u, true
	} else if err := rawjson.Valid(data); err != nil { // a 200 the client could not parse: fail over instead
		return false, &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned a malformed response", Cause: err}
	}
	if !tapped || rc.st.logContent {
		s.keepResponseText(rc, data)
	}
	h := w.Header()
	h.Set("Content-Type", contentType(resp.Header, "application/json"))
	routed(h, rc)
	w.WriteHeader(http.StatusOK)
	w.Write(data) // a client that left now is no failure of the upstream
	return true, nil
}

// streamFailed ends a stream that failed after its first byte with an
// error event in the client's protocol, and returns err.
func (s *Server) streamFailed(w *responseWriter, rc *reqCtx, c *chatCall, err error) error {
	s.log.Warn("upstream stream failed", "request_id", rc.id, "provider", rc.provider, "error", err)
	enc := c.ing.NewStreamEncoder(flushWriter{w}, &llm.Request{Model: c.peek.Model})
	enc.Fail(llm.AsError(err))
	return err
}

// lazyWriter commits the response headers on the first byte, so that a
// stream that fails before producing anything can still be retried.
type lazyWriter struct {
	w       *responseWriter
	commit  func()
	started bool
	rc      *reqCtx
}

func (l *lazyWriter) Write(b []byte) (int, error) {
	if !l.started {
		return l.first(b)
	}
	l.rc.capture.add(b)
	return l.w.Write(b)
}

// first commits the headers and writes the first bytes, flushed at once:
// the client sees the answer start without waiting for the relay's next
// read.
func (l *lazyWriter) first(b []byte) (int, error) {
	l.started = true
	l.commit()
	l.rc.ttft = time.Since(l.rc.start)
	l.rc.capture.frames = true
	l.rc.capture.add(b)
	n, err := l.w.Write(b)
	if err == nil {
		err = l.w.Flush()
	}
	return n, err
}

// keepResponseText keeps the text of a complete passed-through answer, for
// content logging or for counting its tokens when it reported no usage.
func (s *Server) keepResponseText(rc *reqCtx, data []byte) {
	eg, ok := s.reg.Egress(rc.ing.ID())
	if !ok {
		return
	}
	if resp, err := eg.DecodeResponse(data); err == nil {
		rc.completion = responseText(resp)
	}
}

func contentType(h http.Header, def string) string {
	ct := h.Get("Content-Type")
	if ct == "" || !strings.HasPrefix(ct, strings.SplitN(def, ";", 2)[0]) {
		return def
	}
	return ct
}
