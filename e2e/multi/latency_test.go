package multi

import (
	"net"
	"sync"
	"testing"
	"time"
)

// newLatencyProxy forwards TCP connections to addr and delays what passes
// by d in each direction, as a Redis in another zone would; it returns its
// own address. Throughput is not limited: bytes read are queued with the
// time they may go on. It stops when the test ends.
func newLatencyProxy(t *testing.T, addr string, d time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			down, err := ln.Accept()
			if err != nil {
				return // closed at cleanup
			}
			up, err := net.Dial("tcp", addr)
			if err != nil {
				down.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, down, up)
			mu.Unlock()
			wg.Go(func() { delayCopy(up, down, d) })
			wg.Go(func() { delayCopy(down, up, d) })
		}
	})
	return ln.Addr().String()
}

// delayCopy copies src to dst, each chunk d after it was read, and closes
// dst when src ends (which ends the copy the other way too).
func delayCopy(dst, src net.Conn, d time.Duration) {
	type chunk struct {
		b  []byte
		at time.Time
	}
	ch := make(chan chunk, 4096)
	written := make(chan struct{})
	go func() { // owned: ends when ch is closed below
		defer close(written)
		broken := false
		for c := range ch {
			if broken {
				continue // keep draining so that the reader never blocks
			}
			time.Sleep(time.Until(c.at))
			if _, err := dst.Write(c.b); err != nil {
				broken = true
				src.Close()
			}
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			ch <- chunk{b: append([]byte(nil), buf[:n]...), at: time.Now().Add(d)}
		}
		if err != nil {
			break
		}
	}
	close(ch)
	<-written
	dst.Close()
}
