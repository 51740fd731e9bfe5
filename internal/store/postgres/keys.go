package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/llmux/llmux/internal/store"
)

const keyColumns = `id, name, team_id, key_hash, key_prefix, models, rpm, tpm, max_concurrent,
	budget_usd, budget_period, expires_at, enabled, metadata, created_at, updated_at, revoked_at, revision`

type scanner interface{ Scan(dest ...any) error }

func scanKey(row scanner) (store.VirtualKey, error) {
	var (
		k                    store.VirtualKey
		team                 *string
		hash                 []byte
		models, meta, period string
		expires, revoked     *time.Time
	)
	err := row.Scan(&k.ID, &k.Name, &team, &hash, &k.Prefix, &models, &k.RPM, &k.TPM, &k.MaxConcurrent,
		&k.BudgetUSD, &period, &expires, &k.Enabled, &meta, &k.CreatedAt, &k.UpdatedAt, &revoked, &k.Revision)
	if err != nil {
		return k, err
	}
	if team != nil {
		k.TeamID = *team
	}
	copy(k.Hash[:], hash)
	k.BudgetPeriod = store.BudgetPeriod(period)
	k.ExpiresAt, k.RevokedAt = fromNull(expires), fromNull(revoked)
	k.CreatedAt, k.UpdatedAt = k.CreatedAt.UTC(), k.UpdatedAt.UTC()
	if k.Models, err = decodeList(models); err != nil {
		return k, err
	}
	k.Metadata, err = decodeMap(meta)
	return k, err
}

// CreateKey implements store.KeyStore.
func (s *Store) CreateKey(ctx context.Context, k store.VirtualKey) (store.VirtualKey, error) {
	if err := k.ValidateNew(); err != nil {
		return store.VirtualKey{}, err
	}
	if k.ID == "" {
		k.ID = store.NewID("key")
	}
	t := now()
	k.CreatedAt, k.UpdatedAt, k.RevokedAt = t, t, time.Time{}
	k.ExpiresAt = truncate(k.ExpiresAt)
	err := s.write(ctx, func(tx pgx.Tx) error {
		rev, err := bump(ctx, tx, store.ChangeKey, k.ID, t)
		if err != nil {
			return err
		}
		k.Revision = rev
		_, err = tx.Exec(ctx, `INSERT INTO virtual_keys (`+keyColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
			k.ID, k.Name, nullString(k.TeamID), k.Hash[:], k.Prefix, encodeList(k.Models), k.RPM, k.TPM,
			k.MaxConcurrent, k.BudgetUSD, string(k.BudgetPeriod), nullTime(k.ExpiresAt), k.Enabled,
			encodeMap(k.Metadata), k.CreatedAt, k.UpdatedAt, nil, k.Revision)
		return err
	})
	switch {
	case constraint(err) == "unique":
		return store.VirtualKey{}, fmt.Errorf("%w: a key with this id or hash exists", store.ErrConflict)
	case constraint(err) == "foreign":
		return store.VirtualKey{}, fmt.Errorf("%w: team %q", store.ErrNotFound, k.TeamID)
	case err != nil:
		return store.VirtualKey{}, errf("create key", err)
	}
	return cleanKey(k), nil
}

// GetKey implements store.KeyStore.
func (s *Store) GetKey(ctx context.Context, id string) (store.VirtualKey, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM virtual_keys WHERE id = $1`, id))
	return k, keyErr("get key", id, err)
}

// GetKeyByHash implements store.KeyStore.
func (s *Store) GetKeyByHash(ctx context.Context, h [32]byte) (store.VirtualKey, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM virtual_keys WHERE key_hash = $1`, h[:]))
	return k, keyErr("get key by hash", "", err)
}

// ListKeys implements store.KeyStore.
func (s *Store) ListKeys(ctx context.Context, f store.KeyFilter) ([]store.VirtualKey, error) {
	q := `SELECT ` + keyColumns + ` FROM virtual_keys WHERE 1 = 1`
	var args []any
	if f.TeamID != "" {
		q += ` AND team_id = $1`
		args = append(args, f.TeamID)
	}
	if !f.IncludeRevoked {
		q += ` AND revoked_at IS NULL`
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY created_at, id COLLATE "C"`, args...)
	if err != nil {
		return nil, errf("list keys", err)
	}
	defer rows.Close()
	var out []store.VirtualKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, errf("list keys", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, errf("list keys", err)
	}
	return out, nil
}

// UpdateKey implements store.KeyStore.
func (s *Store) UpdateKey(ctx context.Context, k store.VirtualKey) (store.VirtualKey, error) {
	if err := k.Validate(); err != nil {
		return store.VirtualKey{}, err
	}
	var out store.VirtualKey
	err := s.write(ctx, func(tx pgx.Tx) error {
		t := now()
		rev, err := bump(ctx, tx, store.ChangeKey, k.ID, t)
		if err != nil {
			return err
		}
		cur, err := scanKey(tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM virtual_keys WHERE id = $1`, k.ID))
		if err != nil {
			return err
		}
		if k.Revision != 0 && k.Revision != cur.Revision {
			return fmt.Errorf("%w: key %q changed at revision %d (expected %d)", store.ErrConflict, k.ID, cur.Revision, k.Revision)
		}
		_, err = tx.Exec(ctx, `UPDATE virtual_keys SET name = $1, team_id = $2, models = $3, rpm = $4, tpm = $5,
			max_concurrent = $6, budget_usd = $7, budget_period = $8, expires_at = $9, enabled = $10, metadata = $11,
			updated_at = $12, revision = $13 WHERE id = $14`,
			k.Name, nullString(k.TeamID), encodeList(k.Models), k.RPM, k.TPM, k.MaxConcurrent, k.BudgetUSD,
			string(k.BudgetPeriod), nullTime(k.ExpiresAt), k.Enabled, encodeMap(k.Metadata), t, rev, k.ID)
		if err != nil {
			return err
		}
		out, err = scanKey(tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM virtual_keys WHERE id = $1`, k.ID))
		return err
	})
	if constraint(err) == "foreign" {
		return store.VirtualKey{}, fmt.Errorf("%w: team %q", store.ErrNotFound, k.TeamID)
	}
	return out, keyErr("update key", k.ID, err)
}

// errUnchanged rolls back a transaction that found nothing to change.
var errUnchanged = errors.New("unchanged")

// RevokeKey implements store.KeyStore.
func (s *Store) RevokeKey(ctx context.Context, id string) (store.VirtualKey, error) {
	var out store.VirtualKey
	err := s.write(ctx, func(tx pgx.Tx) error {
		t := now()
		rev, err := bump(ctx, tx, store.ChangeKey, id, t)
		if err != nil {
			return err
		}
		out, err = scanKey(tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM virtual_keys WHERE id = $1`, id))
		if err != nil {
			return err
		}
		if !out.RevokedAt.IsZero() {
			return errUnchanged
		}
		if _, err := tx.Exec(ctx, `UPDATE virtual_keys SET revoked_at = $1, updated_at = $2, revision = $3 WHERE id = $4`,
			t, t, rev, id); err != nil {
			return err
		}
		out.RevokedAt, out.UpdatedAt, out.Revision = t, t, rev
		return nil
	})
	if errors.Is(err, errUnchanged) {
		err = nil
	}
	return out, keyErr("revoke key", id, err)
}

// DeleteKey implements store.KeyStore.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := bump(ctx, tx, store.ChangeKey, id, now()); err != nil {
			return err
		}
		return deleted(tx.Exec(ctx, `DELETE FROM virtual_keys WHERE id = $1`, id))
	})
	return keyErr("delete key", id, err)
}

// keyErr maps a missing row to store.ErrNotFound and wraps other errors.
func keyErr(op, id string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		if id == "" {
			return fmt.Errorf("%w: key", store.ErrNotFound)
		}
		return fmt.Errorf("%w: key %q", store.ErrNotFound, id)
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
		return err
	}
	return errf(op, err)
}

// deleted turns an Exec result that touched no row into pgx.ErrNoRows.
func deleted(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return pgx.ErrNoRows
	}
	return nil
}

// cleanKey gives a key the form scanKey returns.
func cleanKey(k store.VirtualKey) store.VirtualKey {
	if len(k.Models) == 0 {
		k.Models = nil
	}
	if len(k.Metadata) == 0 {
		k.Metadata = nil
	}
	return k
}

func truncate(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}
