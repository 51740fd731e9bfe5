package wirejson

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// The Append functions write JSON byte for byte as the JSON library's
// Marshal writes it with its default options, so that a hand-written
// encoder of a hot wire struct can stand in for the reflective one without
// changing a byte of its output. They fail where Marshal fails (invalid
// UTF-8, a non-finite number, a raw value that is not valid JSON or repeats
// a member name), and with ErrUnhandled on the rare inputs they leave to
// Marshal. A caller that must match Marshal calls Marshal on any error:
// Marshal then returns the output or the error it always did.

// ErrUnhandled is returned for input the Append functions do not handle
// although Marshal may accept it: nesting deeper than maxDepth, objects of
// more than maxMembers members, and embedded members that repeat the name
// of a struct field.
var ErrUnhandled = errors.New("wirejson: value left to the reflective encoder")

var (
	errInvalidUTF8 = errors.New("wirejson: invalid UTF-8 in a string")
	errSyntax      = errors.New("wirejson: invalid JSON in a raw value")
	errDuplicate   = errors.New("wirejson: duplicate object member name")
	errNotObject   = errors.New("wirejson: embedded raw value must be a JSON object")
	errNonFinite   = errors.New("wirejson: NaN or infinite number")
)

const (
	// maxDepth bounds the nesting of raw values (rawjson's bound, far below
	// the library's 10000), so that the recursion stays shallow.
	maxDepth = 512
	// maxMembers bounds the objects checked for repeated names, which are
	// compared pair by pair.
	maxMembers = 64
)

// plain marks the bytes a JSON string holds as they are: ASCII other than
// control characters, '"' and '\\'. Marshal escapes nothing else by
// default: not '<', '>' or '&', not U+2028 or U+2029.
var plain = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// Eight bytes at a time (SWAR): stop8 reports whether any byte of x is
// not plain (below 0x20, '"', '\\' or not ASCII); load64 reads eight bytes
// of a string, which the compiler turns into one load.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

func stop8(x uint64) bool {
	q := x ^ (ones * '"')
	bs := x ^ (ones * '\\')
	return (x|(x-ones*0x20)&^x|(q-ones)&^q|(bs-ones)&^bs)&highs != 0
}

func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// AppendString appends s as a JSON string, in the shortest form: only '"',
// '\\' and control characters are escaped, as \b, \f, \n, \r, \t or
// \u00xx. Invalid UTF-8 is an error.
func AppendString(dst []byte, s string) ([]byte, error) {
	dst = slices.Grow(dst, len(s)+2)
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) && !stop8(load64(s, i)) {
			i += 8
		}
		for i < len(s) && plain[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		if c := s[i]; c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			dst = appendEscaped(dst, c)
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return dst, errInvalidUTF8
		}
		i += n
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), nil
}

// appendEscaped appends the escape sequence of '"', '\\' or a control
// character.
func appendEscaped(dst []byte, c byte) []byte {
	const hex = "0123456789abcdef"
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
}

// AppendFloat appends f as Marshal writes a float64: the shortest form
// that reads back as f, in ES6 notation (1e+21, 1e-7, 0.1, -0). NaN and
// infinities are an error.
func AppendFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, errNonFinite
	}
	return jsontext.AppendFloat(dst, f, 64), nil
}

// AppendValue appends the raw value v as Marshal writes a jsontext.Value:
// without insignificant white space, with every string in its shortest
// form (escape sequences that need not be resolved, \/ and \u0041 alike),
// numbers and literals as they are. v must be one valid JSON value
// (surrounding white space allowed), valid UTF-8 with no object repeating
// a member name.
func AppendValue(dst, v []byte) ([]byte, error) {
	s := scanner{src: v, dst: dst}
	s.ws()
	err := s.value(0)
	if err == nil {
		s.ws()
		if s.pos != len(v) {
			err = errSyntax
		}
	}
	return s.dst, err
}

// AppendMembers appends the members of the raw object v as Marshal writes
// a `json:",embed"` jsontext.Value field: each preceded by a comma unless
// dst ends with the '{' that opens the object, formatted as AppendValue
// formats values. An empty v appends nothing. fields are the names of the
// struct's other members: a member of one of those names is ErrUnhandled
// (Marshal refuses it only when that field was written).
func AppendMembers(dst, v []byte, fields []string) ([]byte, error) {
	if len(v) == 0 {
		return dst, nil
	}
	s := scanner{src: v, dst: dst}
	s.ws()
	if s.pos == len(v) {
		return s.dst, errSyntax
	}
	if v[s.pos] != '{' {
		return s.dst, errNotObject
	}
	s.pos++
	first := len(dst) > 0 && dst[len(dst)-1] == '{'
	err := s.members(0, first, true, fields)
	if err == nil {
		s.ws()
		if s.pos != len(v) {
			err = errSyntax
		}
	}
	return s.dst, err
}

// scanner reads a raw value from src and appends its formatted form to
// dst.
type scanner struct {
	src []byte
	pos int
	dst []byte
}

func (s *scanner) ws() {
	for s.pos < len(s.src) {
		if c := s.src[s.pos]; c > ' ' || c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return
		}
		s.pos++
	}
}

func (s *scanner) value(depth int) error {
	if s.pos >= len(s.src) {
		return errSyntax
	}
	switch c := s.src[s.pos]; c {
	case '"':
		return s.str()
	case '{':
		if depth >= maxDepth {
			return ErrUnhandled
		}
		s.pos++
		s.dst = append(s.dst, '{')
		return s.members(depth+1, true, false, nil)
	case '[':
		if depth >= maxDepth {
			return ErrUnhandled
		}
		return s.array(depth + 1)
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return s.number()
		}
	}
	return errSyntax
}

func (s *scanner) literal(lit string) error {
	if len(s.src)-s.pos < len(lit) || string(s.src[s.pos:s.pos+len(lit)]) != lit {
		return errSyntax
	}
	s.pos += len(lit)
	s.dst = append(s.dst, lit...)
	return nil
}

// number copies a number, which Marshal never reformats, after checking
// its grammar.
func (s *scanner) number() error {
	src, i := s.src, s.pos
	digits := func() bool {
		start := i
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
		return i > start
	}
	if src[i] == '-' {
		i++
	}
	switch {
	case i < len(src) && src[i] == '0':
		i++
	case !digits():
		return errSyntax
	}
	if i < len(src) && src[i] == '.' {
		i++
		if !digits() {
			return errSyntax
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		i++
		if i < len(src) && (src[i] == '+' || src[i] == '-') {
			i++
		}
		if !digits() {
			return errSyntax
		}
	}
	s.dst = append(s.dst, src[s.pos:i]...)
	s.pos = i
	return nil
}

func (s *scanner) array(depth int) error {
	s.pos++ // '['
	s.dst = append(s.dst, '[')
	s.ws()
	if s.pos < len(s.src) && s.src[s.pos] == ']' {
		s.pos++
		s.dst = append(s.dst, ']')
		return nil
	}
	for {
		s.ws()
		if err := s.value(depth); err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.src) {
			return errSyntax
		}
		switch s.src[s.pos] {
		case ',':
			s.pos++
			s.dst = append(s.dst, ',')
		case ']':
			s.pos++
			s.dst = append(s.dst, ']')
			return nil
		default:
			return errSyntax
		}
	}
}

// span is where a member name was written in dst, quotes included.
type span struct{ start, end int }

// members reads an object's members after its '{' through its '}' and
// appends them, and the '}' unless the object is embedded (its members join
// their struct's, which writes its own braces). first tells that nothing
// precedes the first member in dst's object. Names are compared in their
// written, shortest form, which is one per name.
func (s *scanner) members(depth int, first, embedded bool, fields []string) error {
	var buf [16]span
	names := buf[:0]
	s.ws()
	if s.pos < len(s.src) && s.src[s.pos] == '}' {
		s.pos++
		if !embedded {
			s.dst = append(s.dst, '}')
		}
		return nil
	}
	for {
		s.ws()
		if s.pos >= len(s.src) || s.src[s.pos] != '"' {
			return errSyntax
		}
		if len(names) == maxMembers {
			return ErrUnhandled
		}
		if !first {
			s.dst = append(s.dst, ',')
		}
		first = false
		start := len(s.dst)
		if err := s.str(); err != nil {
			return err
		}
		name := s.dst[start:len(s.dst)]
		for _, n := range names {
			if string(s.dst[n.start:n.end]) == string(name) {
				return errDuplicate
			}
		}
		for _, f := range fields {
			if string(name[1:len(name)-1]) == f {
				return ErrUnhandled
			}
		}
		names = append(names, span{start, len(s.dst)})
		s.ws()
		if s.pos >= len(s.src) || s.src[s.pos] != ':' {
			return errSyntax
		}
		s.pos++
		s.dst = append(s.dst, ':')
		s.ws()
		if err := s.value(depth); err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.src) {
			return errSyntax
		}
		switch s.src[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			if !embedded {
				s.dst = append(s.dst, '}')
			}
			return nil
		default:
			return errSyntax
		}
	}
}

// str appends the string at pos in its shortest form: as it is when it
// holds no escape sequence (the common case), else rewritten.
func (s *scanner) str() error {
	src := s.src
	for i := s.pos + 1; i < len(src); {
		for i+8 <= len(src) && !stop8(binary.LittleEndian.Uint64(src[i:])) {
			i += 8
		}
		for i < len(src) && plain[src[i]] {
			i++
		}
		if i == len(src) {
			break
		}
		switch c := src[i]; {
		case c == '"':
			s.dst = append(s.dst, src[s.pos:i+1]...)
			s.pos = i + 1
			return nil
		case c == '\\':
			return s.escapedStr()
		case c < ' ':
			return errSyntax
		}
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n == 1 {
			return errInvalidUTF8
		}
		i += n
	}
	return errSyntax
}

// escapedStr appends the string at pos, resolving its escape sequences and
// escaping what AppendString escapes.
func (s *scanner) escapedStr() error {
	src := s.src
	s.dst = append(s.dst, '"')
	i := s.pos + 1
	start := i
	for i < len(src) {
		c := src[i]
		if plain[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			s.dst = append(s.dst, src[start:i+1]...)
			s.pos = i + 1
			return nil
		case c < ' ':
			return errSyntax
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && n == 1 {
				return errInvalidUTF8
			}
			i += n
			continue
		}
		// An escape sequence.
		s.dst = append(s.dst, src[start:i]...)
		if i+1 >= len(src) {
			return errSyntax
		}
		switch e := src[i+1]; e {
		case '"', '\\':
			s.dst = append(s.dst, '\\', e)
		case '/':
			s.dst = append(s.dst, '/')
		case 'b', 'f', 'n', 'r', 't':
			s.dst = append(s.dst, '\\', e)
		case 'u':
			r, n, ok := unicodeEscape(src[i:])
			if !ok {
				return errSyntax
			}
			if r < utf8.RuneSelf && !plain[r] {
				s.dst = appendEscaped(s.dst, byte(r))
			} else {
				s.dst = utf8.AppendRune(s.dst, r)
			}
			i += n
			start = i
			continue
		default:
			return errSyntax
		}
		i += 2
		start = i
	}
	return errSyntax
}

// unicodeEscape decodes the \uXXXX sequence at the start of b, or the pair
// of them that encodes a character outside the BMP; a lone surrogate is
// not valid.
func unicodeEscape(b []byte) (r rune, n int, ok bool) {
	r1, ok := hex4(b)
	if !ok {
		return 0, 0, false
	}
	if !utf16.IsSurrogate(r1) {
		return r1, 6, true
	}
	r2, ok := hex4(b[6:])
	if !ok {
		return 0, 0, false
	}
	if r = utf16.DecodeRune(r1, r2); r == utf8.RuneError {
		return 0, 0, false
	}
	return r, 12, true
}

// hex4 decodes the four hex digits of a \uXXXX sequence at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
