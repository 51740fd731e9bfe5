// Package store is what llmux remembers across restarts and shares across
// instances: virtual keys and teams, usage records, and shared settings with
// a revision log that lets every instance notice a change made by another.
//
// It holds the interfaces, split by consumer (KeyStore for internal/keys and
// the admin API, UsageStore for internal/usage, ConfigStore for whatever
// persists run-time configuration), the value types they exchange, and Open,
// which picks an implementation by the scheme of a DSN. The implementations
// live in internal/store/sqlite and internal/store/postgres; they register
// themselves with Register, and only cmd/llmux may import them (deps_test.go
// enforces it), in one file that lists both. internal/store/storetest is the
// conformance suite every implementation must pass.
//
// This package must not import the gateway, provider, protocol or router
// packages, nor the implementations: it sits below everything that uses it.
//
// Conventions shared by every implementation:
//
//   - Times are returned in UTC, truncated to the microsecond (PostgreSQL's
//     resolution). A zero time.Time means "unset" (no expiry, not revoked).
//   - A limit of 0 means unlimited: RPM, TPM, MaxConcurrent and BudgetUSD.
//   - Errors wrap ErrNotFound, ErrConflict or ErrInvalid where those apply;
//     test with errors.Is.
//   - Every change to a key, a team or a setting takes the next revision
//     number (1, 2, 3, … with no gaps, in commit order) and is written to a
//     change log that other instances poll with Changes.
package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Sentinel errors. Implementations wrap them with the detail.
var (
	// ErrNotFound: the key, team or setting does not exist, or a key names a
	// team that does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a unique value is taken (key ID or hash, team ID or name),
	// a team still has keys, or an expected revision did not match.
	ErrConflict = errors.New("store: conflict")
	// ErrInvalid: a value failed Validate; the message names the field.
	ErrInvalid = errors.New("store: invalid")
)

// Store is the whole storage layer. Close releases its connections; no method
// may be called after it.
type Store interface {
	KeyStore
	UsageStore
	ConfigStore
	// Ping checks that the database answers (for /readyz).
	Ping(ctx context.Context) error
	// Close releases the connections. It does not wait for in-flight calls
	// beyond what database/sql or pgxpool do.
	Close() error
}

// KeyStore keeps virtual keys and teams. Every successful mutation bumps the
// store revision and logs a Change.
type KeyStore interface {
	// CreateKey stores k and returns it as stored: ID assigned when empty,
	// CreatedAt, UpdatedAt and Revision set, RevokedAt cleared. A taken ID or
	// hash is ErrConflict; an unknown TeamID is ErrNotFound.
	CreateKey(ctx context.Context, k VirtualKey) (VirtualKey, error)
	// GetKey returns the key with this ID, revoked or not.
	GetKey(ctx context.Context, id string) (VirtualKey, error)
	// GetKeyByHash returns the key whose raw secret hashes to h (see
	// HashKey), revoked or not: the caller decides what revoked, disabled
	// and expired mean (see VirtualKey.Usable).
	GetKeyByHash(ctx context.Context, h [32]byte) (VirtualKey, error)
	// ListKeys returns the keys matching f, oldest first.
	ListKeys(ctx context.Context, f KeyFilter) ([]VirtualKey, error)
	// UpdateKey replaces the mutable fields of the key k.ID (Name, TeamID,
	// Models, Limits, ExpiresAt, Enabled, Metadata) and returns it as stored.
	// Hash, Prefix, CreatedAt and RevokedAt are never changed by it. When
	// k.Revision is not 0 and the key has changed since that revision, it
	// fails with ErrConflict (read, modify, write without lost updates).
	UpdateKey(ctx context.Context, k VirtualKey) (VirtualKey, error)
	// RevokeKey sets RevokedAt, for good. Revoking a revoked key returns it
	// unchanged and logs no change.
	RevokeKey(ctx context.Context, id string) (VirtualKey, error)
	// DeleteKey removes the key. Its usage records stay.
	DeleteKey(ctx context.Context, id string) error

	// CreateTeam stores t (ID assigned when empty). A taken ID or name is
	// ErrConflict.
	CreateTeam(ctx context.Context, t Team) (Team, error)
	// GetTeam returns the team with this ID.
	GetTeam(ctx context.Context, id string) (Team, error)
	// ListTeams returns all teams, oldest first.
	ListTeams(ctx context.Context) ([]Team, error)
	// UpdateTeam replaces Name, Limits, Enabled and Metadata, with the same
	// Revision check as UpdateKey.
	UpdateTeam(ctx context.Context, t Team) (Team, error)
	// DeleteTeam removes the team. While keys (revoked ones included) still
	// name it, it fails with ErrConflict: move or delete them first.
	DeleteTeam(ctx context.Context, id string) error
}

// UsageStore keeps one record per request.
type UsageStore interface {
	// InsertUsage writes the records in one transaction (on PostgreSQL one
	// multi-row INSERT, or one COPY from 16 records): all of them or, with
	// an error, none. A record that fails
	// Validate fails the call before anything is written. Text fields are
	// stored as UsageRecord.Normalized returns them.
	InsertUsage(ctx context.Context, records []UsageRecord) error
	// AggregateUsage sums the records matching q.Filter, one row per
	// distinct combination of q.GroupBy (one row in all without GroupBy,
	// even over no records), ordered by the group values in GroupBy order
	// (text byte-wise).
	AggregateUsage(ctx context.Context, q AggregateQuery) ([]UsageAggregate, error)
	// ListUsage returns matching records, most recently written first (by
	// ID), for the request log.
	ListUsage(ctx context.Context, q ListQuery) ([]UsageRecord, error)
	// DeleteUsageBefore deletes the records with Time before t (retention)
	// and returns how many went. It deletes in bounded chunks so that usage
	// writes are not held up behind one long transaction.
	DeleteUsageBefore(ctx context.Context, t time.Time) (int64, error)
}

// ConfigStore keeps shared settings and the change log. Settings are opaque
// values (JSON by convention) under slash-separated names such as
// "providers/openai"; what they mean is up to the caller.
type ConfigStore interface {
	// GetSetting returns the setting called name.
	GetSetting(ctx context.Context, name string) (Setting, error)
	// ListSettings returns the settings whose names start with prefix ("" for
	// all), by name.
	ListSettings(ctx context.Context, prefix string) ([]Setting, error)
	// PutSetting creates or replaces a setting and returns it as stored.
	// ifRevision is AnyRevision for an unconditional write, 0 for "only if
	// it does not exist", or the Revision the caller read; a mismatch is
	// ErrConflict.
	PutSetting(ctx context.Context, name string, value []byte, ifRevision int64) (Setting, error)
	// DeleteSetting removes a setting, with the same ifRevision check (0
	// is not meaningful here and acts as AnyRevision).
	DeleteSetting(ctx context.Context, name string, ifRevision int64) error
	// Revision returns the newest revision (0 before any change). It is
	// cheap: poll it, and call Changes only when it moved.
	Revision(ctx context.Context) (int64, error)
	// Changes returns up to limit changes with Revision > after, oldest
	// first (limit <= 0 means 1000). Revisions are contiguous, so when the
	// first one returned is not after+1 the log was pruned past it: reload
	// everything instead.
	Changes(ctx context.Context, after int64, limit int) ([]Change, error)
	// DeleteChangesBefore prunes the change log of entries older than t. The
	// newest change is always kept, so Revision never goes backwards.
	DeleteChangesBefore(ctx context.Context, t time.Time) (int64, error)
}

// OpenFunc opens a store from a DSN whose scheme it was registered for. It
// connects, applies pending migrations and returns a ready Store.
type OpenFunc func(ctx context.Context, dsn string) (Store, error)

var (
	driversMu sync.RWMutex
	drivers   = map[string]OpenFunc{}
)

// Register makes an implementation available to Open under a DSN scheme
// ("sqlite", "postgres"). Implementations call it from init; registering a
// scheme twice panics, as database/sql.Register does.
func Register(scheme string, open OpenFunc) {
	driversMu.Lock()
	defer driversMu.Unlock()
	if open == nil {
		panic("store: Register open func is nil")
	}
	if _, dup := drivers[scheme]; dup {
		panic("store: Register called twice for scheme " + scheme)
	}
	drivers[scheme] = open
}

// Schemes returns the registered DSN schemes, sorted.
func Schemes() []string {
	driversMu.RLock()
	defer driversMu.RUnlock()
	out := make([]string, 0, len(drivers))
	for s := range drivers {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Open opens the store a DSN names: sqlite://PATH, postgres://… or
// postgresql://…. It takes a context because opening connects and migrates,
// and on PostgreSQL may wait for another instance's migration to finish.
func Open(ctx context.Context, dsn string) (Store, error) {
	scheme, _, ok := strings.Cut(dsn, "://")
	if !ok || scheme == "" {
		return nil, fmt.Errorf("store: database %q: want sqlite://PATH or postgres://…", RedactDSN(dsn))
	}
	driversMu.RLock()
	open := drivers[scheme]
	driversMu.RUnlock()
	if open == nil {
		return nil, fmt.Errorf("store: database %q: no store registered for scheme %q (registered: %s; cmd/llmux must import the implementations)",
			RedactDSN(dsn), scheme, strings.Join(Schemes(), ", "))
	}
	return open(ctx, dsn)
}

// RedactDSN returns dsn with any password (in the user info or a
// password= parameter) replaced, for logs and errors.
func RedactDSN(dsn string) string {
	out := dsn
	if scheme, rest, ok := strings.Cut(dsn, "://"); ok {
		hostEnd := strings.IndexAny(rest, "/?")
		if hostEnd < 0 {
			hostEnd = len(rest)
		}
		if at := strings.LastIndex(rest[:hostEnd], "@"); at >= 0 {
			if user, _, hasPass := strings.Cut(rest[:at], ":"); hasPass {
				out = scheme + "://" + user + ":xxxxx" + rest[at:]
			}
		}
	}
	for _, param := range []string{"password=", "sslpassword="} {
		i := strings.Index(out, param)
		if i < 0 || (i > 0 && out[i-1] != '?' && out[i-1] != '&' && out[i-1] != ' ') {
			continue
		}
		start := i + len(param)
		end := strings.IndexAny(out[start:], "& ")
		if end < 0 {
			end = len(out) - start
		}
		out = out[:start] + "xxxxx" + out[start+end:]
	}
	return out
}
