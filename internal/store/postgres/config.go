package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/llmux/llmux/internal/store"
)

// GetSetting implements store.ConfigStore.
func (s *Store) GetSetting(ctx context.Context, name string) (store.Setting, error) {
	st, err := scanSetting(s.pool.QueryRow(ctx,
		`SELECT name, value, revision, updated_at FROM settings WHERE name = $1`, name))
	return st, settingErr("get setting", name, err)
}

func scanSetting(row scanner) (store.Setting, error) {
	var st store.Setting
	err := row.Scan(&st.Name, &st.Value, &st.Revision, &st.UpdatedAt)
	st.UpdatedAt = st.UpdatedAt.UTC()
	return st, err
}

// ListSettings implements store.ConfigStore.
func (s *Store) ListSettings(ctx context.Context, prefix string) ([]store.Setting, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, value, revision, updated_at FROM settings
		WHERE starts_with(name, $1) ORDER BY name COLLATE "C"`, prefix)
	if err != nil {
		return nil, errf("list settings", err)
	}
	defer rows.Close()
	var out []store.Setting
	for rows.Next() {
		st, err := scanSetting(rows)
		if err != nil {
			return nil, errf("list settings", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, errf("list settings", err)
	}
	return out, nil
}

// PutSetting implements store.ConfigStore.
func (s *Store) PutSetting(ctx context.Context, name string, value []byte, ifRevision int64) (store.Setting, error) {
	if err := store.ValidateSettingName(name); err != nil {
		return store.Setting{}, err
	}
	if len(value) > store.MaxSettingSize {
		return store.Setting{}, fmt.Errorf("%w: value: longer than %d bytes", store.ErrInvalid, store.MaxSettingSize)
	}
	if value == nil {
		value = []byte{}
	}
	st := store.Setting{Name: name, Value: value, UpdatedAt: now()}
	err := s.write(ctx, func(tx pgx.Tx) error {
		rev, err := bump(ctx, tx, store.ChangeSetting, name, st.UpdatedAt)
		if err != nil {
			return err
		}
		if err := checkRevision(ctx, tx, name, ifRevision, true); err != nil {
			return err
		}
		st.Revision = rev
		_, err = tx.Exec(ctx, `INSERT INTO settings (name, value, revision, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, revision = excluded.revision,
			updated_at = excluded.updated_at`, name, value, rev, st.UpdatedAt)
		return err
	})
	return st, settingErr("put setting", name, err)
}

// DeleteSetting implements store.ConfigStore.
func (s *Store) DeleteSetting(ctx context.Context, name string, ifRevision int64) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := bump(ctx, tx, store.ChangeSetting, name, now()); err != nil {
			return err
		}
		if err := checkRevision(ctx, tx, name, ifRevision, false); err != nil {
			return err
		}
		return deleted(tx.Exec(ctx, `DELETE FROM settings WHERE name = $1`, name))
	})
	return settingErr("delete setting", name, err)
}

// checkRevision enforces the ifRevision of PutSetting (put) or DeleteSetting.
func checkRevision(ctx context.Context, tx pgx.Tx, name string, ifRevision int64, put bool) error {
	if ifRevision == store.AnyRevision || (!put && ifRevision == 0) {
		return nil
	}
	var cur int64
	err := tx.QueryRow(ctx, `SELECT revision FROM settings WHERE name = $1`, name).Scan(&cur)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if cur != ifRevision {
		return fmt.Errorf("%w: setting %q is at revision %d, not %d", store.ErrConflict, name, cur, ifRevision)
	}
	return nil
}

func settingErr(op, name string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%w: setting %q", store.ErrNotFound, name)
	case errors.Is(err, store.ErrConflict):
		return err
	}
	return errf(op, err)
}

// Revision implements store.ConfigStore.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	var rev int64
	if err := s.pool.QueryRow(ctx, `SELECT value FROM store_revision WHERE id = 1`).Scan(&rev); err != nil {
		return 0, errf("revision", err)
	}
	return rev, nil
}

// Changes implements store.ConfigStore.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]store.Change, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.pool.Query(ctx, `SELECT revision, kind, ref, at FROM changes WHERE revision > $1
		ORDER BY revision LIMIT $2`, after, limit)
	if err != nil {
		return nil, errf("changes", err)
	}
	defer rows.Close()
	var out []store.Change
	for rows.Next() {
		var (
			c    store.Change
			kind string
		)
		if err := rows.Scan(&c.Revision, &kind, &c.ID, &c.At); err != nil {
			return nil, errf("changes", err)
		}
		c.Kind, c.At = store.ChangeKind(kind), c.At.UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, errf("changes", err)
	}
	return out, nil
}

// DeleteChangesBefore implements store.ConfigStore.
func (s *Store) DeleteChangesBefore(ctx context.Context, t time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM changes WHERE at < $1
		AND revision < (SELECT max(revision) FROM changes)`, t)
	if err != nil {
		return 0, errf("delete changes", err)
	}
	return tag.RowsAffected(), nil
}
