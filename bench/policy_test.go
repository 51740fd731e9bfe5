package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmux/llmux/bench/proc"
	"github.com/llmux/llmux/bench/report"
)

func TestWithKey(t *testing.T) {
	for _, c := range []call{openaiChat(modelOpenAI, false), anthropicMessages(modelAnthropic, true), geminiGenerate(modelGemini, false)} {
		k := c.withKey("sk-virtual")
		for name, vs := range k.header {
			if strings.Contains(strings.Join(vs, ","), clientKey) {
				t.Errorf("%s: %s still sends the static key: %q", c.path, name, vs)
			}
		}
		if got := strings.Join(k.header.Values("Authorization"), "") + k.header.Get("X-Api-Key") + k.header.Get("X-Goog-Api-Key"); !strings.Contains(got, "sk-virtual") {
			t.Errorf("%s: the virtual key is not sent: %v", c.path, k.header)
		}
		if !strings.Contains(fmt.Sprint(c.header), clientKey) {
			t.Errorf("%s: withKey changed the original call's header", c.path)
		}
	}
}

// fakeLLMux writes a shell script standing in for the llmux binary: it
// appends its arguments to args.txt in its folder and runs body.
func fakeLLMux(t *testing.T, body string) (bin, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	bin, argsFile = filepath.Join(dir, "llmux"), filepath.Join(dir, "args.txt")
	script := fmt.Sprintf("#!/bin/sh\necho \"$@\" >> %q\n%s\n", argsFile, body)
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, argsFile
}

func TestCreateKey(t *testing.T) {
	for _, tt := range []struct {
		name, body, err string
	}{
		{"created", `echo '{"id":"key_01","key":"sk-llmux-abc","name":"bench","team":""}'`, ""},
		{"refused", `echo "llmux keys: opening the database: locked" >&2; exit 1`, "opening the database: locked"},
		{"not JSON", `echo sk-llmux-abc`, "want an object with id and key"},
		{"no secret", `echo '{"id":"key_01"}'`, "want an object with id and key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bin, argsFile := fakeLLMux(t, tt.body)
			cfg := filepath.Join(t.TempDir(), "llmux.yaml")
			k, err := createKey(context.Background(), bin, cfg)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.ID != "key_01" || k.Key != "sk-llmux-abc" {
				t.Errorf("key %+v", k)
			}
			args, _ := os.ReadFile(argsFile)
			if want := "keys create --config " + cfg + " --name bench --rpm 1000000000 --json\n"; string(args) != want {
				t.Errorf("ran llmux %q, want %q", args, want)
			}
		})
	}
}

// TestKeyedLauncherCreatesKeyFirst: a keyed launch writes the
// configuration, creates the key in it, then starts llmux serve; an
// unkeyed one creates none.
func TestKeyedLauncherCreatesKeyFirst(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://") // answers for the fake
	bin, argsFile := fakeLLMux(t, `case "$1" in
keys) echo '{"id":"key_01","key":"sk-llmux-abc"}' ;;
serve) exec sleep 30 ;;
esac`)
	for _, keyed := range []bool{false, true} {
		os.Remove(argsFile)
		var l launcher = llmuxLauncher{bin: bin}
		if keyed {
			l = l.(keyedLauncher).withKey()
		}
		dir := t.TempDir()
		p, err := l.start(context.Background(), addr, "http://127.0.0.1:9", dir)
		if err != nil {
			t.Fatal(err)
		}
		// Readiness comes from the test server: wait for the fake's serve.
		var args []byte
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(string(args), "serve") && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
			args, _ = os.ReadFile(argsFile)
		}
		p.stop()
		cfg := filepath.Join(dir, "llmux.yaml")
		want := "serve --config " + cfg + "\n"
		if keyed {
			want = "keys create --config " + cfg + " --name bench --rpm 1000000000 --json\n" + want
		}
		if string(args) != want {
			t.Errorf("keyed %v: ran %q, want %q", keyed, args, want)
		}
		if keyed != (p.key != nil) || keyed && p.key.Key != "sk-llmux-abc" {
			t.Errorf("keyed %v: process key %+v", keyed, p.key)
		}
		if b, err := os.ReadFile(cfg); err != nil || !strings.Contains(string(b), "sqlite://"+filepath.Join(dir, "llmux.db")) {
			t.Errorf("keyed %v: configuration %q, %v", keyed, b, err)
		}
	}
}

// fakeAdmin serves GET /admin/api/usage as llmux does, with the count that
// records returns.
func fakeAdmin(t *testing.T, records func() int64) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path != "/admin/api/usage":
			http.NotFound(w, r)
		case r.Header.Get("Authorization") != "Bearer "+adminKey:
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"message":"This key may not use the admin API."}}`)
		case r.URL.Query().Get("key") != "key_01":
			fmt.Fprint(w, `{"rows":[{"requests":0}]}`)
		default:
			fmt.Fprintf(w, `{"from":null,"to":null,"group_by":[],"rows":[{"requests":%d,"errors":0}]}`, records())
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestCountUsage(t *testing.T) {
	ctx := context.Background()
	key := &virtualKey{ID: "key_01", Key: "sk-llmux-abc"}
	// The records arrive in batches, as the usage writer flushes them.
	var n atomic.Int64
	addr := fakeAdmin(t, func() int64 { return min(n.Add(40), 100) })
	u, err := countUsage(ctx, addr, key, 100, 5*time.Second)
	if err != nil || !u.OK() || u.Records != 100 || u.Waited <= 0 {
		t.Errorf("all written: %+v, %v", u, err)
	}
	// Records missing beyond the wait: the check gives up and says so.
	addr = fakeAdmin(t, func() int64 { return 97 })
	start := time.Now()
	u, err = countUsage(ctx, addr, key, 100, 200*time.Millisecond)
	if err != nil || u.OK() || u.Records != 97 || u.Calls != 100 {
		t.Errorf("missing records: %+v, %v", u, err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("gave up after %v", time.Since(start))
	}
	// More records than calls is no better.
	addr = fakeAdmin(t, func() int64 { return 101 })
	if u, err := countUsage(ctx, addr, key, 100, time.Second); err != nil || u.OK() {
		t.Errorf("extra records: %+v, %v", u, err)
	}
	// Another key's records are not counted.
	if u, err := countUsage(ctx, addr, &virtualKey{ID: "key_02"}, 1, 100*time.Millisecond); err != nil || u.Records != 0 {
		t.Errorf("another key: %+v, %v", u, err)
	}
	// An admin API that refuses is an error, with its answer.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"error":{"message":"admin_disabled"}}`)
	}))
	defer srv.Close()
	if _, err := countUsage(ctx, strings.TrimPrefix(srv.URL, "http://"), key, 1, time.Second); err == nil || !strings.Contains(err.Error(), "admin_disabled") {
		t.Errorf("refused: %v", err)
	}
}

func TestCheckLimited(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		limit  string
		err    string
	}{
		{"admitted by the limiter", 200, "1000000000", ""},
		{"no limiter in the way", 200, "", "x-ratelimit-limit-requests is \"\""},
		{"another limit", 200, "60", "want 1000000000"},
		{"refused", 401, "", "status 401: invalid_api_key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.limit != "" {
					w.Header().Set("X-Ratelimit-Limit-Requests", tt.limit)
				}
				w.WriteHeader(tt.status)
				if tt.status != 200 {
					fmt.Fprint(w, "invalid_api_key")
				}
			}))
			defer srv.Close()
			err := checkLimited(context.Background(), openaiChat(modelOpenAI, false).withKey("sk-x").request(srv.URL, 0))
			if (tt.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("error %v, want %q", err, tt.err)
			}
		})
	}
}

// TestKeyedScenarioOnLLMux runs the keyed scenario and the plain
// passthrough against the real llmux binary, built here: the virtual key is
// created and used, every call leaves one usage record, and each llmux has
// its database in its scratch folder — nothing lands in the working
// directory.
func TestKeyedScenarioOnLLMux(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs llmux")
	}
	bin := filepath.Join(t.TempDir(), "llmux")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/llmux/llmux/cmd/llmux").CombinedOutput(); err != nil {
		t.Fatalf("building llmux: %v\n%s", err, out)
	}
	o := Smoke()
	o.Duration, o.Warmup = 300*time.Millisecond, 100*time.Millisecond
	o.fill()
	r := &runner{o: &o, dir: t.TempDir(), hz: proc.ClockTicks(), run: &report.Run{}}
	byID := map[string]*scenario{}
	for _, sc := range scenarios(&o) {
		byID[sc.id] = sc
	}
	wd, _ := os.Getwd()
	for _, id := range []string{"openai-policy", "openai"} {
		sc := byID[id]
		row, err := r.measure(context.Background(), sc, report.LLMux, llmuxLauncher{bin: bin})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if row.Calls == 0 || row.Errors > 0 || !row.HasCPU {
			t.Errorf("%s: %d calls, errors %v", id, row.Calls, row.ErrorKinds)
		}
		if sc.keyed != (row.Usage != nil) {
			t.Errorf("%s: usage counted %+v", id, row.Usage)
		}
		if u := row.Usage; u != nil && (!u.OK() || u.Calls <= int64(row.Calls)) {
			t.Errorf("%s: %d records for %d calls (%d measured)", id, u.Records, u.Calls, row.Calls)
		}
		scratch := filepath.Join(r.dir, id+"-"+report.LLMux)
		if _, err := os.Stat(filepath.Join(scratch, "llmux.db")); err != nil {
			t.Errorf("%s: no database in the scratch folder: %v", id, err)
		}
		if _, err := os.Stat(filepath.Join(scratch, "llmux-admin.key")); err == nil {
			t.Errorf("%s: llmux generated an admin key file though admin_key is set", id)
		}
	}
	for _, f := range []string{"llmux.db", "llmux-admin.key"} {
		if _, err := os.Stat(filepath.Join(wd, f)); err == nil {
			t.Errorf("%s appeared in the working directory", f)
		}
	}
	if len(r.run.Notes) > 0 {
		t.Errorf("notes: %q", r.run.Notes)
	}
}
