//go:build unix

package clients

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildLlmux compiles ./cmd/llmux into a temporary directory, or returns
// LLMUX_E2E_LLMUX, a binary built elsewhere (a release, another tree).
func buildLlmux(t testing.TB) string {
	t.Helper()
	if exe := os.Getenv("LLMUX_E2E_LLMUX"); exe != "" {
		return exe
	}
	exe := filepath.Join(t.TempDir(), "llmux")
	cmd := exec.Command("go", "build", "-o", exe, "./cmd/llmux")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/llmux: %v\n%s", err, out)
	}
	statSources(t, cmd.Dir)
	return exe
}

// statSources stats every source file the binary is built from. go test
// caches a passing result keyed on the files a test consults; without
// this, a change to llmux would not invalidate a cached TestClients pass.
func statSources(t testing.TB, root string) {
	cmd := exec.Command("go", "list", "-deps", "-f",
		`{{if not .Standard}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}`,
		"./cmd/llmux")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./cmd/llmux: %v", err)
	}
	for _, f := range strings.Fields(string(out)) {
		_, _ = os.Stat(f)
	}
}

// upstreamProvider is one provider of the gateway's configuration, served
// by a fake upstream.
type upstreamProvider struct {
	id       string // provider id, the first part of the model name
	typ      string // provider type
	upstream *fakeUpstream
	baseURL  string
	apiKey   string
}

// gateway is a running llmux process.
type gateway struct {
	URL string // the address clients use: the logging proxy in front of llmux
	// unwired maps the ids of the providers left out of the configuration
	// to llmux's reason (an unknown provider type, for now).
	unwired map[string]string

	front *fakeFront
	log   *lineLog // llmux's stderr
}

// startGateway writes a configuration for provs and starts llmux on a free
// loopback port. Providers whose type llmux refuses as unknown (or whose
// protocol the build lacks) are dropped and reported in unwired; any other
// configuration error fails the test.
func startGateway(t testing.TB, exe, key string, provs []*upstreamProvider) *gateway {
	t.Helper()
	dir := t.TempDir()
	unwired := map[string]string{}
	for attempt := 0; attempt <= len(provs); attempt++ {
		path := filepath.Join(dir, "llmux.yaml")
		if err := os.WriteFile(path, []byte(gatewayConfig(key, provs, unwired)), 0o600); err != nil {
			t.Fatal(err)
		}
		addr, log, err := startLlmux(t, exe, path)
		if err == nil {
			cfg, _ := os.ReadFile(path)
			front := newFakeFront(t, addr)
			t.Logf("llmux listens on %s (the CLIs reach it through the logging proxy %s); left out: %v; configuration:\n%s",
				addr, front.srv.URL, unwired, cfg)
			return &gateway{URL: front.srv.URL, unwired: unwired, front: front, log: log}
		}
		found := unwiredProviders(err.Error())
		if len(found) == 0 {
			t.Fatalf("llmux did not start: %v", err)
		}
		for id, why := range found {
			unwired[id] = why
		}
	}
	t.Fatalf("llmux did not start after dropping the providers %v", unwired)
	return nil
}

// unwiredTypeError matches llmux's startup errors for a provider type it
// does not (yet) serve.
var unwiredTypeError = regexp.MustCompile(`providers\.([A-Za-z0-9_-]+)(?:\.type)?: ((?:unknown provider type|provider type) "[^"]*"(?:; known types|, which this build lacks| needs protocol "[^"]*", which this build lacks)?)`)

func unwiredProviders(msg string) map[string]string {
	out := map[string]string{}
	for _, m := range unwiredTypeError.FindAllStringSubmatch(msg, -1) {
		out[m[1]] = strings.TrimSuffix(m[2], "; known types")
	}
	return out
}

func gatewayConfig(key string, provs []*upstreamProvider, skip map[string]string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "# Written by TestClients.\nlisten: 127.0.0.1:0\nkeys: [ %s ]\nlog_format: json\nlog_level: debug\n",
		strconv.Quote(key))
	sb.WriteString("providers:\n")
	for _, p := range provs {
		if _, ok := skip[p.id]; ok {
			continue
		}
		fmt.Fprintf(&sb, "  %s:\n    type: %s\n    base_url: %s\n", p.id, p.typ, strconv.Quote(p.baseURL))
		if p.apiKey != "" {
			fmt.Fprintf(&sb, "    api_key: %s\n", strconv.Quote(p.apiKey))
		}
		sb.WriteString("    timeout: 60s\n")
	}
	return sb.String()
}

var listening = regexp.MustCompile(`listening on http://(\S+)`)

// startLlmux starts `llmux serve --config path` and waits for its banner.
// It returns the address it listens on and its stderr; an error holds
// whatever llmux printed when it exited instead.
func startLlmux(t testing.TB, exe, path string) (string, *lineLog, error) {
	t.Helper()
	cmd := exec.Command(exe, "serve", "--config", path)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	cmd.Dir = filepath.Dir(path)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting llmux: %v", err)
	}
	log := &lineLog{}
	addrc := make(chan string, 1)
	copied := make(chan struct{})
	go func() { // owned: ends when llmux closes stderr, which Wait below awaits
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			log.add(line)
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case addrc <- m[1]:
				default:
				}
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { // owned: ends when llmux exits; t.Cleanup makes it exit
		<-copied
		exited <- cmd.Wait()
	}()
	select {
	case addr := <-addrc:
		t.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		})
		return addr, log, nil
	case err := <-exited:
		return "", nil, fmt.Errorf("%v:\n%s", err, log.since(0))
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		return "", nil, errors.New("no banner after 30s:\n" + log.since(0))
	}
}

// lineLog collects the lines a process writes.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
}

func (l *lineLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

func (l *lineLog) since(mark int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if mark > len(l.lines) {
		return ""
	}
	return strings.Join(l.lines[mark:], "\n")
}

// fakeFront is a reverse proxy in front of llmux that logs every request
// the gateway gets and the start of every answer that is not a success.
type fakeFront struct {
	srv *httptest.Server
	mu  sync.Mutex
	log []frontEntry
}

type frontEntry struct {
	at        time.Time
	method    string
	target    string
	header    map[string]string
	reqBytes  int64
	status    int
	took      time.Duration
	errorBody string
}

func newFakeFront(t testing.TB, addr string) *fakeFront {
	f := &fakeFront{}
	target := &url.URL{Scheme: "http", Host: addr}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
		},
		FlushInterval: -1, // stream every write at once, NDJSON included
		// Its own transport: no proxy from the environment, no connections
		// shared with anything else in the test process.
		Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 8, IdleConnTimeout: 30 * time.Second},
	}
	t.Cleanup(rp.Transport.(*http.Transport).CloseIdleConnections)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e := frontEntry{at: time.Now(), method: r.Method, target: r.URL.RequestURI(), header: flatHeader(r.Header),
			reqBytes: r.ContentLength}
		rec := &statusWriter{ResponseWriter: w}
		rp.ServeHTTP(rec, r)
		e.status, e.took, e.errorBody = rec.status, time.Since(e.at), rec.errBody.String()
		f.mu.Lock()
		f.log = append(f.log, e)
		f.mu.Unlock()
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeFront) mark() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.log)
}

func (f *fakeFront) entries(mark int) []frontEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	if mark > len(f.log) {
		return nil
	}
	return append([]frontEntry(nil), f.log[mark:]...)
}

func (f *fakeFront) summary(mark int) string {
	var sb strings.Builder
	for _, e := range f.entries(mark) {
		fmt.Fprintf(&sb, "  %s %s %s → %d in %s (request %d bytes; %s)\n", e.at.Format("15:04:05.000"), e.method, e.target,
			e.status, e.took.Round(time.Millisecond), e.reqBytes, headerHint(e.header))
		if e.errorBody != "" {
			fmt.Fprintf(&sb, "      answer: %s\n", strings.TrimSpace(e.errorBody))
		}
	}
	if sb.Len() == 0 {
		return "  (none)\n"
	}
	return sb.String()
}

// headerHint names the headers that tell clients apart.
func headerHint(h map[string]string) string {
	var parts []string
	for _, k := range []string{"user-agent", "anthropic-version", "anthropic-beta", "x-goog-api-client", "openai-beta", "originator"} {
		if v, ok := h[k]; ok {
			if len(v) > 300 {
				v = v[:300] + "…"
			}
			parts = append(parts, k+": "+v)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// statusWriter remembers the status and the first bytes of a failed answer.
type statusWriter struct {
	http.ResponseWriter
	status  int
	errBody strings.Builder
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if s.status >= 300 && s.errBody.Len() < 600 {
		s.errBody.Write(p[:min(len(p), 600-s.errBody.Len())])
	}
	return s.ResponseWriter.Write(p)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusWriter) Flush() { http.NewResponseController(s.ResponseWriter).Flush() }

// blackhole stands in for every proxy the CLIs might use: it refuses
// whatever reaches it and logs it, so that a CLI trying to reach a vendor
// (telemetry, update checks, model catalogues) shows up in failures and
// never gets out.
type blackhole struct {
	srv *httptest.Server
	mu  sync.Mutex
	log []string
}

func newBlackhole(t testing.TB) *blackhole {
	b := &blackhole{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.URL.String()
		if r.Method == http.MethodConnect {
			target = r.Host
		}
		b.mu.Lock()
		b.log = append(b.log, r.Method+" "+target)
		b.mu.Unlock()
		http.Error(w, "llmux e2e: outbound traffic is blocked", http.StatusForbidden)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *blackhole) mark() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.log)
}

func (b *blackhole) since(mark int) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if mark > len(b.log) {
		return nil
	}
	return append([]string(nil), b.log[mark:]...)
}
