package limits

import (
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// allowedImports is everything the package may import: the standard
// library it uses and go-redis. No llmux package may appear: the gateway
// imports this one, and the store and pricing stay with the caller.
var allowedImports = []string{
	"cmp", "context", "embed", "encoding/binary", "encoding/hex", "errors", "fmt", "math",
	"math/rand/v2", "slices", "strconv", "strings", "sync", "sync/atomic", "time",
	"github.com/redis/go-redis/v9",
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
				t.Errorf("%s imports %s; allowed: %v", name, path, allowedImports)
			}
		}
	}
}
