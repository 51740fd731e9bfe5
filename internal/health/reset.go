package health

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxResetAfter caps what ResetAfter returns: a longer wait is more likely a
// daily quota or a broken header than a rate limit worth sitting out.
const MaxResetAfter = time.Hour

// ResetAfter reads how long the upstream asks to wait, from the headers of a
// 429 answer, in this order of preference:
//
//   - Retry-After: seconds ("20", also "1.5") or an HTTP date;
//   - retry-after-ms: milliseconds ("1500", also "1500.5"; OpenAI, Azure);
//   - OpenAI's x-ratelimit-reset-requests and x-ratelimit-reset-tokens: Go
//     durations ("1s", "6m0s", "20ms", "1h2m3.5s"; bare seconds as Azure
//     sends them). Those whose x-ratelimit-remaining-requests/-tokens is 0
//     are spent; the latest spent reset wins, or the latest of all when
//     none says it is spent;
//   - Anthropic's anthropic-ratelimit-requests-reset, -tokens-reset,
//     -input-tokens-reset and -output-tokens-reset: RFC 3339 timestamps,
//     chosen by their matching -remaining the same way;
//   - x-ratelimit-reset: unix seconds when above 1e9 (unix milliseconds when
//     above 1e12), else seconds.
//
// A header that is missing, malformed or in the past gives way to the next.
// The result is 0 when nothing is usable, never negative, and at most
// MaxResetAfter.
func ResetAfter(h http.Header, now time.Time) time.Duration {
	if d := retryAfter(get(h, "Retry-After"), now); d > 0 {
		return d
	}
	if d, ok := decimal(get(h, "Retry-After-Ms"), time.Millisecond); ok && d > 0 {
		return d
	}
	var r resets
	r.add(goDuration(get(h, "X-Ratelimit-Reset-Requests")), get(h, "X-Ratelimit-Remaining-Requests"))
	r.add(goDuration(get(h, "X-Ratelimit-Reset-Tokens")), get(h, "X-Ratelimit-Remaining-Tokens"))
	if d := r.pick(); d > 0 {
		return d
	}
	r = resets{}
	r.add(until(get(h, "Anthropic-Ratelimit-Requests-Reset"), now), get(h, "Anthropic-Ratelimit-Requests-Remaining"))
	r.add(until(get(h, "Anthropic-Ratelimit-Tokens-Reset"), now), get(h, "Anthropic-Ratelimit-Tokens-Remaining"))
	r.add(until(get(h, "Anthropic-Ratelimit-Input-Tokens-Reset"), now), get(h, "Anthropic-Ratelimit-Input-Tokens-Remaining"))
	r.add(until(get(h, "Anthropic-Ratelimit-Output-Tokens-Reset"), now), get(h, "Anthropic-Ratelimit-Output-Tokens-Remaining"))
	if d := r.pick(); d > 0 {
		return d
	}
	return genericReset(get(h, "X-Ratelimit-Reset"), now)
}

// get returns the first value of header k, which must be in canonical form
// (http.Header.Get would canonicalize it again on every call).
func get(h http.Header, k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// resets collects the positive reset times of one vendor's limits and picks
// the latest of those that are spent, or else the latest of all.
type resets struct {
	spent, any time.Duration
}

func (r *resets) add(d time.Duration, remaining string) {
	if d <= 0 {
		return
	}
	r.any = max(r.any, d)
	if f, err := strconv.ParseFloat(strings.TrimSpace(remaining), 64); err == nil && f == 0 {
		r.spent = max(r.spent, d)
	}
}

func (r *resets) pick() time.Duration {
	if r.spent > 0 {
		return r.spent
	}
	return r.any
}

// retryAfter reads a Retry-After value: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if d, ok := decimal(v, time.Second); ok {
		return d
	}
	if t, err := http.ParseTime(v); err == nil {
		return capped(t.Sub(now))
	}
	return 0
}

// goDuration reads an OpenAI reset: a Go duration, or bare seconds.
func goDuration(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if d, err := time.ParseDuration(v); err == nil {
		return capped(d)
	}
	d, _ := decimal(v, time.Second)
	return d
}

// until reads an RFC 3339 timestamp as the time left until it.
func until(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return 0
	}
	return capped(t.Sub(now))
}

// genericReset reads x-ratelimit-reset: a unix time (seconds or
// milliseconds) or a number of seconds.
func genericReset(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	f, ok := parseDecimal(v)
	switch {
	case !ok:
		return 0
	case f > 1e12:
		return capped(time.UnixMilli(int64(min(f, 1e15))).Sub(now))
	case f > 1e9:
		sec, frac := math.Modf(f)
		return capped(time.Unix(int64(sec), int64(frac*1e9)).Sub(now))
	}
	d, _ := decimal(v, time.Second)
	return d
}

// decimal reads an unsigned decimal number ("12", "1.5") of units, capped.
func decimal(v string, unit time.Duration) (time.Duration, bool) {
	f, ok := parseDecimal(strings.TrimSpace(v))
	if !ok {
		return 0, false
	}
	if f*float64(unit) >= float64(MaxResetAfter) {
		return MaxResetAfter, true
	}
	return time.Duration(f * float64(unit)), true
}

// parseDecimal accepts only digits with at most one inner dot: no sign,
// exponent, hex, underscore, NaN or Inf, which strconv.ParseFloat would take.
func parseDecimal(s string) (float64, bool) {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return 0, false
	}
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.' && !dot:
			dot = true
		case c < '0' || c > '9':
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// capped bounds d to [0, MaxResetAfter].
func capped(d time.Duration) time.Duration {
	return min(max(d, 0), MaxResetAfter)
}
