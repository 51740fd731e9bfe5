package keys_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/keys"
	"github.com/llmux/llmux/internal/limits"
	"github.com/llmux/llmux/internal/store"
	"github.com/llmux/llmux/internal/store/testdb"
)

func forEachBackend(t *testing.T, f func(t *testing.T, st store.Store)) {
	for _, b := range testdb.Backends {
		t.Run(b, func(t *testing.T) {
			st, _ := testdb.Open(t, b)
			f(t, st)
		})
	}
}

// issue stores a new key with the given settings and returns its secret.
func issue(t *testing.T, st store.Store, k store.VirtualKey) (string, store.VirtualKey) {
	t.Helper()
	s := keys.NewSecret()
	k.Hash, k.Prefix = s.Hash, s.Prefix
	if k.Name == "" {
		k.Name = "test"
	}
	k, err := st.CreateKey(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	return s.Raw, k
}

func TestResolveVirtualKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		team, err := st.CreateTeam(ctx, store.Team{Name: "research", Enabled: true, Limits: store.Limits{RPM: 100, BudgetUSD: 5, BudgetPeriod: store.PeriodMonthly}})
		if err != nil {
			t.Fatal(err)
		}
		raw, k := issue(t, st, store.VirtualKey{Name: "alice", TeamID: team.ID, Enabled: true, Models: []string{"openai/*"},
			Limits: store.Limits{RPM: 60, TPM: 1000, MaxConcurrent: 2, BudgetUSD: 0.5, BudgetPeriod: store.PeriodDaily}})
		r := keys.New(st, keys.Options{})
		if err := r.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if !r.HasKeys() {
			t.Error("HasKeys = false with a key in the store")
		}
		p, err := r.Resolve(ctx, raw)
		if err != nil {
			t.Fatal(err)
		}
		want := limits.Policy{RPM: 60, TPM: 1000, MaxConcurrent: 2, Budget: limits.Dollar / 2, Period: limits.PeriodDaily}
		if p.ID != k.ID || p.Team != team.ID || !p.Virtual || p.Key != want || p.TeamPolicy.RPM != 100 ||
			p.TeamPolicy.Budget != 5*limits.Dollar || p.TeamPolicy.Period != limits.PeriodMonthly {
			t.Errorf("principal = %+v", p)
		}
		if !p.Allows("openai/gpt-4o") || p.Allows("claude/sonnet") {
			t.Error("allow-list not applied")
		}
		if !p.Metered() || !p.Limited() {
			t.Error("a key with TPM and a budget must be metered")
		}
		if _, err := r.Resolve(ctx, raw+"x"); !errors.Is(err, keys.ErrUnknown) {
			t.Errorf("wrong key: err = %v, want ErrUnknown", err)
		}
	})
}

// TestChangesPropagate: a change made through the store (as by another
// instance's admin API) applies after one Sync.
func TestChangesPropagate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		team, _ := st.CreateTeam(ctx, store.Team{Name: "ops", Enabled: true})
		raw, k := issue(t, st, store.VirtualKey{TeamID: team.ID, Enabled: true, Limits: store.Limits{RPM: 10}})
		r := keys.New(st, keys.Options{})
		r.Sync(ctx)
		if _, err := r.Resolve(ctx, raw); err != nil {
			t.Fatal(err)
		}

		k.Limits.RPM = 20
		k.Revision = 0
		if _, err := st.UpdateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		if p, _ := r.Resolve(ctx, raw); p.Key.RPM != 10 {
			t.Fatalf("before Sync the cached key should serve, got RPM %d", p.Key.RPM)
		}
		r.Sync(ctx)
		if p, _ := r.Resolve(ctx, raw); p == nil || p.Key.RPM != 20 {
			t.Fatalf("after Sync: %+v, want RPM 20", p)
		}

		team.Enabled = false
		team.Revision = 0
		if _, err := st.UpdateTeam(ctx, team); err != nil {
			t.Fatal(err)
		}
		r.Sync(ctx)
		if _, err := r.Resolve(ctx, raw); !errors.Is(err, keys.ErrTeamDisabled) {
			t.Fatalf("team disabled: err = %v", err)
		}
		team.Enabled = true
		st.UpdateTeam(ctx, team)
		r.Sync(ctx)
		if _, err := r.Resolve(ctx, raw); err != nil {
			t.Fatalf("team enabled again: %v", err)
		}

		if _, err := st.RevokeKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		r.Sync(ctx)
		if _, err := r.Resolve(ctx, raw); !errors.Is(err, keys.ErrRevoked) {
			t.Fatalf("revoked: err = %v", err)
		}
	})
}

func TestNegativeCacheClearedByNewKey(t *testing.T) {
	st, _ := testdb.Open(t, "sqlite")
	ctx := context.Background()
	r := keys.New(st, keys.Options{NegativeTTL: time.Hour})
	r.Sync(ctx)
	if r.HasKeys() {
		t.Error("HasKeys with an empty store")
	}
	s := keys.NewSecret()
	if _, err := r.Resolve(ctx, s.Raw); !errors.Is(err, keys.ErrUnknown) {
		t.Fatal(err)
	}
	if _, err := st.CreateKey(ctx, store.VirtualKey{Name: "late", Hash: s.Hash, Prefix: s.Prefix, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(ctx, s.Raw); !errors.Is(err, keys.ErrUnknown) {
		t.Error("an unknown key should stay unknown until the next Sync (negative cache)")
	}
	r.Sync(ctx)
	if _, err := r.Resolve(ctx, s.Raw); err != nil {
		t.Errorf("after Sync the new key must work: %v", err)
	}
	if !r.HasKeys() {
		t.Error("HasKeys = false after a key was created")
	}
}

func TestExpiryAndDisabled(t *testing.T) {
	st, _ := testdb.Open(t, "sqlite")
	ctx := context.Background()
	now := time.Now()
	clock := func() time.Time { return now }
	raw, k := issue(t, st, store.VirtualKey{Enabled: true, ExpiresAt: now.Add(time.Hour)})
	r := keys.New(st, keys.Options{Now: clock})
	r.Sync(ctx)
	if _, err := r.Resolve(ctx, raw); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour)
	if _, err := r.Resolve(ctx, raw); !errors.Is(err, keys.ErrExpired) {
		t.Errorf("expired: err = %v", err)
	}
	k.ExpiresAt, k.Enabled, k.Revision = time.Time{}, false, 0
	st.UpdateKey(ctx, k)
	r.Sync(ctx)
	if _, err := r.Resolve(ctx, raw); !errors.Is(err, keys.ErrDisabled) {
		t.Errorf("disabled: err = %v", err)
	}
}

func TestStaticKeys(t *testing.T) {
	st, _ := testdb.Open(t, "sqlite")
	r := keys.New(st, keys.Options{})
	r.SetStatic([]string{"sk-static-1"})
	p, err := r.Resolve(context.Background(), "sk-static-1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.ID, "static:") || strings.Contains(p.ID, "sk-static") || p.Virtual || p.Limited() || !p.Allows("anything") {
		t.Errorf("static principal = %+v", p)
	}
	if !r.HasKeys() {
		t.Error("HasKeys = false with a static key")
	}
}

func TestSecret(t *testing.T) {
	a, b := keys.NewSecret(), keys.NewSecret()
	if a.Raw == b.Raw || !strings.HasPrefix(a.Raw, keys.SecretPrefix) || len(a.Raw) != len(keys.SecretPrefix)+40 {
		t.Errorf("secrets %q %q", a.Raw, b.Raw)
	}
	if a.Hash != store.HashKey(a.Raw) || !strings.HasPrefix(a.Raw, strings.TrimSuffix(a.Prefix, "…")) || len(a.Prefix) > 20 {
		t.Errorf("hash or prefix wrong: %+v", a)
	}
}

// TestRevokingTheLastKeyKeepsAuth: a gateway whose only key was revoked
// must not fall back to serving anyone on loopback without a key.
func TestRevokingTheLastKeyKeepsAuth(t *testing.T) {
	st, _ := testdb.Open(t, "sqlite")
	ctx := context.Background()
	_, k := issue(t, st, store.VirtualKey{Enabled: true})
	r := keys.New(st, keys.Options{})
	r.Sync(ctx)
	if _, err := st.RevokeKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	r.Sync(ctx)
	if !r.HasKeys() {
		t.Error("HasKeys = false after the only key was revoked")
	}
}
