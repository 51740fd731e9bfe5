package multi

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The services the tests need; .ci/run exports both.
const (
	postgresEnv = "LLMUX_TEST_POSTGRES_DSN" // e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable
	redisEnv    = "LLMUX_TEST_REDIS_ADDR"   // e.g. 127.0.0.1:6379
	// binEnv names a prebuilt llmux to test instead of building ./cmd/llmux.
	// A directory is accepted when it holds an llmux (.ci/run points the same
	// variable at a directory of coding-agent CLIs for e2e/clients; one
	// without llmux in it is ignored).
	binEnv = "LLMUX_E2E_BIN"
)

// llmuxBin is the binary under test, and buildErr why there is none; both
// are set by TestMain before any test runs.
var (
	llmuxBin string
	buildErr error
)

// TestMain builds llmux once for all tests, when the services are there to
// test it against.
func TestMain(m *testing.M) {
	var tmp string
	if os.Getenv(postgresEnv) != "" && os.Getenv(redisEnv) != "" {
		llmuxBin, tmp, buildErr = findOrBuild()
	}
	code := m.Run()
	if tmp != "" {
		os.RemoveAll(tmp)
	}
	os.Exit(code)
}

// findOrBuild returns the binary named by LLMUX_E2E_BIN, or builds
// ./cmd/llmux into a new temporary directory (returned for removal).
func findOrBuild() (exe, tmp string, err error) {
	if p := os.Getenv(binEnv); p != "" {
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			return "", "", fmt.Errorf("%s=%s: %v", binEnv, p, err)
		case !fi.IsDir():
			return p, "", nil
		}
		if _, err := os.Stat(filepath.Join(p, "llmux")); err == nil {
			return filepath.Join(p, "llmux"), "", nil
		}
	}
	tmp, err = os.MkdirTemp("", "llmux-multi-")
	if err != nil {
		return "", "", err
	}
	exe = filepath.Join(tmp, "llmux")
	root := filepath.Join("..", "..")
	cmd := exec.Command("go", "build", "-o", exe, "./cmd/llmux")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", tmp, fmt.Errorf("go build ./cmd/llmux: %v\n%s", err, out)
	}
	statSources(root)
	return exe, tmp, nil
}

// statSources stats every file the binary is built from. go test caches a
// passing result keyed on the files the test process consults; without
// this, a change to llmux would not invalidate a cached pass.
func statSources(root string) {
	cmd := exec.Command("go", "list", "-deps", "-f",
		`{{if not .Standard}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}`,
		"./cmd/llmux")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(out)) {
		os.Stat(f)
	}
}

// services returns the PostgreSQL DSN and the Redis address, skipping the
// test loudly when either is not set, and fails it when llmux could not be
// built.
func services(t *testing.T) (dsn, redisAddr string) {
	t.Helper()
	dsn, redisAddr = os.Getenv(postgresEnv), os.Getenv(redisEnv)
	if dsn == "" || redisAddr == "" {
		t.Skipf("SKIPPED: several llmux instances were NOT tested together: %s and %s must both be set "+
			"(e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable and 127.0.0.1:6379)", postgresEnv, redisEnv)
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return dsn, redisAddr
}
