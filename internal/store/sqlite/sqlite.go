// Package sqlite is the embedded store: one file, no server, the
// zero-config default (sqlite://./llmux.db), on modernc.org/sqlite (pure Go,
// no cgo).
//
// "database is locked" must never reach a client, so:
//
//   - the file is in WAL mode, where readers never wait for the writer;
//   - every write goes through one dedicated connection (a *sql.DB with one
//     open connection), so writes from this process queue in Go, in order,
//     under their contexts, instead of racing for SQLite's lock;
//   - write transactions start with BEGIN IMMEDIATE, so a transaction never
//     has to upgrade a read lock (an upgrade that fails is SQLITE_BUSY no
//     timeout can cure);
//   - a separate pool of read-only connections serves queries;
//   - busy_timeout covers the rest (another process on the same file, such
//     as `llmux keys create` while the server runs, or a checkpoint).
//
// synchronous=NORMAL: a commit survives the process crashing, not the
// machine losing power (SQLite's recommended WAL setting).
//
// Only cmd/llmux imports this package (it registers the "sqlite" scheme with
// store.Register). It imports nothing of llmux but internal/store and
// internal/store/migrate.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/llmux/llmux/internal/store"
	"github.com/llmux/llmux/internal/store/migrate"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// BusyTimeout is how long a connection waits for another process's lock.
const BusyTimeout = 10 * time.Second

func init() {
	store.Register("sqlite", func(ctx context.Context, dsn string) (store.Store, error) {
		return Open(ctx, strings.TrimPrefix(dsn, "sqlite://"))
	})
}

// Store is the SQLite implementation of store.Store.
type Store struct {
	w    *sql.DB // the one writer connection
	r    *sql.DB // read-only pool
	path string

	inserts map[int]*sql.Stmt // usage INSERTs by row count, prepared on w
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path and applies
// pending migrations. In-memory databases are refused: the reader pool could
// not see the writer's data.
func Open(ctx context.Context, path string) (*Store, error) {
	switch {
	case path == "", path == ":memory:", strings.HasPrefix(path, "file:"):
		return nil, fmt.Errorf("sqlite: database path %q: want a file path (sqlite://./llmux.db, sqlite:///var/lib/llmux.db)", path)
	case strings.ContainsAny(path, "?#"):
		return nil, fmt.Errorf("sqlite: database path %q must not contain '?' or '#'", path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("sqlite: database path %q: directory %q does not exist", path, dir)
		}
	}
	busy := fmt.Sprint(BusyTimeout.Milliseconds())
	w, err := sql.Open("sqlite", path+"?_txlock=immediate&_busy_timeout="+busy+
		"&_synchronous=NORMAL&_foreign_keys=1&_pragma=temp_store(memory)&_pragma=cache_size(-16384)")
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w, path: path, inserts: map[int]*sql.Stmt{}}
	if err := s.enableWAL(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if err := s.prepareInserts(ctx); err != nil {
		s.Close()
		return nil, err
	}
	// The reader pool opens after the writer has created the file and
	// switched it to WAL (a persistent setting).
	r, err := sql.Open("sqlite", path+"?_busy_timeout="+busy+"&_foreign_keys=1&_query_only=1")
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.r = r
	if err := r.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	return s, nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Ping checks both pools.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

// Close closes both pools. The writer's close checkpoints the WAL.
func (s *Store) Close() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	for _, st := range s.inserts {
		errs = append(errs, st.Close())
	}
	return errors.Join(append(errs, s.w.Close())...)
}

// enableWAL switches the file to WAL mode (a persistent setting). The switch
// needs an exclusive lock, and SQLite reports SQLITE_BUSY at once, without
// consulting busy_timeout, when another connection is opening the same new
// file at the same moment; so it retries here, for up to BusyTimeout.
func (s *Store) enableWAL(ctx context.Context) error {
	deadline := time.Now().Add(BusyTimeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		var mode string
		err := s.w.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode)
		switch {
		case err == nil && strings.EqualFold(mode, "wal"):
			return nil
		case err == nil:
			return fmt.Errorf("sqlite: %s: cannot use WAL mode (journal_mode is %s)", s.path, mode)
		case !busy(err) || time.Now().After(deadline):
			return fmt.Errorf("sqlite: %s: enabling WAL: %w", s.path, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sqlite: %s: enabling WAL: %w", s.path, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// busy reports whether err is SQLITE_BUSY or SQLITE_LOCKED (any variant).
func busy(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	code := e.Code() & 0xff
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// migrate applies pending migrations in one IMMEDIATE transaction, so two
// processes opening a new file at once apply each step once: the second
// waits for the write lock (busy_timeout), then finds them recorded.
func (s *Store) migrate(ctx context.Context) error {
	all, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
			return fmt.Errorf("creating schema_migrations: %w", err)
		}
		applied, err := appliedVersions(ctx, tx)
		if err != nil {
			return err
		}
		for _, m := range migrate.Pending(all, applied) {
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, micros(now())); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", s.path, err)
	}
	return nil
}

func appliedVersions(ctx context.Context, tx *sql.Tx) (map[int]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[v] = true
	}
	return applied, rows.Err()
}

// write runs fn in a transaction on the writer connection.
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// bump takes the next revision and logs the change, inside tx.
func bump(ctx context.Context, tx *sql.Tx, kind store.ChangeKind, ref string, at time.Time) (int64, error) {
	var rev int64
	if err := tx.QueryRowContext(ctx, `UPDATE store_revision SET value = value + 1 WHERE id = 1 RETURNING value`).Scan(&rev); err != nil {
		return 0, fmt.Errorf("bumping the revision: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO changes (revision, kind, ref, at) VALUES (?, ?, ?, ?)`,
		rev, string(kind), ref, micros(at)); err != nil {
		return 0, fmt.Errorf("logging the change: %w", err)
	}
	return rev, nil
}

// constraint names the kind of constraint err violated: "unique",
// "foreign" or "".
func constraint(err error) string {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return ""
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return "unique"
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return "foreign"
	}
	return ""
}

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// micros encodes a time as microseconds since the epoch; a zero time as NULL.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// fromMicros decodes what micros encoded.
func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// errf wraps err with the operation's name.
func errf(op string, err error) error { return fmt.Errorf("sqlite: %s: %w", op, err) }
