package gateway

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/llmux/llmux/internal/config"
)

// slowStream is an upstream handler that streams chunks every 5ms until the
// client goes away, and reports when that happened.
func slowStream(gone chan<- struct{}) func(w http.ResponseWriter, r *http.Request, body []byte) bool {
	return func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		w.Header().Set("Content-Type", "text/event-stream")
		f := w.(http.Flusher)
		for i := 0; ; i++ {
			fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok%d \"},\"finish_reason\":null}]}\n\n", i)
			f.Flush()
			select {
			case <-r.Context().Done():
				close(gone)
				return true
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
}

// TestClientHangUpClosesUpstream: a client that disconnects mid-stream
// makes the gateway drop its upstream connection at once, and no goroutine
// is left behind.
func TestClientHangUpClosesUpstream(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, path := range []string{"passthrough", "translated"} {
		t.Run(path, func(t *testing.T) {
			gone := make(chan struct{})
			up := newUpstream(t)
			up.handle = slowStream(gone)
			ts, srv := newGateway(t, openaiConfig+`
  slow:
    type: mock
    mock: { tokens_per_second: 200, output_tokens: 100000 }
`, up.URL)
			model := "openai/fast"
			if path == "translated" {
				model = "slow/chat"
			}
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/v1/chat/completions",
				strings.NewReader(`{"model":"`+model+`","stream":true,"messages":[{"role":"user","content":"go on"}]}`))
			req.Header.Set("Authorization", "Bearer test-key")
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(resp.Body)
			for i := 0; i < 3; i++ { // a few events arrive
				if _, err := br.ReadString('\n'); err != nil {
					t.Fatal(err)
				}
			}
			cancel()
			resp.Body.Close()
			if path == "passthrough" {
				select {
				case <-gone:
				case <-time.After(10 * time.Second):
					t.Fatal("the upstream connection stayed open after the client left")
				}
			}
			// The request ends: nothing is in flight any more.
			deadline := time.Now().Add(10 * time.Second)
			for inFlight(srv) > 0 {
				if time.Now().After(deadline) {
					t.Fatal("the request is still being served after the client left")
				}
				time.Sleep(5 * time.Millisecond)
			}
			ts.Close()
			up.Close()
			ts.Client().CloseIdleConnections()
		})
	}
}

func inFlight(s *Server) float64 { return testutil.ToFloat64(s.metrics.InFlight) }

// httptestRecorder serves one request in process and returns the status.
func httptestRecorder(h http.Handler, method, path string) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code
}

// running is a server started with Run on a loopback listener, as the
// binary starts it, with one streaming request in flight.
type running struct {
	srv    *Server
	addr   string
	stop   context.CancelFunc // what SIGTERM does
	done   chan error         // Run's result
	client *http.Client
	resp   *http.Response // the stream in flight
}

func startRunning(t *testing.T, yaml string, drain time.Duration) *running {
	t.Helper()
	srv, err := New(mustConfig(t, yaml), Options{Registry: registry()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	rn := &running{srv: srv, addr: ln.Addr().String(), stop: stop, done: make(chan error, 1),
		client: &http.Client{Transport: &http.Transport{}}}
	go func() { rn.done <- srv.Run(ctx, ln, drain) }()
	t.Cleanup(rn.client.CloseIdleConnections)
	req, _ := http.NewRequest("POST", "http://"+rn.addr+"/v1/chat/completions",
		strings.NewReader(`{"model":"mock/chat","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer k")
	if rn.resp, err = rn.client.Do(req); err != nil {
		t.Fatal(err)
	}
	return rn
}

// TestDrainFinishesStreams: on shutdown, a stream in flight runs to its end
// while new connections are refused and /readyz fails.
func TestDrainFinishesStreams(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	rn := startRunning(t, `
keys: [ k ]
providers:
  mock: { type: mock, mock: { tokens_per_second: 100, output_tokens: 20 } }
`, 10*time.Second)
	br := bufio.NewReader(rn.resp.Body)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	rn.stop() // SIGTERM
	for !rn.srv.draining.Load() {
		time.Sleep(time.Millisecond)
	}
	if code := httptestRecorder(rn.srv, "GET", "/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz during drain = %d", code)
	}
	rest, err := io.ReadAll(br)
	rn.resp.Body.Close()
	if err != nil || !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Fatalf("the stream did not finish during the drain (err %v): ...%q", err, tail(string(rest)))
	}
	if err := <-rn.done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if _, err := net.DialTimeout("tcp", rn.addr, time.Second); err == nil {
		t.Fatal("the listener still accepts connections after shutdown")
	}
}

// TestDrainIsBounded: a stream longer than the drain timeout is cut off.
func TestDrainIsBounded(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	rn := startRunning(t, `
keys: [ k ]
providers:
  mock: { type: mock, mock: { tokens_per_second: 50, output_tokens: 100000 } }
`, 100*time.Millisecond)
	defer rn.resp.Body.Close()
	rn.stop()
	select {
	case <-rn.done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after the drain timeout")
	}
	rest, _ := io.ReadAll(rn.resp.Body)
	if strings.Contains(string(rest), "[DONE]") {
		t.Fatal("an endless stream completed")
	}
}

func tail(s string) string {
	if len(s) > 80 {
		return s[len(s)-80:]
	}
	return s
}

func mustConfig(t testing.TB, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestReload: a new configuration applies to new requests, while a stream
// that started before the reload finishes on the old one.
func TestReload(t *testing.T) {
	ts, srv := newGateway(t, `
keys: [ k ]
providers:
  mock: { type: mock, mock: { tokens_per_second: 200, output_tokens: 30 } }
`, "")
	req, _ := http.NewRequest("POST", ts.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"mock/chat","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer k")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	br.ReadString('\n')

	if err := srv.Reload(mustConfig(t, `
keys: [ k2 ]
providers:
  other: { type: mock }
`)); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(br)
	if !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Fatalf("the in-flight stream broke on reload: ...%q", tail(string(rest)))
	}
	if r, _ := postRaw(t, ts, "/v1/chat/completions", "k", `{"model":"other/echo","messages":[{"role":"user","content":"hi"}]}`); r.StatusCode != 401 {
		t.Fatalf("old key still accepted: %d", r.StatusCode)
	}
	if r, b := postRaw(t, ts, "/v1/chat/completions", "k2", `{"model":"other/echo","messages":[{"role":"user","content":"hi"}]}`); r.StatusCode != 200 {
		t.Fatalf("new provider: %d %s", r.StatusCode, b)
	}
	// A configuration that does not build is refused and changes nothing.
	bad := mustConfig(t, "providers:\n  x: { type: openai }\n")
	if err := srv.Reload(bad); err == nil || !strings.Contains(err.Error(), "providers.x: no API key") {
		t.Fatalf("bad reload: %v", err)
	}
	if r, _ := postRaw(t, ts, "/v1/chat/completions", "k2", `{"model":"other/echo","messages":[{"role":"user","content":"hi"}]}`); r.StatusCode != 200 {
		t.Fatalf("a failed reload changed the configuration: %d", r.StatusCode)
	}
}
