package store

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the storage layer at the bottom: internal/store and its
// helpers use the standard library only, each implementation adds its own
// driver, and nothing here reaches up into the gateway, providers, protocols
// or any other llmux package. (That only cmd/llmux imports the
// implementations is checked by deps_test.go at the root.)
func TestImports(t *testing.T) {
	const mod = "github.com/llmux/llmux/"
	allowed := map[string][]string{
		".":         nil,
		"migrate":   nil,
		"storetest": {mod + "internal/store"},
		"sqlite":    {mod + "internal/store", mod + "internal/store/migrate", "modernc.org/sqlite"},
		"postgres":  {mod + "internal/store", mod + "internal/store/migrate", "github.com/jackc/pgx/v5"},
	}
	for dir, extra := range allowed {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := e.Name()
			if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			path := filepath.Join(dir, name)
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if !strings.Contains(strings.SplitN(p, "/", 2)[0], ".") {
					continue // standard library
				}
				ok := false
				for _, a := range extra {
					if p == a || strings.HasPrefix(p, a+"/") {
						ok = true
					}
				}
				if !ok {
					t.Errorf("%s imports %s; allowed beyond the standard library: %v", path, p, extra)
				}
			}
		}
	}
}
