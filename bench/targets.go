package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/llmux/llmux/bench/proc"
)

// launcher starts one kind of gateway, as its own process, in front of an
// upstream.
type launcher interface {
	// start runs the gateway listening on addr and forwarding to upstream
	// ("http://host:port"); dir is a scratch folder for its configuration
	// and log, named after the run.
	start(ctx context.Context, addr, upstream, dir string) (*process, error)
}

// keyedLauncher is a launcher of llmux that can also start it serving a
// virtual key (scenario.keyed).
type keyedLauncher interface {
	launcher
	// withKey returns a launcher that, before starting llmux, creates a
	// virtual key with an RPM limit of keyRPM in its fresh database, and
	// sets the process's key to it.
	withKey() launcher
}

var (
	_ keyedLauncher = llmuxLauncher{}
	_ keyedLauncher = profiledLauncher{}
)

// process is a running gateway.
type process struct {
	cmd    *exec.Cmd
	addr   string // where it listens
	log    string
	exited chan struct{} // closed when the process has exited
	err    error         // its exit status, once exited is closed
	// key is the virtual key llmux was started with, when it was asked
	// for one (keyedLauncher); nil otherwise.
	key *virtualKey
}

// placement says how a command is started: under taskset on the gateway's
// CPUs, or as it is.
type placement struct {
	taskset string // path of taskset; "" starts commands unpinned
	cpus    []int  // the gateway's CPUs
}

func (pl placement) cpuList() string {
	s := make([]string, len(pl.cpus))
	for i, c := range pl.cpus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}

// run starts bin with args, its output into log, and waits until it
// answers HTTP on addr.
func (pl placement) run(ctx context.Context, addr, log, bin string, args ...string) (*process, error) {
	if pl.taskset != "" {
		args = append([]string{"-c", pl.cpuList(), bin}, args...)
		bin = pl.taskset
	}
	out, err := os.Create(log)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command(bin, args...)
	cmd.Dir = filepath.Dir(log) // whatever it writes stays in the scratch folder
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, addr: addr, log: log, exited: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	if err := p.waitReady(ctx, addr); err != nil {
		p.stop()
		return nil, fmt.Errorf("%s: %w%s", filepath.Base(bin), err, p.logTail())
	}
	return p, nil
}

// waitReady polls addr until any HTTP answer comes back.
func (p *process) waitReady(ctx context.Context, addr string) error {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := c.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("exited before answering: %v", p.err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer on %s after 15s: %v", addr, err)
		}
	}
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// sample reads the process and its descendants.
func (p *process) sample() (proc.Sample, error) { return proc.Tree{Root: p.pid()}.Read() }

// stop asks the process to end (SIGTERM) and kills it after 10s.
func (p *process) stop() error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return nil
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
		return errors.New("did not stop within 10s of SIGTERM; killed")
	}
}

func (p *process) logTail() string {
	b, err := os.ReadFile(p.log)
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "\n" + string(bytes.TrimSpace(b))
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// llmuxLauncher runs the llmux binary with a generated configuration.
type llmuxLauncher struct {
	bin   string
	pl    placement
	keyed bool // see keyedLauncher
}

// adminKey is the admin key of every llmux under test: the usage records
// are counted through the admin API, and with it set llmux writes no
// generated key file.
const adminKey = "bench-admin-key"

// llmuxConfig is the configuration every llmux under test gets: one static
// key, an admin key, a fresh SQLite database in its scratch folder dir
// (usage records are always written), no request log (nginx runs without an
// access log), and one provider per mock protocol.
func llmuxConfig(addr, upstream, dir string) string {
	return fmt.Sprintf(`# generated by llmux-bench
listen: %s
keys: [ %s ]
admin_key: %s
database: %q
log_requests: false
log_level: warn
drain_timeout: 2s
providers:
  oai: { type: openai, base_url: "%s/v1", api_key: sk-bench, models: [ %s ] }
  ant: { type: anthropic, base_url: "%s", api_key: sk-bench, models: [ %s ] }
  gem: { type: gemini, base_url: "%s", api_key: bench, models: [ %s ] }
`, addr, clientKey, adminKey, "sqlite://"+filepath.Join(dir, "llmux.db"),
		upstream, modelOpenAI, upstream, modelAnthropic, upstream, modelGemini)
}

// configure writes llmux's configuration into the scratch folder dir and,
// when keyed, creates a virtual key in its database with the llmux binary
// bin. It returns the configuration file and the key (nil unless keyed).
func configure(ctx context.Context, bin, addr, upstream, dir string, keyed bool) (string, *virtualKey, error) {
	cfg := filepath.Join(dir, "llmux.yaml")
	if err := os.WriteFile(cfg, []byte(llmuxConfig(addr, upstream, dir)), 0o600); err != nil {
		return "", nil, err
	}
	if !keyed {
		return cfg, nil, nil
	}
	k, err := createKey(ctx, bin, cfg)
	return cfg, k, err
}

// virtualKey is a key made by llmux keys create.
type virtualKey struct {
	ID  string `json:"id"`
	Key string `json:"key"` // the secret, sent by the client
}

// keyRPM is the requests-per-minute limit of the virtual key: high enough
// never to refuse, so that every call is admitted and settled by the
// limiter and none is turned away.
const keyRPM = 1_000_000_000

// createKey creates a virtual key with llmux's own command, as a user
// would, in the database of the configuration file cfg.
func createKey(ctx context.Context, bin, cfg string) (*virtualKey, error) {
	cmd := exec.CommandContext(ctx, bin, "keys", "create", "--config", cfg,
		"--name", "bench", "--rpm", strconv.Itoa(keyRPM), "--json")
	cmd.Dir = filepath.Dir(cfg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("llmux keys create: %v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	var k virtualKey
	if err := json.Unmarshal(out, &k); err != nil || k.ID == "" || k.Key == "" {
		return nil, fmt.Errorf("llmux keys create --json printed %q; want an object with id and key", bytes.TrimSpace(out))
	}
	return &k, nil
}

func (l llmuxLauncher) withKey() launcher { l.keyed = true; return l }

func (l llmuxLauncher) start(ctx context.Context, addr, upstream, dir string) (*process, error) {
	cfg, key, err := configure(ctx, l.bin, addr, upstream, dir, l.keyed)
	if err != nil {
		return nil, err
	}
	p, err := l.pl.run(ctx, addr, filepath.Join(dir, "llmux.log"), l.bin, "serve", "--config", cfg)
	if err != nil {
		return nil, err
	}
	p.key = key
	return p, nil
}

// profiledLauncher runs llmux's gateway inside the benchmark binary
// (its "profiled-gateway" mode), writing CPU and allocation profiles when
// it stops.
type profiledLauncher struct {
	self             string
	llmux            string // the llmux binary, for llmux keys create
	cpuFile, memFile string
	pl               placement
	keyed            bool // see keyedLauncher
}

func (l profiledLauncher) withKey() launcher { l.keyed = true; return l }

func (l profiledLauncher) start(ctx context.Context, addr, upstream, dir string) (*process, error) {
	cfg, key, err := configure(ctx, l.llmux, addr, upstream, dir, l.keyed)
	if err != nil {
		return nil, err
	}
	p, err := l.pl.run(ctx, addr, filepath.Join(dir, "profiled.log"), l.self, ModeProfiledGateway,
		"-config", cfg, "-cpuprofile", l.cpuFile, "-memprofile", l.memFile)
	if err != nil {
		return nil, err
	}
	p.key = key
	return p, nil
}

// reverseProxyLauncher runs Go's httputil.ReverseProxy in the benchmark
// binary's "reverse-proxy" mode, with net/http's transport or (h1)
// llmux's.
type reverseProxyLauncher struct {
	self string
	h1   bool
	pl   placement
}

func (l reverseProxyLauncher) start(ctx context.Context, addr, upstream, dir string) (*process, error) {
	name, transport := "reverseproxy.log", "net"
	if l.h1 {
		name, transport = "reverseproxy-h1.log", "h1"
	}
	return l.pl.run(ctx, addr, filepath.Join(dir, name), l.self, ModeReverseProxy,
		"-listen", addr, "-upstream", upstream, "-transport", transport)
}

// nginxLauncher runs nginx with a generated configuration.
type nginxLauncher struct {
	bin     string
	workers int
	pl      placement
}

// nginxConfig is the floor: a plain reverse proxy with upstream keepalive
// and no buffering of answers, as a user would set it up for streaming.
func nginxConfig(dir, addr, upstream string, workers int) string {
	return fmt.Sprintf(`# generated by llmux-bench
daemon off;
master_process on;
%[5]s
worker_processes %[1]d;
worker_rlimit_nofile 20000;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events {
    worker_connections 16384;
    use epoll;
}
http {
    access_log off;
    client_body_temp_path %[2]s/client_body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    keepalive_requests 1000000;
    upstream mock {
        server %[3]s;
        keepalive 256;
        keepalive_requests 1000000;
        keepalive_timeout 60s;
    }
    server {
        listen %[4]s backlog=4096;
        location / {
            proxy_pass http://mock;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 300s;
        }
    }
}
`, workers, dir, strings.TrimPrefix(upstream, "http://"), addr, userLine())
}

// userLine keeps nginx's workers as root when the benchmark runs as root:
// the default user (nobody) could not read the scratch folder.
func userLine() string {
	if os.Geteuid() == 0 {
		return "user root;"
	}
	return ""
}

func (l nginxLauncher) start(ctx context.Context, addr, upstream, dir string) (*process, error) {
	cfg := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(cfg, []byte(nginxConfig(dir, addr, upstream, l.workers)), 0o644); err != nil {
		return nil, err
	}
	// -e: nginx opens its error log before reading the configuration.
	return l.pl.run(ctx, addr, filepath.Join(dir, "nginx.log"), l.bin, "-p", dir, "-c", cfg, "-e", filepath.Join(dir, "error.log"))
}

// nginxVersion returns "nginx/1.22.1" or the like.
func nginxVersion(bin string) string {
	out, _ := exec.Command(bin, "-v").CombinedOutput()
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "nginx version: ")
}
