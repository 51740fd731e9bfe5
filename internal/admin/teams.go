package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/llmux/llmux/internal/limits"
	"github.com/llmux/llmux/internal/store"
)

// teamFields are the members a team's POST or PATCH body may have.
var teamFields = []string{"name", "rpm", "tpm", "max_concurrent", "budget_usd", "budget_period", "enabled", "metadata"}

// createTeam serves POST /admin/api/teams.
func (a *api) createTeam(w http.ResponseWriter, r *http.Request) error {
	if _, err := params(r, nil); err != nil {
		return err
	}
	o, err := readObject(w, r, teamFields)
	if err != nil {
		return err
	}
	t := store.Team{Enabled: true}
	if err := applyTeam(o, &t); err != nil {
		return err
	}
	created, err := a.store.CreateTeam(r.Context(), t)
	if err != nil {
		return nameTaken(err, t.Name)
	}
	t = created
	a.log.Info("team created", "id", t.ID, "name", t.Name)
	setETag(w, t.Revision)
	w.Header().Set("Location", Prefix+"teams/"+t.ID)
	return writeJSON(w, http.StatusCreated, viewTeam(t))
}

// listTeams serves GET /admin/api/teams.
func (a *api) listTeams(w http.ResponseWriter, r *http.Request) error {
	if _, err := params(r, nil); err != nil {
		return err
	}
	list, err := a.store.ListTeams(r.Context())
	if err != nil {
		return err
	}
	out := make([]teamView, len(list))
	for i, t := range list {
		out[i] = viewTeam(t)
		out[i].Spend = a.spend(r.Context(), limits.KindTeam, t.ID, t.Limits)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"teams": out})
}

// getTeam serves GET /admin/api/teams/{id}; the path may name the team by id
// or by name.
func (a *api) getTeam(w http.ResponseWriter, r *http.Request) error {
	if _, err := params(r, nil); err != nil {
		return err
	}
	t, err := a.findTeam(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	v := viewTeam(t)
	v.Spend = a.spend(r.Context(), limits.KindTeam, t.ID, t.Limits)
	setETag(w, t.Revision)
	return writeJSON(w, http.StatusOK, v)
}

// patchTeam serves PATCH /admin/api/teams/{id}, as patchKey does for keys.
func (a *api) patchTeam(w http.ResponseWriter, r *http.Request) error {
	if _, err := params(r, nil); err != nil {
		return err
	}
	pre, err := ifMatch(r)
	if err != nil {
		return err
	}
	o, err := readObject(w, r, teamFields)
	if err != nil {
		return err
	}
	for try := 1; ; try++ {
		cur, err := a.findTeam(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		if err := pre.check("team", cur.Revision); err != nil {
			return err
		}
		if len(o) == 0 {
			setETag(w, cur.Revision)
			return writeJSON(w, http.StatusOK, viewTeam(cur))
		}
		t := cur
		if err := applyTeam(o, &t); err != nil {
			return err
		}
		out, err := a.store.UpdateTeam(r.Context(), t)
		if errors.Is(err, store.ErrConflict) {
			// Another write came first, or the new name is taken: only a
			// changed revision tells them apart.
			if now, rerr := a.store.GetTeam(r.Context(), cur.ID); rerr == nil && now.Revision != cur.Revision {
				if try < maxUpdateTries {
					continue // read again: with If-Match that answers 412
				}
				return err
			}
			return nameTaken(err, t.Name)
		}
		if err != nil {
			return err
		}
		a.log.Info("team updated", "id", out.ID, "revision", out.Revision)
		setETag(w, out.Revision)
		return writeJSON(w, http.StatusOK, viewTeam(out))
	}
}

// deleteTeam serves DELETE /admin/api/teams/{id}. A team that keys still
// name (revoked ones too) is not deleted: 409.
func (a *api) deleteTeam(w http.ResponseWriter, r *http.Request) error {
	if _, err := params(r, nil); err != nil {
		return err
	}
	t, err := a.findTeam(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	err = a.store.DeleteTeam(r.Context(), t.ID)
	if errors.Is(err, store.ErrConflict) {
		msg := fmt.Sprintf("Team %q still has keys", t.Name)
		if list, lerr := a.store.ListKeys(r.Context(), store.KeyFilter{TeamID: t.ID, IncludeRevoked: true}); lerr == nil {
			msg = fmt.Sprintf("Team %q still has %d keys", t.Name, len(list))
		}
		return &apiError{Status: http.StatusConflict, Code: "team_has_keys", Err: err,
			Message: msg + " (revoked ones count too): move them to another team or delete them (DELETE /admin/api/keys/{id}?purge=true) first."}
	}
	if err != nil {
		return notFound(err, "team", t.ID)
	}
	a.log.Info("team deleted", "id", t.ID, "name", t.Name)
	return writeJSON(w, http.StatusOK, deletedView{ID: t.ID, Deleted: true})
}

// applyTeam sets the fields o has on t, as applyKey does for keys.
func applyTeam(o object, t *store.Team) error {
	if err := o.text("name", &t.Name, false); err != nil {
		return err
	}
	if err := applyLimits(o, &t.Limits); err != nil {
		return err
	}
	if err := o.boolean("enabled", &t.Enabled); err != nil {
		return err
	}
	if err := o.labels("metadata", &t.Metadata); err != nil {
		return err
	}
	return t.Validate()
}

// nameTaken words the store's ErrConflict on writing a team.
func nameTaken(err error, name string) error {
	if errors.Is(err, store.ErrConflict) {
		return &apiError{Status: http.StatusConflict, Code: "conflict", Param: "name",
			Message: fmt.Sprintf("name: a team named %q exists.", name), Err: err}
	}
	return err
}

// findTeam reads the team with this id or, failing that, this name; 404
// when there is neither. An id wins over another team's equal name.
func (a *api) findTeam(ctx context.Context, ref string) (store.Team, error) {
	t, err := a.store.GetTeam(ctx, ref)
	if !errors.Is(err, store.ErrNotFound) {
		return t, err
	}
	list, err := a.store.ListTeams(ctx)
	if err != nil {
		return store.Team{}, err
	}
	for _, t := range list {
		if t.Name == ref {
			return t, nil
		}
	}
	return store.Team{}, &apiError{Status: http.StatusNotFound, Code: "not_found",
		Message: fmt.Sprintf("There is no team with the id or name %q.", hideSecret(ref))}
}

// teamID resolves a team id or name given in a body or a query to the id;
// "" stays "" (no team). An unknown team is a 400 naming team.
func (a *api) teamID(ctx context.Context, ref string) (string, error) {
	if ref == "" {
		return "", nil
	}
	t, err := a.findTeam(ctx, ref)
	var e *apiError
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return "", invalid("team", "there is no team with the id or name %q", hideSecret(ref))
	}
	return t.ID, err
}
