package glob

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"gpt-4o", "gpt-4o", true},
		{"gpt-4o", "gpt-4o-mini", false},
		{"gpt-4o", "GPT-4o", false}, // case-sensitive
		{"*", "", true},
		{"*", "openai/gpt-4o", true},
		{"openai/*", "openai/gpt-4o", true},
		{"openai/*", "openai/", true},
		{"openai/*", "anthropic/claude", false},
		{"*/gpt-4o", "openai/gpt-4o", true},
		{"*/gpt-4o", "openrouter/openai/gpt-4o", true}, // "*" crosses "/"
		{"openrouter/*/claude-*", "openrouter/anthropic/claude-3.5-sonnet", true},
		{"*gpt*", "openai/gpt-4o", true},
		{"*gpt*", "claude", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"a*b", "ab/b/b", true},
		{"**", "x/y", true},
		{"gpt-4?", "gpt-4o", true},
		{"gpt-4?", "gpt-4", false},
		{"gpt-4?", "gpt-4oo", false},
		{"a?b", "a/b", true}, // "?" crosses "/" too
		{"?", "é", true},     // one code point, two bytes
		{"??", "é", false},
		{"gpt-[34]*", "gpt-4o", true},
		{"gpt-[34]*", "gpt-5", false},
		{"gpt-[0-9]", "gpt-7", true},
		{"gpt-[^0-9]", "gpt-7", false},
		{"gpt-[^0-9]", "gpt-x", true},
		{"[^a]", "/", true},
		{"[a-cx-z]", "y", true},
		{"[a-cx-z]", "m", false},
		{"[é-ë]", "ê", true},
		{`\*`, "*", true},
		{`\*`, "x", false},
		{`a\?`, "a?", true},
		{`a\?`, "ab", false},
		{`[\]]`, "]", true},
		{`[\-a]`, "-", true},
		{`[\^]`, "^", true},
		{`\é`, "é", true},
		{"a]b", "a]b", true}, // a lone "]" is a literal, as in path.Match
		{"*.mini", "gpt-4o.mini", true},
		{"*-mini", "gpt-4o-mini-2024", false},
		{"*-mini*", "gpt-4o-mini-2024", true},
		// Invalid patterns match nothing past their fault.
		{"[", "[", false},
		{"[a", "a", false},
		{`a\`, `a\`, false},
		{"[]", "]", false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.name); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestValid(t *testing.T) {
	tests := []struct {
		pattern string
		err     string // substring; "" for valid
	}{
		{"gpt-4o", ""},
		{"openai/*", ""},
		{"*", ""},
		{"?", ""},
		{"[a-z]", ""},
		{"[^a-z]", ""},
		{`[\]\-]`, ""},
		{`\*`, ""},
		{"a]b", ""},
		{"[[]", ""},
		{"é*", ""},
		{"", "is empty"},
		{" gpt-4o", "whitespace at byte 0"},
		{"gpt 4o", "whitespace at byte 3"},
		{"gpt-4o\n", "whitespace"},
		{"gpt\u00a04o", "whitespace"}, // no-break space
		{"gpt\x00", "control character"},
		{"gpt\x7f", "control character"},
		{"gpt\xff", "not valid UTF-8"},
		{"[", "bad class at byte 0: it is not closed"},
		{"gpt-[4", "bad class at byte 4: it is not closed"},
		{"gpt-[4-", "not closed"},
		{`[\`, "not closed"},
		{"[]", "']' must be escaped"},
		{"[^]", "']' must be escaped"},
		{"[-a]", "'-' must be escaped"},
		{"[a-]", "']' must be escaped"},
		{"[a--]", "'-' must be escaped"},
		{"[z-a]", "reversed"},
		{`gpt\`, "unfinished escape"},
		{`gpt\\`, ""},
	}
	for _, tt := range tests {
		err := Valid(tt.pattern)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("Valid(%q) = %v, want nil", tt.pattern, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("Valid(%q) = %v, want an error containing %q", tt.pattern, err, tt.err)
		}
	}
}

// TestAgreesWithPathMatch: where the two syntaxes mean the same (no "/" in
// the name), Match and path.Match agree, valid patterns included.
func TestAgreesWithPathMatch(t *testing.T) {
	patterns := []string{"*", "a*", "*b", "a?c", "[a-c]*", "[^b]?", `\*x`, "*[0-9]", "a*b*c", "[]", "[a", `x\`}
	names := []string{"", "a", "abc", "b", "*x", "ab9", "xyz", "aXbYc", "]"}
	for _, p := range patterns {
		for _, n := range names {
			want, err := path.Match(p, n)
			if err != nil {
				if Valid(p) == nil {
					t.Errorf("path.Match refuses %q (%v) but Valid accepts it", p, err)
				}
				continue
			}
			if got := Match(p, n); got != want {
				t.Errorf("Match(%q, %q) = %v, path.Match says %v", p, n, got, want)
			}
		}
	}
}

// reference translates a valid pattern into a regular expression, the
// oracle of FuzzGlob.
func reference(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	esc := func(r rune) string { return fmt.Sprintf(`\x{%x}`, r) }
	for i := 0; i < len(pattern); {
		r, w := utf8.DecodeRuneInString(pattern[i:])
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '\\':
			r, w2 := utf8.DecodeRuneInString(pattern[i+1:])
			b.WriteString(esc(r))
			w += w2
		case '[':
			b.WriteString("[")
			j := i + 1
			if pattern[j] == '^' {
				b.WriteString("^")
				j++
			}
			for first := true; first || pattern[j] != ']'; first = false {
				r, n := utf8.DecodeRuneInString(pattern[j:])
				if r == '\\' {
					r, n = utf8.DecodeRuneInString(pattern[j+1:])
					n++
				}
				b.WriteString(esc(r))
				j += n
				if pattern[j] == '-' {
					r, n := utf8.DecodeRuneInString(pattern[j+1:])
					if r == '\\' {
						r, n = utf8.DecodeRuneInString(pattern[j+2:])
						n++
					}
					b.WriteString("-" + esc(r))
					j += 1 + n
				}
			}
			b.WriteString("]")
			w = j + 1 - i
		default:
			b.WriteString(esc(r))
		}
		i += w
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String())
}

// FuzzGlob: Match never panics; Valid patterns without metacharacters match
// exactly themselves; Valid patterns agree with a regexp translation. Seeds
// are in testdata/fuzz/FuzzGlob.
func FuzzGlob(f *testing.F) {
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if len(pattern) > 256 || len(name) > 512 {
			// The store caps patterns at 200 bytes; long inputs only slow
			// the fuzzer down (it minimizes every new one).
			return
		}
		matched := Match(pattern, name) // must not panic, valid or not
		if Valid(pattern) != nil {
			return
		}
		if !strings.ContainsAny(pattern, `*?[\`) {
			if !Match(pattern, pattern) {
				t.Fatalf("the literal pattern %q does not match itself", pattern)
			}
			if matched != (pattern == name) {
				t.Fatalf("Match(%q, %q) = %v for a literal pattern", pattern, name, matched)
			}
		}
		if utf8.ValidString(name) {
			if want := reference(pattern).MatchString(name); matched != want {
				t.Fatalf("Match(%q, %q) = %v, the reference says %v", pattern, name, matched, want)
			}
		}
	})
}
