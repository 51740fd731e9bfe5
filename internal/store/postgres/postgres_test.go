package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/llmux/llmux/internal/store"
	"github.com/llmux/llmux/internal/store/storetest"
)

// dsnEnv names the server the tests use. CI (.ci/run) sets it to the local
// server, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const dsnEnv = "LLMUX_TEST_POSTGRES_DSN"

func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		tb.Skip("SKIPPED: the PostgreSQL store suite did not run: " + dsnEnv +
			" is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	return dsn
}

// newSchema creates a schema of its own for one test (so that runs and
// parallel tests do not collide) and drops it at cleanup.
func newSchema(tb testing.TB) (dsn, schema string) {
	tb.Helper()
	dsn = testDSN(tb)
	b := make([]byte, 6)
	rand.Read(b)
	schema = "llmux_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connecting to %s: %v", store.RedactDSN(dsn), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return dsn, schema
}

func poolConfig(tb testing.TB, dsn, schema string) *pgxpool.Config {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	return cfg
}

func open(tb testing.TB) store.Store {
	tb.Helper()
	dsn, schema := newSchema(tb)
	s, err := New(context.Background(), poolConfig(tb, dsn, schema))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() }) // registered after the schema's: runs first
	return s
}

func TestConformance(t *testing.T) {
	testDSN(t) // one loud skip rather than one per subtest
	storetest.Run(t, open)
}

func BenchmarkUsageWriter(b *testing.B) {
	testDSN(b)
	storetest.Bench(b, open)
}

// TestConcurrentOpenMigratesOnce: instances starting together against an
// empty schema all succeed, and each migration is applied once.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	dsn, schema := newSchema(t)
	const n = 6
	var wg sync.WaitGroup
	stores := make([]*Store, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = New(t.Context(), poolConfig(t, dsn, schema))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	var count, max int
	if err := stores[0].pool.QueryRow(t.Context(), `SELECT count(*), max(version) FROM schema_migrations`).Scan(&count, &max); err != nil {
		t.Fatal(err)
	}
	if count != max || count < 1 {
		t.Fatalf("schema_migrations: %d rows, max version %d", count, max)
	}
	// And a later open finds nothing to do.
	s, err := New(t.Context(), poolConfig(t, dsn, schema))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func TestOpenDSN(t *testing.T) {
	dsn, schema := newSchema(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	for _, d := range []string{dsn + sep + "search_path=" + schema, strings.Replace(dsn, "postgres://", "postgresql://", 1) + sep + "search_path=" + schema} {
		s, err := store.Open(t.Context(), d)
		if err != nil {
			t.Fatalf("store.Open(%s): %v", store.RedactDSN(d), err)
		}
		if err := s.Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	// A bad DSN does not echo a password.
	_, err := store.Open(t.Context(), "postgres://u:secret@host:notaport/db")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("bad DSN: %v", err)
	}
	// A search_path naming no schema is refused with a clear message.
	_, err = store.Open(t.Context(), dsn+sep+"search_path=llmux_no_such_schema")
	if err == nil || !strings.Contains(err.Error(), "search_path") {
		t.Fatalf("missing schema: %v", err)
	}
}

func TestConstraintNotMisread(t *testing.T) {
	if constraint(errors.New("duplicate key value violates unique constraint")) != "" {
		t.Fatal("a plain error was read as a constraint violation")
	}
}
