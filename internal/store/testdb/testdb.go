// Package testdb opens real stores for the tests of the packages above the
// store: a fresh SQLite file, or a fresh schema on the PostgreSQL server
// named by LLMUX_TEST_POSTGRES_DSN (skipping loudly when it is unset). It is
// the one non-command package allowed to import the store implementations,
// and only tests may import it.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/store"
	_ "github.com/llmux/llmux/internal/store/postgres" // registers postgres://
	_ "github.com/llmux/llmux/internal/store/sqlite"   // registers sqlite://
)

// PostgresEnv names the PostgreSQL server of the tests; .ci/run sets it to
// the local one.
const PostgresEnv = "LLMUX_TEST_POSTGRES_DSN"

// Backends are the store implementations, for table-driven tests.
var Backends = []string{"sqlite", "postgres"}

// Open opens a fresh, migrated store of the backend ("sqlite" or
// "postgres") that is closed and removed when the test ends; it also returns
// the DSN, for processes that should share it.
func Open(tb testing.TB, backend string) (store.Store, string) {
	tb.Helper()
	dsn := DSN(tb, backend)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		tb.Fatalf("opening %s: %v", store.RedactDSN(dsn), err)
	}
	tb.Cleanup(func() { st.Close() })
	return st, dsn
}

// DSN returns the DSN of a fresh database of the backend without opening
// it: a file in a temporary directory, or a new PostgreSQL schema dropped
// at cleanup.
func DSN(tb testing.TB, backend string) string {
	tb.Helper()
	switch backend {
	case "sqlite":
		return "sqlite://" + filepath.Join(tb.TempDir(), "llmux.db")
	case "postgres":
		return postgresSchema(tb)
	}
	tb.Fatalf("testdb: unknown backend %q", backend)
	return ""
}

func postgresSchema(tb testing.TB) string {
	dsn, _ := config.Getenv(PostgresEnv)
	if dsn == "" {
		tb.Skip("SKIPPED: the PostgreSQL variant did not run: " + PostgresEnv +
			" is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "llmux_t_" + hex.EncodeToString(b)
	exec := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatalf("creating a schema on %s: %v", store.RedactDSN(dsn), err)
	}
	tb.Cleanup(func() {
		if err := exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			tb.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("%s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
