package wirejson

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// The Append functions are held to json.Marshal: the same bytes, or an
// error where Marshal fails (ErrUnhandled excepted, which leaves the value
// to Marshal).

// TrickyStrings are strings on which a JSON string writer may part ways
// with Marshal.
var trickyStrings = []string{
	"", "plain", "<script>a && b</script>", "line\u2028para\u2029", "emoji 😀 and é 日本語",
	"\x00\x01\x07\x1f\x7f", "\"quoted\" \\back\\ /slash/", "\b\f\n\r\t",
	"invalid \xff\xfe", "truncated \xe2\x82", "\ufffd replacement", "surrogate in UTF-8 \xed\xa0\x80",
	"overlong \xc0\xaf", "\U0010ffff max", "trailing \\",
}

// trickyValues are raw values on which a raw value writer may part ways
// with Marshal.
var trickyValues = []string{
	`{"a":1}`, ` { "a" : [ 1 , 2.5e-3 , -0 , true , false, null ] } `, "\t[\r\n]\n", `{}`, `[]`, `null`, `"s"`,
	`{"a":"\u0041\/\ud83d\ude00\u2028\u001F\u001f\u00e9\"\\\b\f\n\r\t\u000a\u007f\u003c"}`,
	`"\uD83D\uDE00"`, `"\ud800"`, `"\udc00\ud800"`, `"\ud800\u0041"`, `"\ud800x"`, `"\u12"`, `"\u12g4"`, `"\x"`, `"\'"`,
	`{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"a":{"a":1},"b":{"a":2}}`, `{"a":1,"b":{"c":1,"c":2}}`,
	"\"\xff\"", "{\"\xff\":1}", "\"a\x01b\"", `"tab	in"`, `"\u0000"`,
	``, ` `, `[1,]`, `{"a":1,}`, `[,1]`, `{"a"}`, `{"a":}`, `{1:2}`, `{"a" 1}`, `[1 2]`, `01`, `-`, `-01`, `1.`, `.5`, `1e`, `1e+`, `+1`,
	`-0.0e+00`, `1E400`, `123456789012345678901234567890`, `0`, `-0`, `1.5e-7`,
	`tru`, `truex`, `nul`, `[true false]`, `nullnull`, `{"a":1}}`, `[[]`, `"unterminated`, `"<&>"`, `"a\/b"`,
	strings.Repeat("[", 600) + strings.Repeat("]", 600),
	strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100),
	manyMembers(70, false), manyMembers(64, false), manyMembers(65, true),
}

func manyMembers(n int, dup bool) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		name := "m" + strconv.Itoa(i)
		if dup && i == n-1 {
			name = "m0"
		}
		b.WriteString(`"` + name + `":` + strconv.Itoa(i))
	}
	b.WriteByte('}')
	return b.String()
}

var trickyFloats = []float64{
	0, math.Copysign(0, -1), 0.1, 0.2, 1, -1, 1e20, 1e21, 1e-6, 1e-7, 0.000001234, 123456789012345678,
	1.5e300, 5e-324, math.MaxFloat64, math.SmallestNonzeroFloat64, 0.95, 1.0000000000000002,
	math.NaN(), math.Inf(1), math.Inf(-1),
}

// agree fails the test unless the appender's result (got, err) is
// Marshal's (want, wantErr).
func agree(t *testing.T, in any, got []byte, err error, want []byte, wantErr error) {
	t.Helper()
	switch {
	case errors.Is(err, ErrUnhandled):
	case err != nil && wantErr == nil:
		t.Errorf("%q: appender fails (%v), Marshal writes %s", in, err, want)
	case err == nil && wantErr != nil:
		t.Errorf("%q: appender writes %s, Marshal fails (%v)", in, got, wantErr)
	case err == nil && !bytes.Equal(got, want):
		t.Errorf("%q:\nappender %s\nMarshal  %s", in, got, want)
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range trickyStrings {
		checkString(t, s)
	}
}

func checkString(t *testing.T, s string) {
	t.Helper()
	want, wantErr := json.Marshal(s)
	got, err := AppendString([]byte("x"), s)
	if err == nil && (len(got) == 0 || got[0] != 'x') {
		t.Fatalf("%q: AppendString lost dst", s)
	}
	agree(t, s, got[1:], err, want, wantErr)
}

func TestAppendFloat(t *testing.T) {
	for _, f := range trickyFloats {
		want, wantErr := json.Marshal(f)
		got, err := AppendFloat(nil, f)
		agree(t, f, got, err, want, wantErr)
	}
}

// valueHolder marshals a raw value as a struct field, where the
// reflective encoder meets it in the wire structs.
type valueHolder struct {
	V jsontext.Value `json:"v"`
}

func checkValue(t *testing.T, v []byte) {
	t.Helper()
	if v == nil {
		v = []byte{} // nil is written as null, which no caller asks of AppendValue
	}
	want, wantErr := json.Marshal(valueHolder{V: v})
	got, err := AppendValue([]byte(`{"v":`), v)
	got = append(got, '}')
	agree(t, v, got, err, want, wantErr)
}

func TestAppendValue(t *testing.T) {
	for _, v := range trickyValues {
		checkValue(t, []byte(v))
	}
	for _, s := range trickyStrings {
		checkValue(t, []byte(`{"`+s+`":"`+s+`"}`))
	}
}

// embedHolder has fields that may or may not be written before its
// embedded members.
type embedHolder struct {
	A       string         `json:"a,omitzero"`
	B       int            `json:"b,omitzero"`
	Unknown jsontext.Value `json:",embed"`
}

var embedFields = []string{"a", "b"}

func checkMembers(t *testing.T, v []byte) {
	t.Helper()
	for _, h := range []embedHolder{{Unknown: v}, {A: "x", Unknown: v}, {A: "x", B: 1, Unknown: v}} {
		want, wantErr := json.Marshal(h)
		got := []byte{'{'}
		if h.A != "" {
			got = append(got, `"a":"x"`...)
		}
		if h.B != 0 {
			got = append(got, `,"b":1`...)
		}
		got, err := AppendMembers(got, v, embedFields)
		got = append(got, '}')
		agree(t, v, got, err, want, wantErr)
	}
}

func TestAppendMembers(t *testing.T) {
	for _, v := range trickyValues {
		checkMembers(t, []byte(v))
	}
	for _, v := range []string{`{"b":1}`, `{"c":1,"b":2}`, `{"\u0061":1}`, `{"c":1,"c":2}`, `{"c":1,"\u0063":2}`} {
		checkMembers(t, []byte(v))
	}
	if got, err := AppendMembers([]byte("{"), nil, embedFields); err != nil || string(got) != "{" {
		t.Errorf("AppendMembers(nil) = %s, %v", got, err)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkString(t, s)
	})
}

func FuzzAppendValue(f *testing.F) {
	for _, v := range trickyValues {
		f.Add([]byte(v))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		checkValue(t, v)
		checkMembers(t, v)
	})
}

func FuzzAppendFloat(f *testing.F) {
	for _, v := range trickyFloats {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		want, wantErr := json.Marshal(v)
		got, err := AppendFloat(nil, v)
		agree(t, v, got, err, want, wantErr)
	})
}

func BenchmarkAppendString(b *testing.B) {
	for _, tt := range []struct{ name, s string }{
		{"short", "tool_use"},
		{"text", strings.Repeat("You are a careful assistant for a travel company. ", 12)},
		{"escapes", strings.Repeat("line \"one\"\n\ttwo\\ ", 30)},
		{"utf8", strings.Repeat("Lisbon in May: 22°C, été, 日本語. ", 12)},
	} {
		b.Run(tt.name, func(b *testing.B) {
			b.SetBytes(int64(len(tt.s)))
			dst := make([]byte, 0, 2*len(tt.s)+2)
			for b.Loop() {
				var err error
				if dst, err = AppendString(dst[:0], tt.s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendValue(b *testing.B) {
	schema := `{"type":"object","properties":{"city":{"type":"string","description":"City name"},` +
		`"month":{"type":"string","description":"Month name"}},"required":["city","month"]}`
	var indented bytes.Buffer
	if err := stdjsonIndent(&indented, schema); err != nil {
		b.Fatal(err)
	}
	for _, tt := range []struct{ name, v string }{{"compact", schema}, {"indented", indented.String()}} {
		b.Run(tt.name, func(b *testing.B) {
			b.SetBytes(int64(len(tt.v)))
			v := []byte(tt.v)
			dst := make([]byte, 0, len(v))
			for b.Loop() {
				var err error
				if dst, err = AppendValue(dst[:0], v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func stdjsonIndent(dst *bytes.Buffer, v string) error {
	val := jsontext.Value(v)
	if err := val.Indent(); err != nil {
		return err
	}
	dst.Write(val)
	return nil
}
