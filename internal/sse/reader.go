// Package sse frames server-sent events and newline-delimited JSON, the two
// stream framings every LLM protocol uses, so that no protocol package writes
// its own scanner.
//
// Readers return slices that alias their internal buffer (no copy per event)
// and accept "\n", "\r\n" and "\r" line endings, events larger than
// bufio.Scanner's 64 KiB default, comments and unknown fields. Writers append
// to caller-owned buffers so that the caller decides when to flush.
//
// It imports only the standard library.
package sse

import (
	"bytes"
	"errors"
	"io"
)

// DefaultMaxEventSize bounds one event (or one NDJSON line): large enough for
// a full Responses "response.completed" object or a base64 image, small
// enough that a broken upstream cannot exhaust memory.
const DefaultMaxEventSize = 16 << 20

// ErrTooLarge is returned when one event exceeds the reader's maximum size.
var ErrTooLarge = errors.New("sse: event exceeds the maximum size")

// Event is one server-sent event. Its slices alias the Reader's buffer and
// are valid only until the next call to Next.
type Event struct {
	// Name is the value of the "event:" field, nil when absent.
	Name []byte
	// Data is the value of the "data:" field; several data lines are joined
	// with "\n".
	Data []byte
	// Raw is the event exactly as received, including its terminating blank
	// line, for relaying it unchanged.
	Raw []byte
	// Comment marks a block that held only comments (see KeepComments).
	Comment bool
}

// Read-ahead sizes. A buffer starts small, which is all a slow stream (one
// small event at a time) ever needs, and it is held for the stream's whole
// life; it grows to readAhead at once when a read fills it, as reads do
// when an upstream sends faster than the relay forwards, so that a busy
// stream is still read (and its client flushed) in large pieces. Beyond
// that it doubles only to hold one event that does not fit.
const (
	initialBuffer = 1 << 10
	readAhead     = 4 << 10
)

// buffer is the read-ahead shared by Reader and LineReader.
type buffer struct {
	r     io.Reader
	buf   []byte
	start int // first unconsumed byte
	end   int // end of valid data
	max   int
	err   error // sticky read error
	full  bool  // the last read filled the buffer: more is probably waiting
}

// fill reads more data, compacting and growing the buffer as needed. It
// returns false when no more data can arrive (b.err is then set).
func (b *buffer) fill() bool {
	if b.err != nil {
		return false
	}
	if b.start > 0 {
		n := copy(b.buf, b.buf[b.start:b.end])
		b.start, b.end = 0, n
	}
	switch {
	case b.end == len(b.buf):
		if len(b.buf) >= b.max {
			b.err = ErrTooLarge
			return false
		}
		b.grow(2 * len(b.buf))
	case b.full && len(b.buf) < readAhead && len(b.buf) < b.max:
		b.grow(readAhead)
	}
	for tries := 0; tries < 100; tries++ {
		n, err := b.r.Read(b.buf[b.end:])
		b.full = n == len(b.buf)-b.end
		b.end += n
		if err != nil {
			b.err = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	b.err = io.ErrNoProgress
	return false
}

// grow makes the buffer size bytes (at least initialBuffer, at most max).
func (b *buffer) grow(size int) {
	size = min(max(size, initialBuffer), b.max)
	nb := make([]byte, size)
	copy(nb, b.buf[:b.end])
	b.buf = nb
}

// Reader splits an SSE stream into events. Parsing is incremental: every
// byte is examined once however the input is split into reads, so a slow
// upstream sending a large event in small pieces costs linear time.
type Reader struct {
	b        buffer
	comments bool

	// The event being parsed, as offsets from b.start so that they survive
	// the buffer being compacted or grown between reads.
	pos       int // start of the next unparsed line
	searched  int // no line terminator in [pos, searched)
	nameOff   int
	nameLen   int
	hasName   bool
	dataOff   int
	dataLen   int
	dataLines int
	comment   bool
	scratch   []byte // data of events with several data lines
}

// NewReader returns a Reader of r with DefaultMaxEventSize.
func NewReader(r io.Reader) *Reader {
	return &Reader{b: buffer{r: r, max: DefaultMaxEventSize}}
}

// SetMaxEventSize changes the maximum size of one event.
func (r *Reader) SetMaxEventSize(n int) { r.b.max = n }

// KeepComments makes Next return blocks that hold only comments (keep-alives
// such as ": PROCESSING") as events with Comment set, so that a relay can
// forward them.
func (r *Reader) KeepComments() { r.comments = true }

// Next returns the next event that has a data or event field; comments and
// empty events are skipped (unless KeepComments was called). At the end of
// the input it returns io.EOF; an event cut off by the end of input without
// its blank line is still returned. Any other read error is returned as is.
func (r *Reader) Next() (Event, error) {
	b := &r.b
	for {
		line, ok := r.nextLine()
		if !ok {
			if b.fill() {
				continue
			}
			if b.err == io.EOF || b.err == io.ErrUnexpectedEOF {
				// The input ended inside an event: dispatch what is there.
				if rest := bytes.TrimSuffix(b.buf[b.start+r.pos:b.end], []byte{'\r'}); len(rest) > 0 {
					r.field(rest)
				}
				r.pos = b.end - b.start
				if r.pos > 0 {
					if ev, ok := r.dispatch(); ok {
						return ev, nil
					}
				}
			}
			return Event{}, b.err
		}
		if len(line) > 0 {
			r.field(line)
			continue
		}
		if ev, ok := r.dispatch(); ok {
			return ev, nil
		}
	}
}

// nextLine returns the next complete line (without its terminator) and
// advances pos past it; ok is false when more input is needed.
func (r *Reader) nextLine() (line []byte, ok bool) {
	b := &r.b
	base := b.start
	rest := b.buf[base+r.searched : b.end]
	// Two vectorized scans beat one IndexAny: find '\n', then look for a
	// '\r' before it (only CRLF and CR-only streams have one).
	i := bytes.IndexByte(rest, '\n')
	limit := i
	if i < 0 {
		limit = len(rest)
	}
	if j := bytes.IndexByte(rest[:limit], '\r'); j >= 0 {
		i = j
	}
	if i < 0 {
		r.searched = b.end - base
		return nil, false
	}
	k := r.searched + i // terminator, relative to base
	next := k + 1
	if b.buf[base+k] == '\r' {
		switch {
		case base+k+1 < b.end && b.buf[base+k+1] == '\n':
			next = k + 2
		case base+k+1 == b.end && b.err == nil:
			r.searched = k // a '\n' may follow in the next read
			return nil, false
		}
	}
	line = b.buf[base+r.pos : base+k]
	r.pos, r.searched = next, next
	return line, true
}

// dispatch ends the current block: it returns the event when the block had
// a field (or, with KeepComments, a comment), and consumes the block.
func (r *Reader) dispatch() (Event, bool) {
	b := &r.b
	base := b.start
	ev := Event{Raw: b.buf[base : base+r.pos]}
	has := r.hasName || r.dataLines > 0
	if r.hasName {
		ev.Name = b.buf[base+r.nameOff : base+r.nameOff+r.nameLen]
	}
	switch {
	case r.dataLines == 1:
		ev.Data = b.buf[base+r.dataOff : base+r.dataOff+r.dataLen]
	case r.dataLines > 1:
		ev.Data = r.scratch
	}
	if !has && r.comment && r.comments {
		ev.Comment, has = true, true
	}
	b.start += r.pos
	r.pos, r.searched = 0, 0
	r.hasName, r.dataLines, r.comment = false, 0, false
	return ev, has
}

// field applies one non-empty line of the current block.
func (r *Reader) field(line []byte) {
	if line[0] == ':' {
		r.comment = true
		return
	}
	name, value := line, line[len(line):]
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	off := r.offset(value)
	switch string(name) {
	case "data":
		r.dataLines++
		switch r.dataLines {
		case 1:
			r.dataOff, r.dataLen = off, len(value)
		case 2:
			first := r.b.buf[r.b.start+r.dataOff : r.b.start+r.dataOff+r.dataLen]
			r.scratch = append(append(append(r.scratch[:0], first...), '\n'), value...)
		default:
			r.scratch = append(append(r.scratch, '\n'), value...)
		}
	case "event":
		r.hasName, r.nameOff, r.nameLen = true, off, len(value)
	}
}

// offset returns where v (a slice of the buffer) starts, relative to b.start.
func (r *Reader) offset(v []byte) int {
	if cap(v) == 0 {
		return 0
	}
	return cap(r.b.buf[r.b.start:]) - cap(v)
}

// LineReader splits newline-delimited JSON into lines.
type LineReader struct {
	b        buffer
	searched int // no '\n' in [b.start, b.start+searched)
}

// NewLineReader returns a LineReader of r with DefaultMaxEventSize as the
// maximum line length.
func NewLineReader(r io.Reader) *LineReader {
	return &LineReader{b: buffer{r: r, max: DefaultMaxEventSize}}
}

// SetMaxLineSize changes the maximum size of one line.
func (l *LineReader) SetMaxLineSize(n int) { l.b.max = n }

// Next returns the next non-blank line without its terminator ("\n" or
// "\r\n"). The slice aliases the reader's buffer until the next call. A last
// line without a terminator is returned before io.EOF.
func (l *LineReader) Next() ([]byte, error) {
	b := &l.b
	for {
		if i := bytes.IndexByte(b.buf[b.start+l.searched:b.end], '\n'); i >= 0 {
			end := b.start + l.searched + i
			line := bytes.TrimSuffix(b.buf[b.start:end], []byte{'\r'})
			b.start, l.searched = end+1, 0
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			return line, nil
		}
		l.searched = b.end - b.start
		if !b.fill() {
			if b.start < b.end && (b.err == io.EOF || b.err == io.ErrUnexpectedEOF) {
				line := b.buf[b.start:b.end]
				b.start, l.searched = b.end, 0
				if len(bytes.TrimSpace(line)) > 0 {
					return line, nil
				}
			}
			return nil, b.err
		}
	}
}
