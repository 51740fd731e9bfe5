package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net"
	"net/http"
	"time"

	"github.com/llmux/llmux/internal/admin"
)

// admin wraps an admin API handler: one method ("" for any), and the admin key — a
// client key is not enough. Without an admin key configured, only loopback
// peers are served, as for the API without client keys. Errors are
// OpenAI-shaped JSON.
func (s *Server) admin(method string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := s.state.Load()
		w.Header().Set("Content-Type", "application/json")
		if method != "" && r.Method != method {
			w.Header().Set("Allow", method)
			adminError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here; use "+method+".")
			return
		}
		if !st.hasAdmin {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil || !isLoopbackHost(host) {
				adminError(w, http.StatusForbidden, "admin_disabled", "No admin key is configured; the admin API serves only this machine.")
				return
			}
			if key := clientKey(r); key != "" && s.keys.HasKeys() {
				if _, err := s.keys.Resolve(r.Context(), key); err == nil {
					adminError(w, http.StatusForbidden, "client_key", "A client key may not use the admin API.")
					return
				}
			}
		} else {
			key := clientKey(r)
			if key == "" {
				adminError(w, http.StatusUnauthorized, "missing_admin_key", "Send the admin key as 'Authorization: Bearer KEY'.")
				return
			}
			sum := sha256.Sum256([]byte(key))
			if subtle.ConstantTimeCompare(sum[:], st.adminKey[:]) != 1 {
				status := http.StatusUnauthorized
				if _, err := s.keys.Resolve(r.Context(), key); err == nil {
					status = http.StatusForbidden // a valid client key, but not the admin's
				}
				adminError(w, status, "invalid_admin_key", "This key may not use the admin API.")
				return
			}
		}
		h(w, r)
	})
}

func adminError(w http.ResponseWriter, status int, code, msg string) {
	admin.WriteError(w, status, code, "", msg)
}

// providerHealth serves GET /admin/api/health: every provider's circuit
// breaker and the state of each of its keys (by fingerprint, never the
// key).
func (s *Server) providerHealth(w http.ResponseWriter, r *http.Request) {
	json.NewEncoder(w).Encode(map[string]any{"time": time.Now().UTC(), "providers": s.health.Snapshot(time.Now())})
}

// reloadConfig serves POST /admin/api/reload: the configuration file is
// read again, as on SIGHUP.
func (s *Server) reloadConfig(w http.ResponseWriter, r *http.Request) {
	if err := s.ReloadFile(); err != nil {
		adminError(w, http.StatusUnprocessableEntity, "reload_failed", err.Error())
		return
	}
	s.log.Info("configuration reloaded", "reason", "admin API", "providers", len(s.Providers()))
	json.NewEncoder(w).Encode(map[string]any{"status": "reloaded", "providers": len(s.Providers())})
}
