package rawjson

import "encoding/binary"

// scanner is a validating JSON skipper: it moves pos past one value and
// reports the first syntax error. It allocates nothing.
type scanner struct {
	data []byte
	pos  int
}

func (s *scanner) errf(msg string) error { return &SyntaxError{Offset: s.pos, Msg: msg} }

// ws skips insignificant white space.
func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// end checks that only white space follows the value.
func (s *scanner) end() error {
	s.ws()
	if s.pos != len(s.data) {
		return s.errf("unexpected data after the top-level value")
	}
	return nil
}

// value skips one value at pos (white space already skipped).
func (s *scanner) value(depth int) error {
	if s.pos >= len(s.data) {
		return s.errf("unexpected end of input, expected a value")
	}
	switch c := s.data[s.pos]; c {
	case '"':
		return s.str()
	case '{':
		return s.object(depth + 1)
	case '[':
		return s.array(depth + 1)
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return s.number()
		}
		return s.errf("invalid character " + quoteChar(c) + " looking for a value")
	}
}

func (s *scanner) literal(lit string) error {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return s.errf("invalid literal, expected " + lit)
	}
	s.pos += len(lit)
	return nil
}

func (s *scanner) object(depth int) error {
	if depth > MaxDepth {
		return s.errf("nesting too deep")
	}
	s.pos++ // '{'
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return s.errf("expected a member name")
		}
		if err := s.str(); err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.errf("expected ':' after a member name")
		}
		s.pos++
		s.ws()
		if err := s.value(depth); err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.data) {
			return s.errf("unexpected end of input in an object")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.errf("expected ',' or '}' after an object member")
		}
	}
}

func (s *scanner) array(depth int) error {
	if depth > MaxDepth {
		return s.errf("nesting too deep")
	}
	s.pos++ // '['
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for {
		s.ws()
		if err := s.value(depth); err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.data) {
			return s.errf("unexpected end of input in an array")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return s.errf("expected ',' or ']' after an array element")
		}
	}
}

// special marks the bytes a string scan must stop at.
var special = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'] = true
	t['\\'] = true
	return t
}()

// Eight-byte-at-a-time helpers (SWAR): whether any byte of x is below 0x20,
// equal to '"' or equal to '\\'.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

func stringStop(x uint64) bool {
	q := x ^ (ones * '"')
	bs := x ^ (ones * '\\')
	return ((x-ones*0x20)&^x|(q-ones)&^q|(bs-ones)&^bs)&highs != 0
}

func (s *scanner) str() error {
	d := s.data
	i := s.pos + 1 // past the opening quote
	for {
		for i+8 <= len(d) && !stringStop(binary.LittleEndian.Uint64(d[i:])) {
			i += 8
		}
		for i < len(d) && !special[d[i]] {
			i++
		}
		if i >= len(d) {
			s.pos = i
			return s.errf("unexpected end of input in a string")
		}
		switch d[i] {
		case '"':
			s.pos = i + 1
			return nil
		case '\\':
			if i+1 >= len(d) {
				s.pos = i
				return s.errf("unexpected end of input in an escape")
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					s.pos = i
					return s.errf("invalid \\u escape")
				}
				i += 6
			default:
				s.pos = i
				return s.errf("invalid escape in a string")
			}
		default:
			s.pos = i
			return s.errf("control character in a string")
		}
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (s *scanner) number() error {
	d := s.data
	i := s.pos
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		s.pos = i
		return s.errf("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		start := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == start {
			s.pos = i
			return s.errf("invalid number: no digits after the decimal point")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		start := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == start {
			s.pos = i
			return s.errf("invalid number: no digits in the exponent")
		}
	}
	s.pos = i
	return nil
}

func quoteChar(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(c) + "'"
	}
	return "0x" + string(hex[c>>4]) + string(hex[c&0xF])
}
