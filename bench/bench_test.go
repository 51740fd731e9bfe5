package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/bench/load"
	"github.com/llmux/llmux/bench/mock"
	"github.com/llmux/llmux/bench/report"
	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/h1"
	"github.com/llmux/llmux/protocol/anthropic"
	"github.com/llmux/llmux/protocol/gemini"
	"github.com/llmux/llmux/protocol/openai"
)

// TestDependencies keeps the benchmark outside llmux: its pieces import
// nothing of llmux, and the runner only its own pieces. (Tests may import
// llmux's decoders to check the mocks.)
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", "github.com/llmux/llmux/bench/...").Output()
	if err != nil {
		t.Fatal(err)
	}
	const mod = "github.com/llmux/llmux/"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, deps := fields[0], fields[1:]
		for _, d := range deps {
			if !strings.HasPrefix(d, mod) {
				continue
			}
			if pkg == mod+"bench" && strings.HasPrefix(d, mod+"bench/") {
				continue
			}
			t.Errorf("%s depends on %s; the benchmark measures llmux from the outside", pkg, d)
		}
	}
}

// TestRequestsDecode: the requests sent are valid in their protocols, as
// llmux's own ingress decoders read them, and say what they should.
func TestRequestsDecode(t *testing.T) {
	for _, stream := range []bool{false, true} {
		req, err := openai.Protocol{}.DecodeRequest(openaiChat(modelOpenAI, stream).body)
		if err != nil {
			t.Fatalf("OpenAI request: %v", err)
		}
		if req.Model != modelOpenAI || req.Stream != stream || len(req.Messages) != 5 || len(req.Tools) != 2 {
			t.Errorf("OpenAI request: model %q stream %v, %d messages, %d tools", req.Model, req.Stream, len(req.Messages), len(req.Tools))
		}
		req, err = anthropic.Protocol{}.DecodeRequest(anthropicMessages(modelAnthropic, stream).body)
		if err != nil {
			t.Fatalf("Anthropic request: %v", err)
		}
		if req.Model != modelAnthropic || req.Stream != stream || len(req.Tools) != 2 {
			t.Errorf("Anthropic request: model %q stream %v, %d tools", req.Model, req.Stream, len(req.Tools))
		}
		c := geminiGenerate(modelGemini, stream)
		if _, err := (gemini.Protocol{}).DecodeRequest(c.body); err != nil {
			t.Fatalf("Gemini request: %v", err)
		}
		if !strings.Contains(c.path, modelGemini) {
			t.Errorf("Gemini path %q", c.path)
		}
	}
	if n := len(openaiChat(modelOpenAI, false).body); n < 1500 || n > 2000 {
		t.Errorf("the OpenAI request is %d bytes, want about 1.7 KB", n)
	}
}

// TestLLMuxConfigLoads: the generated configuration is one llmux accepts,
// with its database in the scratch folder (never ./llmux.db where the
// benchmark was started) and an admin key (so no generated key file).
func TestLLMuxConfigLoads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "openai-llmux")
	cfg, err := config.Parse("llmux.yaml", []byte(llmuxConfig("127.0.0.1:18080", "http://127.0.0.1:19000", dir)), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RequestLogging() || cfg.Listen != "127.0.0.1:18080" || len(cfg.Providers) != 3 {
		t.Errorf("config %+v", cfg)
	}
	if got := cfg.Providers["oai"].BaseURL; got != "http://127.0.0.1:19000/v1" {
		t.Errorf("OpenAI base URL %q", got)
	}
	if want := "sqlite://" + filepath.Join(dir, "llmux.db"); cfg.Database != want {
		t.Errorf("database %q, want %q", cfg.Database, want)
	}
	if cfg.AdminKey != adminKey {
		t.Errorf("admin key %q", cfg.AdminKey)
	}
}

// TestNginxConfig checks the generated configuration with nginx -t, when
// nginx is installed.
func TestNginxConfig(t *testing.T) {
	bin := findNginx("")
	if bin == "" {
		t.Skip("nginx is not installed")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxConfig(dir, "127.0.0.1:18081", "http://127.0.0.1:19001", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-t", "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log")).CombinedOutput()
	if err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	for _, want := range []string{"proxy_buffering off;", "keepalive 256;", "access_log off;", "proxy_http_version 1.1;", `proxy_set_header Connection "";`} {
		if !strings.Contains(nginxConfig(dir, "a:1", "http://b:2", 1), want) {
			t.Errorf("the nginx configuration lacks %q", want)
		}
	}
}

// TestReverseProxyStreams: the Go reference passes a stream through chunk
// by chunk, with either upstream transport.
func TestReverseProxyStreams(t *testing.T) {
	for _, useH1 := range []bool{false, true} {
		t.Run(fmt.Sprintf("h1=%v", useH1), func(t *testing.T) { testReverseProxyStreams(t, useH1) })
	}
}

func testReverseProxyStreams(t *testing.T, useH1 bool) {
	up := httptest.NewServer(mock.New(mock.Options{Chunks: 5, ChunkDelay: 40 * time.Millisecond}))
	defer up.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var tr http.RoundTripper
	if useH1 {
		tr = &h1.Transport{}
	}
	go func() { done <- ServeReverseProxy(ctx, addr, up.URL, tr) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	res := load.Closed{Client: load.NewClient(1), Concurrency: 1, Duration: time.Millisecond}.
		Run(ctx, openaiChat(modelOpenAI, true).request("http://"+addr, 5))
	if res.Errors != 0 || res.Calls == 0 {
		t.Fatalf("%d calls, errors %v", res.Calls, res.ErrorKinds)
	}
	if g := res.Gaps.Quantile(0.5); g < 30*time.Millisecond {
		t.Errorf("median gap between events %v, want the mock's 40ms: the proxy buffers", g)
	}
	if ttft := res.TTFT.Quantile(1); ttft > 30*time.Millisecond {
		t.Errorf("TTFT %v: the first chunk was held back", ttft)
	}
}

func TestSelectScenarios(t *testing.T) {
	o := Defaults()
	def, err := selectScenarios(&o)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range def {
		if s.optional {
			t.Errorf("optional scenario %s runs by default", s.id)
		}
		if s.kind != report.Hold && s.targets[0] != report.Direct {
			t.Errorf("%s: the direct call must be measured first, to compare with", s.id)
		}
	}
	// What a scenario is compared with runs before it; only llmux can be
	// started with a virtual key.
	seen := map[string]bool{}
	for _, s := range scenarios(&o) {
		for _, ref := range []string{s.baseRef, s.nginxRef} {
			if ref != "" && !seen[ref] {
				t.Errorf("%s refers to %q, which does not run before it", s.id, ref)
			}
		}
		seen[s.id] = true
		if s.keyed && slices.ContainsFunc(s.targets, func(t string) bool { return t != report.Direct && t != report.LLMux }) {
			t.Errorf("%s: keyed, but targets %v", s.id, s.targets)
		}
		if (s.baseRef == "") != (s.adds == "") {
			t.Errorf("%s: base %q adds %q", s.id, s.baseRef, s.adds)
		}
	}
	if !slices.ContainsFunc(def, func(s *scenario) bool { return s.keyed }) {
		t.Error("no keyed scenario runs by default (nor in a smoke run)")
	}
	o.Scenarios = []string{"openai-gemini-stream", "openai"}
	got, err := selectScenarios(&o)
	if err != nil || len(got) != 2 || got[0].id != "openai-gemini-stream" {
		t.Errorf("selected %v, %v", got, err)
	}
	o.Scenarios = []string{"nope"}
	if _, err := selectScenarios(&o); err == nil || !strings.Contains(err.Error(), "openai-stream") {
		t.Errorf("an unknown scenario: %v", err)
	}
}

func TestGoals(t *testing.T) {
	o := Defaults()
	run := &report.Run{Scenarios: []*report.Scenario{
		{ID: "openai", Rows: []*report.Row{
			{Target: report.LLMux, CPU: 45 * time.Microsecond, HasCPU: true},
			{Target: report.Nginx, CPU: 20 * time.Microsecond, HasCPU: true},
		}},
		{ID: "openai-anthropic", NginxRef: "openai", Rows: []*report.Row{
			{Target: report.LLMux, CPU: 50 * time.Microsecond, HasCPU: true},
		}},
		{ID: "held-streams", Rows: []*report.Row{{Target: report.LLMux, Open: 5000, RSSBefore: 0, RSSHeld: 5000 * 30 << 10}}},
		{ID: "open-loop", Rows: []*report.Row{
			{Target: report.Direct, P99: time.Millisecond},
			{Target: report.LLMux, P99: 2500 * time.Microsecond},
		}},
	}}
	got := goals(run, &o)
	if len(got) != 4 {
		t.Fatalf("%d goals: %+v", len(got), got)
	}
	for i, want := range []struct {
		met      bool
		measured string
		off      string
	}{
		{false, "2.25× (45µs vs 20µs)", "1.5× the limit"},
		{true, "2.50× (50µs vs 20µs)", ""},
		{true, "30.0 KB (5000 streams open)", ""},
		{false, "+1.500 ms", "by 0.500 ms"},
	} {
		g := got[i]
		if !g.Known || g.Met != want.met || g.Measured != want.measured || (!g.Met && g.Off != want.off) {
			t.Errorf("goal %d: %+v, want %+v", i, g, want)
		}
	}
}

func TestSmokeErrors(t *testing.T) {
	ok := &report.Row{Target: report.LLMux, Calls: 10, Usage: &report.UsageCheck{Calls: 12, Records: 12}}
	if err := smokeErrors(&report.Run{Scenarios: []*report.Scenario{{ID: "openai-policy", Rows: []*report.Row{ok}}}}); err != nil {
		t.Errorf("a clean run: %v", err)
	}
	short := &report.Row{Target: report.LLMux, Calls: 10, Usage: &report.UsageCheck{Calls: 12, Records: 9}}
	err := smokeErrors(&report.Run{Scenarios: []*report.Scenario{{ID: "openai-policy", Rows: []*report.Row{short}}}})
	if err == nil || !strings.Contains(err.Error(), "openai-policy, llmux: 9 usage records stored for 12 calls") {
		t.Errorf("records missing: %v", err)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[float64]string{5: "5", 1000: "1,000", 5000: "5,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%v) = %q", n, got)
		}
	}
}

// TestProcessLifecycle starts a real process through a placement, reads
// it, and stops it.
func TestProcessLifecycle(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	// "sleep" never answers HTTP, so readiness comes from the test server
	// standing in for it: the point is starting, sampling and stopping.
	p, err := placement{}.run(context.Background(), strings.TrimPrefix(srv.URL, "http://"), filepath.Join(t.TempDir(), "log"), "sleep", "30")
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.sample()
	if err != nil || s.Procs != 1 || s.RSS <= 0 {
		t.Errorf("sample %+v, %v", s, err)
	}
	start := time.Now()
	if err := p.stop(); err != nil {
		t.Error(err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("stopping took too long")
	}
	// A process that exits at once is reported, with its log.
	_, err = placement{}.run(context.Background(), "127.0.0.1:1", filepath.Join(t.TempDir(), "log"), "sh", "-c", "echo broken config >&2; exit 3")
	if err == nil || !strings.Contains(err.Error(), "broken config") {
		t.Errorf("a failing start: %v", err)
	}
}
