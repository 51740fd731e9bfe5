package gemini

import (
	"bytes"
	"errors"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/rawjson"
)

var errTooDeep = errors.New("the schema is nested too deeply")

// normalizeSchema turns a schema in Gemini's OpenAPI subset (the
// "parameters" of a function declaration, "responseSchema") into JSON
// Schema that other protocols accept: type names in lower case
// ("OBJECT" → "object", TYPE_UNSPECIFIED dropped), nullable: true as a
// "null" alternative of the type, and the snake_case keyword spellings the
// API also accepts in their JSON Schema form. A schema that needs none of
// this is returned as is; so is one that is not valid JSON (the caller has
// decoded it already, so that cannot happen).
func normalizeSchema(v jsontext.Value) jsontext.Value {
	if len(v) == 0 || !needsNormalizing(v) {
		return v
	}
	out, err := normalizeValue(nil, v, 0)
	if err != nil {
		return v
	}
	return out
}

// maxSchemaDepth bounds the recursion; the JSON decoder has already bounded
// the nesting, so this only guards against a change there.
const maxSchemaDepth = 10000

// snakeKeywords are the schema keywords whose snake_case spelling the API
// accepts, with their JSON Schema names.
var snakeKeywords = map[string]string{
	"any_of": "anyOf", "min_items": "minItems", "max_items": "maxItems",
	"min_length": "minLength", "max_length": "maxLength",
	"min_properties": "minProperties", "max_properties": "maxProperties",
	"property_ordering": "propertyOrdering",
}

// needsNormalizing is a quick scan: does v mention nullable, a snake_case
// keyword, or a "type" whose string value has an upper-case letter?
func needsNormalizing(v []byte) bool {
	if bytes.Contains(v, []byte(`"nullable"`)) || bytes.Contains(v, []byte(`_of"`)) ||
		bytes.Contains(v, []byte(`"min_`)) || bytes.Contains(v, []byte(`"max_`)) ||
		bytes.Contains(v, []byte(`"property_ordering"`)) {
		return true
	}
	rest := v
	for {
		i := bytes.Index(rest, []byte(`"type"`))
		if i < 0 {
			return false
		}
		rest = bytes.TrimLeft(rest[i+6:], " \t\r\n")
		if len(rest) == 0 || rest[0] != ':' {
			continue
		}
		val := bytes.TrimLeft(rest[1:], " \t\r\n")
		if len(val) == 0 || val[0] != '"' {
			continue
		}
		for _, c := range val[1:] {
			if c == '"' {
				break
			}
			if c >= 'A' && c <= 'Z' {
				return true
			}
		}
	}
}

func normalizeValue(dst []byte, v jsontext.Value, depth int) ([]byte, error) {
	if depth > maxSchemaDepth {
		return nil, errTooDeep
	}
	switch v.Kind() {
	case '{':
		return normalizeObject(dst, v, depth)
	case '[':
		dec := jsontext.NewDecoder(bytes.NewReader(v))
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		dst = append(dst, '[')
		for n := 0; dec.PeekKind() != ']'; n++ {
			elem, err := dec.ReadValue()
			if err != nil {
				return nil, err
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			if dst, err = normalizeValue(dst, elem, depth+1); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	}
	return append(dst, v...), nil
}

type schemaMember struct {
	name  string
	value jsontext.Value
}

func normalizeObject(dst []byte, v jsontext.Value, depth int) ([]byte, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(v))
	if _, err := dec.ReadToken(); err != nil {
		return nil, err
	}
	var members []schemaMember
	typeAt, nullable := -1, false
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		name := tok.String()
		val, err := dec.ReadValue()
		if err != nil {
			return nil, err
		}
		if to, ok := snakeKeywords[name]; ok {
			name = to
		}
		switch {
		case name == "nullable" && (val.Kind() == 't' || val.Kind() == 'f'):
			nullable = val.Kind() == 't'
			continue
		case name == "type" && val.Kind() == '"':
			var t string
			if t, err = rawjson.String(val); err != nil {
				return nil, err
			}
			if strings.EqualFold(t, "TYPE_UNSPECIFIED") {
				continue
			}
			val = jsontext.Value(rawjson.AppendString(nil, strings.ToLower(t)))
			typeAt = len(members)
		}
		members = append(members, schemaMember{name, val.Clone()})
	}
	if nullable && typeAt >= 0 {
		t := members[typeAt].value
		members[typeAt].value = jsontext.Value(append(append(append([]byte{'['}, t...), `,"null"`...), ']'))
	}
	dst = append(dst, '{')
	for i, m := range members {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = rawjson.AppendString(dst, m.name)
		dst = append(dst, ':')
		var err error
		if dst, err = normalizeValue(dst, m.value, depth+1); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}
