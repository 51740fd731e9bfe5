package keys

import (
	"strings"
	"testing"
)

func TestMatchGlob(t *testing.T) {
	cases := []struct {
		p, name string
		want    bool
	}{
		{"*", "openai/gpt-4o", true},
		{"openai/*", "openai/gpt-4o", true},
		{"openai/*", "openrouter/anthropic/claude", false},
		{"openrouter/*", "openrouter/anthropic/claude-3.5-sonnet", true},
		{"gpt-4o", "gpt-4o", true},
		{"gpt-4o", "gpt-4o-mini", false},
		{"gpt-4o*", "gpt-4o-mini", true},
		{"*-mini", "openai/gpt-4o-mini", true},
		{"claude-?-haiku", "claude-3-haiku", true},
		{"claude-?-haiku", "claude-35-haiku", false},
		{"gpt-[45]*", "gpt-4.1", true},
		{"gpt-[45]*", "gpt-3.5", false},
		{"gpt-[^4]*", "gpt-3.5", true},
		{"gpt-[a-c]", "gpt-b", true},
		{`a\*b`, "a*b", true},
		{`a\*b`, "axb", false},
		{"*a*a*a*a*b", strings.Repeat("a", 200), false},
		{"é*", "élan", true},
		{"?lan", "élan", true},
	}
	for _, c := range cases {
		if got := MatchGlob(c.p, c.name); got != c.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", c.p, c.name, got, c.want)
		}
	}
}

func TestValidGlob(t *testing.T) {
	for _, p := range []string{"", "gpt 4o", "gpt-[45", `trailing\`, "a\tb", "\xff"} {
		if ValidGlob(p) == nil {
			t.Errorf("ValidGlob(%q) = nil, want an error", p)
		}
	}
	for _, p := range []string{"*", "openai/*", "gpt-[]4]", `a\[b`, "[^a-z]?"} {
		if err := ValidGlob(p); err != nil {
			t.Errorf("ValidGlob(%q) = %v", p, err)
		}
	}
}

func FuzzGlob(f *testing.F) {
	for _, s := range []string{"*", "openai/*", "gpt-[45]*", `a\*b`, "[^a-z]?x", "[]]", "*?*"} {
		f.Add(s, "openai/gpt-4o")
	}
	f.Fuzz(func(t *testing.T, p, name string) {
		m := MatchGlob(p, name) // never panics, valid or not
		if ValidGlob(p) != nil {
			if m {
				t.Fatalf("invalid pattern %q matched", p)
			}
			return
		}
		if !strings.ContainsAny(p, `*?[\`) && m != (p == name) {
			t.Fatalf("literal pattern %q vs %q: match = %v", p, name, m)
		}
		if MatchGlob("*", name) != true {
			t.Fatal("* must match everything")
		}
	})
}
