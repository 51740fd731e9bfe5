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
}

// buffer is the read-ahead shared by Reader and LineReader.
type buffer struct {
	r     io.Reader
	buf   []byte
	start int // first unconsumed byte
	end   int // end of valid data
	max   int
	err   error // sticky read error
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
	if b.end == len(b.buf) {
		if len(b.buf) >= b.max {
			b.err = ErrTooLarge
			return false
		}
		size := 2 * len(b.buf)
		if size == 0 {
			size = 4096
		}
		if size > b.max {
			size = b.max
		}
		nb := make([]byte, size)
		copy(nb, b.buf[:b.end])
		b.buf = nb
	}
	for tries := 0; tries < 100; tries++ {
		n, err := b.r.Read(b.buf[b.end:])
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

// line finds the line starting at pos. It returns the line without its
// terminator and the position after the terminator, or ok=false when the
// buffer does not yet hold a complete line.
func (b *buffer) line(pos int) (line []byte, next int, ok bool) {
	rest := b.buf[pos:b.end]
	// Two vectorized scans beat one IndexAny: find '\n', then look for a
	// lone '\r' before it (only CRLF and CR-only streams have one).
	i := bytes.IndexByte(rest, '\n')
	limit := i
	if i < 0 {
		limit = len(rest)
	}
	if j := bytes.IndexByte(rest[:limit], '\r'); j >= 0 {
		i = j
	}
	if i < 0 {
		return nil, 0, false
	}
	if rest[i] == '\r' {
		if i+1 == len(rest) {
			if b.err == nil {
				return nil, 0, false // a '\n' may follow in the next read
			}
			return rest[:i], pos + i + 1, true
		}
		if rest[i+1] == '\n' {
			return rest[:i], pos + i + 2, true
		}
	}
	return rest[:i], pos + i + 1, true
}

// Reader splits an SSE stream into events.
type Reader struct {
	b       buffer
	scratch []byte
}

// NewReader returns a Reader of r with DefaultMaxEventSize.
func NewReader(r io.Reader) *Reader {
	return &Reader{b: buffer{r: r, max: DefaultMaxEventSize}}
}

// SetMaxEventSize changes the maximum size of one event.
func (r *Reader) SetMaxEventSize(n int) { r.b.max = n }

// Next returns the next event that has a data or event field; comments and
// empty events are skipped. At the end of the input it returns io.EOF; an
// event cut off by the end of input without its blank line is still
// returned. Any other read error is returned as is.
func (r *Reader) Next() (Event, error) {
	b := &r.b
	for {
		ev, consumed, complete := r.parse()
		if complete {
			b.start = consumed
			if ev.Name != nil || ev.Data != nil {
				return ev, nil
			}
			continue
		}
		if !b.fill() {
			if b.start < b.end && (b.err == io.EOF || b.err == io.ErrUnexpectedEOF) {
				// The input ended inside an event: dispatch what is there.
				ev, _, _ := r.parseAll()
				b.start = b.end
				if ev.Name != nil || ev.Data != nil {
					return ev, nil
				}
			}
			return Event{}, b.err
		}
	}
}

// parse tries to parse one complete event at the start of the buffer.
func (r *Reader) parse() (ev Event, consumed int, complete bool) {
	b := &r.b
	pos := b.start
	var dataLines int
	for {
		line, next, ok := b.line(pos)
		if !ok {
			return Event{}, 0, false
		}
		pos = next
		if len(line) == 0 {
			ev.Raw = b.buf[b.start:pos]
			return ev, pos, true
		}
		r.field(&ev, line, &dataLines)
	}
}

// parseAll parses the rest of the buffer as one event (used at EOF).
func (r *Reader) parseAll() (ev Event, consumed int, complete bool) {
	b := &r.b
	pos := b.start
	var dataLines int
	for pos < b.end {
		line, next, ok := b.line(pos)
		if !ok {
			line, next = b.buf[pos:b.end], b.end
		}
		pos = next
		if len(line) == 0 {
			break
		}
		r.field(&ev, line, &dataLines)
	}
	ev.Raw = b.buf[b.start:pos]
	return ev, pos, true
}

// field applies one non-empty line to ev.
func (r *Reader) field(ev *Event, line []byte, dataLines *int) {
	if line[0] == ':' {
		return // comment or keep-alive
	}
	name, value := line, []byte{}
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) {
	case "data":
		*dataLines++
		switch *dataLines {
		case 1:
			ev.Data = value
		case 2:
			r.scratch = append(append(append(r.scratch[:0], ev.Data...), '\n'), value...)
			ev.Data = r.scratch
		default:
			r.scratch = append(append(r.scratch, '\n'), value...)
			ev.Data = r.scratch
		}
	case "event":
		ev.Name = value
	}
}

// LineReader splits newline-delimited JSON into lines.
type LineReader struct {
	b buffer
}

// NewLineReader returns a LineReader of r with DefaultMaxEventSize as the
// maximum line length.
func NewLineReader(r io.Reader) *LineReader {
	return &LineReader{b: buffer{r: r, max: DefaultMaxEventSize}}
}

// SetMaxLineSize changes the maximum size of one line.
func (l *LineReader) SetMaxLineSize(n int) { l.b.max = n }

// Next returns the next non-blank line without its terminator. The slice
// aliases the reader's buffer until the next call. A last line without a
// terminator is returned before io.EOF.
func (l *LineReader) Next() ([]byte, error) {
	b := &l.b
	for {
		line, next, ok := b.line(b.start)
		if ok {
			b.start = next
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			return line, nil
		}
		if !b.fill() {
			if b.start < b.end && (b.err == io.EOF || b.err == io.ErrUnexpectedEOF) {
				line := b.buf[b.start:b.end]
				b.start = b.end
				if len(bytes.TrimSpace(line)) > 0 {
					return line, nil
				}
			}
			return nil, b.err
		}
	}
}

// Buffered reports whether a complete event may already be in the buffer,
// so that a relay can delay its flush until the next read would block
// without delaying any event.
func (r *Reader) Buffered() bool {
	rest := r.b.buf[r.b.start:r.b.end]
	return bytes.Contains(rest, []byte("\n\n")) || bytes.Contains(rest, []byte("\r\n\r\n")) || bytes.Contains(rest, []byte("\r\r"))
}
