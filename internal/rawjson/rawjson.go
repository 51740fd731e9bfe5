// Package rawjson reads and edits the top level of a JSON object in place,
// without decoding it: the passthrough path uses it to find the model and
// stream flags of a request and to rewrite a handful of members while every
// other byte of the client's body survives unchanged.
//
// Scanning validates the whole document (strings, numbers, literals, nesting)
// so that a malformed body is refused with the offset of the first error, at
// a fraction of the cost of decoding it.
//
// It imports only the standard library.
package rawjson

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// MaxDepth bounds nesting, so that a hostile body cannot exhaust the stack.
const MaxDepth = 512

// SyntaxError reports malformed JSON and where.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.Offset, e.Msg)
}

// ErrNotObject is returned when the document is valid JSON but not an object.
var ErrNotObject = errors.New("the JSON document is not an object")

// Member is one top-level member of an object, as offsets into the document.
type Member struct {
	// Key is the raw key between its quotes (escape sequences not decoded).
	Key []byte
	// Start is the offset of the key's opening quote.
	Start int
	// ValueStart and ValueEnd delimit the value.
	ValueStart, ValueEnd int
}

// Value returns the member's raw value within data.
func (m *Member) Value(data []byte) []byte { return data[m.ValueStart:m.ValueEnd] }

// KeyIs reports whether the key equals name (keys with escapes never match).
func (m *Member) KeyIs(name string) bool { return string(m.Key) == name }

// Members validates data as one JSON object and appends its top-level
// members to dst in order.
func Members(data []byte, dst []Member) ([]Member, error) {
	s := scanner{data: data}
	s.ws()
	if s.pos >= len(data) {
		return dst, s.errf("unexpected end of input")
	}
	if data[s.pos] != '{' {
		if err := s.value(0); err != nil {
			return dst, err
		}
		if err := s.end(); err != nil {
			return dst, err
		}
		return dst, ErrNotObject
	}
	s.pos++
	s.ws()
	if s.pos < len(data) && data[s.pos] == '}' {
		s.pos++
		return dst, s.end()
	}
	for {
		s.ws()
		if s.pos >= len(data) || data[s.pos] != '"' {
			return dst, s.errf("expected a member name")
		}
		keyStart := s.pos
		if err := s.str(); err != nil {
			return dst, err
		}
		key := data[keyStart+1 : s.pos-1]
		s.ws()
		if s.pos >= len(data) || data[s.pos] != ':' {
			return dst, s.errf("expected ':' after a member name")
		}
		s.pos++
		s.ws()
		vs := s.pos
		if err := s.value(1); err != nil {
			return dst, err
		}
		dst = append(dst, Member{Key: key, Start: keyStart, ValueStart: vs, ValueEnd: s.pos})
		s.ws()
		if s.pos >= len(data) {
			return dst, s.errf("unexpected end of input in an object")
		}
		switch data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return dst, s.end()
		default:
			return dst, s.errf("expected ',' or '}' after an object member")
		}
	}
}

// Valid reports whether data is one valid JSON value.
func Valid(data []byte) error {
	s := scanner{data: data}
	s.ws()
	if err := s.value(0); err != nil {
		return err
	}
	return s.end()
}

// Find returns the raw value of the top-level member key of the object in
// data. It validates the whole document.
func Find(data []byte, key string) (value []byte, found bool, err error) {
	var buf [16]Member
	ms, err := Members(data, buf[:0])
	if err != nil {
		return nil, false, err
	}
	for i := range ms {
		if ms[i].KeyIs(key) {
			return ms[i].Value(data), true, nil
		}
	}
	return nil, false, nil
}

// Kind returns the JSON type of a raw value: "object", "array", "string",
// "number", "boolean" or "null".
func Kind(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	switch v[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// String decodes a raw JSON string value.
func String(v []byte) (string, error) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", errors.New("not a JSON string")
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), nil
	}
	s, err := strconv.Unquote(string(v))
	if err == nil {
		return s, nil
	}
	return unescape(inner)
}

// unescape decodes JSON escapes, including surrogate pairs that
// strconv.Unquote does not accept.
func unescape(in []byte) (string, error) {
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(in) {
			return "", errors.New("truncated escape")
		}
		switch in[i] {
		case '"', '\\', '/':
			out = append(out, in[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if i+4 >= len(in) {
				return "", errors.New("truncated \\u escape")
			}
			r, err := strconv.ParseUint(string(in[i+1:i+5]), 16, 32)
			if err != nil {
				return "", errors.New("bad \\u escape")
			}
			i += 4
			ru := rune(r)
			if ru >= 0xD800 && ru < 0xDC00 && i+6 < len(in) && in[i+1] == '\\' && in[i+2] == 'u' {
				if r2, err := strconv.ParseUint(string(in[i+3:i+7]), 16, 32); err == nil && r2 >= 0xDC00 && r2 < 0xE000 {
					ru = (ru-0xD800)<<10 + (rune(r2) - 0xDC00) + 0x10000
					i += 6
				}
			}
			out = utf8.AppendRune(out, ru)
		default:
			return "", errors.New("bad escape")
		}
	}
	return string(out), nil
}

// Bool decodes a raw JSON boolean.
func Bool(v []byte) (b, ok bool) {
	switch string(v) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// AppendString appends s to dst as a JSON string.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const hex = "0123456789abcdef"
