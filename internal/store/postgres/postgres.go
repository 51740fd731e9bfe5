// Package postgres is the shared store: several llmux instances point at one
// PostgreSQL database (postgres://… or postgresql://…) and see the same keys,
// teams, settings and usage. It uses pgx through a pgxpool.
//
// Migrations run at Open in one transaction under a transaction-scoped
// advisory lock (keyed by the schema), so instances starting together apply
// each migration once and the rest wait, then find nothing to do. Tables
// live in the first schema of the search_path (set it in the DSN with
// ?search_path=NAME, or in the pool config given to New).
//
// Needs PostgreSQL 12 or later (tested on 15). Pool size and the like are
// pgx DSN parameters (pool_max_conns=…). Behind PgBouncer in transaction
// mode, add default_query_exec_mode=exec to the DSN: pgx caches prepared
// statements per connection by default.
//
// Only cmd/llmux imports this package (it registers the "postgres" and
// "postgresql" schemes with store.Register). It imports nothing of llmux but
// internal/store and internal/store/migrate.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/llmux/llmux/internal/store"
	"github.com/llmux/llmux/internal/store/migrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

func init() {
	open := func(ctx context.Context, dsn string) (store.Store, error) { return Open(ctx, dsn) }
	store.Register("postgres", open)
	store.Register("postgresql", open)
}

// Store is the PostgreSQL implementation of store.Store.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database a DSN names (postgres://user@host/db?…, as
// pgx parses it) and applies pending migrations.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN; keep the password out of it.
		return nil, fmt.Errorf("postgres: database %q: invalid DSN", store.RedactDSN(dsn))
	}
	return New(ctx, cfg)
}

// New opens a store on a pool built from cfg (tests set the search_path
// there), and applies pending migrations.
func New(ctx context.Context, cfg *pgxpool.Config) (*Store, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Pool returns the connection pool, for tests and diagnostics.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// Close implements store.Store. It waits for connections in use to be
// released.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// migrate applies pending migrations in one transaction, under an advisory
// lock that serialises instances migrating the same schema.
func (s *Store) migrate(ctx context.Context) error {
	all, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var schema *string
		if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			return err
		}
		if schema == nil {
			return errors.New("no schema to create tables in: the search_path names none that exists")
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('llmux.migrate:' || $1, 0))`, *schema); err != nil {
			return fmt.Errorf("taking the migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("creating schema_migrations: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return err
		}
		versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			return err
		}
		applied := map[int]bool{}
		for _, v := range versions {
			applied[v] = true
		}
		for _, m := range migrate.Pending(all, applied) {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: migrating: %w", err)
	}
	return nil
}

// write runs fn in a transaction.
func (s *Store) write(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// bump takes the next revision and logs the change, inside tx. It must be
// the transaction's first write: its row lock orders all changes.
func bump(ctx context.Context, tx pgx.Tx, kind store.ChangeKind, ref string, at time.Time) (int64, error) {
	var rev int64
	if err := tx.QueryRow(ctx, `UPDATE store_revision SET value = value + 1 WHERE id = 1 RETURNING value`).Scan(&rev); err != nil {
		return 0, fmt.Errorf("bumping the revision: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO changes (revision, kind, ref, at) VALUES ($1, $2, $3, $4)`,
		rev, string(kind), ref, at); err != nil {
		return 0, fmt.Errorf("logging the change: %w", err)
	}
	return rev, nil
}

// constraint names the kind of constraint err violated: "unique",
// "foreign" or "".
func constraint(err error) string {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return ""
	}
	switch e.Code {
	case "23505":
		return "unique"
	case "23503":
		return "foreign"
	}
	return ""
}

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// nullTime encodes a zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(time.Microsecond)
}

// fromNull decodes a nullable timestamptz.
func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// errf wraps err with the operation's name.
func errf(op string, err error) error { return fmt.Errorf("postgres: %s: %w", op, err) }
