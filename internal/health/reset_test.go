package health

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// hdr builds a header from name, value pairs written as vendors send them
// (lower case, as HTTP/2 delivers them).
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// The clock of these tests, t0, is 2025-08-21T12:41:00Z (a Thursday).
func TestResetAfter(t *testing.T) {
	tests := []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"no headers", hdr(), 0},

		// Retry-After, RFC 9110: delay-seconds or an HTTP-date.
		{"Retry-After seconds", hdr("retry-after", "20"), 20 * time.Second},
		{"Retry-After with spaces", hdr("retry-after", " 7 "), 7 * time.Second},
		{"Retry-After fractional seconds", hdr("retry-after", "1.5"), 1500 * time.Millisecond},
		{"Retry-After IMF-fixdate", hdr("retry-after", "Thu, 21 Aug 2025 12:41:30 GMT"), 30 * time.Second},
		{"Retry-After RFC 850 date", hdr("retry-after", "Thursday, 21-Aug-25 12:42:00 GMT"), time.Minute},
		{"Retry-After asctime date", hdr("retry-after", "Thu Aug 21 12:41:05 2025"), 5 * time.Second},
		{"Retry-After past date falls through", hdr("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"), 0},
		{"Retry-After past date, then retry-after-ms", hdr("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT", "retry-after-ms", "250"), 250 * time.Millisecond},
		{"Retry-After zero falls through", hdr("retry-after", "0", "x-ratelimit-reset", "3"), 3 * time.Second},
		{"Retry-After huge is capped", hdr("retry-after", "86400"), time.Hour},
		{"Retry-After far date is capped", hdr("retry-after", "Fri, 21 Aug 2026 12:41:00 GMT"), time.Hour},
		{"Retry-After wins over retry-after-ms", hdr("retry-after", "2", "retry-after-ms", "1500"), 2 * time.Second},

		// retry-after-ms (OpenAI, Azure OpenAI; read by their SDKs).
		{"retry-after-ms", hdr("retry-after-ms", "1500"), 1500 * time.Millisecond},
		{"retry-after-ms fractional", hdr("retry-after-ms", "523.5"), 523500 * time.Microsecond},

		// OpenAI: x-ratelimit-* with Go durations.
		{"OpenAI requests spent", hdr(
			"x-ratelimit-limit-requests", "60",
			"x-ratelimit-limit-tokens", "150000",
			"x-ratelimit-remaining-requests", "0",
			"x-ratelimit-remaining-tokens", "149984",
			"x-ratelimit-reset-requests", "1s",
			"x-ratelimit-reset-tokens", "6m0s",
		), time.Second},
		{"OpenAI tokens spent", hdr(
			"x-ratelimit-limit-requests", "5000",
			"x-ratelimit-remaining-requests", "4999",
			"x-ratelimit-reset-requests", "12ms",
			"x-ratelimit-limit-tokens", "160000",
			"x-ratelimit-remaining-tokens", "0",
			"x-ratelimit-reset-tokens", "17.28s",
		), 17280 * time.Millisecond},
		{"OpenAI both spent: the later", hdr(
			"x-ratelimit-remaining-requests", "0",
			"x-ratelimit-reset-requests", "2m59.56s",
			"x-ratelimit-remaining-tokens", "0",
			"x-ratelimit-reset-tokens", "20ms",
		), 2*time.Minute + 59560*time.Millisecond},
		{"OpenAI none spent: the later", hdr(
			"x-ratelimit-remaining-requests", "4999",
			"x-ratelimit-reset-requests", "12ms",
			"x-ratelimit-remaining-tokens", "159976",
			"x-ratelimit-reset-tokens", "9ms",
		), 12 * time.Millisecond},
		{"OpenAI no remaining headers: the later", hdr(
			"x-ratelimit-reset-requests", "1h2m3.5s",
			"x-ratelimit-reset-tokens", "6m0s",
		), time.Hour},
		{"OpenAI spent limit with a junk reset: the other", hdr(
			"x-ratelimit-remaining-requests", "0",
			"x-ratelimit-reset-requests", "soon",
			"x-ratelimit-remaining-tokens", "100",
			"x-ratelimit-reset-tokens", "6m0s",
		), 6 * time.Minute},
		{"Azure OpenAI bare seconds", hdr(
			"x-ratelimit-remaining-tokens", "0",
			"x-ratelimit-reset-tokens", "12",
		), 12 * time.Second},
		{"Azure OpenAI unknown limits (-1, 0)", hdr(
			"x-ratelimit-limit-tokens", "-1",
			"x-ratelimit-remaining-tokens", "-1",
			"x-ratelimit-reset-tokens", "0",
		), 0},
		{"OpenAI negative duration", hdr("x-ratelimit-reset-requests", "-5s"), 0},

		// Anthropic: anthropic-ratelimit-* with RFC 3339 timestamps; its 429s
		// also carry retry-after, which wins.
		{"Anthropic 429 with retry-after", hdr(
			"retry-after", "29",
			"anthropic-ratelimit-requests-limit", "50",
			"anthropic-ratelimit-requests-remaining", "0",
			"anthropic-ratelimit-requests-reset", "2025-08-21T12:41:30Z",
			"anthropic-ratelimit-tokens-limit", "48000",
			"anthropic-ratelimit-tokens-remaining", "48000",
			"anthropic-ratelimit-tokens-reset", "2025-08-21T12:41:00Z",
		), 29 * time.Second},
		{"Anthropic requests spent", hdr(
			"anthropic-ratelimit-requests-remaining", "0",
			"anthropic-ratelimit-requests-reset", "2025-08-21T12:41:20Z",
			"anthropic-ratelimit-tokens-remaining", "5000",
			"anthropic-ratelimit-tokens-reset", "2025-08-21T12:41:50Z",
		), 20 * time.Second},
		{"Anthropic input and output tokens spent: the later", hdr(
			"anthropic-ratelimit-requests-limit", "1000",
			"anthropic-ratelimit-requests-remaining", "999",
			"anthropic-ratelimit-requests-reset", "2025-08-21T12:40:59Z",
			"anthropic-ratelimit-input-tokens-limit", "80000",
			"anthropic-ratelimit-input-tokens-remaining", "0",
			"anthropic-ratelimit-input-tokens-reset", "2025-08-21T12:41:30.5Z",
			"anthropic-ratelimit-output-tokens-limit", "16000",
			"anthropic-ratelimit-output-tokens-remaining", "0",
			"anthropic-ratelimit-output-tokens-reset", "2025-08-21T12:41:12Z",
		), 30500 * time.Millisecond},
		{"Anthropic none spent: the latest", hdr(
			"anthropic-ratelimit-requests-remaining", "10",
			"anthropic-ratelimit-requests-reset", "2025-08-21T12:41:20Z",
			"anthropic-ratelimit-tokens-remaining", "5000",
			"anthropic-ratelimit-tokens-reset", "2025-08-21T12:41:50Z",
		), 50 * time.Second},
		{"Anthropic with a time zone offset", hdr(
			"anthropic-ratelimit-tokens-remaining", "0",
			"anthropic-ratelimit-tokens-reset", "2025-08-21T14:41:10+02:00",
		), 10 * time.Second},
		{"Anthropic all in the past", hdr(
			"anthropic-ratelimit-requests-remaining", "0",
			"anthropic-ratelimit-requests-reset", "2025-08-21T12:40:59Z",
		), 0},
		{"Anthropic spent in the past, another ahead", hdr(
			"anthropic-ratelimit-requests-remaining", "0",
			"anthropic-ratelimit-requests-reset", "2025-08-21T12:40:59Z",
			"anthropic-ratelimit-tokens-remaining", "100",
			"anthropic-ratelimit-tokens-reset", "2025-08-21T12:41:04Z",
		), 4 * time.Second},
		{"Anthropic not RFC 3339", hdr(
			"anthropic-ratelimit-requests-remaining", "0",
			"anthropic-ratelimit-requests-reset", "Thu, 21 Aug 2025 12:41:30 GMT",
		), 0},
		{"OpenAI headers before Anthropic", hdr(
			"x-ratelimit-reset-requests", "3s",
			"anthropic-ratelimit-requests-reset", "2025-08-21T12:41:20Z",
		), 3 * time.Second},

		// Generic x-ratelimit-reset (Groq-, GitHub-, Mistral-style gateways).
		{"x-ratelimit-reset unix seconds", hdr("x-ratelimit-reset", strconv.FormatInt(at(45*time.Second).Unix(), 10)), 45 * time.Second},
		{"x-ratelimit-reset unix fractional", hdr("x-ratelimit-reset", strconv.FormatInt(at(45*time.Second).Unix(), 10)+".25"), 45250 * time.Millisecond},
		{"x-ratelimit-reset unix milliseconds", hdr("x-ratelimit-reset", strconv.FormatInt(at(2*time.Second).UnixMilli(), 10)), 2 * time.Second},
		{"x-ratelimit-reset unix in the past", hdr("x-ratelimit-reset", "1609844400"), 0},
		{"x-ratelimit-reset seconds", hdr("x-ratelimit-reset", "30"), 30 * time.Second},
		{"x-ratelimit-reset big seconds capped", hdr("x-ratelimit-reset", "999999999"), time.Hour},
		{"x-ratelimit-reset JS date", hdr("x-ratelimit-reset", "Tue Feb 16 2021 09:02:42 GMT+0100 (Central European Standard Time)"), 0},

		// Junk.
		{"junk Retry-After", hdr("retry-after", "soon"), 0},
		{"negative Retry-After", hdr("retry-after", "-5"), 0},
		{"signed Retry-After", hdr("retry-after", "+5"), 0},
		{"exponent", hdr("retry-after", "1e3"), 0},
		{"hex", hdr("retry-after-ms", "0x10"), 0},
		{"NaN", hdr("retry-after", "NaN"), 0},
		{"Inf", hdr("retry-after-ms", "Inf"), 0},
		{"units in Retry-After", hdr("retry-after", "5s"), 0},
		{"dots", hdr("retry-after", "1.2.3", "retry-after-ms", ".5"), 0},
		{"overflowing digits", hdr("retry-after", "99999999999999999999999999999"), time.Hour},
		{"junk everywhere, one usable", hdr(
			"retry-after", "later",
			"retry-after-ms", "-1",
			"x-ratelimit-reset-requests", "1x",
			"anthropic-ratelimit-requests-reset", "tomorrow",
			"x-ratelimit-reset", "12",
		), 12 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ResetAfter(tt.h, t0); got != tt.want {
				t.Errorf("ResetAfter = %v, want %v", got, tt.want)
			}
		})
	}
}

// FuzzResetAfter: whatever the header values, the result is within
// [0, MaxResetAfter], the same on a second call, and a plain Retry-After in
// seconds is obeyed exactly. Seeds are in testdata/fuzz/FuzzResetAfter.
func FuzzResetAfter(f *testing.F) {
	f.Fuzz(func(t *testing.T, retryAfter, retryAfterMs, resetReq, remainingReq, resetTok, remainingTok, anthropicReset, anthropicRemaining, generic string) {
		h := http.Header{}
		for _, kv := range [][2]string{
			{"Retry-After", retryAfter},
			{"Retry-After-Ms", retryAfterMs},
			{"X-Ratelimit-Reset-Requests", resetReq},
			{"X-Ratelimit-Remaining-Requests", remainingReq},
			{"X-Ratelimit-Reset-Tokens", resetTok},
			{"X-Ratelimit-Remaining-Tokens", remainingTok},
			{"Anthropic-Ratelimit-Tokens-Reset", anthropicReset},
			{"Anthropic-Ratelimit-Tokens-Remaining", anthropicRemaining},
			{"X-Ratelimit-Reset", generic},
		} {
			if kv[1] != "" {
				h[kv[0]] = []string{kv[1]}
			}
		}
		got := ResetAfter(h, t0)
		if got < 0 || got > MaxResetAfter {
			t.Fatalf("ResetAfter = %v, out of [0, %v]", got, MaxResetAfter)
		}
		if again := ResetAfter(h, t0); again != got {
			t.Fatalf("ResetAfter = %v, then %v", got, again)
		}
		if n, err := strconv.Atoi(retryAfter); err == nil && n > 0 && n <= 3600 && retryAfter[0] != '+' && retryAfter[0] != '-' {
			if got != time.Duration(n)*time.Second {
				t.Fatalf("Retry-After %q gave %v", retryAfter, got)
			}
		}
	})
}
