package rawjson

import (
	"bytes"
	"math"
	"unicode/utf8"
)

// maxPlainMembers bounds the objects Plain checks for repeated names,
// which it does pair by pair.
const maxPlainMembers = 64

// Plain reports whether the valid JSON value v reads the same to a reader
// of raw bytes as to a strict decoder (encoding/json/v2 and its defaults):
// no string in it, member names included, holds an escape sequence or
// bytes that are not UTF-8, and no object in it repeats a member name.
// A hand-written reader of a few members checks Plain first and leaves
// any other value to the decoder, so that both always agree. Plain may
// report false for a plain value it does not bother to check (an object of
// more than 64 members); only true is a promise.
func Plain(v []byte) bool {
	p := plainScanner{data: v}
	if !p.value(0) {
		return false
	}
	p.ws()
	return p.pos == len(v)
}

// plainScanner walks a value that is already known to be valid JSON; it
// never panics on invalid input, but may then answer anything.
type plainScanner struct {
	data []byte
	pos  int
}

func (p *plainScanner) ws() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *plainScanner) value(depth int) bool {
	p.ws()
	if p.pos >= len(p.data) || depth > MaxDepth {
		return false
	}
	switch p.data[p.pos] {
	case '"':
		_, ok := p.str()
		return ok
	case '{':
		return p.object(depth + 1)
	case '[':
		return p.array(depth + 1)
	}
	start := p.pos // a number or a literal, up to a delimiter
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ',', '}', ']', ':', ' ', '\t', '\n', '\r':
			return p.pos > start
		}
		p.pos++
	}
	return p.pos > start
}

// str moves past a string with no escapes and returns its contents.
func (p *plainScanner) str() ([]byte, bool) {
	start := p.pos + 1
	i := bytes.IndexByte(p.data[start:], '"')
	if i < 0 {
		return nil, false
	}
	s := p.data[start : start+i]
	if bytes.IndexByte(s, '\\') >= 0 || !utf8.Valid(s) {
		return nil, false
	}
	p.pos = start + i + 1
	return s, true
}

func (p *plainScanner) object(depth int) bool {
	var buf [16][]byte
	names := buf[:0]
	p.pos++ // '{'
	for {
		p.ws()
		if p.pos >= len(p.data) {
			return false
		}
		switch p.data[p.pos] {
		case '}':
			p.pos++
			return true
		case ',':
			p.pos++
			continue
		case '"':
		default:
			return false
		}
		name, ok := p.str()
		if !ok || len(names) == maxPlainMembers {
			return false
		}
		for _, n := range names {
			if string(n) == string(name) {
				return false
			}
		}
		names = append(names, name)
		p.ws()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return false
		}
		p.pos++
		if !p.value(depth) {
			return false
		}
	}
}

func (p *plainScanner) array(depth int) bool {
	p.pos++ // '['
	for {
		p.ws()
		if p.pos >= len(p.data) {
			return false
		}
		switch p.data[p.pos] {
		case ']':
			p.pos++
			return true
		case ',':
			p.pos++
			continue
		}
		if !p.value(depth) {
			return false
		}
	}
}

// Int decodes a raw JSON number that a strict decoder puts in an int: an
// integer, without a fraction or an exponent, within int's range.
func Int(v []byte) (n int, ok bool) {
	neg := len(v) > 0 && v[0] == '-'
	d := v
	if neg {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 19 || d[0] == '0' && len(d) > 1 { // 19 digits cannot overflow a uint64
		return 0, false
	}
	var u uint64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case neg && u <= -math.MinInt:
		return int(-u), true
	case !neg && u <= math.MaxInt:
		return int(u), true
	}
	return 0, false
}

// DecodeInt puts the raw JSON value v in *dst the way a strict decoder
// puts it in an int: an integer as is (see Int), null as 0. It reports
// false for any other value, and then leaves *dst alone.
func DecodeInt(v []byte, dst *int) bool {
	if string(v) == "null" {
		*dst = 0
		return true
	}
	n, ok := Int(v)
	if ok {
		*dst = n
	}
	return ok
}

// IntMember names an integer member for Ints, and where it goes.
type IntMember struct {
	Name string
	Dst  *int
}

// Ints reads the members of the object v named in want into their Dst (see
// DecodeInt), ignoring the other members. It reports false when v is not
// an object or a wanted member is neither an integer nor null. Names are
// compared as the document spells them: check Plain first.
func Ints(v []byte, want ...IntMember) bool {
	var buf [16]Member
	ms, err := Members(v, buf[:0])
	if err != nil {
		return false
	}
	for i := range ms {
		for _, w := range want {
			if string(ms[i].Key) == w.Name && !DecodeInt(ms[i].Value(v), w.Dst) {
				return false
			}
		}
	}
	return true
}
