package h1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// ErrBodyClosed is returned by a read after Close.
var ErrBodyClosed = errors.New("h1: read on closed response body")

// maxChunkLine bounds a chunk-size line (extensions included), and
// maxTrailer the trailer fields after the last chunk.
const (
	maxChunkLine = 4 << 10
	maxTrailer   = 64 << 10
)

// body reads a response's body from its connection. When the body has been
// read to its end the connection goes back to the pool (or is closed when
// it cannot be reused); Close before that closes the connection. Read and
// Close may be called from different goroutines: Close only flips done and
// closes the connection, which ends a blocked Read.
type body struct {
	c    *conn // nil when parsing without a connection (tests)
	br   *bufio.Reader
	kind bodyKind
	n    int64 // bodyFixed: bytes left; bodyChunked: bytes left in this chunk
	// crlf: the CRLF after a chunk's data is still to be read. It is read
	// with the next chunk's size line rather than at once, so that a read
	// never waits for bytes beyond the data it returns.
	crlf    bool
	trailer int  // bodyChunked: >0 while reading the trailer, the bytes it may still take
	keep    bool // the connection may be reused after the body
	err     error
	done    atomic.Bool
	// mu is held by Read; Close takes it only when it is free, to look at
	// the buffer (a Close from another goroutine during a blocked Read only
	// closes the connection).
	mu   sync.Mutex
	stop func() bool // stops the context's close of the connection
	ctx  context.Context
}

func newBody(c *conn, br *bufio.Reader, kind bodyKind, length int64, keep bool) *body {
	b := &body{c: c, br: br, kind: kind, keep: keep}
	if kind == bodyFixed {
		b.n = length
	}
	return b
}

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return 0, b.err
	}
	if b.done.Load() {
		b.err = ErrBodyClosed
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var err error
	switch b.kind {
	case bodyFixed:
		if int64(len(p)) > b.n {
			p = p[:b.n]
		}
		n, err = b.br.Read(p)
		b.n -= int64(n)
		switch {
		case b.n == 0:
			b.finish(b.keep)
			err = io.EOF
		case err == io.EOF:
			err = io.ErrUnexpectedEOF
		}
	case bodyChunked:
		n, err = b.readChunked(p)
	case bodyUntilClose:
		n, err = b.br.Read(p)
		if err == io.EOF {
			b.finish(false)
		}
	default:
		err = io.EOF
	}
	if err != nil && err != io.EOF {
		switch {
		case b.done.Load():
			err = ErrBodyClosed
		case b.ctx != nil && b.ctx.Err() != nil:
			err = fmt.Errorf("%w (%v)", b.ctx.Err(), err)
		}
		b.finish(false)
	}
	b.err = err
	return n, err
}

// readChunked reads chunked data: at most the rest of the current chunk,
// after reading the next size line when the chunk is spent.
func (b *body) readChunked(p []byte) (int, error) {
	if b.n == 0 {
		if err := b.between(true); err != nil {
			return 0, err
		}
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.br.Read(p)
	b.n -= int64(n)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	if err == nil && b.n == 0 {
		b.crlf = true
		// Look ahead without waiting: the last chunk often arrives with the
		// last data, and reaching it now returns the connection to the pool
		// even when the caller stops at its protocol's own end ([DONE]).
		if err := b.between(false); err != errWait {
			return n, err
		}
	}
	return n, err
}

// errWait is between's answer when it would have to wait for bytes.
var errWait = errors.New("h1: chunk framing not buffered yet")

// between reads what lies between two chunks' data: the CRLF that ends
// one, the next size line and, after the last chunk, the trailer, which
// ends the body (io.EOF). Without wait it reads only lines that are
// already buffered, and returns errWait where it would block.
func (b *body) between(wait bool) error {
	for b.n == 0 {
		if !wait && !b.lineBuffered() {
			return errWait
		}
		switch {
		case b.trailer > 0:
			line, err := readLine(b.br, nil, &b.trailer)
			if err != nil {
				return chunkErr(err)
			}
			if len(line) == 0 {
				b.finish(b.keep)
				return io.EOF
			}
			if b.trailer == 0 {
				return errChunk
			}
		case b.crlf:
			if err := b.readCRLF(); err != nil {
				return err
			}
			b.crlf = false
		default:
			size, err := b.readSize()
			if err != nil {
				return err
			}
			if size == 0 {
				b.trailer = maxTrailer
			}
			b.n = size
		}
	}
	return nil
}

// lineBuffered reports whether a whole line waits in the buffer.
func (b *body) lineBuffered() bool {
	buf, _ := b.br.Peek(b.br.Buffered())
	return bytes.IndexByte(buf, '\n') >= 0
}

func chunkErr(err error) error {
	switch err {
	case errHeadTooLarge:
		return errChunk
	case io.EOF:
		return io.ErrUnexpectedEOF
	}
	return err
}

var errChunk = errors.New("h1: malformed chunked encoding")

func (b *body) readCRLF() error {
	c, err := b.br.ReadByte()
	if err == nil && c == '\r' {
		c, err = b.br.ReadByte()
	}
	switch {
	case err == io.EOF:
		return io.ErrUnexpectedEOF
	case err != nil:
		return err
	case c != '\n':
		return errChunk
	}
	return nil
}

// readSize reads a chunk-size line: hex digits, then optional
// extensions, which are ignored.
func (b *body) readSize() (int64, error) {
	left := maxChunkLine
	var stack [64]byte
	line, err := readLine(b.br, stack[:0], &left)
	if err != nil {
		return 0, chunkErr(err)
	}
	digits := 0
	var size int64
	for _, c := range line {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		case c == ';' || c == ' ' || c == '\t':
			if digits == 0 {
				return 0, errChunk
			}
			return size, nil
		default:
			return 0, errChunk
		}
		if digits++; digits > 15 {
			return 0, errChunk
		}
		size = size<<4 | int64(d)
	}
	if digits == 0 {
		return 0, errChunk
	}
	return size, nil
}

// Close ends the body. Before its end that closes the connection, unless
// the rest of the body is already buffered: then it is skipped and the
// connection pooled.
func (b *body) Close() error {
	if !b.mu.TryLock() {
		// A Read is under way, maybe blocked: closing the connection ends it.
		if b.done.CompareAndSwap(false, true) {
			b.release(false)
		}
		return nil
	}
	defer b.mu.Unlock()
	if b.done.Load() {
		return nil
	}
	if b.err == nil && b.restBuffered() {
		b.finish(b.keep)
		return nil
	}
	if b.done.CompareAndSwap(false, true) {
		b.release(false)
	}
	return nil
}

// restBuffered skips the rest of the body when it is all in the buffer,
// and reports whether it was. A chunked body ends in between, which
// finishes it.
func (b *body) restBuffered() bool {
	switch b.kind {
	case bodyFixed:
		if b.n > int64(b.br.Buffered()) {
			return false
		}
		b.br.Discard(int(b.n))
		b.n = 0
		return true
	case bodyChunked:
		for {
			if b.n > 0 {
				if b.n > int64(b.br.Buffered()) {
					return false
				}
				b.br.Discard(int(b.n))
				b.n, b.crlf = 0, true
			}
			switch err := b.between(false); err {
			case io.EOF:
				return b.done.Load() // between finished the body
			case nil:
				continue
			default:
				return false
			}
		}
	}
	return false
}

// finish ends the body once: the connection is pooled when reuse holds,
// else closed.
func (b *body) finish(reuse bool) {
	if b.done.CompareAndSwap(false, true) {
		b.release(reuse)
	}
}

func (b *body) release(reuse bool) {
	if b.c == nil {
		return
	}
	if b.stop != nil && !b.stop() {
		reuse = false // the context was canceled: its func closes the connection
	}
	if reuse {
		b.c.t.put(b.c)
	} else {
		b.c.nc.Close()
	}
}
