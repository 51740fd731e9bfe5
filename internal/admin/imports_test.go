package admin_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the admin API on its side of the layering: it reaches
// the store through its interface (never an implementation), the limiter
// and internal/keys, and nothing of the gateway, providers, protocols or
// router. Package glob, which internal/keys imports, uses the standard
// library only.
func TestImports(t *testing.T) {
	const mod = "github.com/llmux/llmux/"
	allowed := map[string][]string{
		".":    {mod + "internal/store", mod + "internal/limits", mod + "internal/keys", mod + "internal/glob"},
		"glob": nil,
	}
	for dir, ours := range allowed {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
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
				for _, a := range ours {
					ok = ok || p == a
				}
				if !ok {
					t.Errorf("%s imports %s; allowed beyond the standard library: %v", path, p, ours)
				}
			}
		}
	}
	if _, err := os.Stat("README.md"); err != nil {
		t.Errorf("the API's paths and shapes are documented in README.md: %v", err)
	}
}
