package gateway

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/llmux/llmux/internal/provider"
	"github.com/llmux/llmux/internal/router"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// chatCall is one chat request on its way through the attempt loop.
type chatCall struct {
	ing     protocol.Ingress
	pt      protocol.Passthrough // the ingress protocol's passthrough, or nil
	body    []byte
	peek    protocol.Peek
	addr    *protocol.Address // what the URL says, for addressed protocols
	headers map[string]string // the client's protocol headers
	req     *llm.Request      // decoded on first need
	pooled  *[]byte           // the pooled buffer body is in, until shrink or the end
}

// shrink moves the body out of its pooled buffer into one of its own size
// and returns the pooled one, so that a long stream does not hold a 16 KB
// buffer. A decoded request may point into the buffer: then it stays.
func (c *chatCall) shrink() {
	if c.pooled == nil || c.req != nil {
		return
	}
	c.body = append([]byte(nil), c.body...)
	putBytes(c.pooled)
	c.pooled = nil
}

// release returns the pooled buffer at the end of the request.
func (c *chatCall) release() {
	if c.pooled != nil {
		putBytes(c.pooled)
		c.pooled = nil
	}
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
	if c.addr != nil {
		req.Model, req.Stream = c.addr.Model, c.addr.Stream
	}
	req.Headers = c.headers
	c.req = req
	return req, nil
}

// chatHandler serves a chat request; addr is what the URL said, for
// protocols that carry the model there.
type chatHandler func(w *responseWriter, r *http.Request, rc *reqCtx, addr *protocol.Address) error

// chat serves a chat request of protocol ing.
func (s *Server) chat(ing protocol.Ingress) chatHandler {
	pt, _ := s.reg.Passthrough(ing.ID())
	return func(w *responseWriter, r *http.Request, rc *reqCtx, addr *protocol.Address) error {
		rc.record = true
		bp, err := readBody(w, r, rc.st.maxBody)
		if err != nil {
			return err
		}
		c := &chatCall{ing: ing, pt: pt, body: *bp, addr: addr, headers: forwardHeaders(ing, r), pooled: bp}
		defer c.release()
		defer s.account(rc, c) // before the body goes back to the pool
		if err := c.peekRequest(); err != nil {
			return err
		}
		cands, err := s.candidates(w, rc, c)
		if err != nil {
			return err
		}
		return s.attempt(w, r, rc, c.peek.Model, cands, func(r *http.Request, cand router.Candidate, prov provider.Provider) (bool, error) {
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

// candidates resolves the request's model to the candidates the key may
// use, and admits the request under the key's limits. (Kept out of chat's
// handler, whose frame every held stream keeps on its stack.)
func (s *Server) candidates(w *responseWriter, rc *reqCtx, c *chatCall) ([]router.Candidate, error) {
	rc.model, rc.stream = c.peek.Model, c.peek.Stream
	cands, err := rc.st.router.Resolve(c.peek.Model)
	if err != nil {
		return nil, err
	}
	if cands, err = allowed(rc.principal, c.peek.Model, cands); err != nil {
		return nil, err
	}
	if err := s.admit(w, rc, c.decoded, cands); err != nil {
		return nil, err
	}
	return cands, nil
}

// peekRequest reads what routing needs from the request: from a peek at
// the body when the protocol has a passthrough, else from its decoding.
// (Kept out of chat's handler, whose frame every held stream keeps on its
// stack.)
func (c *chatCall) peekRequest() error {
	if c.pt == nil {
		req, err := c.decoded()
		if err != nil {
			return err
		}
		c.peek = protocol.Peek{Model: req.Model, Stream: req.Stream, StreamUsage: req.StreamUsage}
		return nil
	}
	var err error
	c.peek, err = c.pt.PeekRequest(c.body)
	if c.addr != nil {
		c.peek.Model, c.peek.Stream = c.addr.Model, c.addr.Stream
	}
	return err
}

// forwardHeaders collects the request headers that belong to the client's
// protocol, for an upstream of the same protocol.
func forwardHeaders(ing protocol.Ingress, r *http.Request) map[string]string {
	hi, ok := ing.(protocol.HeaderIngress)
	if !ok {
		return nil
	}
	var out map[string]string
	for _, name := range hi.ForwardHeaders() {
		if v := r.Header.Values(name); len(v) > 0 {
			if out == nil {
				out = make(map[string]string, 2)
			}
			out[name] = strings.Join(v, ",")
		}
	}
	return out
}

// addressed serves the routes of a protocol whose URL names the model and
// the operation (Gemini): base is the route's path, below which the
// address starts.
func (s *Server) addressed(ing protocol.Ingress, ad protocol.Addressed, base string) handler {
	chat := s.chat(ing)
	var count chatHandler
	if ci, ok := ing.(protocol.CountIngress); ok {
		count = s.count(ing, ci)
	}
	return func(w *responseWriter, r *http.Request, rc *reqCtx) error {
		path := r.URL.Path
		rest := path[strings.Index(path, base)+len(base):]
		addr, err := ad.Address(rest, r.URL.RawQuery)
		if err != nil {
			return err
		}
		switch {
		case addr.Op == protocol.OpChat:
			return chat(w, r, rc, &addr)
		case addr.Op == protocol.OpCountTokens && count != nil:
			return count(w, r, rc, &addr)
		}
		return &llm.Error{Kind: llm.KindNotFound, Code: "unknown_url",
			Message: fmt.Sprintf("Unknown request URL: %s %s.", r.Method, path)}
	}
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
