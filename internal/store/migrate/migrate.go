// Package migrate reads the versioned SQL migrations a store implementation
// embeds: files named NNNN_description.sql, numbered 1, 2, 3, … without gaps.
// Applying them is the implementation's job (each database locks and records
// differently); this package only loads, checks and orders them, so both
// implementations agree on what a migration is.
//
// It imports only the standard library.
//
// Migrations run in one transaction each (or all pending ones in one, on
// PostgreSQL) and must be additive: during a rolling upgrade, instances of the
// previous version keep running against the migrated schema.
package migrate

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one schema step.
type Migration struct {
	// Version is the file's number; the first migration is 1.
	Version int
	// Name is the file name.
	Name string
	// SQL is the file's content: one or more statements.
	SQL string
}

// Load returns the migrations in dir of fsys, by version. It fails on a
// name that does not follow NNNN_description.sql, a duplicate version, a gap,
// or an empty file.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || len(num) != 4 {
			return nil, fmt.Errorf("migrate: %s: name must be NNNN_description.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		if strings.TrimSpace(string(b)) == "" {
			return nil, fmt.Errorf("migrate: %s is empty", e.Name())
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			if i > 0 && out[i-1].Version == m.Version {
				return nil, fmt.Errorf("migrate: %s and %s have the same version", out[i-1].Name, m.Name)
			}
			return nil, fmt.Errorf("migrate: %s: expected version %d (versions start at 1 without gaps)", m.Name, i+1)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("migrate: no migrations in %s", dir)
	}
	return out, nil
}

// Pending returns the migrations whose versions are not in applied, in order.
func Pending(all []Migration, applied map[int]bool) []Migration {
	var out []Migration
	for _, m := range all {
		if !applied[m.Version] {
			out = append(out, m)
		}
	}
	return out
}
