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

func TestNilRedactorUsesShapes(t *testing.T) {
	var r *Redactor
	if got := r.String("key sk-abcdefghijklmnop"); strings.Contains(got, "sk-abc") {
		t.Fatalf("got %q", got)
	}
}

func FuzzString(f *testing.F) {
	f.Add("sk-abcdefghijkl http://10.0.0.1:80/x")
	f.Fuzz(func(t *testing.T, s string) {
		r := New([]string{"secretsecret"}, []string{"internal.host"})
		out := r.String(s)
		if strings.Contains(out, "secretsecret") {
			t.Fatalf("secret survived: %q -> %q", s, out)
		}
	})
}
