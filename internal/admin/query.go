package admin

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// params returns r's query parameters after checking them: only the names
// in once (each at most once) and many (repeatable) may appear.
func params(r *http.Request, once []string, many ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &apiError{Status: http.StatusBadRequest, Code: "invalid_query", Message: "The query string is malformed."}
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		switch {
		case contains(many, name):
		case !contains(once, name):
			known := append(append([]string(nil), once...), many...)
			e := invalid(name, "is not a parameter here")
			if len(known) > 0 {
				e.Message += "; the parameters are " + strings.Join(known, ", ")
			}
			e.Code = "unknown_parameter"
			return nil, e
		case len(q[name]) > 1:
			return nil, invalid(name, "is given more than once")
		}
	}
	return q, nil
}

// flag reads a boolean parameter: absent is false, present without a value
// is true, else strconv.ParseBool's forms.
func flag(q url.Values, name string) (bool, error) {
	if !q.Has(name) {
		return false, nil
	}
	v := q.Get(name)
	if v == "" {
		return true, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, invalid(name, "must be true or false, not %q", v)
	}
	return b, nil
}

// number reads an integer parameter in [lo, hi]; absent gives def.
func number(q url.Values, name string, lo, hi, def int64) (int64, error) {
	if !q.Has(name) {
		return def, nil
	}
	v := q.Get(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, invalid(name, "must be a whole number from %d to %d, not %q", lo, hi, v)
	}
	return n, nil
}

// parseTime reads an RFC 3339 time or a date (YYYY-MM-DD, UTC). A date is
// its first instant (00:00 UTC) or, with dayEnd, the first instant of the
// next day, which makes it an inclusive upper bound for an exclusive "to".
func parseTime(param, s string, dayEnd bool) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err == nil {
		if dayEnd {
			t = t.AddDate(0, 0, 1)
		}
	} else if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
		return time.Time{}, invalid(param, "must be an RFC 3339 time (2006-01-02T15:04:05Z) or a date (2006-01-02), not %q", s)
	}
	t = t.UTC()
	if y := t.Year(); y < 1970 || y > 9999 {
		return time.Time{}, invalid(param, "year %d is out of range (1970 to 9999)", y)
	}
	return t, nil
}

// timeRange reads the from and to parameters: from is inclusive, to
// exclusive, and a date-only to means the end of that day. A from after to
// (or, for a date-only to, after that day) is refused; from equal to an
// RFC 3339 to is an empty range.
func timeRange(q url.Values) (from, to time.Time, err error) {
	if q.Has("from") {
		if from, err = parseTime("from", q.Get("from"), false); err != nil {
			return
		}
	}
	if q.Has("to") {
		if to, err = parseTime("to", q.Get("to"), true); err != nil {
			return
		}
	}
	if from.IsZero() || to.IsZero() {
		return
	}
	_, dateErr := time.Parse(time.DateOnly, q.Get("to"))
	if from.After(to) || (dateErr == nil && from.Equal(to)) {
		err = invalid("from", "%s is after to (%s)", q.Get("from"), q.Get("to"))
	}
	return
}
