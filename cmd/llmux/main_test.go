package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/gateway"
	"github.com/llmux/llmux/internal/provider"
	"github.com/llmux/llmux/protocol/all"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "llmux.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestServeRefusesBadConfig: a wrong configuration file stops the start,
// and the message names the file, the line, the field and the problem.
func TestServeRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"unknown field", "providers:\n  openai:\n    bsae_url: https://x/v1\n    api_key: k\n",
			`:3:5: providers.openai.bsae_url: unknown field (did you mean base_url?)`},
		{"unknown provider type", "providers:\n  foo:\n    api_key: k\n",
			`:2:3: providers.foo: unknown provider type "foo"; known types:`},
		{"wrong type name", "providers:\n  mine:\n    type: openia\n    api_key: k\n",
			`:3:11: providers.mine.type: unknown provider type "openia"`},
		{"missing key", "providers:\n  groq: {}\n",
			`providers.groq: no API key: set api_key or api_keys (for example api_key: ${GROQ_API_KEY})`},
		{"route to nowhere", "routes:\n  smart:\n    targets: [ { model: nope/x } ]\n",
			`routes.smart.targets[0].model: no provider "nope" is configured`},
		{"bad value", "listen: here\n", `:1:9: listen: must be host:port`},
		{"not listening on loopback without keys", "listen: 0.0.0.0:0\n", `keys: no client keys are configured`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir()) // nothing may be created, and not here
			path := writeConfig(t, tt.config)
			var stderr bytes.Buffer
			code := run([]string{"serve", "--config", path}, io.Discard, &stderr)
			// Only the listen check needs the database (virtual keys count).
			if entries, _ := os.ReadDir("."); len(entries) > 0 && tt.name != "not listening on loopback without keys" {
				t.Errorf("a refused configuration left %s behind", entries[0].Name())
			}
			if code != 1 {
				t.Fatalf("exit code %d, want 1; stderr: %s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("stderr %q\ndoes not contain %q", stderr.String(), tt.want)
			}
			if !strings.Contains(stderr.String(), path) && tt.name != "not listening on loopback without keys" {
				t.Fatalf("stderr does not name the file: %s", stderr.String())
			}
		})
	}
}

func TestVersionAndUsage(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"version"}, &out, io.Discard); code != 0 || !strings.HasPrefix(out.String(), "llmux ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	if code := run(nil, io.Discard, io.Discard); code != 2 {
		t.Fatalf("no arguments: exit %d", code)
	}
	if code := run([]string{"frobnicate"}, io.Discard, io.Discard); code != 2 {
		t.Fatalf("unknown command: exit %d", code)
	}
}

// TestZeroConfigServe starts llmux as a user would in an empty directory
// with no keys at all, follows the banner's instructions, and stops it.
func TestZeroConfigServe(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, p := range provider.EnvTable() {
		for _, k := range p.KeyEnv {
			t.Setenv(k, "")
		}
		if p.BaseURLEnv != "" {
			t.Setenv(p.BaseURLEnv, "")
		}
	}
	t.Setenv("LLMUX_CONFIG", "")
	t.Setenv("LLMUX_KEYS", "")
	t.Setenv("LLMUX_LISTEN", "127.0.0.1:0")
	t.Setenv("DEEPSEEK_API_KEY", "sk-deepseek-test")

	pr, pw := io.Pipe()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, nil, pw); pw.Close() }()

	sc := bufio.NewScanner(pr)
	var banner []string
	for sc.Scan() {
		banner = append(banner, sc.Text())
		if strings.Contains(sc.Text(), "-d '") {
			break
		}
	}
	go io.Copy(io.Discard, pr) // keep the logs flowing
	text := strings.Join(banner, "\n")
	if !strings.Contains(text, "mock (built in)") || !strings.Contains(text, "deepseek") || !strings.Contains(text, "serving this machine only") {
		t.Fatalf("banner:\n%s", text)
	}
	url := regexp.MustCompile(`curl (http://\S+)`).FindStringSubmatch(text)
	data := regexp.MustCompile(`-d '([^']+)'`).FindStringSubmatch(text)
	if url == nil || data == nil {
		t.Fatalf("no ready-to-paste curl in the banner:\n%s", text)
	}
	resp, err := http.Post(url[1], "application/json", strings.NewReader(data[1]))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Hello, llmux!") {
		t.Fatalf("the banner's curl got %d %s", resp.StatusCode, body)
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if _, err := os.Stat("llmux.db"); err != nil {
		t.Errorf("zero-config start made no ./llmux.db: %v", err)
	}
	// The admin key: written once, where the banner says, and it opens the
	// admin API of the next start (whose banner does not make a new one).
	key, err := os.ReadFile("llmux-admin.key")
	if err != nil || !strings.Contains(text, "admin key:     generated now and written to llmux-admin.key") {
		t.Fatalf("admin key file: %v; banner:\n%s", err, text)
	}
	if fi, _ := os.Stat("llmux-admin.key"); fi.Mode().Perm() != 0o600 {
		t.Errorf("llmux-admin.key has mode %v", fi.Mode().Perm())
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"keys", "create", "--name", "first", "--json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("keys create: %d %s", code, stderr.String())
	}
	pr, pw = io.Pipe()
	ctx, stop = context.WithCancel(context.Background())
	go func() { done <- serve(ctx, nil, pw); pw.Close() }()
	sc = bufio.NewScanner(pr)
	banner = banner[:0]
	for sc.Scan() {
		banner = append(banner, sc.Text())
		if strings.Contains(sc.Text(), "/admin/api/keys") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	text = strings.Join(banner, "\n")
	if !strings.Contains(text, "in llmux-admin.key (generated at the first start)") || !strings.Contains(text, "virtual keys") {
		t.Errorf("second banner:\n%s", text)
	}
	base := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(text)[1]
	req, _ := http.NewRequest(http.MethodGet, base+"/admin/api/keys", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(key)))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"name":"first"`) {
		t.Errorf("admin API with the generated key: %d %s", resp.StatusCode, body)
	}
	// With a key issued, a keyless client is refused even on loopback.
	resp, err = http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(data[1]))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("keyless request once a key exists: %d", resp.StatusCode)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// TestKeysCommand: keys are issued, listed and revoked in the database
// directly, and bad flags are refused naming the flag.
func TestKeysCommand(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("LLMUX_CONFIG", "")
	keys := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"keys"}, args...), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	code, out, errOut := keys("create", "--name", "ci", "--models", "openai/*, claude/*", "--rpm", "60",
		"--budget-usd", "5", "--budget-period", "daily", "--expires", "2099-01-01")
	if code != 0 || !strings.HasPrefix(out, "sk-llmux-") || !strings.Contains(errOut, "shown only now") {
		t.Fatalf("create: %d %q %q", code, out, errOut)
	}
	code, out, _ = keys("list")
	if code != 0 || !strings.Contains(out, "ci") || !strings.Contains(out, "openai/*,claude/*") || !strings.Contains(out, "$5/daily") ||
		strings.Contains(out, "sk-llmux-") && !strings.Contains(out, "…") {
		t.Fatalf("list: %d %s", code, out)
	}
	id := regexp.MustCompile(`key_\w+`).FindString(out)
	if code, out, _ = keys("revoke", id); code != 0 || !strings.Contains(out, "revoked "+id) {
		t.Fatalf("revoke: %d %s", code, out)
	}
	if _, out, _ = keys("list", "--all"); !strings.Contains(out, "revoked") {
		t.Errorf("list --all: %s", out)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "--name", "x", "--rpm", "-1"}, "--rpm: must not be negative"},
		{[]string{"create", "--name", "x", "--models", "gpt-[4"}, "--models: pattern 1"},
		{[]string{"create", "--name", "x", "--budget-usd", "3"}, "--budget-period: is required"},
		{[]string{"create", "--name", "x", "--expires", "soon"}, "--expires:"},
		{[]string{"create", "--name", "x", "--expires", "2001-01-01"}, "in the past"},
		{[]string{"create", "--name", "x", "--team", "nobody"}, "--team: no team"},
		{[]string{"create"}, "--name: is required"},
	} {
		if code, _, errOut := keys(tt.args...); code != 1 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: %d %q, want %q", tt.args, code, errOut, tt.want)
		}
	}
}

// TestReloadOnFileChange: a changed file is picked up without a restart;
// a broken one is reported and the running configuration kept.
func TestReloadOnFileChange(t *testing.T) {
	path := writeConfig(t, "providers:\n  a:\n    type: mock\n")
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := gateway.New(cfg, gateway.Options{Registry: all.Registry()})
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	sum := fileSum(path)
	go func() {
		watchConfig(ctx, path, sum, srv, slog.New(slog.NewTextHandler(&logs, nil)), 20*time.Millisecond)
		close(done)
	}()
	defer func() { cancel(); <-done }()

	has := func(id string) bool {
		for _, p := range srv.Providers() {
			if p == id {
				return true
			}
		}
		return false
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if cond() {
				return
			}
		}
		t.Fatalf("%s did not happen; log:\n%s", what, logs.String())
	}
	if err := os.WriteFile(path, []byte("providers:\n  a:\n    type: mock\n  b:\n    type: mock\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor("reload adding provider b", func() bool { return has("b") })
	if err := os.WriteFile(path, []byte("providers:\n  a:\n    bsae_url: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor("the broken file reported", func() bool { return strings.Contains(logs.String(), "bsae_url") })
	if !has("b") {
		t.Error("a broken file replaced the running configuration")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
