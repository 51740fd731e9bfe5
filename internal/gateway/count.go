package gateway

import (
	"errors"
	"io"
	"net/http"

	"github.com/llmux/llmux/internal/provider"
	"github.com/llmux/llmux/internal/router"
	"github.com/llmux/llmux/internal/tokens"
	"github.com/llmux/llmux/internal/version"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// estimatedHeader marks a token count made by the gateway's own tokenizer
// rather than by the upstream.
const estimatedHeader = "X-Llmux-Tokens-Estimated"

// count serves a token-counting request: the first candidate whose upstream
// counts tokens does; otherwise the gateway estimates with its tokenizer
// and says so in a header.
func (s *Server) count(ing protocol.Ingress, ci protocol.CountIngress) chatHandler {
	return func(w *responseWriter, r *http.Request, rc *reqCtx, addr *protocol.Address) error {
		bp, err := readBody(w, r, rc.st.maxBody)
		if err != nil {
			return err
		}
		defer putBytes(bp)
		req, err := ci.DecodeCountRequest(*bp)
		if err != nil {
			return err
		}
		if addr != nil {
			req.Model = addr.Model
		}
		req.Headers = forwardHeaders(ing, r)
		rc.model = req.Model
		cands, err := rc.st.router.Resolve(req.Model)
		if err != nil {
			return err
		}
		return s.attempt(w, r, rc, req.Model, cands, func(r *http.Request, c router.Candidate, prov provider.Provider) (bool, error) {
			n, estimated := 0, true
			if counter, ok := prov.(provider.Counter); ok {
				var err error
				n, err = counter.CountTokens(r.Context(), &provider.Call{Request: req, Model: c.Model})
				switch {
				case err == nil:
					estimated = false
				case !errors.Is(err, provider.ErrCannotCount):
					return false, err
				}
			}
			if estimated {
				n = tokens.Request(req)
				w.Header().Set(estimatedHeader, "true")
			}
			return writeEncoded(w, rc, func(buf io.Writer) error { return ci.EncodeCount(buf, n) })
		})
	}
}

// show serves a model description (Ollama /api/show) for any model name the
// router resolves.
func (s *Server) show(si protocol.ShowIngress) handler {
	return func(w *responseWriter, r *http.Request, rc *reqCtx) error {
		bp, err := readBody(w, r, rc.st.maxBody)
		if err != nil {
			return err
		}
		defer putBytes(bp)
		model, err := si.DecodeShowRequest(*bp)
		if err != nil {
			return err
		}
		rc.model = model
		cands, err := rc.st.router.Resolve(model)
		if err != nil {
			return err
		}
		m := llm.Model{ID: model, OwnedBy: cands[0].Provider}
		return writeJSON(w, func(buf io.Writer) error { return si.EncodeShow(buf, m) })
	}
}

// version serves the protocol's version endpoint with the gateway's
// version.
func (s *Server) version(vi protocol.VersionIngress) handler {
	return func(w *responseWriter, r *http.Request, rc *reqCtx) error {
		v := version.Version
		if v == "" {
			v = "0.0.0"
		}
		return writeJSON(w, func(buf io.Writer) error { return vi.EncodeVersion(buf, v) })
	}
}
