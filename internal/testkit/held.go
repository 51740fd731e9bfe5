package testkit

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

// The held-stream benchmarks (internal/provider, internal/gateway) measure
// what one open stream costs a process. Their upstream runs in a child
// process, the test binary itself re-run with an environment variable, so
// that its connections and goroutines are not counted:
//
//	func TestHeldStreamUpstream(t *testing.T) { testkit.ServeHeldStreams(t, os.Getenv(env) != "", chunk) }
//
//	addr := testkit.StartHeldStreams(b, "TestHeldStreamUpstream", env)

// ServeHeldStreams is the child's side: when child (the caller's test saw
// its environment variable), it prints its address and answers every
// request with an endless stream of chunk, one a second, until the parent
// closes its stdin. Otherwise it skips.
func ServeHeldStreams(t *testing.T, child bool, chunk string) {
	if !child {
		t.Skip("the upstream process of a held-stream benchmark")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("ADDR %s\n", ln.Addr())
	go func() { io.Copy(io.Discard, os.Stdin); os.Exit(0) }() // the parent closes stdin when done
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		for {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Second):
			}
		}
	})}
	srv.Serve(ln)
}

// StartHeldStreams starts the test binary's test named test as the
// upstream child (with env set) and returns its address; the child ends
// with the benchmark.
func StartHeldStreams(b *testing.B, test, env string) string {
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(cmd.Environ(), env+"=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "ADDR ")
	if err != nil || !ok {
		b.Fatalf("upstream said %q, %v", line, err)
	}
	return addr
}

// InUse returns the goroutines, and the heap and stack bytes in use, after
// a collection.
func InUse() (goroutines int, heap, stack int64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), int64(ms.HeapInuse), int64(ms.StackInuse)
}

// WriteProfile writes the named runtime/pprof profile ("heap",
// "goroutine") to the file name, with debug as pprof's WriteTo takes it.
func WriteProfile(b *testing.B, profile, name string, debug int) {
	f, err := os.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup(profile).WriteTo(f, debug); err != nil {
		b.Fatal(err)
	}
}
