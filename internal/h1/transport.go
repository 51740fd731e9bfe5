// Package h1 is the HTTP/1.1 client transport of plain http:// upstreams
// (local Ollama, vLLM, LM Studio, an in-house proxy): an http.RoundTripper
// that does a call's work on the caller's goroutine.
//
// net/http's Transport gives every connection two goroutines of its own, a
// read loop and a write loop, and passes each request and response between
// them and the caller over channels; a held stream costs those two
// goroutines and a 4 KB write buffer that sits idle once the request is
// sent. This transport writes the request in one write, parses the response
// head itself and returns a body that reads the connection directly; the
// connection goes back to an idle pool when the body has been read to its
// end. It speaks only HTTP/1.1 over TCP: no TLS, no proxies, no HTTP/2 and
// no transparent gzip (it does not ask for compression). The provider keeps
// net/http for everything else.
//
// A request is sent again on a fresh connection only when a pooled
// connection turned out dead before any byte of the answer arrived (the
// server closed it while idle): the one case where the upstream cannot have
// seen the request, as in net/http.
//
// The package imports only the standard library.
package h1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Defaults of the Transport's zero fields.
const (
	DefaultReadBufferSize  = 1 << 10
	DefaultMaxHeaderBytes  = 1 << 20
	DefaultMaxIdlePerHost  = 256
	DefaultIdleConnTimeout = 90 * time.Second
)

// Transport is an HTTP/1.1 client for http:// URLs. Its zero value is
// usable; a Transport must not be copied after first use.
type Transport struct {
	// DialContext opens connections; nil uses a net.Dialer with a 30 s
	// connect timeout and TCP keep-alive.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// ResponseHeaderTimeout bounds the wait for the response head after the
	// request is written; zero means no bound beyond the request's context.
	ResponseHeaderTimeout time.Duration
	// IdleConnTimeout is how long a connection may sit unused in the pool;
	// zero means DefaultIdleConnTimeout.
	IdleConnTimeout time.Duration
	// MaxIdleConnsPerHost bounds the pool per host:port (not the number of
	// connections in use); zero means DefaultMaxIdlePerHost.
	MaxIdleConnsPerHost int
	// ReadBufferSize is each connection's read buffer; zero means
	// DefaultReadBufferSize. Reads larger than the buffer bypass it.
	ReadBufferSize int
	// MaxHeaderBytes bounds a response head; zero means DefaultMaxHeaderBytes.
	MaxHeaderBytes int

	mu   sync.Mutex
	idle map[string][]*conn
}

var (
	// ErrScheme is returned for a URL that is not http://.
	ErrScheme = errors.New("h1: only http:// URLs are supported")
)

// RoundTrip sends req and returns the response head with a body that reads
// the connection. It always closes req.Body.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil || req.URL.Scheme != "http" {
		closeBody(req)
		return nil, ErrScheme
	}
	if req.URL.Host == "" {
		closeBody(req)
		return nil, errors.New("h1: request URL has no host")
	}
	ctx := req.Context()
	wb := getBuf()
	defer putBuf(wb)
	var err error
	if *wb, err = appendRequest((*wb)[:0], req); err != nil {
		return nil, err
	}
	addr := hostPort(req.URL.Host)
	for attempt := 0; ; attempt++ {
		// The resend goes on a new connection: when one pooled connection
		// was dead, the others (a restarted upstream) likely are too.
		c, err := t.get(ctx, addr, attempt == 0)
		if err != nil {
			return nil, err
		}
		resp, err := c.roundTrip(ctx, req, *wb)
		if err == nil {
			return resp, nil
		}
		var st *staleError
		if errors.As(err, &st) {
			if attempt == 0 && ctx.Err() == nil {
				continue
			}
			err = st.cause
		}
		return nil, err
	}
}

// CloseIdleConnections closes every pooled connection.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, list := range idle {
		for _, c := range list {
			c.nc.Close()
		}
	}
}

// get returns a pooled connection to addr, the most recently used first
// (when pooled allows), or dials a new one.
func (t *Transport) get(ctx context.Context, addr string, pooled bool) (*conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := time.Now()
	t.mu.Lock()
	list := t.idle[addr]
	for pooled && len(list) > 0 {
		c := list[len(list)-1]
		list[len(list)-1] = nil
		list = list[:len(list)-1]
		if now.Sub(c.idleAt) > t.idleTimeout() || c.br.Buffered() > 0 {
			c.nc.Close() // expired, or the server sent something unasked
			continue
		}
		t.idle[addr] = list
		t.mu.Unlock()
		c.reused = true
		return c, nil
	}
	if t.idle != nil {
		t.idle[addr] = list
	}
	t.mu.Unlock()
	nc, err := t.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	size := t.ReadBufferSize
	if size <= 0 {
		size = DefaultReadBufferSize
	}
	return &conn{t: t, nc: nc, addr: addr, br: bufio.NewReaderSize(nc, size)}, nil
}

// put returns c to the pool, or closes it when the pool is full.
func (t *Transport) put(c *conn) {
	now := time.Now()
	c.idleAt = now
	max := t.MaxIdleConnsPerHost
	if max <= 0 {
		max = DefaultMaxIdlePerHost
	}
	t.mu.Lock()
	if t.idle == nil {
		t.idle = make(map[string][]*conn)
	}
	list := t.idle[c.addr]
	// The oldest sit at the front: drop those that expired.
	drop := 0
	for drop < len(list) && now.Sub(list[drop].idleAt) > t.idleTimeout() {
		list[drop].nc.Close()
		drop++
	}
	if drop > 0 {
		list = append(list[:0], list[drop:]...)
	}
	if len(list) >= max {
		t.mu.Unlock()
		c.nc.Close()
		return
	}
	t.idle[c.addr] = append(list, c)
	t.mu.Unlock()
}

func (t *Transport) idleTimeout() time.Duration {
	if t.IdleConnTimeout > 0 {
		return t.IdleConnTimeout
	}
	return DefaultIdleConnTimeout
}

var defaultDialer = &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}

// dial opens a connection on a goroutine of its own: the dialer's calls run
// deep, and on the caller's stack they would double the stack of every
// goroutine that holds a stream (a stack that once grew stays grown while
// most of it is in use). The dialer honours ctx, so waiting for its answer
// is enough.
func (t *Transport) dial(ctx context.Context, addr string) (net.Conn, error) {
	type dialed struct {
		nc  net.Conn
		err error
	}
	ch := make(chan dialed, 1)
	go func() {
		dial := defaultDialer.DialContext
		if t.DialContext != nil {
			dial = t.DialContext
		}
		nc, err := dial(ctx, "tcp", addr)
		ch <- dialed{nc, err}
	}()
	d := <-ch
	return d.nc, d.err
}

// conn is one connection: in use by one call at a time, else pooled.
type conn struct {
	t      *Transport
	nc     net.Conn
	br     *bufio.Reader
	addr   string
	idleAt time.Time
	reused bool
}

// roundTrip writes the serialized request and reads the response head. A
// stale pooled connection is reported as a *staleError.
func (c *conn) roundTrip(ctx context.Context, req *http.Request, wire []byte) (*http.Response, error) {
	// Cancellation closes the connection, which ends a blocked write or
	// read; the body stops this when the call ends first.
	stop := context.AfterFunc(ctx, func() { c.nc.Close() })
	fail := func(err error) error {
		stop()
		c.nc.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%w (%v)", ctxErr, err)
		}
		return err
	}
	if _, err := c.nc.Write(wire); err != nil {
		if c.reused {
			return nil, fail(&staleError{cause: err})
		}
		return nil, fail(err)
	}
	if d := c.t.ResponseHeaderTimeout; d > 0 {
		c.nc.SetReadDeadline(time.Now().Add(d))
	}
	max := c.t.MaxHeaderBytes
	if max <= 0 {
		max = DefaultMaxHeaderBytes
	}
	resp, kind, err := readHead(c.br, req.Method, max)
	if err != nil {
		var na *noAnswer
		if c.reused && errors.As(err, &na) && closedByPeer(na.cause) {
			return nil, fail(&staleError{cause: err})
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && c.t.ResponseHeaderTimeout > 0 && ctx.Err() == nil {
			err = &headerTimeout{cause: err}
		}
		return nil, fail(err)
	}
	if c.t.ResponseHeaderTimeout > 0 {
		c.nc.SetReadDeadline(time.Time{})
	}
	resp.Request = req
	keep := resp.ProtoMinor >= 1 && !resp.Close && !req.Close
	b := newBody(c, c.br, kind, resp.ContentLength, keep)
	b.stop, b.ctx = stop, ctx
	if kind == bodyNone {
		b.finish(keep)
		resp.Body = http.NoBody
	} else {
		resp.Body = b
	}
	return resp, nil
}

// staleError marks a pooled connection that failed before the answer
// began (the server closed it while idle): the request is sent again on a
// new one.
type staleError struct{ cause error }

func (e *staleError) Error() string {
	return "h1: pooled connection was closed by the server: " + e.cause.Error()
}
func (e *staleError) Unwrap() error { return e.cause }

// headerTimeout is ResponseHeaderTimeout passing before the head arrived.
type headerTimeout struct{ cause error }

func (e *headerTimeout) Error() string {
	return "h1: timeout awaiting response headers (" + e.cause.Error() + ")"
}
func (e *headerTimeout) Timeout() bool   { return true }
func (e *headerTimeout) Temporary() bool { return true }
func (e *headerTimeout) Unwrap() error   { return e.cause }

var _ net.Error = (*headerTimeout)(nil)

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// hostPort adds port 80 to a host that has none.
func hostPort(host string) string {
	if _, port, err := net.SplitHostPort(host); err == nil && port != "" {
		return host
	}
	if len(host) > 0 && host[0] == '[' && host[len(host)-1] == ']' {
		return host + ":80"
	}
	return net.JoinHostPort(host, "80")
}

var _ http.RoundTripper = (*Transport)(nil)
