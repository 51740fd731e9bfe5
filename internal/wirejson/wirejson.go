// Package wirejson holds the JSON conventions every wire protocol package
// shares: decoding that turns type errors into a 400 naming the field (in
// the client's own dotted notation, e.g. "messages[0].content"), small
// helpers for the raw values the protocols carry through unchanged, and
// appenders (AppendString, AppendValue, …) that write JSON byte for byte as
// the library's Marshal does, for hand-written encoders of hot wire structs.
//
// It is a leaf: it imports llm and the JSON library, nothing else of llmux.
package wirejson

import (
	"bytes"
	"errors"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/llm"
)

// Unmarshal decodes data into v. Any failure becomes an *llm.Error of
// KindInvalidRequest whose Param names the offending field and whose message
// says what was expected, without echoing the value.
func Unmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return AsInvalid(err)
	}
	return nil
}

// AsInvalid converts a decoding error into a 400 naming the field.
func AsInvalid(err error) error {
	var se *json.SemanticError
	if errors.As(err, &se) {
		param := Param(se.JSONPointer)
		var inner *llm.Error
		if errors.As(se.Err, &inner) {
			// A custom decoder's error: keep its message, complete the path.
			out := *inner
			if out.Param == "" {
				out.Param = param
				if param != "" {
					out.Message = param + ": " + out.Message
				}
			} else if param != "" && !strings.HasPrefix(out.Param, param) {
				out.Param = join(param, out.Param)
			}
			return &out
		}
		msg := "invalid value"
		if want := expected(se); want != "" {
			msg = "expected " + want
			if se.JSONKind != 0 {
				msg += ", got " + kindName(se.JSONKind)
			}
		}
		if param != "" {
			msg = param + ": " + msg
		}
		return &llm.Error{Kind: llm.KindInvalidRequest, Param: param, Message: msg, Cause: err}
	}
	var le *llm.Error
	if errors.As(err, &le) {
		return le
	}
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		return &llm.Error{Kind: llm.KindInvalidRequest,
			Message: "the request body is not valid JSON (at byte " + strconv.FormatInt(syn.ByteOffset, 10) + ")", Cause: err}
	}
	return &llm.Error{Kind: llm.KindInvalidRequest, Message: "the request body is not valid JSON", Cause: err}
}

// Param turns a JSON pointer ("/messages/0/content") into dotted notation
// ("messages[0].content").
func Param(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" || strings.HasPrefix(b, "[") {
		return a + b
	}
	return a + "." + b
}

// Join appends a child path (a field name or "[i]") to a parent path.
func Join(parent, child string) string { return join(parent, child) }

// Index returns parent[i].
func Index(parent string, i int) string { return parent + "[" + strconv.Itoa(i) + "]" }

func expected(se *json.SemanticError) string {
	if se.GoType == nil {
		return ""
	}
	switch se.GoType.Kind().String() {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "ptr":
		return expected(&json.SemanticError{GoType: se.GoType.Elem(), JSONKind: se.JSONKind})
	}
	return ""
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "something else"
}

// Extensions converts the raw object of unknown members captured by a
// `json:",embed"` field into llm.Extensions; nil when there are none.
func Extensions(unknown jsontext.Value) llm.Extensions {
	if len(unknown) == 0 {
		return nil
	}
	var m map[string]jsontext.Value
	if err := json.Unmarshal(unknown, &m); err != nil || len(m) == 0 {
		return nil
	}
	ext := make(llm.Extensions, len(m))
	for k, v := range m {
		ext[k] = []byte(v)
	}
	return ext
}

// Unknown converts llm.Extensions back into a raw object suitable for a
// `json:",embed"` field; nil when empty.
func Unknown(ext llm.Extensions) jsontext.Value {
	if len(ext) == 0 {
		return nil
	}
	m := make(map[string]jsontext.Value, len(ext))
	for k, v := range ext {
		m[k] = jsontext.Value(v)
	}
	b, err := json.Marshal(m, json.Deterministic(true))
	if err != nil {
		return nil
	}
	return b
}

// Compact returns v without insignificant white space; v itself when it is
// not valid JSON.
func Compact(v []byte) []byte {
	val := jsontext.Value(bytes.Clone(v))
	if err := val.Compact(); err != nil {
		return v
	}
	return val
}

// ReadString reads the string the decoder is at; another kind of value is
// an invalid-request error (AsInvalid completes the path).
func ReadString(dec *jsontext.Decoder) (string, error) {
	tok, err := dec.ReadToken()
	if err != nil {
		return "", err
	}
	if k := tok.Kind(); k != '"' {
		return "", &llm.Error{Kind: llm.KindInvalidRequest, Message: "expected a string, got " + kindName(k)}
	}
	return tok.String(), nil
}

// TypeError reports a value of the wrong JSON type at the decoder's
// position, for hand-written union decoders; AsInvalid completes the path.
func TypeError(want string, dec *jsontext.Decoder) error {
	return &llm.Error{Kind: llm.KindInvalidRequest, Message: "expected " + want + ", got " + kindName(dec.PeekKind())}
}
