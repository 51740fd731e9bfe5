package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxBody caps a request body; a larger one is answered 413.
const maxBody = 1 << 20

// object is a request body: one JSON object whose members are kept raw and
// decoded one at a time, so that an absent member, a null and each wrong
// type can be told apart and named (merge-patch needs all three).
type object map[string]json.RawMessage

// readObject reads r's body as a JSON object with no members beyond known.
// The Content-Type is not checked (curl -d sends a form type); the body must
// be JSON. Member names must be unique.
func readObject(w http.ResponseWriter, r *http.Request, known []string) (object, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &apiError{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
				Message: "The request body is larger than 1 MiB."}
		}
		return nil, &apiError{Status: http.StatusBadRequest, Code: "invalid_body", Message: "Reading the request body failed.", Err: err}
	}
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0:
		return nil, badBody("The request body is empty; send a JSON object.")
	case !utf8.Valid(data):
		return nil, badBody("The request body is not valid UTF-8.")
	case !json.Valid(data):
		return nil, badBody("The request body is not valid JSON" + syntaxAt(data) + ".")
	case data[0] != '{':
		return nil, badBody("The request body must be a JSON object.")
	}
	o := object{}
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // the '{', checked above
		return nil, badBody("The request body is not valid JSON.")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, badBody("The request body is not valid JSON.")
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, badBody("The request body is not valid JSON.")
		}
		if _, dup := o[name]; dup {
			return nil, invalid(name, "is given twice")
		}
		o[name] = raw
	}
	return o, o.only(known)
}

func badBody(msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "invalid_json", Message: msg}
}

// syntaxAt says where data stops being JSON, without quoting it.
func syntaxAt(data []byte) string {
	var v any
	var syn *json.SyntaxError
	if err := json.Unmarshal(data, &v); errors.As(err, &syn) {
		return " (at byte " + strconv.FormatInt(syn.Offset, 10) + ")"
	}
	return ""
}

// only refuses a member not in known, naming the first (by name) and listing
// the known ones.
func (o object) only(known []string) error {
	var unknown []string
	for name := range o {
		if !contains(known, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return &apiError{Status: http.StatusBadRequest, Code: "unknown_field", Param: unknown[0],
		Message: "unknown field " + strconv.Quote(unknown[0]) + "; the fields are " + strings.Join(known, ", ")}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// has reports whether the member is present (null included).
func (o object) has(name string) bool { _, ok := o[name]; return ok }

// kind names the JSON type of a raw value, for messages.
func kind(raw json.RawMessage) string {
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func isNull(raw json.RawMessage) bool { return raw[0] == 'n' }

// text decodes a string member into dst; null sets "" when nullable.
func (o object) text(name string, dst *string, nullable bool) error {
	raw, ok := o[name]
	switch {
	case !ok:
		return nil
	case isNull(raw) && nullable:
		*dst = ""
		return nil
	case raw[0] != '"':
		return invalid(name, "must be a string, not %s", kind(raw))
	}
	return json.Unmarshal(raw, dst)
}

// count decodes a whole number ≥ 0 into dst; null sets 0 (unlimited).
func (o object) count(name string, dst *int64) error {
	raw, ok := o[name]
	switch {
	case !ok:
		return nil
	case isNull(raw):
		*dst = 0
		return nil
	case kind(raw) != "a number":
		return invalid(name, "must be a whole number ≥ 0 (0 for no limit), not %s", kind(raw))
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(string(raw), 64)
		if ferr == nil && f < 0 {
			return invalid(name, "must not be negative")
		}
		return invalid(name, "must be a whole number ≥ 0 (0 for no limit)")
	}
	if n < 0 {
		return invalid(name, "must not be negative")
	}
	*dst = n
	return nil
}

// dollars decodes a finite amount ≥ 0 into dst; null sets 0 (no budget).
func (o object) dollars(name string, dst *float64) error {
	raw, ok := o[name]
	switch {
	case !ok:
		return nil
	case isNull(raw):
		*dst = 0
		return nil
	case kind(raw) != "a number":
		return invalid(name, "must be a number of US dollars ≥ 0, not %s", kind(raw))
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	switch {
	case err != nil || math.IsInf(f, 0):
		return invalid(name, "is out of range")
	case f < 0:
		return invalid(name, "must not be negative")
	}
	*dst = f
	return nil
}

// boolean decodes true or false into dst; null is refused.
func (o object) boolean(name string, dst *bool) error {
	raw, ok := o[name]
	if !ok {
		return nil
	}
	if raw[0] != 't' && raw[0] != 'f' {
		return invalid(name, "must be true or false, not %s", kind(raw))
	}
	*dst = raw[0] == 't'
	return nil
}

// list decodes an array of strings into dst; null sets nil.
func (o object) list(name string, dst *[]string) error {
	raw, ok := o[name]
	switch {
	case !ok:
		return nil
	case isNull(raw):
		*dst = nil
		return nil
	case raw[0] != '[':
		return invalid(name, "must be an array of strings, not %s", kind(raw))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return invalid(name, "must be an array of strings")
	}
	out := make([]string, len(items))
	for i, item := range items {
		if item[0] != '"' {
			return invalid(name+"["+strconv.Itoa(i)+"]", "must be a string, not %s", kind(item))
		}
		if err := json.Unmarshal(item, &out[i]); err != nil {
			return err
		}
	}
	*dst = out
	return nil
}

// labels merges a JSON object of strings into *dst as RFC 7386 merge-patch
// does: a string member sets that label, a null member removes it, and the
// whole value null removes them all.
func (o object) labels(name string, dst *map[string]string) error {
	raw, ok := o[name]
	switch {
	case !ok:
		return nil
	case isNull(raw):
		*dst = nil
		return nil
	case raw[0] != '{':
		return invalid(name, "must be an object of strings, not %s", kind(raw))
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return invalid(name, "must be an object of strings")
	}
	out := make(map[string]string, len(*dst)+len(members))
	for k, v := range *dst {
		out[k] = v
	}
	for k, v := range members {
		switch {
		case strings.TrimSpace(k) == "":
			return invalid(name, "label names must not be empty")
		case isNull(v):
			delete(out, k)
		case v[0] != '"':
			return invalid(name+"."+k, "must be a string, not %s", kind(v))
		default:
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return err
			}
			out[k] = s
		}
	}
	if len(out) == 0 {
		out = nil
	}
	*dst = out
	return nil
}
