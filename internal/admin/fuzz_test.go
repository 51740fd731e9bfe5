package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/admin"
	"github.com/llmux/llmux/internal/store"
	"github.com/llmux/llmux/internal/store/testdb"
)

// FuzzKeyBodies sends arbitrary bodies to the key and team endpoints: the
// answer is a created object or a 4xx error naming what was wrong, never a
// 5xx, and whatever was created passes the store's validation.
func FuzzKeyBodies(f *testing.F) {
	for _, s := range []string{
		`{"name":"a"}`,
		`{"name":"a","models":["openai/*","gpt-[45]*"],"rpm":60,"tpm":1000,"max_concurrent":2}`,
		`{"name":"a","budget_usd":0.5,"budget_period":"daily","expires_at":"2099-01-01"}`,
		`{"name":"a","rpm":-1}`, `{"name":"a","models":["["]}`, `{"name":"a","expires_at":"yesterday"}`,
		`{"name":"a","team":"nope"}`, `{"name":"a","metadata":{"k":"v"}}`, `{"nmae":"a"}`, `[]`, `{`, `null`,
		`{"name":"a","budget_usd":1e309}`, `{"name":"\u0000"}`,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	st, _ := testdb.Open(f, "sqlite")
	h := admin.New(admin.Options{Store: st})
	f.Fuzz(func(t *testing.T, body string, team bool) {
		path := "/admin/api/keys"
		if team {
			path = "/admin/api/teams"
		}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%d: the answer is not JSON: %q", rec.Code, rec.Body.String())
		}
		switch {
		case rec.Code == http.StatusCreated:
			id, _ := out["id"].(string)
			if team {
				tm, err := st.GetTeam(context.Background(), id)
				if err != nil || tm.Validate() != nil {
					t.Fatalf("created team %q: %v", id, err)
				}
				return
			}
			k, err := st.GetKey(context.Background(), id)
			if err != nil || k.Validate() != nil {
				t.Fatalf("created key %q: %v %v", id, err, k.Validate())
			}
			if raw, _ := out["key"].(string); store.HashKey(raw) != k.Hash {
				t.Fatal("the key shown is not the key stored")
			}
		case rec.Code >= 400 && rec.Code < 500:
			e, _ := out["error"].(map[string]any)
			if msg, _ := e["message"].(string); msg == "" {
				t.Fatalf("%d without a message: %q", rec.Code, rec.Body.String())
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.String())
		}
	})
}
