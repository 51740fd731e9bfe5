package health

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// allowedImports is everything the package may import: pure standard
// library packages, and net/http for its Header type only (no client, no
// server: the package does no I/O). No llmux package may appear, since
// internal/provider and internal/gateway import this one.
var allowedImports = []string{
	"fmt", "math", "net/http", "slices", "strconv", "strings", "sync", "sync/atomic", "time",
}

func TestImports(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !slices.Contains(allowedImports, path) {
				t.Errorf("%s imports %s; health may import only %v", name, path, allowedImports)
			}
		}
	}
}

// TestNoHTTPBeyondHeader: of net/http, only the Header type and ParseTime
// (for Retry-After dates) are used.
func TestNoHTTPBeyondHeader(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "http" && sel.Sel.Name != "Header" && sel.Sel.Name != "ParseTime" {
				t.Errorf("%s: uses http.%s; only http.Header and http.ParseTime are allowed", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
}
