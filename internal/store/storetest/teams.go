package storetest

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/store"
)

var teamTests = []test{
	{"TeamCRUD", testTeamCRUD},
	{"TeamDuplicateName", testTeamDuplicateName},
	{"TeamDeleteWithKeys", testTeamDeleteWithKeys},
	{"TeamNotFound", testTeamNotFound},
	{"TeamInvalid", testTeamInvalid},
	{"TeamUpdateStaleRevision", testTeamUpdateStaleRevision},
}

func testTeamCRUD(t *testing.T, s store.Store) {
	in := store.Team{
		ID:       "team_a",
		Name:     "Platform",
		Limits:   store.Limits{RPM: 600, TPM: 1e6, MaxConcurrent: 20, BudgetUSD: 250, BudgetPeriod: store.PeriodMonthly},
		Enabled:  true,
		Metadata: map[string]string{"slack": "#platform"},
	}
	got := createTeam(t, s, in)
	want := in
	want.CreatedAt, want.UpdatedAt, want.Revision = got.CreatedAt, got.UpdatedAt, got.Revision
	if got.CreatedAt.IsZero() || got.Revision == 0 || !reflect.DeepEqual(got, want) {
		t.Fatalf("CreateTeam:\n got %+v\nwant %+v", got, want)
	}
	read, err := s.GetTeam(ctx(t), "team_a")
	if err != nil || !reflect.DeepEqual(read, want) {
		t.Fatalf("GetTeam:\n got %+v, %v\nwant %+v", read, err, want)
	}

	other := createTeam(t, s, store.Team{ID: "team_b", Name: "Research"})
	if other.Metadata != nil || other.Enabled {
		t.Errorf("bare team = %+v", other)
	}
	generated := createTeam(t, s, store.Team{Name: "Generated ID", Enabled: true})
	if !strings.HasPrefix(generated.ID, "team_") {
		t.Errorf("generated ID = %q", generated.ID)
	}

	time.Sleep(2 * time.Millisecond)
	upd := got
	upd.Name = "Platform & Infra"
	upd.Limits = store.Limits{RPM: 1}
	upd.Enabled = false
	upd.Metadata = nil
	upd.CreatedAt = day // ignored
	updated, err := s.UpdateTeam(ctx(t), upd)
	if err != nil {
		t.Fatal(err)
	}
	want = upd
	want.CreatedAt, want.UpdatedAt, want.Revision = got.CreatedAt, updated.UpdatedAt, updated.Revision
	if !updated.UpdatedAt.After(got.UpdatedAt) || updated.Revision <= got.Revision || !reflect.DeepEqual(updated, want) {
		t.Fatalf("UpdateTeam:\n got %+v\nwant %+v", updated, want)
	}

	teams, err := s.ListTeams(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tm := range teams {
		names = append(names, tm.Name)
	}
	if len(teams) != 3 || !reflect.DeepEqual(teams[0], updated) {
		t.Fatalf("ListTeams = %v", names)
	}

	if err := s.DeleteTeam(ctx(t), "team_b"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetTeam(ctx(t), "team_b")
	wantErr(t, err, store.ErrNotFound)
	if teams, _ := s.ListTeams(ctx(t)); len(teams) != 2 {
		t.Fatalf("after delete, %d teams", len(teams))
	}
}

func testTeamDuplicateName(t *testing.T, s store.Store) {
	createTeam(t, s, store.Team{Name: "alpha"})
	_, err := s.CreateTeam(ctx(t), store.Team{Name: "alpha"})
	wantErr(t, err, store.ErrConflict)
	beta := createTeam(t, s, store.Team{Name: "beta"})
	beta.Name = "alpha"
	_, err = s.UpdateTeam(ctx(t), beta)
	wantErr(t, err, store.ErrConflict)
	_, err = s.CreateTeam(ctx(t), store.Team{ID: beta.ID, Name: "gamma"})
	wantErr(t, err, store.ErrConflict)
}

func testTeamDeleteWithKeys(t *testing.T, s store.Store) {
	team := createTeam(t, s, store.Team{Name: "with keys"})
	k := newKey("mia")
	k.TeamID = team.ID
	k = createKey(t, s, k)
	if _, err := s.RevokeKey(ctx(t), k.ID); err != nil {
		t.Fatal(err)
	}
	// A revoked key still names its team.
	wantErr(t, s.DeleteTeam(ctx(t), team.ID), store.ErrConflict)
	if _, err := s.GetTeam(ctx(t), team.ID); err != nil {
		t.Fatalf("the team went despite the conflict: %v", err)
	}
	if err := s.DeleteKey(ctx(t), k.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTeam(ctx(t), team.ID); err != nil {
		t.Fatal(err)
	}
}

func testTeamNotFound(t *testing.T, s store.Store) {
	_, err := s.GetTeam(ctx(t), "team_nope")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.UpdateTeam(ctx(t), store.Team{ID: "team_nope", Name: "x"})
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteTeam(ctx(t), "team_nope"), store.ErrNotFound)
}

func testTeamInvalid(t *testing.T, s store.Store) {
	tests := []struct {
		team  store.Team
		field string
	}{
		{store.Team{}, "name"},
		{store.Team{Name: "x", Limits: store.Limits{RPM: -1}}, "rpm"},
		{store.Team{Name: "x", Limits: store.Limits{BudgetUSD: 3}}, "budget_period"},
		{store.Team{Name: "x", Limits: store.Limits{BudgetPeriod: store.PeriodDaily}}, "budget_period"},
		{store.Team{Name: strings.Repeat("x", 201)}, "name"},
	}
	for _, tt := range tests {
		_, err := s.CreateTeam(ctx(t), tt.team)
		wantErr(t, err, store.ErrInvalid, tt.field)
	}
}

func testTeamUpdateStaleRevision(t *testing.T, s store.Store) {
	team := createTeam(t, s, store.Team{Name: "stale"})
	first := team
	first.Name = "first"
	if _, err := s.UpdateTeam(ctx(t), first); err != nil {
		t.Fatal(err)
	}
	team.Name = "second"
	_, err := s.UpdateTeam(ctx(t), team)
	wantErr(t, err, store.ErrConflict)
}
