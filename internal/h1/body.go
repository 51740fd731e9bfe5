package h1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
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
	crlf bool
	keep bool // the connection may be reused after the body
	err  error
	done atomic.Bool
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
	for b.n == 0 {
		if b.crlf {
			if err := b.readCRLF(); err != nil {
				return 0, err
			}
			b.crlf = false
		}
		size, err := b.readSize()
		if err != nil {
			return 0, err
		}
		if size == 0 {
			if err := b.readTrailer(); err != nil {
				return 0, err
			}
			b.finish(b.keep)
			return 0, io.EOF
		}
		b.n = size
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.br.Read(p)
	b.n -= int64(n)
	if b.n == 0 {
		b.crlf = true
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
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
	if err == errHeadTooLarge {
		return 0, errChunk
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
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

// readTrailer reads the trailer fields after the last chunk up to the
// empty line; their values are dropped.
func (b *body) readTrailer() error {
	left := maxTrailer
	var stack [64]byte
	for {
		line, err := readLine(b.br, stack[:0], &left)
		if err == errHeadTooLarge {
			return errChunk
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if len(line) == 0 {
			return nil
		}
	}
}

// Close ends the body; before its end that closes the connection.
func (b *body) Close() error {
	if b.done.CompareAndSwap(false, true) {
		b.release(false)
	}
	return nil
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
