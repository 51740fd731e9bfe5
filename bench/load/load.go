// Package load generates the benchmark's HTTP load and measures it: a
// closed loop (a fixed number of workers, each sending its next call when
// the last one is answered), an open loop (calls started at a fixed rate
// whatever the answers do, so that a slow server cannot slow the load and
// hide its queueing), and a hold of many concurrent slow streams. Streams are read as server-sent events: the first data event
// gives the time to first token, and the gaps between events show whether
// anything on the way buffers chunks.
//
// It imports only the standard library, and nothing of llmux.
package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// Request is what every call of a run sends: a POST of Body to URL.
type Request struct {
	// URL is the full address called.
	URL string
	// Header is sent with every call; it is shared by concurrent calls and
	// must not be changed during a run.
	Header http.Header
	// Body is the request body.
	Body []byte
	// Stream reads answers as server-sent events, timing each data event.
	Stream bool
	// MinEvents is, for a stream, the fewest data events a complete answer
	// has; a stream that ends with fewer counts as an error (truncated).
	MinEvents int
}

// Result is what a run measured. Durations are sorted.
type Result struct {
	// Calls counts the calls that finished; Errors those of them that
	// failed (transport error, status other than 200, a broken or truncated
	// answer).
	Calls, Errors int
	// ErrorKinds counts failures by cause, for the first maxErrorKinds
	// distinct causes.
	ErrorKinds map[string]int
	// Late counts open-loop calls that started more than a millisecond
	// after their planned time, because the generator itself fell behind.
	Late int
	// Elapsed runs from the run's start to the end of its last call.
	Elapsed time.Duration
	// Latency holds, for successful calls, the time from sending to the
	// answer's last byte.
	Latency Durations
	// TTFT holds, for successful streams, the time to the first data event.
	TTFT Durations
	// Gaps holds the times between consecutive data events of streams.
	Gaps Durations
	// Events counts the data events of all streams; Bytes the bytes of all
	// answers.
	Events, Bytes int64
}

// OK returns the number of successful calls.
func (r *Result) OK() int { return r.Calls - r.Errors }

// Rate returns successful calls per second.
func (r *Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK()) / r.Elapsed.Seconds()
}

// Durations is a sample of durations.
type Durations []time.Duration

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of a sorted sample by the
// nearest-rank method; 0 for an empty sample.
func (d Durations) Quantile(q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(d)))) - 1
	return d[min(max(i, 0), len(d)-1)]
}

// NewClient returns an HTTP/1.1 client that keeps up to conns idle
// connections to a host, never compresses and never follows redirects.
func NewClient(conns int) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Transport: &http.Transport{
			DialContext:         d.DialContext,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// maxErrorKinds bounds Result.ErrorKinds.
const maxErrorKinds = 10

// recorder collects what calls measured; it is used by one goroutine.
type recorder struct{ r Result }

func (rec *recorder) fail(err error) {
	rec.r.Calls++
	rec.r.Errors++
	msg := err.Error()
	if rec.r.ErrorKinds == nil {
		rec.r.ErrorKinds = map[string]int{}
	}
	if _, ok := rec.r.ErrorKinds[msg]; ok || len(rec.r.ErrorKinds) < maxErrorKinds {
		rec.r.ErrorKinds[msg]++
	}
}

// merge adds o's measurements to rec.
func (rec *recorder) merge(o *Result) {
	r := &rec.r
	r.Calls += o.Calls
	r.Errors += o.Errors
	r.Late += o.Late
	r.Events += o.Events
	r.Bytes += o.Bytes
	r.Latency = append(r.Latency, o.Latency...)
	r.TTFT = append(r.TTFT, o.TTFT...)
	r.Gaps = append(r.Gaps, o.Gaps...)
	for k, n := range o.ErrorKinds {
		if r.ErrorKinds == nil {
			r.ErrorKinds = map[string]int{}
		}
		if _, ok := r.ErrorKinds[k]; ok || len(r.ErrorKinds) < maxErrorKinds {
			r.ErrorKinds[k] += n
		}
	}
}

func (rec *recorder) result(start time.Time) *Result {
	r := rec.r
	r.Elapsed = time.Since(start)
	slices.Sort(r.Latency)
	slices.Sort(r.TTFT)
	slices.Sort(r.Gaps)
	return &r
}

// readers are reused between calls: a stream's reader is its main garbage.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

// call sends req once, timing it from start, and records the outcome.
// onFirst, when not nil, runs at a stream's first data event.
func call(ctx context.Context, c *http.Client, req *Request, start time.Time, rec *recorder, onFirst func()) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		rec.fail(err)
		return
	}
	hr.Header = req.Header
	resp, err := c.Do(hr)
	if err != nil {
		rec.fail(transportError(err))
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		rec.fail(fmt.Errorf("status %d", resp.StatusCode))
		return
	}
	if !req.Stream {
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil {
			rec.fail(fmt.Errorf("reading the body: %w", transportError(err)))
			return
		}
		rec.r.Calls++
		rec.r.Bytes += n
		rec.r.Latency = append(rec.r.Latency, time.Since(start))
		return
	}
	br := readers.Get().(*bufio.Reader)
	br.Reset(resp.Body)
	defer func() { br.Reset(nil); readers.Put(br) }()
	var ttft, last time.Time
	n, events, err := readEvents(br, func(now time.Time) {
		if ttft.IsZero() {
			ttft = now
			if onFirst != nil {
				onFirst()
			}
		} else {
			rec.r.Gaps = append(rec.r.Gaps, now.Sub(last))
		}
		last = now
	})
	rec.r.Bytes += n
	rec.r.Events += int64(events)
	switch {
	case err != nil:
		rec.fail(fmt.Errorf("reading the stream: %w", transportError(err)))
	case events < req.MinEvents:
		rec.fail(fmt.Errorf("stream truncated: %d data events, want at least %d", events, req.MinEvents))
	default:
		rec.r.Calls++
		rec.r.Latency = append(rec.r.Latency, time.Since(start))
		rec.r.TTFT = append(rec.r.TTFT, ttft.Sub(start))
	}
}

// transportError drops the method and URL from a *url.Error, so that
// failures group by cause.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// readEvents reads server-sent events from r to its end, calling event
// with the arrival time of each event that has data (at the blank line
// that ends it, or at the end of the body). It returns the bytes read and
// the number of data events.
func readEvents(r *bufio.Reader, event func(time.Time)) (n int64, events int, err error) {
	pending := false  // a data line since the last event ended
	lineStart := true // the next read begins a line
	for {
		line, err := r.ReadSlice('\n')
		n += int64(len(line))
		if lineStart {
			switch {
			case bytes.HasPrefix(line, []byte("data:")):
				pending = true
			case pending && (len(line) == 1 && line[0] == '\n' || len(line) == 2 && line[0] == '\r' && line[1] == '\n'):
				event(time.Now())
				events++
				pending = false
			}
		}
		lineStart = !errors.Is(err, bufio.ErrBufferFull)
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			if pending {
				event(time.Now())
				events++
			}
			return n, events, nil
		default:
			return n, events, err
		}
	}
}
