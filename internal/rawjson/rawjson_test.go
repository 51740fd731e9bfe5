package rawjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestMembers(t *testing.T) {
	tests := []struct {
		in      string
		keys    string // comma-joined
		wantErr string
	}{
		{`{}`, "", ""},
		{` { "a" : 1 , "b":[1,{"c":"}"}], "d\"e": "x\\"} `, `a,b,d\"e`, ""},
		{`{"model":"gpt","stream":true,"n":-1.5e+3}`, "model,stream,n", ""},
		{`[1,2]`, "", "not an object"},
		{`"s"`, "", "not an object"},
		{``, "", "unexpected end"},
		{`{`, "", "expected a member name"},
		{`{"a":}`, "", "looking for a value"},
		{`{"a":1,}`, "", "expected a member name"},
		{`{"a":1}x`, "", "after the top-level value"},
		{`{"a":01}`, "", "expected ',' or '}'"},
		{`{"a":1.}`, "", "decimal point"},
		{`{"a":tru}`, "", "expected true"},
		{"{\"a\":\"x\ny\"}", "", "control character"},
		{`{"a":"\x"}`, "", "invalid escape"},
		{`{"a":"\u12"}`, "", "invalid \\u escape"},
		{`{"a":[1 2]}`, "", "expected ',' or ']'"},
		{`{"a" 1}`, "", "expected ':'"},
		{`{"a":1 "b":2}`, "", "expected ',' or '}'"},
		{`{"a":"unterminated}`, "", "end of input in a string"},
	}
	for _, tt := range tests {
		ms, err := Members([]byte(tt.in), nil)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Members(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Members(%q): %v", tt.in, err)
			continue
		}
		var keys []string
		for _, m := range ms {
			keys = append(keys, string(m.Key))
		}
		if got := strings.Join(keys, ","); got != tt.keys {
			t.Errorf("Members(%q) keys = %q, want %q", tt.in, got, tt.keys)
		}
	}
}

func TestMembersDepthLimit(t *testing.T) {
	deep := `{"a":` + strings.Repeat("[", MaxDepth+5) + strings.Repeat("]", MaxDepth+5) + `}`
	if _, err := Members([]byte(deep), nil); err == nil || !strings.Contains(err.Error(), "too deep") {
		t.Fatalf("err = %v, want nesting error", err)
	}
}

func TestNotObjectError(t *testing.T) {
	if _, err := Members([]byte(`[]`), nil); !errors.Is(err, ErrNotObject) {
		t.Fatalf("err = %v", err)
	}
}

func TestApply(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		edits []Edit
		want  string
	}{
		{"replace keeps other bytes", `{"model": "a",  "x" :{"y":1} }`,
			[]Edit{{Key: "model", Value: []byte(`"b"`)}}, `{"model": "b",  "x" :{"y":1} }`},
		{"add", `{"a":1}`, []Edit{{Key: "s", Value: []byte(`{"include_usage":true}`)}}, `{"a":1,"s":{"include_usage":true}}`},
		{"add to empty", `{ }`, []Edit{{Key: "s", Value: []byte(`1`)}}, `{"s":1}`},
		{"delete first", `{"a":1, "b":2, "c":3}`, []Edit{{Key: "a", Delete: true}}, `{"b":2, "c":3}`},
		{"delete middle", `{"a":1, "b":2, "c":3}`, []Edit{{Key: "b", Delete: true}}, `{"a":1,"c":3}`},
		{"delete last", `{"a":1, "b":2, "c":3}`, []Edit{{Key: "c", Delete: true}}, `{"a":1, "b":2}`},
		{"delete only", `{"a":1}`, []Edit{{Key: "a", Delete: true}}, `{}`},
		{"rename", `{"max_completion_tokens": 5,"z":0}`, []Edit{{Key: "max_completion_tokens", Rename: "max_tokens"}}, `{"max_tokens": 5,"z":0}`},
		{"absent delete is no-op", `{"a":1}`, []Edit{{Key: "q", Delete: true}}, `{"a":1}`},
		{"no edits", `{"a":1}`, nil, `{"a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Members([]byte(tt.in), nil)
			if err != nil {
				t.Fatal(err)
			}
			got := string(Apply(nil, []byte(tt.in), ms, tt.edits))
			if got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Fatalf("result is not valid JSON: %s", got)
			}
		})
	}
}

func TestString(t *testing.T) {
	tests := map[string]string{
		`"plain"`:               "plain",
		`"a\"b\\c\/d\n"`:        "a\"b\\c/d\n",
		`"\u00e9\ud83d\ude00"`:  "é😀",
		`"tab\there"`:           "tab\there",
		`"\ud83d\ude00 smile"`:  "😀 smile",
		`"lone \ud83d surrog"`:  "lone \uFFFD surrog",
		`"slash\/and\u0041end"`: "slash/andAend",
	}
	for in, want := range tests {
		got, err := String([]byte(in))
		if err != nil || got != want {
			t.Errorf("String(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\", "ctl\x01\n\t\r", "é😀"} {
		enc := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(enc, &back); err != nil || back != s {
			t.Errorf("AppendString(%q) = %s, decodes to %q (%v)", s, enc, back, err)
		}
	}
}

func FuzzMembers(f *testing.F) {
	for _, s := range []string{`{}`, `{"model":"x","stream":true}`, `{"a":[1,{"b":null}],"c":"\u00e9"}`, `[1]`, `{"a":1e5}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		ms, err := Members(in, nil)
		stdValid := json.Valid(in)
		if err == nil && !stdValid {
			t.Fatalf("accepted invalid JSON %q", in)
		}
		if err != nil {
			if stdValid && !errors.Is(err, ErrNotObject) && !strings.Contains(err.Error(), "too deep") {
				t.Fatalf("rejected valid JSON %q: %v", in, err)
			}
			return
		}
		// Replacing and adding members must give valid JSON with the
		// same other members.
		out := Apply(nil, in, ms, []Edit{{Key: "model", Value: []byte(`"m"`)}, {Key: "zz_added", Value: []byte(`1`)}})
		var got, orig map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("edited %q into invalid %q: %v", in, out, err)
		}
		if err := json.Unmarshal(in, &orig); err != nil {
			t.Fatal(err)
		}
		orig["model"] = "m"
		if _, ok := orig["zz_added"]; !ok {
			orig["zz_added"] = float64(1)
		}
		if uniqueKeys(ms) && !reflect.DeepEqual(got, orig) {
			t.Fatalf("edit of %q = %q, want members %v", in, out, orig)
		}
	})
}

// uniqueKeys reports whether no key repeats (the last duplicate wins in
// encoding/json, which the comparison above cannot model).
func uniqueKeys(ms []Member) bool {
	seen := map[string]bool{}
	for i := range ms {
		k, err := String(append(append([]byte{'"'}, ms[i].Key...), '"'))
		if err != nil || seen[k] {
			return false
		}
		seen[k] = true
	}
	return true
}

// TestApplyManyEdits: more edits than the fixed bookkeeping array must not
// duplicate members.
func TestApplyManyEdits(t *testing.T) {
	doc := []byte(`{"model":"a","stream":true,"x":1}`)
	ms, _ := Members(doc, nil)
	var edits []Edit
	for i := 0; i < 20; i++ {
		edits = append(edits, Edit{Key: fmt.Sprintf("drop%d", i), Delete: true})
	}
	edits = append(edits, Edit{Key: "model", Value: []byte(`"b"`)}, Edit{Key: "new", Value: []byte(`2`)})
	got := string(Apply(nil, doc, ms, edits))
	if got != `{"model":"b","stream":true,"x":1,"new":2}` {
		t.Fatalf("got %s", got)
	}
}
