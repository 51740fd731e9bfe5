package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/store"
	"github.com/llmux/llmux/internal/store/storetest"
)

func open(tb testing.TB) store.Store {
	tb.Helper()
	s, err := Open(context.Background(), filepath.Join(tb.TempDir(), "llmux.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, open) }

func BenchmarkUsageWriter(b *testing.B) { storetest.Bench(b, open) }

func TestOpenDSN(t *testing.T) {
	path := filepath.Join(t.TempDir(), "via-dsn.db")
	s, err := store.Open(t.Context(), "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.(*Store).Path(); got != path {
		t.Fatalf("path = %q, want %q", got, path)
	}
	for _, bad := range []string{"sqlite://", "sqlite://:memory:", "sqlite://a.db?mode=ro", "sqlite://file:x.db",
		"sqlite://" + filepath.Join(t.TempDir(), "missing", "x.db")} {
		if _, err := store.Open(t.Context(), bad); err == nil {
			t.Errorf("store.Open(%q) succeeded", bad)
		}
	}
}

// TestReopenKeepsData: migrations are idempotent and data survives a close.
func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reopen.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.CreateKey(t.Context(), store.VirtualKey{Name: "a", Hash: store.HashKey("a"), Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GetKey(t.Context(), k.ID); err != nil {
		t.Fatal(err)
	}
	var versions int
	if err := s.r.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&versions); err != nil || versions != 1 {
		t.Fatalf("schema_migrations has %d rows (%v), want 1", versions, err)
	}
	var mode string
	if err := s.r.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q (%v), want wal", mode, err)
	}
}

// TestTwoStoresOneFile: two processes (here two Stores) opening and writing
// the same file at once, as `llmux keys create` does beside a running
// server: busy_timeout and BEGIN IMMEDIATE keep "database is locked" away.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	var stores [2]*Store
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(t.Context(), path)
			if err != nil {
				errs <- err
				return
			}
			stores[i] = s
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	defer stores[0].Close()
	defer stores[1].Close()
	errs = make(chan error, 2)
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				r := store.UsageRecord{Time: testTime, RequestID: "x", InputTokens: int64(i*1000 + j)}
				if err := s.InsertUsage(t.Context(), []store.UsageRecord{r, r}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	a, err := stores[0].AggregateUsage(t.Context(), store.AggregateQuery{})
	if err != nil || a[0].Requests != 800 {
		t.Fatalf("aggregate = %+v, %v; want 800 records", a, err)
	}
}

func TestConstraintNotMisread(t *testing.T) {
	if constraint(errors.New("UNIQUE constraint failed")) != "" {
		t.Fatal("a plain error was read as a constraint violation")
	}
}

var testTime = mustTime("2026-03-14T12:00:00Z")

func mustTime(s string) (t time.Time) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
