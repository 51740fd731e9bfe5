//go:build unix

package clients

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode"
)

// runTimeout bounds one CLI invocation; LLMUX_E2E_TIMEOUT overrides it.
func runTimeout(t testing.TB) time.Duration {
	if s := os.Getenv("LLMUX_E2E_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("LLMUX_E2E_TIMEOUT: %v", err)
		}
		return d
	}
	return 120 * time.Second
}

// result is what one CLI invocation did.
type result struct {
	exe            string // the executable run
	home, work     string // the CLI's HOME and working directory
	base           string // the URL it was pointed at
	args           []string
	env            []string // beyond commonEnv
	stdout, stderr string
	err            error // exit status, or the timeout
	took           time.Duration
}

// commandLine is the invocation as a shell would take it.
func (r *result) commandLine() string { return shellQuote(r.args) }

func (r *result) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "command: %s\n", r.commandLine())
	fmt.Fprintf(&sb, "env: %s\n", strings.Join(r.env, " "))
	fmt.Fprintf(&sb, "exit: %v after %s\n", r.err, r.took.Round(time.Millisecond))
	fmt.Fprintf(&sb, "--- stdout ---\n%s\n--- stderr ---\n%s\n", clip(r.stdout, 8000), clip(r.stderr, 8000))
	return sb.String()
}

// runCLI runs c once against base with model and returns what it printed.
// The CLI runs in its own process group, which is killed when the run
// ends, so that nothing it spawned outlives the test.
func runCLI(t testing.TB, c client, exe, base, key, model, blackhole string) *result {
	t.Helper()
	root := t.TempDir()
	run := &cliRun{home: filepath.Join(root, "home"), work: filepath.Join(root, "work"), base: base, key: key,
		model: model, prompt: "Answer in one short sentence: what is the capital of France?"}
	for _, d := range []string{run.home, run.work, filepath.Join(run.home, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	args, env, err := c.setup(run)
	if err != nil {
		t.Fatalf("%s: setup: %v", c.name, err)
	}
	res := &result{exe: exe, home: run.home, work: run.work, base: base, args: append([]string{filepath.Base(exe)}, args...),
		env: redactEnv(env, key)}

	timeout := runTimeout(t)
	if dt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		// Leave the test binary time to report rather than panic at -timeout.
		if dl, ok := dt.Deadline(); ok {
			timeout = max(min(timeout, time.Until(dl)-30*time.Second), 5*time.Second)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Dir = run.work
	cmd.Env = append(commonEnv(run.home, blackhole), env...)
	cmd.Stdin = nil // /dev/null: no CLI waits for piped input
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err = cmd.Run()
	res.took = time.Since(start)
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // whatever it left behind
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s (LLMUX_E2E_TIMEOUT, go test -timeout): %v", timeout, err)
	}
	res.err = err
	res.stdout, res.stderr = stdout.String(), stderr.String()
	return res
}

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of a
// process's stdout and stderr copiers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)`)

// words reduces text to its lower-case words separated by single spaces,
// so that an answer still matches after a CLI rendered its Markdown,
// wrapped its lines or coloured it.
func words(s string) string {
	s = ansi.ReplaceAllString(s, "")
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}

// printed reports whether out holds text as whole words.
func printed(out, text string) bool {
	w := words(text)
	return w != "" && strings.Contains(" "+words(out)+" ", " "+w+" ")
}

func redactEnv(env []string, key string) []string {
	out := make([]string, len(env))
	for i, kv := range env {
		out[i] = strings.ReplaceAll(kv, key, "$KEY")
	}
	return out
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_./=:@,+", r))
		}) < 0 {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n/2] + fmt.Sprintf("\n… %d bytes left out …\n", len(s)-n) + s[len(s)-n/2:]
}
