package admin_test

import (
	"fmt"
	"testing"

	"github.com/llmux/llmux/internal/store"
)

// TestTeams: create, read by id or name, patch, list, and delete only once
// no key names the team.
func TestTeams(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		e := newEnv(t, s)
		created := e.ok(201, "POST", "/admin/api/teams", `{"name":"research","rpm":100,"budget_usd":50,"budget_period":"monthly","metadata":{"cc":"42"}}`)
		tm := created.body
		id := str(tm["id"])
		if len(id) < 6 || id[:5] != "team_" || tm["name"] != "research" || num(tm["rpm"]) != 100 || num(tm["budget_usd"]) != 50 ||
			str(tm["budget_period"]) != "monthly" || tm["enabled"] != true || fmt.Sprint(tm["metadata"]) != "map[cc:42]" || num(tm["revision"]) < 1 {
			t.Fatalf("created: %s", created.raw)
		}
		if created.header.Get("Location") != "/admin/api/teams/"+id {
			t.Errorf("Location: %q", created.header.Get("Location"))
		}
		e.fails(409, "name", `a team named "research" exists`, "POST", "/admin/api/teams", `{"name":"research"}`)

		for _, ref := range []string{id, "research"} {
			got := e.ok(200, "GET", "/admin/api/teams/"+ref, "").body
			if got["id"] != id {
				t.Errorf("GET %s: %v", ref, got)
			}
		}
		e.fails(404, "", "no team", "GET", "/admin/api/teams/nobody", "")

		p := e.ok(200, "PATCH", "/admin/api/teams/research", `{"name":"lab","enabled":false,"budget_usd":null}`).body
		if p["name"] != "lab" || p["enabled"] != false || p["budget_period"] != nil || num(p["rpm"]) != 100 {
			t.Errorf("patched: %v", p)
		}
		e.ok(201, "POST", "/admin/api/teams", `{"name":"other"}`)
		e.fails(409, "name", `a team named "other" exists`, "PATCH", "/admin/api/teams/lab", `{"name":"other"}`)
		list := e.ok(200, "GET", "/admin/api/teams", "").body["teams"].([]any)
		if len(list) != 2 || list[0].(map[string]any)["name"] != "lab" {
			t.Errorf("list: %v", list)
		}

		key := str(e.ok(201, "POST", "/admin/api/keys", `{"name":"k","team":"lab"}`).body["id"])
		e.ok(200, "DELETE", "/admin/api/keys/"+key, "") // revoked keys still hold the team
		e.fails(409, "", `Team "lab" still has 1 keys`, "DELETE", "/admin/api/teams/lab", "")
		e.ok(200, "DELETE", "/admin/api/keys/"+key+"?purge=true", "")
		del := e.ok(200, "DELETE", "/admin/api/teams/lab", "").body
		if del["id"] != id || del["deleted"] != true {
			t.Errorf("deleted: %v", del)
		}
		e.fails(404, "", "no team", "GET", "/admin/api/teams/"+id, "")
		e.fails(404, "", "no team", "DELETE", "/admin/api/teams/"+id, "")
		e.fails(404, "", "no team", "PATCH", "/admin/api/teams/lab", `{"rpm":1}`)
	})
}
