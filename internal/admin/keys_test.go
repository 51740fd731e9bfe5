package admin_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/keys"
	"github.com/llmux/llmux/internal/store"
)

// TestKeyLifecycle: create (the raw key appears once and only its hash is
// stored), read, list, patch, revoke and purge.
func TestKeyLifecycle(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		e := newEnv(t, s)
		team := e.ok(201, "POST", "/admin/api/teams", `{"name":"research"}`).body
		expires := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)

		created := e.ok(201, "POST", "/admin/api/keys", `{"name":"ci bot","team":"research","models":["openai/*","claude/sonnet"],
			"rpm":60,"tpm":100000,"max_concurrent":4,"budget_usd":25.5,"budget_period":"monthly",
			"expires_at":"`+expires+`","metadata":{"owner":"ana"}}`)
		k := created.body
		raw := str(k["key"])
		id := str(k["id"])
		if !strings.HasPrefix(raw, keys.SecretPrefix) || !strings.HasPrefix(id, "key_") {
			t.Fatalf("created key: %s", created.raw)
		}
		if str(k["prefix"]) != keys.DisplayPrefix(raw) || !strings.HasPrefix(raw, strings.TrimSuffix(str(k["prefix"]), "…")) {
			t.Errorf("prefix %q for key %q", k["prefix"], raw)
		}
		if str(k["team"]) != str(team["id"]) {
			t.Errorf("team %v, want the id %v (given by name)", k["team"], team["id"])
		}
		if k["enabled"] != true || num(k["rpm"]) != 60 || num(k["tpm"]) != 100000 || num(k["max_concurrent"]) != 4 ||
			num(k["budget_usd"]) != 25.5 || str(k["budget_period"]) != "monthly" || str(k["expires_at"]) != expires ||
			k["revoked_at"] != nil || num(k["revision"]) < 1 || str(k["created_at"]) == "" || str(k["updated_at"]) == "" {
			t.Errorf("created key: %s", created.raw)
		}
		if fmt.Sprint(k["models"]) != "[openai/* claude/sonnet]" || fmt.Sprint(k["metadata"]) != "map[owner:ana]" {
			t.Errorf("models/metadata: %s", created.raw)
		}
		if created.header.Get("Location") != "/admin/api/keys/"+id || created.header.Get("ETag") != fmt.Sprintf(`"%d"`, int(num(k["revision"]))) {
			t.Errorf("headers: %v", created.header)
		}
		if created.header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control: %q", created.header.Get("Cache-Control"))
		}
		stored, err := s.GetKeyByHash(t.Context(), store.HashKey(raw))
		if err != nil || stored.ID != id || stored.Hash != store.HashKey(raw) || stored.Prefix != str(k["prefix"]) {
			t.Fatalf("stored key: %+v, %v", stored, err)
		}

		got := e.ok(200, "GET", "/admin/api/keys/"+id, "")
		if _, has := got.body["key"]; has {
			t.Errorf("GET shows the key: %s", got.raw)
		}
		if got.body["name"] != "ci bot" || got.header.Get("ETag") == "" {
			t.Errorf("GET: %s", got.raw)
		}
		other := e.ok(201, "POST", "/admin/api/keys", `{"name":"other"}`).body
		if other["team"] != nil || other["budget_period"] != nil || other["expires_at"] != nil ||
			fmt.Sprint(other["models"]) != "[]" || fmt.Sprint(other["metadata"]) != "map[]" || other["enabled"] != true {
			t.Errorf("defaults: %v", other)
		}
		list := e.ok(200, "GET", "/admin/api/keys", "").body["keys"].([]any)
		if len(list) != 2 || str(list[0].(map[string]any)["id"]) != id {
			t.Fatalf("list: %v", list)
		}
		byTeam := e.ok(200, "GET", "/admin/api/keys?team=research", "").body["keys"].([]any)
		if len(byTeam) != 1 {
			t.Errorf("list by team name: %v", byTeam)
		}
		byTeam = e.ok(200, "GET", "/admin/api/keys?team="+str(team["id"]), "").body["keys"].([]any)
		if len(byTeam) != 1 {
			t.Errorf("list by team id: %v", byTeam)
		}

		patched := e.ok(200, "PATCH", "/admin/api/keys/"+id, `{"name":"ci","models":["gpt-*"],"rpm":null,"enabled":false}`).body
		if patched["name"] != "ci" || fmt.Sprint(patched["models"]) != "[gpt-*]" || num(patched["rpm"]) != 0 ||
			patched["enabled"] != false || num(patched["tpm"]) != 100000 || str(patched["team"]) != str(team["id"]) ||
			num(patched["revision"]) <= num(k["revision"]) {
			t.Errorf("patched: %v", patched)
		}

		revoked := e.ok(200, "DELETE", "/admin/api/keys/"+id, "").body
		if revoked["revoked_at"] == nil || revoked["id"] != id {
			t.Errorf("revoked: %v", revoked)
		}
		if _, err := s.GetKey(t.Context(), id); err != nil {
			t.Errorf("a revoked key stays stored: %v", err)
		}
		if list := e.ok(200, "GET", "/admin/api/keys", "").body["keys"].([]any); len(list) != 1 {
			t.Errorf("the list shows revoked keys: %v", list)
		}
		if list := e.ok(200, "GET", "/admin/api/keys?include_revoked=true", "").body["keys"].([]any); len(list) != 2 {
			t.Errorf("include_revoked: %v", list)
		}
		again := e.ok(200, "DELETE", "/admin/api/keys/"+id, "").body
		if again["revoked_at"] != revoked["revoked_at"] {
			t.Errorf("revoking twice moved revoked_at: %v then %v", revoked["revoked_at"], again["revoked_at"])
		}

		purged := e.ok(200, "DELETE", "/admin/api/keys/"+id+"?purge=true", "").body
		if purged["id"] != id || purged["deleted"] != true {
			t.Errorf("purged: %v", purged)
		}
		e.fails(404, "", "no key", "GET", "/admin/api/keys/"+id, "")
		e.fails(404, "", "no key", "PATCH", "/admin/api/keys/"+id, `{"name":"x"}`)
		e.fails(404, "", "no key", "DELETE", "/admin/api/keys/"+id, "")
		e.fails(404, "", "no key", "DELETE", "/admin/api/keys/"+id+"?purge=1", "")
		// A secret pasted where the id belongs is not echoed.
		e.fails(404, "", "looks like a key's secret", "GET", "/admin/api/keys/"+raw, "")
		e.fails(404, "", "no admin API at /admin/api/sk-llmux-…", "GET", "/admin/api/"+raw, "")
		e.fails(400, "team", "no team", "GET", "/admin/api/keys?team="+raw, "")
		e.noSecret(raw)
	})
}

// TestKeyMergePatch: PATCH is RFC 7386: absent members stay, null clears,
// metadata merges label by label, a budget removed takes its period along.
func TestKeyMergePatch(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		e := newEnv(t, s)
		e.ok(201, "POST", "/admin/api/teams", `{"name":"ops"}`)
		k := e.ok(201, "POST", "/admin/api/keys", `{"name":"k","team":"ops","models":["a"],"budget_usd":5,"budget_period":"daily",
			"expires_at":"2999-01-02","metadata":{"a":"1","b":"2"}}`).body
		id := str(k["id"])
		if str(k["expires_at"]) != "2999-01-02T00:00:00Z" {
			t.Errorf("a date-only expires_at is the start of that day (UTC): %v", k["expires_at"])
		}
		p := e.ok(200, "PATCH", "/admin/api/keys/"+id, `{"metadata":{"a":null,"c":"3"}}`).body
		if fmt.Sprint(p["metadata"]) != "map[b:2 c:3]" || p["name"] != "k" || fmt.Sprint(p["models"]) != "[a]" {
			t.Errorf("metadata merge: %v", p)
		}
		p = e.ok(200, "PATCH", "/admin/api/keys/"+id, `{"team":null,"expires_at":null,"models":null,"metadata":null,"budget_usd":null}`).body
		if p["team"] != nil || p["expires_at"] != nil || fmt.Sprint(p["models"]) != "[]" || fmt.Sprint(p["metadata"]) != "map[]" ||
			num(p["budget_usd"]) != 0 || p["budget_period"] != nil {
			t.Errorf("null clears: %v", p)
		}
		rev := num(p["revision"])
		p = e.ok(200, "PATCH", "/admin/api/keys/"+id, `{}`).body
		if num(p["revision"]) != rev {
			t.Errorf("an empty patch changed the revision: %v → %v", rev, p["revision"])
		}
		p = e.ok(200, "PATCH", "/admin/api/keys/"+id, `{"team":"ops","budget_usd":1,"budget_period":"total"}`).body
		if p["team"] == nil || str(p["budget_period"]) != "total" {
			t.Errorf("set again: %v", p)
		}
		p = e.ok(200, "PATCH", "/admin/api/keys/"+id, `{"team":""}`).body
		if p["team"] != nil {
			t.Errorf(`"team":"" removes the team: %v`, p)
		}
		e.fails(400, "name", "", "PATCH", "/admin/api/keys/"+id, `{"name":null}`)
		e.fails(400, "name", "required", "PATCH", "/admin/api/keys/"+id, `{"name":"  "}`)
		e.fails(400, "enabled", "true or false", "PATCH", "/admin/api/keys/"+id, `{"enabled":null}`)
		e.fails(400, "budget_period", "without budget_usd", "PATCH", "/admin/api/keys/"+id, `{"budget_usd":0,"budget_period":"daily"}`)
	})
}

// TestIfMatch: a PATCH with If-Match changes only the revision it names.
func TestIfMatch(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		e := newEnv(t, s)
		created := e.ok(201, "POST", "/admin/api/keys", `{"name":"k"}`)
		id := str(created.body["id"])
		etag := created.header.Get("ETag")
		bare := strings.Trim(etag, `"`)

		first := e.ok(200, "PATCH", "/admin/api/keys/"+id, `{"rpm":1}`, "If-Match", etag)
		e.fails(412, "If-Match", "revision", "PATCH", "/admin/api/keys/"+id, `{"rpm":2}`, "If-Match", etag)
		e.fails(412, "If-Match", "revision", "PATCH", "/admin/api/keys/"+id, `{"rpm":2}`, "If-Match", bare)
		if k, _ := s.GetKey(t.Context(), id); k.RPM != 1 {
			t.Errorf("a refused PATCH wrote rpm %d", k.RPM)
		}
		e.ok(200, "PATCH", "/admin/api/keys/"+id, `{"rpm":3}`, "If-Match", `"1", `+first.header.Get("ETag"))
		e.ok(200, "PATCH", "/admin/api/keys/"+id, `{"rpm":4}`, "If-Match", "*")
		e.fails(400, "If-Match", "revision", "PATCH", "/admin/api/keys/"+id, `{"rpm":5}`, "If-Match", `W/"3"`)
		e.fails(400, "If-Match", "revision", "PATCH", "/admin/api/keys/"+id, `{"rpm":5}`, "If-Match", "abc")

		team := e.ok(201, "POST", "/admin/api/teams", `{"name":"t"}`)
		e.ok(200, "PATCH", "/admin/api/teams/t", `{"rpm":1}`, "If-Match", team.header.Get("ETag"))
		e.fails(412, "If-Match", "revision", "PATCH", "/admin/api/teams/t", `{"rpm":2}`, "If-Match", team.header.Get("ETag"))
	})
}

// TestConcurrentPatches: PATCHes without If-Match racing each other all
// succeed and none is lost (the store's revision check plus a re-read).
func TestConcurrentPatches(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		e := newEnv(t, s)
		id := str(e.ok(201, "POST", "/admin/api/keys", `{"name":"k"}`).body["id"])
		const n = 8
		done := make(chan answer, n)
		for i := range n {
			go func() {
				done <- e.do("PATCH", "/admin/api/keys/"+id, fmt.Sprintf(`{"metadata":{"w%d":"x"}}`, i))
			}()
		}
		ok := 0
		for range n {
			a := <-done
			switch a.status {
			case http.StatusOK:
				ok++
			case http.StatusConflict: // lost maxUpdateTries races in a row: allowed, and said so
			default:
				t.Errorf("PATCH: %d %s", a.status, a.raw)
			}
		}
		k, err := s.GetKey(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if len(k.Metadata) != ok {
			t.Errorf("%d PATCHes succeeded but the key has %d labels: %v", ok, len(k.Metadata), k.Metadata)
		}
	})
}
