package gateway

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/llmux/llmux/internal/provider"
	"github.com/llmux/llmux/internal/router"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// chatCall is one chat request on its way through the attempt loop.
type chatCall struct {
	ing  protocol.Ingress
	pt   protocol.Passthrough // the ingress protocol's passthrough, or nil
	body []byte
	peek protocol.Peek
	req  *llm.Request // decoded on first need
}

// decoded returns the canonical request, decoding the body once.
func (c *chatCall) decoded() (*llm.Request, error) {
	if c.req != nil {
		return c.req, nil
	}
	req, err := c.ing.DecodeRequest(c.body)
	if err != nil {
		return nil, err
	}
	c.req = req
	return req, nil
}

// chat serves a chat request of protocol ing.
func (s *Server) chat(ing protocol.Ingress) handler {
	pt, _ := s.reg.Passthrough(ing.ID())
	return func(w *responseWriter, r *http.Request, rc *reqCtx) error {
		bp, err := readBody(w, r, rc.st.maxBody)
		if err != nil {
			return err
		}
		defer putBytes(bp)
		c := &chatCall{ing: ing, pt: pt, body: *bp}
		if pt != nil {
			c.peek, err = pt.PeekRequest(c.body)
		} else {
			var req *llm.Request
			if req, err = c.decoded(); err == nil {
				c.peek = protocol.Peek{Model: req.Model, Stream: req.Stream, StreamUsage: req.StreamUsage}
			}
		}
		if err != nil {
			return err
		}
		rc.model, rc.stream = c.peek.Model, c.peek.Stream
		cands, err := rc.st.router.Resolve(c.peek.Model)
		if err != nil {
			return err
		}
		return s.attempt(w, r, rc, cands, func(cand router.Candidate, prov provider.Provider) (bool, error) {
			if ptp, ok := prov.(provider.Passthrougher); ok && pt != nil && ptp.Protocol() == ing.ID() {
				return s.passthrough(w, r, rc, c, cand, ptp)
			}
			req, err := c.decoded()
			if err != nil {
				return false, err
			}
			return s.translate(w, r, rc, ing, req, cand, prov)
		})
	}
}

// tryFunc makes one attempt at a candidate. It reports whether anything was
// written to the client: after that, no other candidate may be tried.
type tryFunc func(c router.Candidate, p provider.Provider) (wrote bool, err error)

// attempt walks the candidates in order until one succeeds, a failure is
// not worth retrying elsewhere, or the response has started.
func (s *Server) attempt(w *responseWriter, r *http.Request, rc *reqCtx, cands []router.Candidate, try tryFunc) error {
	var last error
	failed := 0
	for _, c := range cands {
		if err := r.Context().Err(); err != nil {
			return llm.AsError(err)
		}
		prov, ok := rc.st.providers[c.Provider]
		if !ok {
			continue
		}
		rc.attempts++
		rc.provider, rc.upstreamModel = c.Provider, c.Model
		wrote, err := try(c, prov)
		if err == nil {
			s.metrics.Attempts.WithLabelValues(c.Provider, "ok").Inc()
			return nil
		}
		e := llm.AsError(err)
		s.metrics.Attempts.WithLabelValues(c.Provider, string(e.Kind)).Inc()
		if wrote {
			return errAborted
		}
		if e.Kind == llm.KindCanceled {
			return e
		}
		failed++
		last = e
		s.log.Debug("attempt failed", "request_id", rc.id, "provider", c.Provider, "model", c.Model,
			"attempt", rc.attempts, "kind", e.Kind, "status", e.HTTPStatus(), "error", e.Message)
		if !retryable(e) {
			return e
		}
	}
	if last == nil {
		return &llm.Error{Kind: llm.KindUpstream, Message: "no provider is available for this model"}
	}
	if failed > 1 {
		e := *llm.AsError(last)
		e.Message = fmt.Sprintf("all %d upstream candidates failed; the last one said: %s", failed, e.Message)
		return &e
	}
	return last
}

// retryable reports whether another candidate may succeed where this one
// failed: connection failures, timeouts, rate limits, overload and server
// errors are; problems with the request itself are not.
func retryable(e *llm.Error) bool {
	switch e.Kind {
	case llm.KindUpstream, llm.KindTimeout, llm.KindRateLimited, llm.KindOverloaded:
		return true
	case llm.KindInvalidRequest, llm.KindNotFound, llm.KindTooLarge, llm.KindAuth, llm.KindPermission, llm.KindCanceled:
		return false
	}
	s := e.HTTPStatus()
	return s == 408 || s == 409 || s == 429 || s >= 500
}

// routed sets the headers that say who served the request.
func routed(h http.Header, rc *reqCtx) {
	h.Set("X-Llmux-Provider", rc.provider)
	h.Set("X-Llmux-Model", rc.upstreamModel)
	h.Set("X-Llmux-Attempts", strconv.Itoa(rc.attempts))
}

// streamHeaders sets the headers of an event stream.
func streamHeaders(h http.Header, contentType string) {
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // tell a proxy in front not to buffer
}
