package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/llmux/llmux/internal/glob"
	"github.com/llmux/llmux/internal/keys"
	"github.com/llmux/llmux/internal/limits"
	"github.com/llmux/llmux/internal/store"
)

// keyFields are the members a key's POST or PATCH body may have.
var keyFields = []string{"name", "team", "models", "rpm", "tpm", "max_concurrent", "budget_usd",
	"budget_period", "expires_at", "enabled", "metadata"}

// maxUpdateTries bounds the read-modify-write rounds of a PATCH without
// If-Match that keeps losing races with other writers.
const maxUpdateTries = 3

// createKey serves POST /admin/api/keys.
func (a *api) createKey(w http.ResponseWriter, r *http.Request) error {
	if _, err := params(r, nil); err != nil {
		return err
	}
	o, err := readObject(w, r, keyFields)
	if err != nil {
		return err
	}
	k := store.VirtualKey{Enabled: true}
	if err := a.applyKey(r.Context(), o, &k); err != nil {
		return err
	}
	secret := keys.NewSecret()
	k.Hash, k.Prefix = secret.Hash, secret.Prefix
	created, err := a.store.CreateKey(r.Context(), k)
	switch {
	case errors.Is(err, store.ErrNotFound) && k.TeamID != "":
		return invalid("team", "the team was deleted meanwhile")
	case err != nil:
		return err
	}
	k = created
	a.log.Info("virtual key created", "id", k.ID, "name", k.Name, "prefix", k.Prefix, "team", k.TeamID)
	v := viewKey(k)
	v.Key = secret.Raw
	setETag(w, k.Revision)
	w.Header().Set("Location", Prefix+"keys/"+k.ID)
	return writeJSON(w, http.StatusCreated, v)
}

// listKeys serves GET /admin/api/keys?team=&include_revoked=.
func (a *api) listKeys(w http.ResponseWriter, r *http.Request) error {
	q, err := params(r, []string{"team", "include_revoked"})
	if err != nil {
		return err
	}
	var f store.KeyFilter
	if f.IncludeRevoked, err = flag(q, "include_revoked"); err != nil {
		return err
	}
	if q.Has("team") {
		if q.Get("team") == "" {
			return invalid("team", "must name a team")
		}
		if f.TeamID, err = a.teamID(r.Context(), q.Get("team")); err != nil {
			return err
		}
	}
	list, err := a.store.ListKeys(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]keyView, len(list))
	for i, k := range list {
		out[i] = viewKey(k)
		out[i].Spend = a.spend(r.Context(), limits.KindKey, k.ID, k.Limits)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"keys": out})
}

// getKey serves GET /admin/api/keys/{id}.
func (a *api) getKey(w http.ResponseWriter, r *http.Request) error {
	if _, err := params(r, nil); err != nil {
		return err
	}
	k, err := a.key(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	v := viewKey(k)
	v.Spend = a.spend(r.Context(), limits.KindKey, k.ID, k.Limits)
	setETag(w, k.Revision)
	return writeJSON(w, http.StatusOK, v)
}

// patchKey serves PATCH /admin/api/keys/{id}: a JSON merge-patch (RFC
// 7386) of the key's fields, checked against If-Match when given.
func (a *api) patchKey(w http.ResponseWriter, r *http.Request) error {
	if _, err := params(r, nil); err != nil {
		return err
	}
	pre, err := ifMatch(r)
	if err != nil {
		return err
	}
	o, err := readObject(w, r, keyFields)
	if err != nil {
		return err
	}
	for try := 1; ; try++ {
		cur, err := a.key(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		if err := pre.check("key", cur.Revision); err != nil {
			return err
		}
		if len(o) == 0 {
			setETag(w, cur.Revision)
			return writeJSON(w, http.StatusOK, viewKey(cur))
		}
		k := cur
		if err := a.applyKey(r.Context(), o, &k); err != nil {
			return err
		}
		k.Revision = cur.Revision // the store refuses the write if another came first
		out, err := a.store.UpdateKey(r.Context(), k)
		switch {
		case errors.Is(err, store.ErrConflict) && try < maxUpdateTries:
			continue // read again: with If-Match that answers 412
		case errors.Is(err, store.ErrNotFound) && k.TeamID != "":
			return invalid("team", "the team was deleted meanwhile")
		case err != nil:
			return err
		}
		a.log.Info("virtual key updated", "id", out.ID, "revision", out.Revision)
		setETag(w, out.Revision)
		return writeJSON(w, http.StatusOK, viewKey(out))
	}
}

// deleteKey serves DELETE /admin/api/keys/{id}: it revokes the key and
// answers with it, or with ?purge=true deletes the row (its usage records
// stay).
func (a *api) deleteKey(w http.ResponseWriter, r *http.Request) error {
	q, err := params(r, []string{"purge"})
	if err != nil {
		return err
	}
	purge, err := flag(q, "purge")
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if purge {
		if err := a.store.DeleteKey(r.Context(), id); err != nil {
			return notFound(err, "key", id)
		}
		a.log.Info("virtual key deleted", "id", id)
		return writeJSON(w, http.StatusOK, deletedView{ID: id, Deleted: true})
	}
	k, err := a.store.RevokeKey(r.Context(), id)
	if err != nil {
		return notFound(err, "key", id)
	}
	a.log.Info("virtual key revoked", "id", k.ID)
	setETag(w, k.Revision)
	return writeJSON(w, http.StatusOK, viewKey(k))
}

// key reads a key, answering 404 when there is none.
func (a *api) key(ctx context.Context, id string) (store.VirtualKey, error) {
	k, err := a.store.GetKey(ctx, id)
	return k, notFound(err, "key", id)
}

// notFound words the store's ErrNotFound about a thing in the path.
func notFound(err error, what, id string) error {
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	msg := fmt.Sprintf("There is no %s %q.", what, id)
	if hidden := hideSecret(id); hidden != id {
		msg = fmt.Sprintf("There is no %s %q: this looks like a key's secret; the path takes its id (key_…).", what, hidden)
	}
	return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: msg, Err: err}
}

// applyKey sets the fields o has on k: absent members leave a field as it
// is, null clears it (see applyLimits for budgets), and a key is checked as
// the store would check it.
func (a *api) applyKey(ctx context.Context, o object, k *store.VirtualKey) error {
	if err := o.text("name", &k.Name, false); err != nil {
		return err
	}
	if err := o.list("models", &k.Models); err != nil {
		return err
	}
	if o.has("models") {
		for i, m := range k.Models {
			if err := glob.Valid(m); err != nil {
				return invalid(fmt.Sprintf("models[%d]", i), "%v", err)
			}
		}
	}
	if err := applyLimits(o, &k.Limits); err != nil {
		return err
	}
	if o.has("expires_at") {
		var s string
		if err := o.text("expires_at", &s, true); err != nil {
			return err
		}
		k.ExpiresAt = time.Time{}
		if s != "" {
			t, err := parseTime("expires_at", s, false)
			if err != nil {
				return err
			}
			if !t.After(a.now()) {
				return invalid("expires_at", "%s is in the past", t.Format("2006-01-02T15:04:05Z07:00"))
			}
			k.ExpiresAt = t
		}
	}
	if err := o.boolean("enabled", &k.Enabled); err != nil {
		return err
	}
	if err := o.labels("metadata", &k.Metadata); err != nil {
		return err
	}
	if err := k.Validate(); err != nil {
		return err
	}
	if o.has("team") {
		var ref string
		if err := o.text("team", &ref, true); err != nil {
			return err
		}
		id, err := a.teamID(ctx, ref)
		if err != nil {
			return err
		}
		k.TeamID = id
	}
	return nil
}
