package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/llmux/llmux/internal/store"
)

const teamColumns = `id, name, rpm, tpm, max_concurrent, budget_usd, budget_period, enabled, metadata,
	created_at, updated_at, revision`

func scanTeam(row scanner) (store.Team, error) {
	var (
		t            store.Team
		period, meta string
	)
	err := row.Scan(&t.ID, &t.Name, &t.RPM, &t.TPM, &t.MaxConcurrent, &t.BudgetUSD, &period, &t.Enabled, &meta,
		&t.CreatedAt, &t.UpdatedAt, &t.Revision)
	if err != nil {
		return t, err
	}
	t.BudgetPeriod = store.BudgetPeriod(period)
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	t.Metadata, err = decodeMap(meta)
	return t, err
}

// CreateTeam implements store.KeyStore.
func (s *Store) CreateTeam(ctx context.Context, t store.Team) (store.Team, error) {
	if err := t.Validate(); err != nil {
		return store.Team{}, err
	}
	if t.ID == "" {
		t.ID = store.NewID("team")
	}
	at := now()
	t.CreatedAt, t.UpdatedAt = at, at
	err := s.write(ctx, func(tx pgx.Tx) error {
		rev, err := bump(ctx, tx, store.ChangeTeam, t.ID, at)
		if err != nil {
			return err
		}
		t.Revision = rev
		_, err = tx.Exec(ctx, `INSERT INTO teams (`+teamColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			t.ID, t.Name, t.RPM, t.TPM, t.MaxConcurrent, t.BudgetUSD, string(t.BudgetPeriod), t.Enabled,
			encodeMap(t.Metadata), t.CreatedAt, t.UpdatedAt, t.Revision)
		return err
	})
	if constraint(err) == "unique" {
		return store.Team{}, fmt.Errorf("%w: a team with this id or name exists", store.ErrConflict)
	}
	if err != nil {
		return store.Team{}, errf("create team", err)
	}
	if len(t.Metadata) == 0 {
		t.Metadata = nil
	}
	return t, nil
}

// GetTeam implements store.KeyStore.
func (s *Store) GetTeam(ctx context.Context, id string) (store.Team, error) {
	t, err := scanTeam(s.pool.QueryRow(ctx, `SELECT `+teamColumns+` FROM teams WHERE id = $1`, id))
	return t, teamErr("get team", id, err)
}

// ListTeams implements store.KeyStore.
func (s *Store) ListTeams(ctx context.Context) ([]store.Team, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+teamColumns+` FROM teams ORDER BY created_at, id COLLATE "C"`)
	if err != nil {
		return nil, errf("list teams", err)
	}
	defer rows.Close()
	var out []store.Team
	for rows.Next() {
		t, err := scanTeam(rows)
		if err != nil {
			return nil, errf("list teams", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, errf("list teams", err)
	}
	return out, nil
}

// UpdateTeam implements store.KeyStore.
func (s *Store) UpdateTeam(ctx context.Context, t store.Team) (store.Team, error) {
	if err := t.Validate(); err != nil {
		return store.Team{}, err
	}
	var out store.Team
	err := s.write(ctx, func(tx pgx.Tx) error {
		at := now()
		rev, err := bump(ctx, tx, store.ChangeTeam, t.ID, at)
		if err != nil {
			return err
		}
		cur, err := scanTeam(tx.QueryRow(ctx, `SELECT `+teamColumns+` FROM teams WHERE id = $1`, t.ID))
		if err != nil {
			return err
		}
		if t.Revision != 0 && t.Revision != cur.Revision {
			return fmt.Errorf("%w: team %q changed at revision %d (expected %d)", store.ErrConflict, t.ID, cur.Revision, t.Revision)
		}
		_, err = tx.Exec(ctx, `UPDATE teams SET name = $1, rpm = $2, tpm = $3, max_concurrent = $4, budget_usd = $5,
			budget_period = $6, enabled = $7, metadata = $8, updated_at = $9, revision = $10 WHERE id = $11`,
			t.Name, t.RPM, t.TPM, t.MaxConcurrent, t.BudgetUSD, string(t.BudgetPeriod), t.Enabled,
			encodeMap(t.Metadata), at, rev, t.ID)
		if err != nil {
			return err
		}
		out, err = scanTeam(tx.QueryRow(ctx, `SELECT `+teamColumns+` FROM teams WHERE id = $1`, t.ID))
		return err
	})
	if constraint(err) == "unique" {
		return store.Team{}, fmt.Errorf("%w: a team named %q exists", store.ErrConflict, t.Name)
	}
	return out, teamErr("update team", t.ID, err)
}

// DeleteTeam implements store.KeyStore.
func (s *Store) DeleteTeam(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := bump(ctx, tx, store.ChangeTeam, id, now()); err != nil {
			return err
		}
		return deleted(tx.Exec(ctx, `DELETE FROM teams WHERE id = $1`, id))
	})
	if constraint(err) == "foreign" {
		return fmt.Errorf("%w: team %q still has keys", store.ErrConflict, id)
	}
	return teamErr("delete team", id, err)
}

func teamErr(op, id string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%w: team %q", store.ErrNotFound, id)
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
		return err
	}
	return errf(op, err)
}

func encodeList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // []string always marshals
	return string(b)
}

func decodeList(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("decoding a list: %w", err)
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

func encodeMap(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m) // map[string]string always marshals
	return string(b)
}

func decodeMap(s string) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("decoding metadata: %w", err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}
