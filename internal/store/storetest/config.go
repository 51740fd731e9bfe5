package storetest

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/store"
)

var configTests = []test{
	{"SettingsCRUD", testSettingsCRUD},
	{"SettingsIfRevision", testSettingsIfRevision},
	{"SettingsInvalid", testSettingsInvalid},
	{"RevisionPerChange", testRevisionPerChange},
	{"ChangesPaging", testChangesPaging},
	{"ChangesPrune", testChangesPrune},
}

func put(t *testing.T, s store.Store, name, value string, ifRevision int64) store.Setting {
	t.Helper()
	st, err := s.PutSetting(ctx(t), name, []byte(value), ifRevision)
	if err != nil {
		t.Fatalf("PutSetting(%s): %v", name, err)
	}
	return st
}

func testSettingsCRUD(t *testing.T, s store.Store) {
	_, err := s.GetSetting(ctx(t), "providers/openai")
	wantErr(t, err, store.ErrNotFound)

	a := put(t, s, "providers/openai", `{"type":"openai"}`, store.AnyRevision)
	if a.Revision != 1 || a.UpdatedAt.IsZero() || a.Name != "providers/openai" {
		t.Fatalf("first put = %+v", a)
	}
	put(t, s, "providers/claude", `{"type":"anthropic"}`, 0)
	put(t, s, "routes/smart", `{}`, 0)
	put(t, s, "providersX", `x`, 0) // shares the text prefix, not the path
	binary := put(t, s, "blob", "\x00\xff\x01", 0)

	got, err := s.GetSetting(ctx(t), "providers/openai")
	if err != nil || !reflect.DeepEqual(got, a) {
		t.Fatalf("GetSetting = %+v, %v; want %+v", got, err, a)
	}
	if got, _ := s.GetSetting(ctx(t), "blob"); !bytes.Equal(got.Value, binary.Value) {
		t.Errorf("binary value came back as %q", got.Value)
	}

	names := func(prefix string) []string {
		list, err := s.ListSettings(ctx(t), prefix)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, st := range list {
			out = append(out, st.Name)
		}
		return out
	}
	if got, want := names("providers/"), []string{"providers/claude", "providers/openai"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ListSettings(providers/) = %v, want %v", got, want)
	}
	if got := names(""); len(got) != 5 || got[0] != "blob" {
		t.Errorf("ListSettings(\"\") = %v", got)
	}
	if got := names("nothing/"); got != nil {
		t.Errorf("ListSettings(nothing/) = %v", got)
	}
	if got := names("providers%"); got != nil { // no LIKE wildcards
		t.Errorf("ListSettings(providers%%) = %v", got)
	}

	time.Sleep(2 * time.Millisecond)
	b := put(t, s, "providers/openai", `{"type":"openai","models":["gpt-4.1"]}`, a.Revision)
	if b.Revision <= a.Revision || !b.UpdatedAt.After(a.UpdatedAt) {
		t.Errorf("replace: %+v after %+v", b, a)
	}
	if err := s.DeleteSetting(ctx(t), "providers/openai", store.AnyRevision); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetSetting(ctx(t), "providers/openai")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteSetting(ctx(t), "providers/openai", store.AnyRevision), store.ErrNotFound)
}

func testSettingsIfRevision(t *testing.T, s store.Store) {
	a := put(t, s, "x", "1", 0)
	_, err := s.PutSetting(ctx(t), "x", []byte("2"), 0) // exists
	wantErr(t, err, store.ErrConflict)
	b := put(t, s, "x", "2", a.Revision)
	_, err = s.PutSetting(ctx(t), "x", []byte("3"), a.Revision) // stale
	wantErr(t, err, store.ErrConflict)
	_, err = s.PutSetting(ctx(t), "y", []byte("1"), 5) // does not exist
	wantErr(t, err, store.ErrConflict)
	wantErr(t, s.DeleteSetting(ctx(t), "x", a.Revision), store.ErrConflict)
	rev := revision(t, s)
	if rev != b.Revision {
		t.Errorf("conflicts moved the revision to %d, want %d", rev, b.Revision)
	}
	if got, _ := s.GetSetting(ctx(t), "x"); string(got.Value) != "2" {
		t.Errorf("value = %q after the conflicts", got.Value)
	}
	if err := s.DeleteSetting(ctx(t), "x", b.Revision); err != nil {
		t.Fatal(err)
	}
	put(t, s, "x", "again", 0)
}

func testSettingsInvalid(t *testing.T, s store.Store) {
	_, err := s.PutSetting(ctx(t), "", []byte("x"), store.AnyRevision)
	wantErr(t, err, store.ErrInvalid, "name")
	_, err = s.PutSetting(ctx(t), "a\x00b", []byte("x"), store.AnyRevision)
	wantErr(t, err, store.ErrInvalid, "name")
	_, err = s.PutSetting(ctx(t), "big", bytes.Repeat([]byte("x"), store.MaxSettingSize+1), store.AnyRevision)
	wantErr(t, err, store.ErrInvalid, "value")
	empty := put(t, s, "empty", "", store.AnyRevision)
	if got, err := s.GetSetting(ctx(t), "empty"); err != nil || len(got.Value) != 0 || got.Revision != empty.Revision {
		t.Fatalf("empty value: %+v, %v", got, err)
	}
}

// testRevisionPerChange: each mutation takes exactly the next revision and
// logs what changed; failed and no-op mutations log nothing.
func testRevisionPerChange(t *testing.T, s store.Store) {
	c := ctx(t)
	if got := revision(t, s); got != 0 {
		t.Fatalf("revision of a new store = %d", got)
	}
	type step struct {
		kind store.ChangeKind
		id   string
	}
	var want []step
	team := createTeam(t, s, store.Team{ID: "team_r", Name: "r"})
	want = append(want, step{store.ChangeTeam, team.ID})
	k := newKey("rev")
	k.ID, k.TeamID = "key_r", team.ID
	k = createKey(t, s, k)
	want = append(want, step{store.ChangeKey, k.ID})
	if _, err := s.CreateKey(c, k); err == nil { // conflict: no change
		t.Fatal("duplicate key created")
	}
	k.Name = "renamed"
	if _, err := s.UpdateKey(c, k); err != nil {
		t.Fatal(err)
	}
	want = append(want, step{store.ChangeKey, k.ID})
	if _, err := s.RevokeKey(c, k.ID); err != nil {
		t.Fatal(err)
	}
	want = append(want, step{store.ChangeKey, k.ID})
	if _, err := s.RevokeKey(c, k.ID); err != nil { // no-op
		t.Fatal(err)
	}
	team.Name = "r2"
	if _, err := s.UpdateTeam(c, team); err != nil {
		t.Fatal(err)
	}
	want = append(want, step{store.ChangeTeam, team.ID})
	put(t, s, "routes/a", "{}", store.AnyRevision)
	want = append(want, step{store.ChangeSetting, "routes/a"})
	if err := s.DeleteKey(c, k.ID); err != nil {
		t.Fatal(err)
	}
	want = append(want, step{store.ChangeKey, k.ID})
	if err := s.DeleteTeam(c, team.ID); err != nil {
		t.Fatal(err)
	}
	want = append(want, step{store.ChangeTeam, team.ID})
	if err := s.DeleteSetting(c, "routes/a", store.AnyRevision); err != nil {
		t.Fatal(err)
	}
	want = append(want, step{store.ChangeSetting, "routes/a"})

	changes, err := s.Changes(c, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != len(want) {
		t.Fatalf("%d changes, want %d: %+v", len(changes), len(want), changes)
	}
	for i, ch := range changes {
		if ch.Revision != int64(i+1) || ch.Kind != want[i].kind || ch.ID != want[i].id ||
			ch.At.IsZero() || ch.At.Location() != time.UTC {
			t.Errorf("change %d = %+v, want revision %d %v", i, ch, i+1, want[i])
		}
	}
	if got := revision(t, s); got != int64(len(want)) {
		t.Errorf("Revision = %d, want %d", got, len(want))
	}
}

func testChangesPaging(t *testing.T, s store.Store) {
	for i := range 25 {
		put(t, s, "s/"+strings.Repeat("x", i+1), "v", store.AnyRevision)
	}
	var after int64
	var got []int64
	for range 10 {
		page, err := s.Changes(ctx(t), after, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 10 {
			t.Fatalf("page of %d changes, limit 10", len(page))
		}
		for _, c := range page {
			got = append(got, c.Revision)
			after = c.Revision
		}
	}
	if len(got) != 25 || got[0] != 1 || got[24] != 25 {
		t.Fatalf("paged revisions = %v", got)
	}
	if page, err := s.Changes(ctx(t), 25, 10); err != nil || len(page) != 0 {
		t.Fatalf("Changes after the newest = %+v, %v", page, err)
	}
}

func testChangesPrune(t *testing.T, s store.Store) {
	for i := range 5 {
		put(t, s, "p", string(rune('a'+i)), store.AnyRevision)
	}
	n, err := s.DeleteChangesBefore(ctx(t), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("pruned %d changes, want 4 (the newest stays)", n)
	}
	if got := revision(t, s); got != 5 {
		t.Errorf("Revision after pruning = %d, want 5", got)
	}
	changes, err := s.Changes(ctx(t), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A poller at revision 2 sees the gap (first returned is not 3): it
	// must reload everything.
	if len(changes) != 1 || changes[0].Revision != 5 {
		t.Fatalf("changes after pruning = %+v", changes)
	}
	put(t, s, "p", "f", store.AnyRevision)
	if got := revision(t, s); got != 6 {
		t.Errorf("Revision after a new change = %d, want 6", got)
	}
	if n, _ := s.DeleteChangesBefore(ctx(t), time.Now().Add(-time.Hour)); n != 0 {
		t.Errorf("pruned %d recent changes", n)
	}
}
