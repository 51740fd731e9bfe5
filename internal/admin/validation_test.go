package admin_test

import (
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/store"
)

// TestValidation: every bad input is a 400 (or 413) that names the field or
// parameter, and nothing is written.
func TestValidation(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		e := newEnv(t, s)
		e.ok(201, "POST", "/admin/api/teams", `{"name":"ops"}`)
		key := str(e.ok(201, "POST", "/admin/api/keys", `{"name":"existing"}`).body["id"])
		const keys, teams = "/admin/api/keys", "/admin/api/teams"
		tests := []struct {
			method, path, body string
			status             int
			param, msg         string
		}{
			// Body shape.
			{"POST", keys, ``, 400, "", "empty"},
			{"POST", keys, `not json`, 400, "", "not valid JSON (at byte"},
			{"POST", keys, `{"name":"k"} x`, 400, "", "not valid JSON"},
			{"POST", keys, `{"name":"k",}`, 400, "", "not valid JSON"},
			{"POST", keys, `[{"name":"k"}]`, 400, "", "must be a JSON object"},
			{"POST", keys, `"k"`, 400, "", "must be a JSON object"},
			{"POST", keys, "{\"name\":\"k\xff\"}", 400, "", "UTF-8"},
			{"POST", keys, `{"name":"a","name":"b"}`, 400, "name", "given twice"},
			{"POST", keys, `{"name":"k","xyz":1}`, 400, "xyz", `unknown field "xyz"`},
			{"POST", keys, `{"name":"k","key":"sk-mine"}`, 400, "key", `unknown field "key"`},
			{"POST", keys, `{"name":"k","id":"key_mine"}`, 400, "id", `unknown field "id"`},
			{"POST", keys, `{"name":"k","Name":"k"}`, 400, "Name", `unknown field "Name"`},
			// Types and ranges.
			{"POST", keys, `{}`, 400, "name", "is required"},
			{"POST", keys, `{"name":1}`, 400, "name", "must be a string, not a number"},
			{"POST", keys, `{"name":null}`, 400, "name", "must be a string, not null"},
			{"POST", keys, `{"name":"` + strings.Repeat("n", 201) + `"}`, 400, "name", "longer than 200"},
			{"POST", keys, `{"name":"k","rpm":"10"}`, 400, "rpm", "not a string"},
			{"POST", keys, `{"name":"k","rpm":1.5}`, 400, "rpm", "whole number"},
			{"POST", keys, `{"name":"k","rpm":1e99}`, 400, "rpm", "whole number"},
			{"POST", keys, `{"name":"k","rpm":-1}`, 400, "rpm", "negative"},
			{"POST", keys, `{"name":"k","rpm":-1.5}`, 400, "rpm", "negative"},
			{"POST", keys, `{"name":"k","tpm":-1}`, 400, "tpm", "negative"},
			{"POST", keys, `{"name":"k","max_concurrent":-2}`, 400, "max_concurrent", "negative"},
			{"POST", keys, `{"name":"k","max_concurrent":true}`, 400, "max_concurrent", "not a boolean"},
			{"POST", keys, `{"name":"k","budget_usd":-1,"budget_period":"daily"}`, 400, "budget_usd", "negative"},
			{"POST", keys, `{"name":"k","budget_usd":"5","budget_period":"daily"}`, 400, "budget_usd", "not a string"},
			{"POST", keys, `{"name":"k","budget_usd":1e999,"budget_period":"daily"}`, 400, "budget_usd", "out of range"},
			{"POST", keys, `{"name":"k","budget_usd":5}`, 400, "budget_period", "required"},
			{"POST", keys, `{"name":"k","budget_usd":5,"budget_period":"weekly"}`, 400, "budget_period", `"weekly" is not total, daily or monthly`},
			{"POST", keys, `{"name":"k","budget_period":"daily"}`, 400, "budget_period", "without budget_usd"},
			{"POST", keys, `{"name":"k","budget_usd":5,"budget_period":5}`, 400, "budget_period", "must be a string"},
			{"POST", keys, `{"name":"k","enabled":"yes"}`, 400, "enabled", "true or false"},
			{"POST", keys, `{"name":"k","metadata":"x"}`, 400, "metadata", "object of strings"},
			{"POST", keys, `{"name":"k","metadata":{"a":1}}`, 400, "metadata.a", "must be a string"},
			{"POST", keys, `{"name":"k","metadata":{"":"x"}}`, 400, "metadata", "must not be empty"},
			{"POST", keys, `{"name":"k","team":"nope"}`, 400, "team", `no team with the id or name "nope"`},
			{"POST", keys, `{"name":"k","team":5}`, 400, "team", "must be a string"},
			// Model globs.
			{"POST", keys, `{"name":"k","models":"gpt-4o"}`, 400, "models", "array of strings"},
			{"POST", keys, `{"name":"k","models":[1]}`, 400, "models[0]", "must be a string"},
			{"POST", keys, `{"name":"k","models":["ok/*",""]}`, 400, "models[1]", "empty"},
			{"POST", keys, `{"name":"k","models":["gpt 4o"]}`, 400, "models[0]", "whitespace"},
			{"POST", keys, `{"name":"k","models":["a","b","gpt-[4"]}`, 400, "models[2]", "not closed"},
			{"POST", keys, `{"name":"k","models":["gpt\\"]}`, 400, "models[0]", "unfinished escape"},
			{"POST", keys, `{"name":"k","models":["[z-a]"]}`, 400, "models[0]", "reversed"},
			// Dates.
			{"POST", keys, `{"name":"k","expires_at":"tomorrow"}`, 400, "expires_at", "RFC 3339"},
			{"POST", keys, `{"name":"k","expires_at":"2030-02-30"}`, 400, "expires_at", "RFC 3339"},
			{"POST", keys, `{"name":"k","expires_at":"720h"}`, 400, "expires_at", "RFC 3339"},
			{"POST", keys, `{"name":"k","expires_at":"2001-01-01"}`, 400, "expires_at", "in the past"},
			{"POST", keys, `{"name":"k","expires_at":"2001-01-01T00:00:00Z"}`, 400, "expires_at", "in the past"},
			{"POST", keys, `{"name":"k","expires_at":1893456000}`, 400, "expires_at", "must be a string"},
			// PATCH decodes the same way.
			{"PATCH", keys + "/" + key, `{"rpm":-1}`, 400, "rpm", "negative"},
			{"PATCH", keys + "/" + key, `{"secret":"x"}`, 400, "secret", `unknown field "secret"`},
			{"PATCH", keys + "/" + key, `{"models":["ok","a b"]}`, 400, "models[1]", "whitespace"},
			{"PATCH", keys + "/" + key, `{"expires_at":"2001-01-01"}`, 400, "expires_at", "in the past"},
			// Teams.
			{"POST", teams, `{"name":"t","models":["x"]}`, 400, "models", `unknown field "models"`},
			{"POST", teams, `{"name":"t","rpm":-5}`, 400, "rpm", "negative"},
			{"POST", teams, `{"name":"t","budget_usd":1}`, 400, "budget_period", "required"},
			{"POST", teams, `{"rpm":5}`, 400, "name", "required"},
			{"PATCH", teams + "/ops", `{"enabled":1}`, 400, "enabled", "true or false"},
			// Query parameters.
			{"GET", keys + "?include_revoked=maybe", "", 400, "include_revoked", "true or false"},
			{"GET", keys + "?team=nope", "", 400, "team", "no team"},
			{"GET", keys + "?team=", "", 400, "team", "must name a team"},
			{"GET", keys + "?team=ops&team=ops", "", 400, "team", "more than once"},
			{"GET", keys + "?sort=name", "", 400, "sort", "not a parameter here"},
			{"GET", keys + "/" + key + "?x=1", "", 400, "x", "not a parameter here"},
			{"POST", keys + "?dry_run=1", `{"name":"k"}`, 400, "dry_run", "not a parameter here"},
			{"DELETE", keys + "/" + key + "?purge=yes", "", 400, "purge", "true or false"},
			{"GET", "/admin/api/logs?%zz", "", 400, "", "malformed"},
			{"GET", "/admin/api/logs?limit=abc", "", 400, "limit", "whole number from 1 to 10000"},
			{"GET", "/admin/api/logs?limit=0", "", 400, "limit", "from 1 to 10000"},
			{"GET", "/admin/api/logs?limit=10001", "", 400, "limit", "from 1 to 10000"},
			{"GET", "/admin/api/logs?status=abc", "", 400, "status", "whole number"},
			{"GET", "/admin/api/logs?status=42", "", 400, "status", "from 100 to 599"},
			{"GET", "/admin/api/logs?before=-1", "", 400, "before", "whole number"},
			{"GET", "/admin/api/logs?before=x", "", 400, "before", "whole number"},
			{"GET", "/admin/api/logs?errors=maybe", "", 400, "errors", "true or false"},
			{"GET", "/admin/api/logs?content=2", "", 400, "content", "true or false"},
			{"GET", "/admin/api/logs?from=yesterday", "", 400, "from", "RFC 3339"},
			{"GET", "/admin/api/logs?to=2025-13-01", "", 400, "to", "RFC 3339"},
			{"GET", "/admin/api/logs?from=2025-02-01&to=2025-01-01", "", 400, "from", "is after to"},
			{"GET", "/admin/api/logs?group_by=key", "", 400, "group_by", "not a parameter here"},
			{"GET", "/admin/api/usage?group_by=color", "", 400, "group_by", `"color" is not one of`},
			{"GET", "/admin/api/usage?group_by=day,hour", "", 400, "group_by", "cannot be combined"},
			{"GET", "/admin/api/usage?group_by=key&group_by=key", "", 400, "group_by", "twice"},
			{"GET", "/admin/api/usage?from=2025-01-02T00:00:00&to=2025-01-03", "", 400, "from", "RFC 3339"},
			{"GET", "/admin/api/usage?from=1960-01-01", "", 400, "from", "out of range"},
			{"GET", "/admin/api/usage?from=2025-01-03&to=2025-01-02", "", 400, "from", "is after to"},
			{"GET", "/admin/api/usage?limit=5", "", 400, "limit", "not a parameter here"},
		}
		for _, tt := range tests {
			e.fails(tt.status, tt.param, tt.msg, tt.method, tt.path, tt.body)
		}
		if list, _ := s.ListKeys(t.Context(), store.KeyFilter{IncludeRevoked: true}); len(list) != 1 {
			t.Errorf("bad requests wrote keys: %d stored", len(list))
		}
		if k, _ := s.GetKey(t.Context(), key); k.Revision != 2 || k.Name != "existing" {
			t.Errorf("bad PATCHes changed the key: %+v", k)
		}

		big := `{"name":"` + strings.Repeat("a", 1<<20) + `"}`
		e.fails(413, "", "larger than 1 MiB", "POST", keys, big)
		e.fails(413, "", "larger than 1 MiB", "PATCH", keys+"/"+key, big)
	})
}

// TestRouting: unknown paths answer 404 and known paths with another
// method 405 with Allow, both in JSON.
func TestRouting(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		e := newEnv(t, s)
		for _, path := range []string{"/admin/api/", "/admin/api/nope", "/admin/api/keys/", "/admin/api/keys/a/b", "/admin/api/teams/x/keys"} {
			e.fails(404, "", "no admin API at", "GET", path, "")
		}
		for _, tt := range []struct{ method, path, allow string }{
			{"PUT", "/admin/api/keys", "GET, HEAD, POST"},
			{"DELETE", "/admin/api/keys", "GET, HEAD, POST"},
			{"POST", "/admin/api/keys/key_x", "DELETE, GET, HEAD, PATCH"},
			{"PUT", "/admin/api/teams/x", "DELETE, GET, HEAD, PATCH"},
			{"POST", "/admin/api/usage", "GET, HEAD"},
			{"DELETE", "/admin/api/logs", "GET, HEAD"},
		} {
			a := e.fails(405, "", "not allowed", tt.method, tt.path, "")
			if a.header.Get("Allow") != tt.allow {
				t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, a.header.Get("Allow"), tt.allow)
			}
		}
	})
}
