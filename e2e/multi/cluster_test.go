package multi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmux/llmux/internal/store/testdb"
)

// Shared settings of every cluster.
const (
	instances = 3
	adminKey  = "sk-multi-admin-test-key"
	// provider is the id of the upstream in the configuration; model the one
	// model it serves, priced below.
	provider = "up"
	model    = "gpt-4o-mini"
	// qualified is the name clients use.
	qualified = provider + "/" + model
	// Prices in USD per million tokens, chosen so that the recorded answer
	// (8 input and 9 output tokens) costs exactly $0.02: 8×250 + 9×2000 =
	// 20,000 micro-dollars.
	inputPrice, outputPrice = 250, 2000
	// redisDB is the Redis database of these tests; no other test uses it.
	redisDB = 9
	// flushInterval is how long a usage record may wait in an instance.
	flushInterval = 200 * time.Millisecond
	// startTimeout bounds an instance's start (database migration
	// included) on a loaded machine.
	startTimeout = 60 * time.Second
)

// cost is what usage u costs at the configured prices, in dollars.
func cost(u usage) float64 {
	return (float64(u.In)*inputPrice + float64(u.Out)*outputPrice) / 1e6
}

// cluster is several llmux processes sharing one PostgreSQL schema and one
// Redis database, in front of one fake upstream.
type cluster struct {
	dsn   string // the PostgreSQL schema, for reading the store directly
	up    *upstream
	nodes []*node
	http  *http.Client // for the admin API and the SDK; keeps connections open
}

// node is one running llmux.
type node struct {
	i    int
	url  string // http://host:port
	cfg  string // the configuration file
	cmd  *exec.Cmd
	log  *syncBuffer // stdout and stderr
	done chan struct{}
	err  error     // cmd.Wait's result, set before done is closed
	exit time.Time // when the process had exited, set before done is closed
}

// options vary a cluster.
type options struct {
	// redisLatency, when set, puts a proxy between the instances and Redis
	// that delays each direction by this much.
	redisLatency time.Duration
}

// startCluster starts the instances against a fresh schema and an emptied
// Redis database and waits until every one is ready. Their output is shown
// when the test fails; they are killed when it ends, if still running.
func startCluster(t *testing.T, up *upstream, opt options) *cluster {
	t.Helper()
	_, redisAddr := services(t)
	flushRedis(t, redisAddr)
	if opt.redisLatency > 0 {
		redisAddr = newLatencyProxy(t, redisAddr, opt.redisLatency)
	}
	c := &cluster{dsn: testdb.DSN(t, "postgres"), up: up, http: &http.Client{Transport: &http.Transport{
		MaxIdleConns: 1000, MaxIdleConnsPerHost: 500, IdleConnTimeout: 30 * time.Second,
	}}}
	t.Cleanup(c.http.CloseIdleConnections)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`# Written by e2e/multi.
listen: 127.0.0.1:0
admin_key: %s
database: %s
redis: %s
log_format: text
drain_timeout: 30s
usage: { flush_interval: %s }
pricing:
  %s: { input: %d, output: %d }
providers:
  %s:
    type: openai
    base_url: %s
    api_key: %s
    models: [ %s ]
`, strconv.Quote(adminKey), strconv.Quote(c.dsn), strconv.Quote(fmt.Sprintf("redis://%s/%d", redisAddr, redisDB)),
		flushInterval, model, inputPrice, outputPrice, provider, strconv.Quote(up.URL+"/v1"), upstreamKey, model)
	// The instances start together, as after a deployment: the first to
	// reach PostgreSQL migrates the schema while the others wait for it.
	var wg sync.WaitGroup
	errs := make([]error, instances)
	c.nodes = make([]*node, instances)
	for i := range c.nodes {
		path := filepath.Join(dir, fmt.Sprintf("llmux-%d.yaml", i+1))
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		n := &node{i: i, log: &syncBuffer{}, done: make(chan struct{})}
		c.nodes[i] = n
		if err := n.start(dir, path); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			n.kill()
			if t.Failed() {
				t.Logf("instance %d (%s) printed:\n%s", n.i+1, n.url, n.log.tail(256<<10))
			}
		})
		wg.Go(func() { errs[i] = n.waitReady(c.http) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return c
}

// flushRedis empties the tests' Redis database.
func flushRedis(t *testing.T, addr string) {
	t.Helper()
	rc := redis.NewClient(&redis.Options{Addr: addr, DB: redisDB})
	defer rc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rc.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("emptying Redis database %d at %s: %v", redisDB, addr, err)
	}
}

// start runs `llmux serve --config path` with an environment that holds
// no provider keys.
func (n *node) start(dir, path string) error {
	n.cfg = path
	n.cmd = exec.Command(llmuxBin, "serve", "--config", path)
	n.cmd.Dir = dir
	n.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	n.cmd.SysProcAttr = sysProcAttr()
	if err := n.cmd.Start(); err != nil {
		return fmt.Errorf("starting instance %d: %v", n.i+1, err)
	}
	go func() { // owned: ends when the process exits, which kill ensures
		n.err = n.cmd.Wait()
		n.exit = time.Now()
		close(n.done)
	}()
	return nil
}

var listening = regexp.MustCompile(`listening on http://(\S+)`)

// waitReady waits for the banner (which names the port the instance
// listens on) and then for /readyz to answer 200.
func (n *node) waitReady(hc *http.Client) error {
	deadline := time.Now().Add(startTimeout)
	for n.url == "" {
		if m := listening.FindStringSubmatch(n.log.String()); m != nil {
			n.url = "http://" + m[1]
			break
		}
		select {
		case <-n.done:
			return fmt.Errorf("instance %d exited at start: %v (its output follows)", n.i+1, n.err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("instance %d printed no banner within %s (its output follows)", n.i+1, startTimeout)
		}
	}
	for {
		resp, err := hc.Get(n.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("instance %d at %s was not ready within %s (last: %v; its output follows)", n.i+1, n.url, startTimeout, err)
		}
		select {
		case <-n.done:
			return fmt.Errorf("instance %d exited at start: %v (its output follows)", n.i+1, n.err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// terminate sends SIGTERM, as an orchestrator stopping the instance does.
func (n *node) terminate() error { return n.cmd.Process.Signal(syscall.SIGTERM) }

// wait waits for the process to exit and returns its exit code, or -1 when
// it did not exit within d.
func (n *node) wait(d time.Duration) int {
	select {
	case <-n.done:
		return n.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		return -1
	}
}

// kill ends the process if it still runs and waits for it.
func (n *node) kill() {
	select {
	case <-n.done:
		return
	default:
	}
	n.cmd.Process.Kill()
	<-n.done
}

// syncBuffer is a bytes.Buffer safe for concurrent use: a process's
// output, written by exec's copying goroutine and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail returns the last n bytes at most, from the start of a line.
func (b *syncBuffer) tail(n int) string {
	s := b.String()
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return fmt.Sprintf("[… %d bytes before]\n%s", len(b.String())-len(s), s)
}
