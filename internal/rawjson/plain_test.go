package rawjson

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPlain(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`{}`, true},
		{`{"a":1,"b":[1,"x",null,true,{"a":2}],"c":{"d":-1.5e3}}`, true},
		{` { "a" : [ ] , "b" : { } } `, true},
		{`"é"`, true},
		{`{"a":1,"a":2}`, false},
		{`{"a":{"b":1,"b":2}}`, false},
		{`[{"b":1,"b":2}]`, false},
		{`{"a\u0062":1}`, false},
		{`{"a":"\n"}`, false},
		{`{"a":"\""}`, false},
		{"{\"a\":\"\xff\"}", false},
		{"{\"\xc3\":1}", false},
		{`{"a":1}x`, false},
		{`{` + manyMembers(64) + `}`, true},
		{`{` + manyMembers(65) + `}`, false},
	}
	for _, tt := range tests {
		if got := Plain([]byte(tt.in)); got != tt.want {
			t.Errorf("Plain(%.60s) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func manyMembers(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k` + strconv.Itoa(i) + `":1`)
	}
	return b.String()
}

// FuzzPlain: Plain is true exactly for the valid JSON without escapes,
// with valid UTF-8 and without repeated names (objects of up to 64
// members); it never panics on invalid input.
func FuzzPlain(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":[1,"x",{"a":2}]}`, `{"a":1,"a":2}`, `{"a\u0062":1}`, "\"\xff\"", `[{"b":1,"b":2}]`, `{"a":`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got := Plain(in) // must not panic, whatever in is
		if !json.Valid(in) {
			return
		}
		want := bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in) && uniqueNames(t, in)
		if got != want {
			t.Fatalf("Plain(%q) = %v, want %v", in, got, want)
		}
	})
}

// uniqueNames reports whether no object in the valid document in repeats a
// name and none has more than maxPlainMembers members.
func uniqueNames(t *testing.T, in []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber() // numbers beyond float64 are valid JSON too
	type level struct {
		names map[string]bool
		key   bool // the next string token is a name
	}
	var stack []*level
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return true
		}
		if err != nil {
			t.Fatalf("tokens of %q: %v", in, err)
		}
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if s, ok := tok.(string); ok && top != nil && top.key {
			if top.names[s] || len(top.names) == maxPlainMembers {
				return false
			}
			top.names[s] = true
			top.key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &level{names: map[string]bool{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, &level{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].names != nil {
			stack[len(stack)-1].key = true // a value ended: a name follows
		}
	}
}

func TestInt(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"0", 0, true},
		{"-0", 0, true},
		{"412", 412, true},
		{"-5", -5, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"-9223372036854775808", -9223372036854775808, true},
		{"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false},
		{"99999999999999999999", 0, false},
		{"1.0", 0, false},
		{"1e2", 0, false},
		{"01", 0, false},
		{"-", 0, false},
		{"", 0, false},
		{`"1"`, 0, false},
		{"null", 0, false},
	}
	for _, tt := range tests {
		if n, ok := Int([]byte(tt.in)); n != tt.want || ok != tt.ok {
			t.Errorf("Int(%s) = %d, %v, want %d, %v", tt.in, n, ok, tt.want, tt.ok)
		}
	}
}

// FuzzInt: Int agrees with strconv.ParseInt on every valid JSON number.
func FuzzInt(f *testing.F) {
	for _, s := range []string{"0", "-0", "12", "-9223372036854775808", "9223372036854775808", "1.5", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := Int([]byte(s))
		if !json.Valid([]byte(s)) || s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
			if ok && !json.Valid([]byte(s)) {
				t.Fatalf("Int(%q) = %d on a non-number", s, n)
			}
			return
		}
		want, err := strconv.ParseInt(s, 10, strconv.IntSize)
		if ok != (err == nil) || ok && n != int(want) {
			t.Fatalf("Int(%q) = %d, %v; ParseInt says %d, %v", s, n, ok, want, err)
		}
	})
}

func TestInts(t *testing.T) {
	var a, b int
	a, b = 9, 9
	if !Ints([]byte(`{"a":1,"x":"y","b":null}`), IntMember{"a", &a}, IntMember{"b", &b}) || a != 1 || b != 0 {
		t.Errorf("Ints = %d, %d", a, b)
	}
	for _, bad := range []string{`{"a":1.5}`, `{"a":"1"}`, `[1]`, `{"a":{}}`} {
		if Ints([]byte(bad), IntMember{"a", &a}) {
			t.Errorf("Ints(%s) = true", bad)
		}
	}
}
