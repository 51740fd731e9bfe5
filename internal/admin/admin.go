// Package admin is the admin HTTP API of llmux: virtual keys and teams
// (create, list, read, merge-patch, revoke, delete), usage aggregates and the
// request log, all as JSON under /admin/api/ (README.md lists every path and
// shape). It validates what it is sent strictly, answers every bad input
// with a 400 naming the field, and shows a key's raw secret exactly once: in
// the answer that creates it.
//
// It talks to the store through store.Store and to the limiter through
// limits.Limiter, and issues secrets with internal/keys. It does not
// authenticate: the gateway wraps New's handler with its admin-key check.
// It must not import the gateway, providers, protocols or the router, nor a
// store implementation (imports_test.go enforces it); internal/keys must
// not import this package (it imports internal/keys) and takes the pattern
// syntax from internal/glob instead.
package admin

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/llmux/llmux/internal/limits"
	"github.com/llmux/llmux/internal/store"
)

// Prefix is where the gateway mounts the handler; New's handler sees the
// full path.
const Prefix = "/admin/api/"

// Options configure New.
type Options struct {
	// Store keeps the keys, teams and usage records. Required.
	Store store.Store
	// Limiter, when set, adds each key's and team's current spend (for its
	// budget period, or the total when it has no budget) to the answers of
	// GET requests. Nil leaves "spend" out.
	Limiter limits.Limiter
	// Now is the clock that decides whether an expires_at lies in the past;
	// nil means time.Now.
	Now func() time.Time
	// Logger receives internal errors and key changes (never a secret); nil
	// discards them.
	Logger *slog.Logger
}

// api is the handler New returns.
type api struct {
	store   store.Store
	limiter limits.Limiter
	now     func() time.Time
	log     *slog.Logger
	mux     *http.ServeMux
}

// New returns the handler of the admin API. It panics without a Store, as
// that is a wiring mistake. Paths under Prefix that name nothing answer 404,
// known paths with another method 405 with an Allow header, both as JSON.
func New(o Options) http.Handler {
	if o.Store == nil {
		panic("admin: New without a Store")
	}
	a := &api{store: o.Store, limiter: o.Limiter, now: o.Now, log: o.Logger, mux: http.NewServeMux()}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	routes := []struct {
		pattern string
		h       handlerFunc
	}{
		{"POST /admin/api/keys", a.createKey},
		{"GET /admin/api/keys", a.listKeys},
		{"GET /admin/api/keys/{id}", a.getKey},
		{"PATCH /admin/api/keys/{id}", a.patchKey},
		{"DELETE /admin/api/keys/{id}", a.deleteKey},
		{"POST /admin/api/teams", a.createTeam},
		{"GET /admin/api/teams", a.listTeams},
		{"GET /admin/api/teams/{id}", a.getTeam},
		{"PATCH /admin/api/teams/{id}", a.patchTeam},
		{"DELETE /admin/api/teams/{id}", a.deleteTeam},
		{"GET /admin/api/usage", a.usage},
		{"GET /admin/api/logs", a.logs},
	}
	for _, rt := range routes {
		a.mux.Handle(rt.pattern, a.serve(rt.h))
	}
	return a
}

// handlerFunc is an endpoint: it writes a successful answer or returns an
// error for ServeHTTP's one renderer (writeError).
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (a *api) serve(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// ServeHTTP routes r. The mux's own 404 and 405 answers are plain text, so
// an unmatched request is run against a recorder and answered in JSON.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if h, pattern := a.mux.Handler(r); pattern == "" {
		rec := &recorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		if rec.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", rec.header.Get("Allow"))
			a.writeError(w, r, &apiError{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
				Message: r.Method + " is not allowed here; allowed: " + rec.header.Get("Allow") + "."})
			return
		}
		a.writeError(w, r, &apiError{Status: http.StatusNotFound, Code: "unknown_path",
			Message: "There is no admin API at " + hideSecret(r.URL.Path) + "."})
		return
	}
	a.mux.ServeHTTP(w, r)
}

// recorder keeps the status and headers of the mux's answer to an unmatched
// request and drops its body.
type recorder struct {
	header http.Header
	status int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

// writeJSON answers with v as JSON. Only a value that cannot be encoded
// is an error (a bug, answered 500); a failed write means the client left.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("admin: encoding the answer: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
	return nil
}

var _ http.Handler = (*api)(nil)
