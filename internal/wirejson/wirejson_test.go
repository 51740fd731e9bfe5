package wirejson

import (
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/llm"
)

type sample struct {
	Name    string         `json:"name"`
	Count   *int           `json:"count"`
	Items   []item         `json:"items"`
	Flag    bool           `json:"flag"`
	Unknown jsontext.Value `json:",embed"`
}

type item struct {
	Weight float64 `json:"weight"`
}

func TestUnmarshalNamesTheField(t *testing.T) {
	tests := []struct {
		in, param, msg string
	}{
		{`{"name":5}`, "name", "name: expected a string, got a number"},
		{`{"count":"x"}`, "count", "count: expected an integer, got a string"},
		{`{"count":1.5}`, "count", "count: expected an integer"},
		{`{"items":{}}`, "items", "items: expected an array, got an object"},
		{`{"items":[{"weight":1},{"weight":true}]}`, "items[1].weight", "items[1].weight: expected a number, got a boolean"},
		{`{"flag":"yes"}`, "flag", "flag: expected a boolean, got a string"},
		{`{"name":"x",`, "", "not valid JSON"},
	}
	for _, tt := range tests {
		var s sample
		err := Unmarshal([]byte(tt.in), &s)
		e, ok := err.(*llm.Error)
		if !ok || e.Kind != llm.KindInvalidRequest || e.Param != tt.param || !strings.Contains(e.Message, tt.msg) {
			t.Errorf("Unmarshal(%s) = %#v, want param %q message %q", tt.in, err, tt.param, tt.msg)
		}
	}
}

func TestExtensionsRoundTrip(t *testing.T) {
	var s sample
	if err := Unmarshal([]byte(`{"name":"n","vendor_x":{"a":[1,2]},"top_k":5}`), &s); err != nil {
		t.Fatal(err)
	}
	ext := Extensions(s.Unknown)
	if string(ext["vendor_x"]) != `{"a":[1,2]}` || string(ext["top_k"]) != "5" || len(ext) != 2 {
		t.Fatalf("extensions = %v", ext)
	}
	if got := string(Unknown(ext)); got != `{"top_k":5,"vendor_x":{"a":[1,2]}}` {
		t.Fatalf("Unknown = %s", got)
	}
	if Extensions(nil) != nil || Unknown(nil) != nil {
		t.Fatal("empty extensions are not nil")
	}
}

func TestParam(t *testing.T) {
	for ptr, want := range map[string]string{
		"":                       "",
		"/model":                 "model",
		"/messages/0/content":    "messages[0].content",
		"/tools/2/function/name": "tools[2].function.name",
		"/metadata/a~1b":         "metadata.a/b",
	} {
		if got := Param(jsontext.Pointer(ptr)); got != want {
			t.Errorf("Param(%q) = %q, want %q", ptr, got, want)
		}
	}
}

func TestPath(t *testing.T) {
	root := Root("messages")
	msg := root.Elem(2)
	content := msg.Field("content")
	part := content.Elem(0)
	typ := part.Field("type")
	for _, tt := range []struct {
		p    *Path
		want string
	}{{&root, "messages"}, {&msg, "messages[2]"}, {&content, "messages[2].content"}, {&typ, "messages[2].content[0].type"}} {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
