package usage

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
// library it uses, the store's interfaces, the canonical usage type, Money
// and the configuration's price type. Never a store implementation (only
// cmd picks one), never the gateway, providers or protocols: the gateway
// imports this package.
var allowedImports = []string{
	"cmp", "context", "errors", "fmt", "log/slog", "math", "slices", "strconv", "strings", "sync",
	"sync/atomic", "time", "unicode/utf8",
	"github.com/llmux/llmux/internal/config",
	"github.com/llmux/llmux/internal/limits",
	"github.com/llmux/llmux/internal/store",
	"github.com/llmux/llmux/llm",
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
				t.Errorf("%s imports %s; usage may import only %v", name, path, allowedImports)
			}
		}
	}
}
