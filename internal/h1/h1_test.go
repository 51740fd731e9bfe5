package h1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// counted is an httptest server that counts the connections it accepted.
func counted(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &n
}

func post(t *testing.T, tr http.RoundTripper, ctx context.Context, url, body string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer k")
	return tr.RoundTrip(req)
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return string(b)
}

func TestRoundTripAgainstNetHTTPServer(t *testing.T) {
	srv, conns := counted(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Auth", r.Header.Get("Authorization"))
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		if r.URL.Query().Get("chunked") != "" {
			w.Write([]byte("echo:"))
			w.(http.Flusher).Flush()
		}
		fmt.Fprintf(w, "%s %s %d", r.URL.Path, b, r.ContentLength)
	})
	tr := &Transport{}
	defer tr.CloseIdleConnections()
	for i, tc := range []struct{ path, body, want string }{
		{"/v1/chat", `{"a":1}`, `/v1/chat {"a":1} 7`},
		{"/v1/chat?chunked=1", `{"b":2}`, `echo:/v1/chat {"b":2} 7`},
		{"/empty", ``, `/empty  0`},
		{"/big", strings.Repeat("x", 100<<10), "/big " + strings.Repeat("x", 100<<10) + " 102400"},
	} {
		resp, err := post(t, tr, context.Background(), srv.URL+tc.path, tc.body)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if got := readAll(t, resp); got != tc.want {
			t.Errorf("%d: body %.80q, want %.80q", i, got, tc.want)
		}
		if resp.StatusCode != 200 || resp.Status != "200 OK" || resp.Proto != "HTTP/1.1" {
			t.Errorf("%d: status %d %q %q", i, resp.StatusCode, resp.Status, resp.Proto)
		}
		if resp.Header.Get("X-Method") != "POST" || resp.Header.Get("X-Auth") != "Bearer k" ||
			strings.Join(resp.Header.Values("X-Multi"), ",") != "a,b" {
			t.Errorf("%d: header %v", i, resp.Header)
		}
		chunked := strings.Contains(tc.path, "chunked") || tc.path == "/big" // Go chunks what outgrows its buffer
		if chunked != (len(resp.TransferEncoding) == 1) || resp.Header.Get("Transfer-Encoding") != "" {
			t.Errorf("%d: TransferEncoding %v, header %v", i, resp.TransferEncoding, resp.Header)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 4 sequential calls, want 1 (reuse)", n)
	}
}

func TestConcurrentCallsReuseConnections(t *testing.T) {
	srv, conns := counted(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	})
	tr := &Transport{}
	defer tr.CloseIdleConnections()
	const workers, calls = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers*calls)
	for w := range workers {
		wg.Go(func() {
			for i := range calls {
				want := fmt.Sprintf("w%d-c%d", w, i)
				resp, err := post(t, tr, context.Background(), srv.URL, want)
				if err != nil {
					errs <- err
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(b) != want {
					errs <- fmt.Errorf("got %q, %v; want %q", b, err, want)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := conns.Load(); n > workers {
		t.Errorf("%d connections for %d workers", n, workers)
	}
}

// TestStreamChunksArriveUnbuffered: each chunk the server flushes is
// readable before the server writes the next one.
func TestStreamChunksArriveUnbuffered(t *testing.T) {
	next := make(chan struct{})
	srv, _ := counted(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 5 {
			fmt.Fprintf(w, "data: %d\n\n", i)
			w.(http.Flusher).Flush()
			if i < 4 {
				<-next
			}
		}
	})
	tr := &Transport{}
	defer tr.CloseIdleConnections()
	resp, err := post(t, tr, context.Background(), srv.URL, "{}")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for i := range 5 {
		line, err := br.ReadString('\n')
		if err != nil || line != fmt.Sprintf("data: %d\n", i) {
			t.Fatalf("event %d: %q, %v", i, line, err)
		}
		br.ReadString('\n')
		if i < 4 {
			next <- struct{}{}
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after the last chunk: %v, want EOF", err)
	}
}

func TestCancelEndsABlockedRead(t *testing.T) {
	closed := make(chan struct{})
	srv, _ := counted(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("data: first\n\n"))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the gateway's cancel reaches the server
		close(closed)
	})
	tr := &Transport{}
	ctx, cancel := context.WithCancel(context.Background())
	resp, err := post(t, tr, ctx, srv.URL, "{}")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if n, err := resp.Body.Read(buf); err != nil || !strings.HasPrefix(string(buf[:n]), "data: first") {
		t.Fatalf("first read %q, %v", buf[:n], err)
	}
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = resp.Body.Read(buf)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("read after cancel: %v, want context.Canceled", err)
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the server never saw the connection close")
	}
	resp.Body.Close()
}

func TestCloseFromAnotherGoroutine(t *testing.T) {
	srv, conns := counted(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			w.Write([]byte("x"))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		w.Write([]byte("ok"))
	})
	tr := &Transport{}
	defer tr.CloseIdleConnections()
	resp, err := post(t, tr, context.Background(), srv.URL+"/hold", "{}")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	resp.Body.Read(buf)
	time.AfterFunc(20*time.Millisecond, func() { resp.Body.Close() })
	if _, err := resp.Body.Read(buf); !errors.Is(err, ErrBodyClosed) {
		t.Errorf("read during Close: %v, want ErrBodyClosed", err)
	}
	if _, err := resp.Body.Read(buf); !errors.Is(err, ErrBodyClosed) {
		t.Errorf("read after Close: %v", err)
	}
	// The closed connection is not reused.
	resp, err = post(t, tr, context.Background(), srv.URL, "{}")
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, resp); got != "ok" {
		t.Errorf("next call: %q", got)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

func TestResponseHeaderTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv, _ := counted(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	tr := &Transport{ResponseHeaderTimeout: 30 * time.Millisecond}
	_, err := post(t, tr, context.Background(), srv.URL, "{}")
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !strings.Contains(err.Error(), "timeout awaiting response headers") {
		t.Fatalf("err %v, want a header timeout", err)
	}
}

// rawServer answers each accepted connection with serve.
func rawServer(t *testing.T, serve func(c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				serve(c, bufio.NewReader(c))
			})
		}
	})
	return "http://" + ln.Addr().String()
}

// TestStalePooledConnectionIsRetried: a server that closes each connection
// after one answer (without saying so) makes the second call find a dead
// pooled connection; the call is sent again on a new one, and the server
// sees each request once.
func TestStalePooledConnectionIsRetried(t *testing.T) {
	var got sync.Map
	var requests atomic.Int32
	url := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		b, _ := io.ReadAll(req.Body)
		requests.Add(1)
		if _, dup := got.LoadOrStore(string(b), true); dup {
			t.Errorf("request %s arrived twice", b)
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		time.Sleep(10 * time.Millisecond) // the client pools the connection first
	})
	tr := &Transport{}
	for i := range 3 {
		resp, err := post(t, tr, context.Background(), url, fmt.Sprint(i))
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if b := readAll(t, resp); b != "ok" {
			t.Fatalf("call %d: %q", i, b)
		}
		time.Sleep(30 * time.Millisecond)
	}
	if n := requests.Load(); n != 3 {
		t.Errorf("server saw %d requests, want 3", n)
	}
}

// TestRequestOnTheWire checks the bytes sent with net/http's own parser.
func TestRequestOnTheWire(t *testing.T) {
	reqs := make(chan *http.Request, 1)
	bodies := make(chan string, 1)
	url := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			t.Error(err)
			return
		}
		b, _ := io.ReadAll(req.Body)
		reqs <- req
		bodies <- string(b)
		fmt.Fprintf(c, "HTTP/1.1 204 No Content\r\n\r\n")
	})
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/messages?beta=true", bytes.NewReader([]byte(`{"x":1}`)))
	req.Header.Set("X-Api-Key", "secret")
	req.Header.Add("Anthropic-Beta", "a")
	req.Header.Add("Anthropic-Beta", "b")
	req.Header.Set("Connection", "upgrade") // hop-by-hop: the transport's own
	resp, err := (&Transport{}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 204 || resp.Body != http.NoBody || resp.ContentLength != 0 {
		t.Errorf("204: %d %v %d", resp.StatusCode, resp.Body, resp.ContentLength)
	}
	got := <-reqs
	if got.Method != "POST" || got.RequestURI != "/v1/messages?beta=true" || got.Host != strings.TrimPrefix(url, "http://") ||
		got.Header.Get("X-Api-Key") != "secret" || strings.Join(got.Header.Values("Anthropic-Beta"), ",") != "a,b" ||
		got.Header.Get("User-Agent") != defaultUserAgent || got.Header.Get("Connection") != "" || got.ContentLength != 7 {
		t.Errorf("request on the wire: %s %s host %s header %v length %d", got.Method, got.RequestURI, got.Host, got.Header, got.ContentLength)
	}
	if b := <-bodies; b != `{"x":1}` {
		t.Errorf("body %q", b)
	}
}

func TestRefusedRequests(t *testing.T) {
	tr := &Transport{}
	for _, tc := range []struct {
		name string
		mod  func(r *http.Request)
		want string
	}{
		{"https", func(r *http.Request) { r.URL.Scheme = "https" }, "only http://"},
		{"no host", func(r *http.Request) { r.URL.Host = "" }, "no host"},
		{"header injection", func(r *http.Request) { r.Header["X-A"] = []string{"a\r\nX-B: b"} }, "control character"},
		{"bad name", func(r *http.Request) { r.Header["X A"] = []string{"a"} }, "invalid header name"},
		{"short body", func(r *http.Request) { r.ContentLength = 10 }, "shorter than its ContentLength"},
		{"long body", func(r *http.Request) { r.ContentLength = 1 }, "longer than its ContentLength"},
	} {
		req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/x", strings.NewReader("abc"))
		tc.mod(req)
		_, err := tr.RoundTrip(req)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestResponses feeds raw answers through a real connection.
func TestResponses(t *testing.T) {
	for _, tc := range []struct {
		name, raw, body, err string
		status               int
		close                bool
	}{
		{name: "interim answers skipped", raw: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", status: 200, body: "hi"},
		{name: "no reason phrase", raw: "HTTP/1.1 429\r\nContent-Length: 0\r\n\r\n", status: 429},
		{name: "bare LF", raw: "HTTP/1.1 200 OK\nContent-Length: 3\n\nabc", status: 200, body: "abc"},
		{name: "chunked with extension and trailer", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n", status: 200, body: "abcde"},
		{name: "until close", raw: "HTTP/1.1 200 OK\r\n\r\nto the end", status: 200, body: "to the end", close: true},
		{name: "HTTP/1.0", raw: "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", status: 200, body: "x", close: true},
		{name: "Connection close", raw: "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 1\r\n\r\nx", status: 200, body: "x", close: true},
		{name: "chunked and length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", status: 200, body: "x", close: true},
		{name: "repeated equal lengths", raw: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1, 1\r\n\r\nx", status: 200, body: "x"},
		{name: "obs-fold", raw: "HTTP/1.1 200 OK\r\nX-A: one\r\n  two\r\nContent-Length: 0\r\n\r\n", status: 200},
		{name: "conflicting lengths", raw: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", err: "conflicting Content-Length"},
		{name: "negative length", raw: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", err: "malformed Content-Length"},
		{name: "gzip encoding", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", err: "unsupported Transfer-Encoding"},
		{name: "HTTP/2 status", raw: "HTTP/2 200 OK\r\n\r\n", err: "malformed status line"},
		{name: "letters in status", raw: "HTTP/1.1 2x0 OK\r\n\r\n", err: "malformed status code"},
		{name: "space before colon", raw: "HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n", err: "malformed header line"},
		{name: "fold first", raw: "HTTP/1.1 200 OK\r\n folded\r\n\r\n", err: "malformed header line"},
		{name: "switching protocols", raw: "HTTP/1.1 101 Switching Protocols\r\n\r\n", err: "101"},
		{name: "cut head", raw: "HTTP/1.1 200 OK\r\nContent-", err: "unexpected EOF"},
		{name: "cut fixed body", raw: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", status: 200, err: "unexpected EOF"},
		{name: "bad chunk size", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", status: 200, err: "malformed chunked"},
		{name: "missing chunk CRLF", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy0\r\n\r\n", status: 200, err: "malformed chunked"},
		{name: "cut chunked", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", status: 200, err: "unexpected EOF"},
		{name: "huge chunk size", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", status: 200, err: "malformed chunked"},
		{name: "head too large", raw: "HTTP/1.1 200 OK\r\nX-A: " + strings.Repeat("a", 3000) + "\r\n\r\n", err: "exceeds the size limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := rawServer(t, func(c net.Conn, br *bufio.Reader) {
				if _, err := http.ReadRequest(br); err != nil {
					return
				}
				io.WriteString(c, tc.raw)
			})
			tr := &Transport{MaxHeaderBytes: 2048}
			defer tr.CloseIdleConnections()
			resp, err := post(t, tr, context.Background(), url, "{}")
			if err == nil {
				var b []byte
				b, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.status || string(b) != tc.body && tc.err == "" || resp.Close != tc.close {
					t.Errorf("got %d %q close=%v, want %d %q close=%v", resp.StatusCode, b, resp.Close, tc.status, tc.body, tc.close)
				}
				if tc.name == "obs-fold" && resp.Header.Get("X-A") != "one two" {
					t.Errorf("folded value %q", resp.Header.Get("X-A"))
				}
			}
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("err %v, want %q", err, tc.err)
			}
		})
	}
}

func TestHostPort(t *testing.T) {
	for in, want := range map[string]string{
		"a.example":      "a.example:80",
		"a.example:8080": "a.example:8080",
		"127.0.0.1":      "127.0.0.1:80",
		"[::1]":          "[::1]:80",
		"[::1]:11434":    "[::1]:11434",
	} {
		if got := hostPort(in); got != want {
			t.Errorf("hostPort(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestStopAtEndMarkerKeepsConnection: a caller that stops reading at its
// protocol's own end ([DONE]) and closes the body still leaves the
// connection pooled when the last chunk came with the last data.
func TestStopAtEndMarkerKeepsConnection(t *testing.T) {
	srv, conns := counted(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			fmt.Fprintf(w, "data: %d\n\n", i)
			w.(http.Flusher).Flush()
		}
		io.WriteString(w, "data: [DONE]\n\n") // sent with the last chunk when the handler returns
	})
	tr := &Transport{}
	defer tr.CloseIdleConnections()
	for range 3 {
		resp, err := post(t, tr, context.Background(), srv.URL, "{}")
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(resp.Body)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("stream ended before [DONE]: %v", err)
			}
			if line == "data: [DONE]\n" {
				break
			}
		}
		resp.Body.Close()
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 3 streams closed at [DONE], want 1", n)
	}
}

// TestCloseSkipsABufferedRest: a fixed-length body closed with its rest
// already buffered leaves the connection pooled.
func TestCloseSkipsABufferedRest(t *testing.T) {
	srv, conns := counted(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"error":{"message":"busy"}}`)
	})
	tr := &Transport{}
	defer tr.CloseIdleConnections()
	for range 3 {
		resp, err := post(t, tr, context.Background(), srv.URL, "{}")
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4)
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

// TestRestartedUpstream: every pooled connection died with the upstream's
// restart; the resend does not pick another dead one.
func TestRestartedUpstream(t *testing.T) {
	var live atomic.Pointer[net.Conn]
	var gen atomic.Int32
	url := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		g := gen.Load()
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			if gen.Load() != g {
				return // "restarted": the old connections die unanswered
			}
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			live.Store(&c)
		}
	})
	tr := &Transport{}
	defer tr.CloseIdleConnections()
	// Four pooled connections.
	var resps []*http.Response
	for range 4 {
		resp, err := post(t, tr, context.Background(), url, "{}")
		if err != nil {
			t.Fatal(err)
		}
		resps = append(resps, resp)
	}
	for _, r := range resps {
		readAll(t, r)
	}
	gen.Add(1)
	resp, err := post(t, tr, context.Background(), url, "{}")
	if err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	if b := readAll(t, resp); b != "ok" {
		t.Errorf("after the restart: %q", b)
	}
}

// TestNoBodyCloseIsNotPooled: an answer without a body that says
// "Connection: close" leaves its connection out of the pool.
func TestNoBodyCloseIsNotPooled(t *testing.T) {
	url := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
		// The server keeps the socket open a moment without reading.
		time.Sleep(50 * time.Millisecond)
	})
	tr := &Transport{}
	defer tr.CloseIdleConnections()
	resp, err := post(t, tr, context.Background(), url, "{}")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tr.mu.Lock()
	pooled := len(tr.idle[hostPort(strings.TrimPrefix(url, "http://"))])
	tr.mu.Unlock()
	if pooled != 0 {
		t.Errorf("%d connections pooled after an answer with Connection: close", pooled)
	}
}
