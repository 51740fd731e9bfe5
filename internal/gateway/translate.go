package gateway

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/llmux/llmux/internal/provider"
	"github.com/llmux/llmux/internal/router"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// translate serves one attempt through the canonical model: the provider
// encodes the request for its upstream, and the ingress encodes the answer
// for the client.
func (s *Server) translate(w *responseWriter, r *http.Request, rc *reqCtx, ing protocol.Ingress,
	req *llm.Request, c router.Candidate, prov provider.Provider) (bool, error) {
	call := &provider.Call{Request: req, Model: c.Model}
	if !req.Stream {
		resp, err := prov.Do(r.Context(), call)
		if err != nil {
			return false, err
		}
		rc.usage, rc.hasUsage = resp.Usage, !resp.Usage.IsZero()
		if !rc.hasUsage || rc.st.logContent {
			rc.completion = responseText(resp)
		}
		return writeEncoded(w, rc, func(buf io.Writer) error { return ing.EncodeResponse(buf, req, resp) })
	}

	stream, err := prov.Stream(r.Context(), call)
	if err != nil {
		return false, err
	}
	defer stream.Close()
	// Read the first event before answering, so that a failure before the
	// upstream produced anything can still go to another candidate.
	first, err := stream.Next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned an empty stream"}
		}
		return false, err
	}
	enc := ing.NewStreamEncoder(flushWriter{w}, req)
	h := w.Header()
	streamHeaders(h, enc.ContentType())
	routed(h, rc)
	w.WriteHeader(http.StatusOK)
	ev := first
	for {
		switch ev.Type {
		case llm.EventUsage:
			if ev.Usage != nil {
				rc.usage, rc.hasUsage = *ev.Usage, true
			}
		case llm.EventText, llm.EventToolCall, llm.EventReasoning, llm.EventRefusal, llm.EventToolArgs:
			if rc.ttft == 0 && ev.Type != llm.EventToolArgs {
				rc.ttft = time.Since(rc.start)
			}
			rc.capture.addEvent(&ev)
		}
		if err := enc.Encode(ev); err != nil {
			return true, clientGone(r, err)
		}
		ev, err = stream.Next()
		if errors.Is(err, io.EOF) {
			return true, clientGone(r, enc.Close())
		}
		if err != nil {
			if r.Context().Err() != nil {
				return true, llm.AsError(r.Context().Err())
			}
			s.log.Warn("upstream stream failed", "request_id", rc.id, "provider", rc.provider, "error", err)
			enc.Fail(llm.AsError(err))
			return true, err
		}
	}
}

// writeEncoded encodes a complete answer into a pooled buffer and sends it
// as JSON with the routing headers. It reports whether it wrote.
func writeEncoded(w *responseWriter, rc *reqCtx, encode func(io.Writer) error) (bool, error) {
	routed(w.Header(), rc)
	if err := writeJSON(w, encode); err != nil {
		return false, err
	}
	return true, nil
}

// writeJSON encodes a complete answer into a pooled buffer and sends it as
// JSON; only a failure to encode is an error.
func writeJSON(w *responseWriter, encode func(io.Writer) error) error {
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() { buf.Reset(); bufPool.Put(buf) }()
	if err := encode(buf); err != nil {
		return &llm.Error{Kind: llm.KindInternal, Message: "encoding the response failed", Cause: err}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes()) // a client that left now is no failure of the upstream
	return nil
}

// flushWriter sends every write to the client at once: stream encoders
// write one event per call.
type flushWriter struct{ w *responseWriter }

func (f flushWriter) Write(b []byte) (int, error) {
	n, err := f.w.Write(b)
	if err != nil {
		return n, err
	}
	return n, f.w.Flush()
}

// clientGone turns a write failure into a cancellation when the client
// left; the attempt has written, so the caller does not retry anyway.
func clientGone(r *http.Request, err error) error {
	if err == nil {
		return nil
	}
	if r.Context().Err() != nil {
		return llm.AsError(r.Context().Err())
	}
	return &llm.Error{Kind: llm.KindCanceled, Message: "writing to the client failed", Cause: err}
}
