package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/llmux/llmux/internal/admin"
	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/store"
)

// Providers and routes changed through the admin API are kept in the store
// as settings named settingPrefix + "providers/ID" or "routes/NAME", holding
// the JSON object as the client sent it. Every instance lays them over its
// own configuration file, and follows the store's change log to pick up
// what another instance changed.
const settingPrefix = "config/"

// runtimeConfig is the configuration's two layers: the file (or
// environment) and the overlay from the store.
type runtimeConfig struct {
	mu      sync.Mutex // serialises changes; readers use Server.state
	base    *config.Config
	overlay config.Overlay
	st      store.ConfigStore // nil: no overlay
	rev     int64             // the store revision the overlay reflects
}

// apply builds and swaps in base with overlay. The caller holds rt.mu.
func (s *Server) apply(base *config.Config, o config.Overlay) error {
	eff := base
	if len(o.Providers)+len(o.Routes) > 0 {
		var err error
		if eff, err = base.WithOverlay(o, config.Getenv); err != nil {
			return err
		}
	}
	st, err := s.build(eff)
	if err != nil {
		return err
	}
	s.rt.base, s.rt.overlay = base, o
	s.swap(st)
	return nil
}

// loadOverlay reads the overlay from the store.
func (s *Server) loadOverlay(ctx context.Context) (config.Overlay, int64, error) {
	o := config.Overlay{Providers: map[string][]byte{}, Routes: map[string][]byte{}}
	rev, err := s.rt.st.Revision(ctx)
	if err != nil {
		return o, 0, err
	}
	list, err := s.rt.st.ListSettings(ctx, settingPrefix)
	if err != nil {
		return o, 0, err
	}
	for _, set := range list {
		name := strings.TrimPrefix(set.Name, settingPrefix)
		switch kind, id, _ := strings.Cut(name, "/"); kind {
		case "providers":
			o.Providers[id] = set.Value
		case "routes":
			o.Routes[id] = set.Value
		}
	}
	return o, rev, nil
}

// FollowSettings applies the providers and routes other instances change,
// checking the store every interval until ctx ends.
func (s *Server) FollowSettings(ctx context.Context, every time.Duration) {
	if s.rt.st == nil {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.SyncSettings(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("following configuration changes failed", "error", err)
		}
	}
}

// SyncSettings applies the overlay as the store has it now, if it changed.
func (s *Server) SyncSettings(ctx context.Context) error {
	if s.rt.st == nil {
		return nil
	}
	rev, err := s.rt.st.Revision(ctx)
	if err != nil {
		return err
	}
	s.rt.mu.Lock()
	defer s.rt.mu.Unlock()
	if rev == s.rt.rev {
		return nil
	}
	changes, err := s.rt.st.Changes(ctx, s.rt.rev, 1000)
	if err != nil {
		return err
	}
	relevant := len(changes) == 0 || changes[0].Revision != s.rt.rev+1 // pruned: look anyway
	for _, c := range changes {
		if c.Kind == store.ChangeSetting && strings.HasPrefix(c.ID, settingPrefix) {
			relevant = true
		}
	}
	if !relevant {
		s.rt.rev = rev
		return nil
	}
	o, rev, err := s.loadOverlay(ctx)
	if err != nil {
		return err
	}
	if err := s.apply(s.rt.base, o); err != nil {
		s.log.Error("the configuration changed through the admin API does not apply here; keeping the running one", "error", err)
	} else {
		s.log.Info("configuration changed through the admin API applied", "providers", len(s.Providers()))
	}
	s.rt.rev = rev
	return nil
}

// configObject is one provider or route as the admin API shows it.
type configObject struct {
	ID     string `json:"id"`
	Source string `json:"source"` // "file", "environment" or "admin_api"
	// Config is the object as configured; for a provider, without keys.
	Config any `json:"config"`
	// Keys is how many API keys a provider has (never the keys).
	Keys *int `json:"api_keys,omitempty"`
}

// runtimeAPI serves GET/PUT/DELETE /admin/api/{providers,routes}[/{id}].
func (s *Server) runtimeAPI(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		switch {
		case id == "" && r.Method == http.MethodGet:
			json.NewEncoder(w).Encode(map[string]any{"data": s.configObjects(kind)})
		case id == "":
			w.Header().Set("Allow", "GET")
			adminError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here; use GET.")
		case r.Method == http.MethodGet:
			for _, o := range s.configObjects(kind) {
				if o.ID == id {
					json.NewEncoder(w).Encode(o)
					return
				}
			}
			adminError(w, http.StatusNotFound, "not_found", fmt.Sprintf("There is no %s %q.", singular(kind), id))
		case r.Method == http.MethodPut || r.Method == http.MethodDelete:
			s.changeConfig(w, r, kind, id)
		default:
			w.Header().Set("Allow", "GET, PUT, DELETE")
			adminError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here; use GET, PUT or DELETE.")
		}
	}
}

func singular(kind string) string { return strings.TrimSuffix(kind, "s") }

// changeConfig sets (PUT) or removes (DELETE) one overlay entry: checked
// by building the whole configuration with it, then stored, then applied
// here at once; other instances follow within their poll interval.
func (s *Server) changeConfig(w http.ResponseWriter, r *http.Request, kind, id string) {
	if s.rt.st == nil {
		adminError(w, http.StatusNotImplemented, "no_store", "This gateway has no database to keep run-time changes in.")
		return
	}
	var body []byte
	if r.Method == http.MethodPut {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			adminError(w, http.StatusRequestEntityTooLarge, "request_too_large", "The body is over 1 MiB.")
			return
		}
		if !json.Valid(body) {
			admin.WriteError(w, http.StatusBadRequest, "invalid_json", kind+"."+id, "The body is not valid JSON.")
			return
		}
	}
	status, param, code, msg := s.setOverlay(r.Context(), kind, id, body)
	if status != 0 {
		admin.WriteError(w, status, code, param, msg)
		return
	}
	s.log.Info("configuration changed through the admin API", "kind", singular(kind), "id", id, "deleted", body == nil)
	if body == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	for _, obj := range s.configObjects(kind) {
		if obj.ID == id {
			json.NewEncoder(w).Encode(obj)
			return
		}
	}
}

// setOverlay sets or (with a nil body) removes one overlay entry, applies
// and stores it. A refusal comes back as a status, field, code and message.
func (s *Server) setOverlay(ctx context.Context, kind, id string, body []byte) (status int, param, code, msg string) {
	s.rt.mu.Lock()
	defer s.rt.mu.Unlock()
	o := config.Overlay{Providers: cloneBytesMap(s.rt.overlay.Providers), Routes: cloneBytesMap(s.rt.overlay.Routes)}
	m := o.Providers
	if kind == "routes" {
		m = o.Routes
	}
	if body == nil {
		if _, ok := m[id]; !ok {
			if s.inBase(kind, id) {
				return http.StatusConflict, "", "defined_in_file",
					fmt.Sprintf("The %s %q comes from the configuration file; change it there, or override it with PUT.", singular(kind), id)
			}
			return http.StatusNotFound, "", "not_found", fmt.Sprintf("There is no %s %q set through the admin API.", singular(kind), id)
		}
		delete(m, id)
	} else {
		m[id] = body
	}
	if err := s.apply(s.rt.base, o); err != nil {
		var errs config.Errors
		if errors.As(err, &errs) && len(errs) > 0 {
			return http.StatusBadRequest, errs[0].Path, "invalid_config", err.Error()
		}
		return http.StatusBadRequest, "", "invalid_config", err.Error()
	}
	name := settingPrefix + kind + "/" + id
	var err error
	if body == nil {
		err = s.rt.st.DeleteSetting(ctx, name, store.AnyRevision)
	} else {
		_, err = s.rt.st.PutSetting(ctx, name, body, store.AnyRevision)
	}
	if err != nil {
		s.log.Error("storing a configuration change failed", "setting", name, "error", err)
		return http.StatusServiceUnavailable, "", "store_failed",
			"The change could not be stored; it applies to this instance only until its next reload."
	}
	return 0, "", "", ""
}

func (s *Server) inBase(kind, id string) bool {
	if kind == "routes" {
		_, ok := s.rt.base.Routes[id]
		return ok
	}
	_, ok := s.rt.base.Providers[id]
	return ok
}

// configObjects lists the providers or routes in effect, without secrets.
func (s *Server) configObjects(kind string) []configObject {
	st := s.state.Load()
	s.rt.mu.Lock()
	overlay := s.rt.overlay
	s.rt.mu.Unlock()
	source := func(inOverlay bool) string {
		switch {
		case inOverlay:
			return "admin_api"
		case st.cfg.File == "":
			return "environment"
		}
		return "file"
	}
	var out []configObject
	if kind == "routes" {
		for name, r := range st.cfg.Routes {
			_, o := overlay.Routes[name]
			out = append(out, configObject{ID: name, Source: source(o), Config: routeView(r)})
		}
	} else {
		for id, p := range st.cfg.Providers {
			_, o := overlay.Providers[id]
			n := len(p.Keys())
			view := map[string]any{"type": p.Type, "base_url": p.BaseURL, "models": p.Models.Upstream}
			out = append(out, configObject{ID: id, Source: source(o), Config: view, Keys: &n})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func routeView(r *config.Route) map[string]any {
	targets := make([]map[string]any, len(r.Targets))
	for i, t := range r.Targets {
		w := 1
		if t.Weight != nil {
			w = *t.Weight
		}
		targets[i] = map[string]any{"model": t.Model, "weight": w, "priority": t.Priority}
	}
	v := map[string]any{"targets": targets, "fallbacks": r.Fallbacks}
	if r.ContextFallback != "" {
		v["context_fallback"] = r.ContextFallback
	}
	if r.ContentFilterFallback != "" {
		v["content_filter_fallback"] = r.ContentFilterFallback
	}
	if r.MaxAttempts > 0 {
		v["max_attempts"] = r.MaxAttempts
	}
	if r.Timeout > 0 {
		v["timeout"] = r.Timeout.Std().String()
	}
	return v
}

func cloneBytesMap(m map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}
