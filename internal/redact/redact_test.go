package redact

import (
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	r := New([]string{"my-very-secret-key-123"}, []string{"llm.corp.example:8443", "10.1.2.3"})
	tests := []struct {
		in      string
		want    string // must appear
		mustNot []string
	}{
		{"Incorrect API key provided: sk-XXXX***************************************XXXX. You can find your API key at https://platform.openai.com/account/api-keys.",
			"You can find your API key at https://platform.openai.com/account/api-keys.", []string{"sk-XXXX"}},
		{"bad key my-very-secret-key-123 used", "bad key " + Mask + " used", []string{"my-very-secret"}},
		{`Post "http://llm.corp.example:8443/v1/chat/completions": EOF`, Mask, []string{"corp.example"}},
		{"dial tcp 10.1.2.3:8000: connection refused", Mask, []string{"10.1.2.3"}},
		{"dial tcp 192.168.0.7:80: refused", Mask, []string{"192.168"}},
		{"see https://user:pw@example.com/x", Mask, []string{"user:pw"}},
		{"https://generativelanguage.googleapis.com/v1beta/models/x?key=AIzaSyA-abcdefghijklmnopqrstuvwx", Mask, []string{"AIza"}},
		{"Authorization: Bearer abcdefghijklmnop", Mask, []string{"abcdefghijklmnop"}},
		{"LLM.CORP.EXAMPLE:8443 said no", Mask + " said no", []string{"CORP"}},
		{"public 8.8.8.8 stays", "public 8.8.8.8 stays", nil},
		{"gsk_abcdefghijklmnopqrstu and xai-abcdefghijklmnopqrst", Mask + " and " + Mask, nil},
	}
	for _, tt := range tests {
		got := r.String(tt.in)
		if !strings.Contains(got, tt.want) {
			t.Errorf("String(%q) = %q, want it to contain %q", tt.in, got, tt.want)
		}
		for _, bad := range tt.mustNot {
			if strings.Contains(got, bad) {
				t.Errorf("String(%q) = %q still contains %q", tt.in, got, bad)
			}
		}
	}
}

// TestHostsWithCaseChangingRunes: lower-casing can change byte lengths
// ("Ⱥ" grows, "İ" shrinks); matching must neither panic nor leak the host.
func TestHostsWithCaseChangingRunes(t *testing.T) {
	r := New(nil, []string{"internal.box.example"})
	for _, prefix := range []string{strings.Repeat("Ⱥ", 20), strings.Repeat("İ", 20), "ǅ"} {
		in := prefix + " INTERNAL.box.example said no"
		got := r.String(in)
		if strings.Contains(asciiLower(got), "box.example") {
			t.Errorf("String(%q) = %q leaks the host", in, got)
		}
	}
}

func TestNilRedactorUsesShapes(t *testing.T) {
	var r *Redactor
	if got := r.String("key sk-abcdefghijklmnop"); strings.Contains(got, "sk-abc") {
		t.Fatalf("got %q", got)
	}
}

func FuzzString(f *testing.F) {
	f.Add("sk-abcdefghijkl http://10.0.0.1:80/x")
	f.Add("İİİ internal.host")
	f.Fuzz(func(t *testing.T, s string) {
		r := New([]string{"secretsecret"}, []string{"internal.host"})
		out := r.String(s)
		if strings.Contains(out, "secretsecret") {
			t.Fatalf("secret survived: %q -> %q", s, out)
		}
		if strings.Contains(asciiLower(out), "internal.host") {
			t.Fatalf("host survived: %q -> %q", s, out)
		}
	})
}

// asciiLower folds A-Z only: host names compare case-insensitively in ASCII,
// while "İnternal.host" is a different name from "internal.host".
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
