package gateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/llmux/llmux/internal/provider"
	"github.com/llmux/llmux/internal/router"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// embeddings serves an embeddings request: decoded, routed, and sent to
// the first candidate that computes embeddings.
func (s *Server) embeddings(ing protocol.Ingress, ei protocol.EmbeddingIngress) handler {
	return func(w *responseWriter, r *http.Request, rc *reqCtx) error {
		rc.record = true
		bp, err := readBody(w, r, rc.st.maxBody)
		if err != nil {
			return err
		}
		defer putBytes(bp)
		req, err := ei.DecodeEmbeddingRequest(*bp)
		if err != nil {
			return err
		}
		rc.model = req.Model
		cands, err := rc.st.router.Resolve(req.Model)
		if err != nil {
			return err
		}
		if cands, err = allowed(rc.principal, req.Model, cands); err != nil {
			return err
		}
		if err := s.admit(w, rc, nil, cands); err != nil {
			return err
		}
		return s.attempt(w, r, rc, req.Model, cands, func(r *http.Request, c router.Candidate, prov provider.Provider) (bool, error) {
			emb, ok := prov.(provider.Embedder)
			if !ok {
				return false, llm.InvalidParam("model", "The model `%s` does not support embeddings.", req.Model)
			}
			resp, err := emb.Embed(r.Context(), req, c.Model)
			if err != nil {
				return false, err
			}
			rc.usage, rc.hasUsage = resp.Usage, true
			return writeEncoded(w, rc, func(buf io.Writer) error { return ei.EncodeEmbeddingResponse(buf, req, resp) })
		})
	}
}

// listModels lists every model name a client may use: routes, configured
// provider models, unambiguous bare names, and, for providers configured
// without a model list, what their upstream lists (cached).
func (s *Server) listModels(ml protocol.ModelListIngress) handler {
	return func(w *responseWriter, r *http.Request, rc *reqCtx) error {
		models := rc.st.router.Models()
		ids := make([]string, 0, len(rc.st.providers))
		for id := range rc.st.providers {
			if rc.st.router.Wildcard(id) {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		for _, id := range ids {
			lister, ok := rc.st.providers[id].(provider.ModelLister)
			if !ok {
				continue
			}
			for _, m := range rc.st.models.get(r.Context(), s, id, lister) {
				models = append(models, llm.Model{ID: id + "/" + m.ID, OwnedBy: id, Created: m.Created})
			}
		}
		models = allowedModels(rc, models)
		var buf bytes.Buffer
		if err := ml.EncodeModels(&buf, models); err != nil {
			return &llm.Error{Kind: llm.KindInternal, Message: "encoding the model list failed", Cause: err}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(buf.Bytes())
		return nil
	}
}

// modelCache keeps upstream model lists for a while; a failed listing is
// retried sooner.
type modelCache struct {
	mu      sync.Mutex
	entries map[string]*modelEntry
}

type modelEntry struct {
	mu      sync.Mutex
	models  []llm.Model
	expires time.Time
}

const (
	modelListTTL      = 10 * time.Minute
	modelListRetryTTL = 30 * time.Second
	modelListTimeout  = 5 * time.Second
)

func (c *modelCache) get(ctx context.Context, s *Server, id string, lister provider.ModelLister) []llm.Model {
	c.mu.Lock()
	e := c.entries[id]
	if e == nil {
		e = &modelEntry{}
		c.entries[id] = e
	}
	c.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if time.Now().Before(e.expires) {
		return e.models
	}
	ctx, cancel := context.WithTimeout(ctx, modelListTimeout)
	defer cancel()
	models, err := lister.ListModels(ctx)
	if err != nil {
		s.log.Warn("listing upstream models failed", "provider", id, "error", llm.AsError(err).Message)
		e.expires = time.Now().Add(modelListRetryTTL)
		return e.models
	}
	e.models, e.expires = models, time.Now().Add(modelListTTL)
	return models
}

// allowedModels keeps the models a key with an allow-list may use: those it
// names, and the aliases that lead to a candidate it may use.
func allowedModels(rc *reqCtx, models []llm.Model) []llm.Model {
	p := rc.principal
	if p == nil || !p.Restricted() {
		return models
	}
	kept := models[:0]
	for _, m := range models {
		if !p.Allows(m.ID) {
			cands, err := rc.st.router.Resolve(m.ID)
			if err != nil {
				continue
			}
			if cands, _ = allowed(p, m.ID, cands); len(cands) == 0 {
				continue
			}
		}
		kept = append(kept, m)
	}
	return kept
}
