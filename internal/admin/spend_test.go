package admin_test

import (
	"math"
	"net/http/httptest"
	"testing"

	"github.com/llmux/llmux/internal/admin"
	"github.com/llmux/llmux/internal/limits"
	"github.com/llmux/llmux/internal/store"
)

// TestSpend: with a limiter, GETs of keys and teams show what the limiter
// counts for their budget period: settled spend and reservations in flight.
func TestSpend(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		e := newEnv(t, s)
		team := e.ok(201, "POST", "/admin/api/teams", `{"name":"research","budget_usd":100,"budget_period":"monthly"}`).body
		key := e.ok(201, "POST", "/admin/api/keys", `{"name":"k","team":"research","budget_usd":10,"budget_period":"daily"}`).body
		plain := e.ok(201, "POST", "/admin/api/keys", `{"name":"no budget"}`).body
		if _, has := key["spend"]; has {
			t.Errorf("POST shows spend: %v", key)
		}
		req := limits.Request{
			Key: str(key["id"]), KeyPolicy: limits.Policy{Budget: limits.Dollars(10), Period: limits.PeriodDaily},
			Team: str(team["id"]), TeamPolicy: limits.Policy{Budget: limits.Dollars(100), Period: limits.PeriodMonthly},
			Cost: limits.Dollars(0.5),
		}
		settled, err := e.limiter.Admit(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.limiter.Settle(t.Context(), settled, limits.Usage{Cost: limits.Dollars(0.25)}); err != nil {
			t.Fatal(err)
		}
		req.Cost = limits.Dollars(2)
		inFlight, err := e.limiter.Admit(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		defer e.limiter.Release(t.Context(), inFlight)
		free, err := e.limiter.Admit(t.Context(), limits.Request{Key: str(plain["id"]), Cost: limits.Dollars(1)})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.limiter.Settle(t.Context(), free, limits.Usage{Cost: limits.Dollars(1.5)}); err != nil {
			t.Fatal(err)
		}

		check := func(what string, v any, period string, bounded bool, spent, reserved float64) {
			t.Helper()
			sp, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%s: spend = %v", what, v)
			}
			if sp["period"] != period || str(sp["period_id"]) == "" || (sp["start"] != nil) != bounded || (sp["end"] != nil) != bounded ||
				math.Abs(num(sp["spent_usd"])-spent) > 1e-9 || math.Abs(num(sp["reserved_usd"])-reserved) > 1e-9 {
				t.Errorf("%s: spend = %v, want %s spent %v reserved %v", what, sp, period, spent, reserved)
			}
		}
		check("key", e.ok(200, "GET", "/admin/api/keys/"+str(key["id"]), "").body["spend"], "daily", true, 0.25, 2)
		check("team", e.ok(200, "GET", "/admin/api/teams/research", "").body["spend"], "monthly", true, 0.25, 2)
		check("key without budget", e.ok(200, "GET", "/admin/api/keys/"+str(plain["id"]), "").body["spend"], "total", false, 1.5, 0)
		list := e.ok(200, "GET", "/admin/api/keys", "").body["keys"].([]any)
		check("listed key", list[0].(map[string]any)["spend"], "daily", true, 0.25, 2)
		teams := e.ok(200, "GET", "/admin/api/teams", "").body["teams"].([]any)
		check("listed team", teams[0].(map[string]any)["spend"], "monthly", true, 0.25, 2)
		if _, has := e.ok(200, "PATCH", "/admin/api/keys/"+str(key["id"]), `{"rpm":5}`).body["spend"]; has {
			t.Errorf("PATCH shows spend")
		}

		// Without a limiter there is no spend to show.
		bare := httptest.NewServer(admin.New(admin.Options{Store: s}))
		defer bare.Close()
		e2 := &env{t: t, store: s, srv: bare, logs: &syncBuffer{}}
		if _, has := e2.ok(200, "GET", "/admin/api/keys/"+str(key["id"]), "").body["spend"]; has {
			t.Errorf("spend without a limiter")
		}
	})
}
