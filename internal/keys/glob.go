package keys

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Model allow-lists are globs over model names: '*' matches any run of
// characters, '/' included (model names look like "openai/gpt-4o"), '?' one
// character, '[abc]', '[a-z]' and '[^a-z]' one character of a class, and '\'
// makes the next character literal.

// ValidGlob reports why p is not a usable pattern: empty, with white space,
// an unclosed class or a trailing backslash.
func ValidGlob(p string) error {
	switch {
	case p == "":
		return errors.New("is empty")
	case !utf8.ValidString(p):
		return errors.New("is not valid UTF-8")
	case strings.IndexFunc(p, unicode.IsSpace) >= 0:
		return errors.New("contains white space")
	}
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			if i++; i == len(p) {
				return errors.New("ends with a lone backslash")
			}
		case '[':
			end := classEnd(p, i)
			if end < 0 {
				return errors.New("has a '[' without its ']'")
			}
			i = end
		}
	}
	return nil
}

// classEnd returns the index of the ']' closing the class that starts at
// p[i] == '[', or -1.
func classEnd(p string, i int) int {
	j := i + 1
	if j < len(p) && p[j] == '^' {
		j++
	}
	if j < len(p) && p[j] == ']' { // a leading ']' is a member
		j++
	}
	for ; j < len(p); j++ {
		switch p[j] {
		case '\\':
			j++
		case ']':
			return j
		}
	}
	return -1
}

// MatchGlob reports whether name matches pattern p. An invalid pattern
// matches nothing.
func MatchGlob(p, name string) bool {
	if ValidGlob(p) != nil {
		return false
	}
	// Iterative matching with one backtrack point for the last '*': linear
	// in practice and never exponential.
	pi, ni := 0, 0
	starP, starN := -1, 0
	for ni < len(name) {
		if pi < len(p) {
			switch p[pi] {
			case '*':
				starP, starN = pi, ni
				pi++
				continue
			case '?':
				_, w := utf8.DecodeRuneInString(name[ni:])
				pi, ni = pi+1, ni+w
				continue
			case '[':
				end := classEnd(p, pi)
				r, w := utf8.DecodeRuneInString(name[ni:])
				if inClass(p[pi+1:end], r) {
					pi, ni = end+1, ni+w
					continue
				}
			default:
				c, pw := p[pi], 1
				if c == '\\' {
					c, pw = p[pi+1], 2
				}
				if c == name[ni] {
					pi, ni = pi+pw, ni+1
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starN++
		pi, ni = starP+1, starN
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// inClass reports whether r is in the class body c (between '[' and ']').
func inClass(c string, r rune) bool {
	neg := strings.HasPrefix(c, "^")
	if neg {
		c = c[1:]
	}
	in := false
	for i := 0; i < len(c); {
		lo, w := utf8.DecodeRuneInString(c[i:])
		if lo == '\\' && i+1 < len(c) {
			lo, w = utf8.DecodeRuneInString(c[i+1:])
			w++
		}
		i += w
		hi := lo
		if i+1 < len(c) && c[i] == '-' {
			h, hw := utf8.DecodeRuneInString(c[i+1:])
			if h == '\\' && i+2 < len(c) {
				h, hw = utf8.DecodeRuneInString(c[i+2:])
				hw++
			}
			hi = h
			i += 1 + hw
		}
		if lo <= r && r <= hi {
			in = true
		}
	}
	return in != neg
}
