package llmux_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/llmux/llmux"

type pkg struct {
	ImportPath string
	Name       string
	Doc        string
	Dir        string
	GoFiles    []string
	Imports    []string
	Deps       []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkg
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// ours returns the packages of this module in list, without the prefix.
func ours(list []string) []string {
	var out []string
	for _, p := range list {
		if rest, ok := strings.CutPrefix(p, module+"/"); ok {
			out = append(out, rest)
		}
	}
	return out
}

func thirdParty(list []string) []string {
	var out []string
	for _, p := range list {
		if strings.Contains(strings.SplitN(p, "/", 2)[0], ".") && !strings.HasPrefix(p, module) {
			out = append(out, p)
		}
	}
	return out
}

// TestDependencyRules keeps the layering of design.md §2: dependencies
// point down, the canonical model and the protocol packages stay free of the
// gateway's internals, and the router does no I/O.
func TestDependencyRules(t *testing.T) {
	allowedInProtocols := map[string]bool{
		"llm": true, "protocol": true, "internal/sse": true, "internal/rawjson": true, "internal/wirejson": true,
	}
	for _, p := range listPackages(t) {
		rel := strings.TrimPrefix(p.ImportPath, module+"/")
		deps := ours(p.Deps)
		switch {
		case rel == "llm", rel == "internal/sse", rel == "internal/rawjson", rel == "internal/redact", rel == "internal/version", rel == "internal/h1":
			if len(deps) > 0 || len(thirdParty(p.Deps)) > 0 {
				t.Errorf("%s must import only the standard library; it imports %v %v", rel, deps, thirdParty(p.Deps))
			}
		case rel == "protocol":
			for _, d := range deps {
				if d != "llm" {
					t.Errorf("protocol must import only llm; it imports %s", d)
				}
			}
		case strings.HasPrefix(rel, "protocol/") && rel != "protocol/all":
			for _, d := range deps {
				// The Responses API shares Chat Completions' error bodies:
				// the one exception to protocols not importing each other.
				sameVendor := rel == "protocol/responses" && d == "protocol/openai"
				if !allowedInProtocols[d] && !sameVendor {
					t.Errorf("%s imports %s; protocol packages may use only %v", rel, d, keys(allowedInProtocols))
				}
			}
		case rel == "internal/router":
			for _, d := range p.Deps {
				if d == "net/http" || d == "net" {
					t.Errorf("internal/router must do no I/O; it depends on %s", d)
				}
			}
			for _, d := range deps {
				if d != "llm" {
					t.Errorf("internal/router may import only llm; it imports %s", d)
				}
			}
		}
		for _, d := range ours(p.Imports) {
			if (strings.HasPrefix(d, "internal/store/sqlite") || strings.HasPrefix(d, "internal/store/postgres")) &&
				!strings.HasPrefix(rel, "cmd/") && rel != "internal/store/testdb" {
				t.Errorf("%s imports %s; only cmd may pick a store implementation", rel, d)
			}
			if d == "internal/store/testdb" {
				t.Errorf("%s imports internal/store/testdb, which only tests may use", rel)
			}
			if d == "internal/gateway" && !strings.HasPrefix(rel, "cmd/") && rel != "internal/app" && rel != "bench" && !strings.HasPrefix(rel, "bench/") {
				t.Errorf("%s imports internal/gateway, which sits at the top", rel)
			}
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestPackageDocs: every package says why it exists in a doc comment.
func TestPackageDocs(t *testing.T) {
	for _, p := range listPackages(t) {
		if len(p.GoFiles) == 0 {
			continue
		}
		want := "Package " + p.Name + " "
		if p.Name == "main" {
			want = "Command "
		}
		if !strings.HasPrefix(p.Doc, strings.TrimSpace(want)) {
			t.Errorf("%s: the package doc must start with %q, got %q", p.ImportPath, want, p.Doc)
		}
	}
}

// TestEnvironmentReadInOnePlace: only internal/config reads the process
// environment.
func TestEnvironmentReadInOnePlace(t *testing.T) {
	for _, p := range listPackages(t) {
		if strings.HasSuffix(p.ImportPath, "/internal/config") {
			continue
		}
		for _, f := range p.GoFiles {
			path := filepath.Join(p.Dir, f)
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			file, err := parser.ParseFile(token.NewFileSet(), path, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "os" {
					switch sel.Sel.Name {
					case "Getenv", "LookupEnv", "Environ":
						t.Errorf("%s reads the environment (os.%s); only internal/config may", path, sel.Sel.Name)
					}
				}
				return true
			})
		}
	}
}
