// Package glob is the pattern syntax of virtual keys' model allow-lists:
// the admin API checks patterns with Valid when a key is written, and the
// key-matching code calls Match on every request. It lives apart from
// package admin so that internal/keys can import it without importing the
// admin API (which imports internal/keys).
//
// The syntax is path.Match's with one difference: model names look like
// "openai/gpt-4o", so "*" and "?" cross "/".
//
//	pattern  matches
//	*        any run of characters, "/" included (also none)
//	?        exactly one character (one UTF-8 code point), "/" included
//	[abc]    one character of the class; [a-z] a range; [^a-z] any other
//	\c       the character c itself (also inside a class: [\]\-])
//	c        any other character: itself; matching is case-sensitive
//
// A pattern is invalid when it is empty, is not valid UTF-8, contains
// whitespace or control characters, ends in an unfinished escape ("\"), has
// an unclosed or empty class, a "-" or "]" that is neither escaped nor part
// of a range or the end of the class, or a range whose ends are reversed
// ("[z-a]").
//
// It imports only the standard library.
package glob

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Valid reports what is wrong with pattern, or nil when Match may use it.
// The error says where (a byte offset) but does not repeat the pattern.
func Valid(pattern string) error {
	if pattern == "" {
		return errors.New("is empty")
	}
	if !utf8.ValidString(pattern) {
		return errors.New("is not valid UTF-8")
	}
	for i, r := range pattern {
		switch {
		case unicode.IsSpace(r):
			return fmt.Errorf("contains whitespace at byte %d", i)
		case unicode.IsControl(r):
			return fmt.Errorf("contains a control character at byte %d", i)
		}
	}
	for i := 0; i < len(pattern); {
		switch pattern[i] {
		case '\\':
			if i+1 == len(pattern) {
				return fmt.Errorf("ends in an unfinished escape (a trailing \\) at byte %d", i)
			}
			_, w := utf8.DecodeRuneInString(pattern[i+1:])
			i += 1 + w
		case '[':
			_, n, err := class(pattern[i:], -1)
			if err != nil {
				return fmt.Errorf("has a bad class at byte %d: %w", i, err)
			}
			i += n
		default:
			i++
		}
	}
	return nil
}

// Match reports whether name matches the whole of pattern. It never panics;
// an invalid pattern (see Valid) matches nothing, or at most what its valid
// beginning decides, so check patterns with Valid when they are written.
// It takes time proportional to len(pattern)·len(name) at worst.
func Match(pattern, name string) bool {
	p, n := 0, 0
	// The position after the last "*" seen, and the name position it is
	// currently taken to match up to: on a mismatch, the star takes one more
	// character and matching resumes after it. One such point suffices
	// because a later star can match everything an earlier one could.
	star, starN := -1, 0
	for p < len(pattern) || n < len(name) {
		if p < len(pattern) {
			switch c := pattern[p]; c {
			case '*':
				p++
				star, starN = p, n
				continue
			case '?':
				if n < len(name) {
					_, w := utf8.DecodeRuneInString(name[n:])
					p, n = p+1, n+w
					continue
				}
			case '[':
				if n < len(name) {
					r, w := utf8.DecodeRuneInString(name[n:])
					ok, cw, err := class(pattern[p:], r)
					if err != nil {
						return false
					}
					if ok {
						p, n = p+cw, n+w
						continue
					}
				}
			case '\\':
				if p+1 == len(pattern) {
					return false
				}
				_, w := utf8.DecodeRuneInString(pattern[p+1:])
				lit := pattern[p+1 : p+1+w]
				if len(name)-n >= len(lit) && name[n:n+len(lit)] == lit {
					p, n = p+1+w, n+len(lit)
					continue
				}
			default:
				if n < len(name) && name[n] == c {
					p, n = p+1, n+1
					continue
				}
			}
		}
		if star < 0 || starN >= len(name) {
			return false
		}
		_, w := utf8.DecodeRuneInString(name[starN:])
		starN += w
		p, n = star, starN
	}
	return true
}

// class reads the class at the start of p (p[0] == '[') and reports whether
// r is in it and how many bytes of p the class takes. With r < 0 it only
// checks the syntax.
func class(p string, r rune) (matched bool, width int, err error) {
	i := 1
	negated := false
	if i < len(p) && p[i] == '^' {
		negated = true
		i++
	}
	for ranges := 0; ; ranges++ {
		if i < len(p) && p[i] == ']' && ranges > 0 {
			return matched != negated, i + 1, nil
		}
		lo, n, err := classChar(p[i:])
		if err != nil {
			return false, 0, err
		}
		i += n
		hi := lo
		if i < len(p) && p[i] == '-' {
			if hi, n, err = classChar(p[i+1:]); err != nil {
				return false, 0, err
			}
			if hi < lo {
				return false, 0, fmt.Errorf("the range %q-%q is reversed", lo, hi)
			}
			i += 1 + n
		}
		if lo <= r && r <= hi {
			matched = true
		}
	}
}

// classChar reads one character of a class, which may be escaped.
func classChar(p string) (r rune, width int, err error) {
	switch {
	case p == "":
		return 0, 0, errors.New("it is not closed with ]")
	case p[0] == '-' || p[0] == ']':
		return 0, 0, fmt.Errorf("%q must be escaped here", p[0])
	case p[0] == '\\':
		if len(p) == 1 {
			return 0, 0, errors.New("it is not closed with ]")
		}
		r, w := utf8.DecodeRuneInString(p[1:])
		return r, 1 + w, nil
	}
	r, w := utf8.DecodeRuneInString(p)
	return r, w, nil
}
