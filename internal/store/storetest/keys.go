package storetest

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/store"
)

var keyTests = []test{
	{"KeyCreateGet", testKeyCreateGet},
	{"KeyCreateWithID", testKeyCreateWithID},
	{"KeyDuplicateHash", testKeyDuplicateHash},
	{"KeyDuplicateID", testKeyDuplicateID},
	{"KeyUnknownTeam", testKeyUnknownTeam},
	{"KeyInvalid", testKeyInvalid},
	{"KeyNotFound", testKeyNotFound},
	{"KeyUpdate", testKeyUpdate},
	{"KeyUpdateStaleRevision", testKeyUpdateStaleRevision},
	{"KeyRevoke", testKeyRevoke},
	{"KeyDeleteKeepsUsage", testKeyDeleteKeepsUsage},
	{"KeyList", testKeyList},
}

func createKey(t *testing.T, s store.Store, k store.VirtualKey) store.VirtualKey {
	t.Helper()
	k, err := s.CreateKey(ctx(t), k)
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return k
}

func createTeam(t *testing.T, s store.Store, tm store.Team) store.Team {
	t.Helper()
	tm, err := s.CreateTeam(ctx(t), tm)
	if err != nil {
		t.Fatalf("CreateTeam: %v", err)
	}
	return tm
}

// sameKey fails unless got equals want in every field.
func sameKey(t *testing.T, what string, got, want store.VirtualKey) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testKeyCreateGet(t *testing.T, s store.Store) {
	team := createTeam(t, s, store.Team{Name: "research", Enabled: true})
	expires := time.Date(2027, 1, 2, 3, 4, 5, 123456789, time.FixedZone("CET", 3600))
	in := newKey("alice")
	in.TeamID = team.ID
	in.Models = []string{"openai/*", "claude/sonnet"}
	in.Limits = store.Limits{RPM: 60, TPM: 100000, MaxConcurrent: 4, BudgetUSD: 12.5, BudgetPeriod: store.PeriodMonthly}
	in.ExpiresAt = expires
	in.Metadata = map[string]string{"owner": "alice@example.com", "cost-center": "42"}

	before := time.Now().Add(-time.Second)
	got := createKey(t, s, in)
	after := time.Now().Add(time.Second)

	if !strings.HasPrefix(got.ID, "key_") {
		t.Errorf("ID = %q, want a key_ prefix", got.ID)
	}
	if got.CreatedAt.Before(before) || got.CreatedAt.After(after) || !got.UpdatedAt.Equal(got.CreatedAt) {
		t.Errorf("CreatedAt = %v, UpdatedAt = %v, want now", got.CreatedAt, got.UpdatedAt)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt is in %v, want UTC", got.CreatedAt.Location())
	}
	if got.Revision <= team.Revision {
		t.Errorf("Revision = %d, want > the team's %d", got.Revision, team.Revision)
	}
	if !got.ExpiresAt.Equal(expires.Truncate(time.Microsecond)) || got.ExpiresAt.Location() != time.UTC {
		t.Errorf("ExpiresAt = %v, want %v in UTC to the microsecond", got.ExpiresAt, expires)
	}
	want := in
	want.ID, want.CreatedAt, want.UpdatedAt, want.Revision = got.ID, got.CreatedAt, got.UpdatedAt, got.Revision
	want.ExpiresAt = expires.UTC().Truncate(time.Microsecond)
	sameKey(t, "CreateKey", got, want)

	byID, err := s.GetKey(ctx(t), got.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameKey(t, "GetKey", byID, want)
	byHash, err := s.GetKeyByHash(ctx(t), store.HashKey("sk-llmux-alice"))
	if err != nil {
		t.Fatal(err)
	}
	sameKey(t, "GetKeyByHash", byHash, want)

	// A key with nothing optional comes back with nil slices and maps.
	bare := createKey(t, s, newKey("bob"))
	if bare.Models != nil || bare.Metadata != nil || !bare.ExpiresAt.IsZero() || bare.TeamID != "" {
		t.Errorf("bare key = %+v", bare)
	}
	got2, err := s.GetKey(ctx(t), bare.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameKey(t, "GetKey(bare)", got2, bare)
}

func testKeyCreateWithID(t *testing.T, s store.Store) {
	in := newKey("carol")
	in.ID = "key_fixed"
	got := createKey(t, s, in)
	if got.ID != "key_fixed" {
		t.Fatalf("ID = %q", got.ID)
	}
	if _, err := s.GetKey(ctx(t), "key_fixed"); err != nil {
		t.Fatal(err)
	}
}

func testKeyDuplicateHash(t *testing.T, s store.Store) {
	createKey(t, s, newKey("dave"))
	dup := newKey("dave")
	dup.Name = "another name, same secret"
	_, err := s.CreateKey(ctx(t), dup)
	wantErr(t, err, store.ErrConflict)
	keys, err := s.ListKeys(ctx(t), store.KeyFilter{IncludeRevoked: true})
	if err != nil || len(keys) != 1 {
		t.Fatalf("ListKeys = %d keys, %v; want the first one only", len(keys), err)
	}
}

func testKeyDuplicateID(t *testing.T, s store.Store) {
	a := newKey("erin")
	a.ID = "key_same"
	createKey(t, s, a)
	b := newKey("frank")
	b.ID = "key_same"
	_, err := s.CreateKey(ctx(t), b)
	wantErr(t, err, store.ErrConflict)
}

func testKeyUnknownTeam(t *testing.T, s store.Store) {
	k := newKey("gina")
	k.TeamID = "team_missing"
	_, err := s.CreateKey(ctx(t), k)
	wantErr(t, err, store.ErrNotFound, "team_missing")
}

func testKeyInvalid(t *testing.T, s store.Store) {
	tests := []struct {
		name  string
		edit  func(*store.VirtualKey)
		field string
	}{
		{"no name", func(k *store.VirtualKey) { k.Name = " " }, "name"},
		{"no hash", func(k *store.VirtualKey) { k.Hash = [32]byte{} }, "hash"},
		{"negative rpm", func(k *store.VirtualKey) { k.RPM = -1 }, "rpm"},
		{"negative tpm", func(k *store.VirtualKey) { k.TPM = -5 }, "tpm"},
		{"negative concurrency", func(k *store.VirtualKey) { k.MaxConcurrent = -1 }, "max_concurrent"},
		{"negative budget", func(k *store.VirtualKey) { k.BudgetUSD, k.BudgetPeriod = -1, store.PeriodTotal }, "budget_usd"},
		{"budget without period", func(k *store.VirtualKey) { k.BudgetUSD = 5 }, "budget_period"},
		{"bad period", func(k *store.VirtualKey) { k.BudgetUSD, k.BudgetPeriod = 5, "weekly" }, "budget_period"},
		{"empty model pattern", func(k *store.VirtualKey) { k.Models = []string{"a", ""} }, "models[1]"},
		{"NUL in name", func(k *store.VirtualKey) { k.Name = "a\x00b" }, "name"},
		{"bad UTF-8 metadata", func(k *store.VirtualKey) { k.Metadata = map[string]string{"k": "\xff"} }, "metadata.k"},
	}
	for _, tt := range tests {
		k := newKey("henry")
		tt.edit(&k)
		_, err := s.CreateKey(ctx(t), k)
		if err == nil {
			t.Errorf("%s: CreateKey succeeded", tt.name)
			continue
		}
		wantErr(t, err, store.ErrInvalid, tt.field)
	}
	if n := revision(t, s); n != 0 {
		t.Errorf("invalid keys moved the revision to %d", n)
	}
}

func testKeyNotFound(t *testing.T, s store.Store) {
	c := ctx(t)
	_, err := s.GetKey(c, "key_nope")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetKeyByHash(c, store.HashKey("nope"))
	wantErr(t, err, store.ErrNotFound)
	k := newKey("nope")
	k.ID = "key_nope"
	_, err = s.UpdateKey(c, k)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.RevokeKey(c, "key_nope")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteKey(c, "key_nope"), store.ErrNotFound)
	if n := revision(t, s); n != 0 {
		t.Errorf("failed mutations moved the revision to %d", n)
	}
}

func testKeyUpdate(t *testing.T, s store.Store) {
	team := createTeam(t, s, store.Team{Name: "ops", Enabled: true})
	orig := createKey(t, s, newKey("ivan"))
	time.Sleep(2 * time.Millisecond) // so that UpdatedAt moves

	upd := orig
	upd.Name = "ivan (renamed)"
	upd.TeamID = team.ID
	upd.Models = []string{"gemini/*"}
	upd.Limits = store.Limits{RPM: 10, BudgetUSD: 1, BudgetPeriod: store.PeriodDaily}
	upd.ExpiresAt = day.Add(48 * time.Hour)
	upd.Enabled = false
	upd.Metadata = map[string]string{"note": "moved"}
	// Fields UpdateKey must not touch.
	upd.Hash = store.HashKey("something else")
	upd.Prefix = "changed"
	upd.CreatedAt = day
	upd.RevokedAt = day

	got, err := s.UpdateKey(ctx(t), upd)
	if err != nil {
		t.Fatal(err)
	}
	if !got.UpdatedAt.After(orig.UpdatedAt) || got.Revision <= orig.Revision {
		t.Errorf("UpdatedAt %v → %v, Revision %d → %d; want both to move", orig.UpdatedAt, got.UpdatedAt, orig.Revision, got.Revision)
	}
	want := upd
	want.Hash, want.Prefix, want.CreatedAt, want.RevokedAt = orig.Hash, orig.Prefix, orig.CreatedAt, time.Time{}
	want.UpdatedAt, want.Revision = got.UpdatedAt, got.Revision
	sameKey(t, "UpdateKey", got, want)
	reread, err := s.GetKeyByHash(ctx(t), orig.Hash)
	if err != nil {
		t.Fatal(err)
	}
	sameKey(t, "GetKeyByHash after update", reread, want)

	// Clearing the team and lists.
	upd = got
	upd.TeamID, upd.Models, upd.Metadata, upd.ExpiresAt = "", nil, nil, time.Time{}
	upd.Limits = store.Limits{}
	got, err = s.UpdateKey(ctx(t), upd)
	if err != nil {
		t.Fatal(err)
	}
	if got.TeamID != "" || got.Models != nil || got.Metadata != nil || !got.ExpiresAt.IsZero() || got.Limits != (store.Limits{}) {
		t.Errorf("cleared key = %+v", got)
	}

	// Moving to a team that does not exist.
	upd = got
	upd.TeamID = "team_missing"
	_, err = s.UpdateKey(ctx(t), upd)
	wantErr(t, err, store.ErrNotFound, "team_missing")

	// Invalid values.
	upd = got
	upd.RPM = -1
	_, err = s.UpdateKey(ctx(t), upd)
	wantErr(t, err, store.ErrInvalid, "rpm")
}

func testKeyUpdateStaleRevision(t *testing.T, s store.Store) {
	k := createKey(t, s, newKey("judy"))
	first := k
	first.Name = "first writer"
	if _, err := s.UpdateKey(ctx(t), first); err != nil {
		t.Fatal(err)
	}
	second := k // read before the first write
	second.Name = "second writer"
	_, err := s.UpdateKey(ctx(t), second)
	wantErr(t, err, store.ErrConflict)
	got, err := s.GetKey(ctx(t), k.ID)
	if err != nil || got.Name != "first writer" {
		t.Fatalf("after the conflict: %+v, %v", got, err)
	}
	second.Revision = 0 // unconditional
	if got, err = s.UpdateKey(ctx(t), second); err != nil || got.Name != "second writer" {
		t.Fatalf("unconditional update: %+v, %v", got, err)
	}
}

func testKeyRevoke(t *testing.T, s store.Store) {
	k := createKey(t, s, newKey("kate"))
	if !k.Usable(time.Now()) {
		t.Fatal("a new enabled key is not usable")
	}
	revoked, err := s.RevokeKey(ctx(t), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if revoked.RevokedAt.IsZero() || revoked.Revision <= k.Revision || revoked.Usable(time.Now()) {
		t.Fatalf("revoked key = %+v", revoked)
	}
	rev := revision(t, s)
	again, err := s.RevokeKey(ctx(t), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameKey(t, "second RevokeKey", again, revoked)
	if n := revision(t, s); n != rev {
		t.Errorf("revoking a revoked key moved the revision %d → %d", rev, n)
	}
	byHash, err := s.GetKeyByHash(ctx(t), k.Hash)
	if err != nil {
		t.Fatal(err)
	}
	sameKey(t, "GetKeyByHash of a revoked key", byHash, revoked)

	// An update leaves it revoked.
	upd := revoked
	upd.Name = "still revoked"
	got, err := s.UpdateKey(ctx(t), upd)
	if err != nil || !got.RevokedAt.Equal(revoked.RevokedAt) {
		t.Fatalf("update of a revoked key: %+v, %v", got, err)
	}
}

func testKeyDeleteKeepsUsage(t *testing.T, s store.Store) {
	k := createKey(t, s, newKey("liam"))
	r := record(1, day)
	r.KeyID = k.ID
	if err := s.InsertUsage(ctx(t), []store.UsageRecord{r}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteKey(ctx(t), k.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetKey(ctx(t), k.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetKeyByHash(ctx(t), k.Hash)
	wantErr(t, err, store.ErrNotFound)
	if n := countUsage(t, s, store.UsageFilter{KeyID: k.ID}); n != 1 {
		t.Errorf("usage records of the deleted key = %d, want 1", n)
	}
	// The hash is free again.
	createKey(t, s, newKey("liam"))
}

func testKeyList(t *testing.T, s store.Store) {
	a := createTeam(t, s, store.Team{Name: "a", Enabled: true})
	b := createTeam(t, s, store.Team{Name: "b", Enabled: true})
	// Keys made within one microsecond list by ID: name them in order.
	var ids []string
	for i, name := range []string{"k1", "k2", "k3", "k4", "k5"} {
		k := newKey(name)
		k.ID = "key_" + name
		if i%2 == 0 {
			k.TeamID = a.ID
		} else {
			k.TeamID = b.ID
		}
		ids = append(ids, createKey(t, s, k).ID)
	}
	if _, err := s.RevokeKey(ctx(t), ids[2]); err != nil {
		t.Fatal(err)
	}
	list := func(f store.KeyFilter) []string {
		keys, err := s.ListKeys(ctx(t), f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range keys {
			out = append(out, k.ID)
		}
		return out
	}
	tests := []struct {
		f    store.KeyFilter
		want []string
	}{
		{store.KeyFilter{}, []string{ids[0], ids[1], ids[3], ids[4]}},
		{store.KeyFilter{IncludeRevoked: true}, ids},
		{store.KeyFilter{TeamID: a.ID}, []string{ids[0], ids[4]}},
		{store.KeyFilter{TeamID: a.ID, IncludeRevoked: true}, []string{ids[0], ids[2], ids[4]}},
		{store.KeyFilter{TeamID: b.ID}, []string{ids[1], ids[3]}},
		{store.KeyFilter{TeamID: "team_none"}, nil},
	}
	for _, tt := range tests {
		if got := list(tt.f); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ListKeys(%+v) = %v, want %v", tt.f, got, tt.want)
		}
	}
}

func revision(t *testing.T, s store.Store) int64 {
	t.Helper()
	n, err := s.Revision(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
