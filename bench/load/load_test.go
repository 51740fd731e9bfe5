package load

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// counting is a controlled server: it counts calls and the most in flight
// at once, fails every failEvery-th call with 500, and answers after delay
// with a body, or with events SSE events gap apart.
type counting struct {
	failEvery int
	delay     time.Duration
	events    int
	gap       time.Duration
	truncate  bool // end streams after an incomplete event
	abort     bool // break streams off before their last event

	calls, failed, inFlight, maxInFlight atomic.Int64
}

func (s *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.calls.Add(1)
	cur := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		m := s.maxInFlight.Load()
		if cur <= m || s.maxInFlight.CompareAndSwap(m, cur) {
			break
		}
	}
	if s.failEvery > 0 && n%int64(s.failEvery) == 0 {
		s.failed.Add(1)
		http.Error(w, "planned failure", http.StatusInternalServerError)
		return
	}
	time.Sleep(s.delay)
	if s.events == 0 {
		fmt.Fprint(w, `{"ok":true}`)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	f := w.(http.Flusher)
	for i := range s.events {
		if i > 0 {
			time.Sleep(s.gap)
		}
		if s.truncate && i == s.events-1 {
			fmt.Fprint(w, "event: x\n")
			return
		}
		if s.abort && i == s.events-1 {
			panic(http.ErrAbortHandler) // the connection closes mid-body
		}
		fmt.Fprintf(w, "event: delta\ndata: {\"i\":%d}\n\n", i)
		f.Flush()
	}
}

func TestClosedCounts(t *testing.T) {
	s := &counting{failEvery: 5, delay: 2 * time.Millisecond}
	srv := httptest.NewServer(s)
	defer srv.Close()
	res := Closed{Client: NewClient(8), Concurrency: 8, Duration: 300 * time.Millisecond}.
		Run(context.Background(), &Request{URL: srv.URL, Body: []byte(`{}`)})
	if int64(res.Calls) != s.calls.Load() {
		t.Errorf("counted %d calls, the server saw %d", res.Calls, s.calls.Load())
	}
	if int64(res.Errors) != s.failed.Load() || res.Errors == 0 {
		t.Errorf("counted %d errors, the server failed %d", res.Errors, s.failed.Load())
	}
	if res.ErrorKinds["status 500"] != res.Errors {
		t.Errorf("error kinds %v", res.ErrorKinds)
	}
	if len(res.Latency) != res.OK() {
		t.Errorf("%d latencies for %d successful calls", len(res.Latency), res.OK())
	}
	if got := s.maxInFlight.Load(); got != 8 {
		t.Errorf("at most %d calls in flight, want 8", got)
	}
	if p50 := res.Latency.Quantile(0.5); p50 < 2*time.Millisecond || p50 > 100*time.Millisecond {
		t.Errorf("p50 %v, want about 2ms", p50)
	}
	if res.Elapsed < 300*time.Millisecond || res.Rate() <= 0 {
		t.Errorf("elapsed %v, rate %.0f/s", res.Elapsed, res.Rate())
	}
	if want := int64(res.OK()) * int64(len(`{"ok":true}`)); res.Bytes < want {
		t.Errorf("bytes %d, want at least %d", res.Bytes, want)
	}
}

func TestOpenRate(t *testing.T) {
	s := &counting{delay: time.Millisecond}
	srv := httptest.NewServer(s)
	defer srv.Close()
	res := Open{Client: NewClient(64), Rate: 200, Duration: 500 * time.Millisecond}.
		Run(context.Background(), &Request{URL: srv.URL, Body: []byte(`{}`)})
	if res.Calls != 100 || s.calls.Load() != 100 || res.Errors != 0 {
		t.Errorf("%d calls (%d errors), server saw %d; want 100 at 200/s for 0.5s", res.Calls, res.Errors, s.calls.Load())
	}
	if p50 := res.Latency.Quantile(0.5); p50 < time.Millisecond {
		t.Errorf("p50 %v, want at least the server's 1ms", p50)
	}
}

// TestOpenOverloaded: when the server is slower than the rate and only one
// call may be in flight, the calls that could not be sent are errors, not
// silently skipped.
func TestOpenOverloaded(t *testing.T) {
	s := &counting{delay: 50 * time.Millisecond}
	srv := httptest.NewServer(s)
	defer srv.Close()
	res := Open{Client: NewClient(4), Rate: 100, Duration: 200 * time.Millisecond, MaxInFlight: 1}.
		Run(context.Background(), &Request{URL: srv.URL, Body: []byte(`{}`)})
	if res.Calls != 20 {
		t.Errorf("%d calls, want 20", res.Calls)
	}
	if int64(res.OK()) != s.calls.Load() || res.ErrorKinds[ErrOverloaded.Error()] != res.Errors || res.Errors < 10 {
		t.Errorf("ok %d (server %d), errors %v", res.OK(), s.calls.Load(), res.ErrorKinds)
	}
}

func TestStreamTiming(t *testing.T) {
	s := &counting{events: 5, gap: 20 * time.Millisecond}
	srv := httptest.NewServer(s)
	defer srv.Close()
	req := &Request{URL: srv.URL, Body: []byte(`{}`), Stream: true, MinEvents: 5}
	res := Closed{Client: NewClient(2), Concurrency: 2, Duration: 50 * time.Millisecond}.Run(context.Background(), req)
	if res.Errors != 0 || res.Calls == 0 {
		t.Fatalf("%d calls, errors %v", res.Calls, res.ErrorKinds)
	}
	if res.Events != int64(5*res.Calls) || len(res.Gaps) != 4*res.Calls || len(res.TTFT) != res.Calls {
		t.Errorf("%d events, %d gaps, %d TTFTs for %d streams", res.Events, len(res.Gaps), len(res.TTFT), res.Calls)
	}
	if ttft := res.TTFT.Quantile(0.99); ttft > 15*time.Millisecond {
		t.Errorf("TTFT p99 %v, want the first event before the first gap", ttft)
	}
	if g := res.Gaps.Quantile(0.01); g < 15*time.Millisecond {
		t.Errorf("gap p1 %v, want about 20ms", g)
	}
	if l := res.Latency.Quantile(0.01); l < 80*time.Millisecond {
		t.Errorf("latency p1 %v, want the whole stream (80ms)", l)
	}

	// The same stream counts as truncated when more events are expected.
	req.MinEvents = 6
	res = Closed{Client: NewClient(1), Concurrency: 1, Duration: time.Millisecond}.Run(context.Background(), req)
	if res.Errors != res.Calls || res.Calls == 0 || !strings.Contains(fmt.Sprint(res.ErrorKinds), "truncated") {
		t.Errorf("%d calls, errors %v", res.Calls, res.ErrorKinds)
	}
}

func TestStreamCutShort(t *testing.T) {
	for _, s := range []*counting{{events: 3, truncate: true}, {events: 3, abort: true}} {
		srv := httptest.NewServer(s)
		res := Closed{Client: NewClient(1), Concurrency: 1, Duration: time.Millisecond}.
			Run(context.Background(), &Request{URL: srv.URL, Stream: true, MinEvents: 3})
		srv.Close()
		if res.Calls == 0 || res.Errors != res.Calls || res.Events != 2*int64(res.Calls) {
			t.Errorf("abort %v: %d calls, errors %v, %d events; want every stream with 2 of 3 events failed",
				s.abort, res.Calls, res.ErrorKinds, res.Events)
		}
		if s.abort && !strings.Contains(fmt.Sprint(res.ErrorKinds), "reading the stream") {
			t.Errorf("a broken connection is reported as %v", res.ErrorKinds)
		}
	}
}

// TestHold: OnHeld runs while every stream is open, and sees all of them.
func TestHold(t *testing.T) {
	const streams = 20
	s := &counting{events: 3, gap: 200 * time.Millisecond}
	srv := httptest.NewServer(s)
	defer srv.Close()
	var atHeld, serverAtHeld int64 = -1, -1
	res := Hold{Client: NewClient(streams), Streams: streams, Ramp: 50 * time.Millisecond, OnHeld: func(open int) {
		atHeld, serverAtHeld = int64(open), s.inFlight.Load()
	}}.Run(context.Background(), &Request{URL: srv.URL, Stream: true, MinEvents: 3})
	if atHeld != streams || serverAtHeld != streams {
		t.Errorf("OnHeld saw %d open streams (server: %d), want %d", atHeld, serverAtHeld, streams)
	}
	if res.Calls != streams || res.Errors != 0 || res.Events != 3*streams {
		t.Errorf("%d calls, %d events, errors %v", res.Calls, res.Events, res.ErrorKinds)
	}
}

// TestHoldFailing: streams that fail still end the run, and OnHeld still
// runs, with no stream open.
func TestHoldFailing(t *testing.T) {
	s := &counting{failEvery: 1}
	srv := httptest.NewServer(s)
	defer srv.Close()
	called := make(chan int, 1)
	res := Hold{Client: NewClient(5), Streams: 5, OnHeld: func(open int) { called <- open }}.
		Run(context.Background(), &Request{URL: srv.URL, Stream: true})
	if res.Errors != 5 {
		t.Errorf("errors %v, want 5", res.ErrorKinds)
	}
	if open := <-called; open != 0 {
		t.Errorf("OnHeld saw %d open", open)
	}
}

func TestConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	res := Closed{Client: NewClient(1), Concurrency: 1, Duration: time.Millisecond}.Run(context.Background(), &Request{URL: url})
	if res.Errors != res.Calls || res.Calls == 0 {
		t.Fatalf("%d calls %d errors", res.Calls, res.Errors)
	}
	for k := range res.ErrorKinds {
		if strings.Contains(k, url) {
			t.Errorf("error kind %q names the URL; kinds should group by cause", k)
		}
	}
}

func TestReadEvents(t *testing.T) {
	long := strings.Repeat("x", 10000) // longer than the reader's buffer
	for _, tt := range []struct {
		name, in string
		events   int
	}{
		{"openai", "data: {}\n\ndata: {}\n\ndata: [DONE]\n\n", 3},
		{"anthropic with event names", "event: a\ndata: {}\n\nevent: ping\ndata: {}\n\n", 2},
		{"CRLF", "data: 1\r\n\r\ndata: 2\r\n\r\n", 2},
		{"comments and events without data", ": keep-alive\n\nevent: x\n\ndata: 1\n\n", 1},
		{"multi-line data is one event", "data: 1\ndata: 2\n\n", 1},
		{"last event without blank line", "data: 1\n\ndata: 2\n", 2},
		{"long line", "data: " + long + "\n\ndata: " + long + "\n\n", 2},
		{"data: inside a long line is not a line start", "data: " + long[:5000] + "\ndata: x" + long[:4090] + "data: y\n\n", 1},
		{"empty", "", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n, events, err := readEvents(bufio.NewReaderSize(strings.NewReader(tt.in), 4096), func(time.Time) {})
			if err != nil || events != tt.events || n != int64(len(tt.in)) {
				t.Errorf("%d bytes, %d events, %v; want %d, %d", n, events, err, len(tt.in), tt.events)
			}
		})
	}
}

func TestQuantile(t *testing.T) {
	d := Durations{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0, 1}, {0.5, 5}, {0.9, 9}, {0.99, 10}, {1, 10}} {
		if got := d.Quantile(tt.q); got != tt.want {
			t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := (Durations{}).Quantile(0.5); got != 0 {
		t.Errorf("empty: %v", got)
	}
}

// TestMergeBoundsErrorKinds: many distinct causes do not grow the map
// without bound, and merged counts add up.
func TestMergeBoundsErrorKinds(t *testing.T) {
	var a, b recorder
	for i := range 30 {
		a.fail(fmt.Errorf("cause %d", i))
	}
	b.fail(fmt.Errorf("cause 0"))
	var all recorder
	var mu sync.Mutex
	for _, r := range []*recorder{&a, &b} {
		mu.Lock()
		all.merge(&r.r)
		mu.Unlock()
	}
	if len(all.r.ErrorKinds) != maxErrorKinds || all.r.Errors != 31 || all.r.ErrorKinds["cause 0"] != 2 {
		t.Errorf("%d kinds, %d errors, cause 0 ×%d", len(all.r.ErrorKinds), all.r.Errors, all.r.ErrorKinds["cause 0"])
	}
}
