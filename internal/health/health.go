// Package health keeps llmux up when one API key or one vendor is not. A
// provider (one upstream vendor account) holds a pool of API keys; this
// package keeps the health of each key and of each provider, tells the
// gateway's attempt loop which key to use and whether a provider may be tried
// now, and learns from the outcome of every call (counted passively on the
// request path, as Caddy's hosts.go does; there is no active health check).
//
// A provider has a circuit Breaker:
//
//	closed    calls flow; FailureThreshold consecutive Failures (5xx, timeouts,
//	          connection errors) open it.
//	open      calls are refused for the open period (OpenFor at first).
//	half_open the period has passed: exactly one caller gets a probe. A probe
//	          that succeeds closes the breaker and resets the period; one that
//	          fails re-opens it for twice the period, up to MaxOpen; any other
//	          answer gives the probe back for the next caller.
//
// Each key of a provider's Pool is in one of three states:
//
//	ok           available; picked round-robin (or, with LeastRecentlyLimited,
//	             the key limited longest ago goes first).
//	cooling_down rate limited (429): unavailable until the upstream's
//	             Retry-After (see ResetAfter) or, without one, CooldownBase
//	             doubled per consecutive 429 of the key, up to CooldownMax.
//	disabled     refused (401/403): re-probed after ProbeAfter, doubled per
//	             failed probe up to ProbeMax; exactly one caller gets the probe,
//	             and a Success makes the key ok again.
//
// Policy defaults: FailureThreshold 5, OpenFor 30s, MaxOpen 5m, CooldownBase
// 1s, CooldownMax 60s, ProbeAfter 1m, ProbeMax 30m, ProbeTimeout 1m (after
// which an unreported probe is presumed lost and another caller gets one),
// Strategy RoundRobin.
//
// A Registry keeps these states across configuration reloads, with keys
// named by a caller-supplied fingerprint: nothing here ever holds or prints
// an API key.
//
// The package does no I/O and starts no goroutines: every method takes the
// current time, so tests drive a fake clock. It is safe for concurrent use,
// and the hot path (Pick and Report on a healthy pool, Allow and Report on a
// closed breaker) neither allocates nor takes a lock shared beyond one
// provider. It imports only the standard library, and of net/http only the
// Header type; it must not import any llmux package, since internal/provider
// and internal/gateway import it (imports_test.go enforces both).
package health

import (
	"fmt"
	"time"
)

// Outcome is the result of one upstream call, as the caller classifies it.
type Outcome uint8

const (
	// Success: the upstream answered the request. It resets the provider's
	// failure count and the key's 429 streak, and re-enables a disabled key.
	Success Outcome = iota + 1
	// RateLimited: 429 (or a vendor's equivalent); the key cools down.
	RateLimited
	// AuthFailed: 401/403; the key is disabled and re-probed on a schedule.
	AuthFailed
	// Failure: 5xx, timeout or connection error; it counts toward the
	// provider's breaker.
	Failure
	// Neutral: another 4xx (the request's fault) or a call given up by the
	// client; it touches no state, except that it gives back a probe.
	Neutral
)

var outcomeNames = [...]string{"unknown", "success", "rate_limited", "auth_failed", "failure", "neutral"}

// String returns the snake_case name used in snapshots.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return outcomeNames[0]
}

// valid reports whether o is one of the declared outcomes; Report treats any
// other value as Neutral.
func (o Outcome) valid() bool { return o >= Success && o <= Neutral }

// OutcomeForStatus classifies an upstream HTTP status the way this package
// expects: 2xx and 3xx Success, 429 RateLimited, 401 and 403 AuthFailed, 408
// and 5xx (including Anthropic's 529 "overloaded") Failure, any other 4xx
// Neutral. Errors without a status (timeouts, refused connections) are
// Failures, and a call the client gave up is Neutral; the caller decides
// those.
func OutcomeForStatus(code int) Outcome {
	switch {
	case code == 429:
		return RateLimited
	case code == 401 || code == 403:
		return AuthFailed
	case code == 408 || code >= 500:
		return Failure
	case code >= 400:
		return Neutral
	case code >= 200:
		return Success
	default:
		return Neutral
	}
}

// Strategy chooses among a pool's available keys. Its values are stable
// strings, for configuration files.
type Strategy string

const (
	// RoundRobin takes the available keys in turn (the default).
	RoundRobin Strategy = "round_robin"
	// LeastRecentlyLimited takes the available key whose last 429 is the
	// oldest (never limited counts as oldest), in turn among equals.
	LeastRecentlyLimited Strategy = "least_recently_limited"
)

// Policy tunes breakers and pools. The zero value is usable: WithDefaults
// fills in every zero field.
type Policy struct {
	// FailureThreshold is the number of consecutive Failures that open a
	// provider's breaker; default 5.
	FailureThreshold int
	// OpenFor is how long a breaker stays open the first time; default 30s.
	// It doubles each time a failed probe re-opens the breaker, up to
	// MaxOpen (default 5m, and never below OpenFor).
	OpenFor time.Duration
	MaxOpen time.Duration
	// CooldownBase is how long a key cools down after a 429 that gave no
	// hint of its own; default 1s. It doubles per consecutive 429 of the
	// key, up to CooldownMax (default 60s, and never below CooldownBase).
	CooldownBase time.Duration
	CooldownMax  time.Duration
	// ProbeAfter is how long a key stays disabled after a 401/403 before one
	// caller re-probes it; default 1m. It doubles per failed probe, up to
	// ProbeMax (default 30m, and never below ProbeAfter).
	ProbeAfter time.Duration
	ProbeMax   time.Duration
	// ProbeTimeout is how long a probe (a half-open breaker's or a disabled
	// key's) may go unreported before it is presumed lost and the next
	// caller gets a probe instead; default 1m.
	ProbeTimeout time.Duration
	// Strategy chooses among a pool's available keys; default RoundRobin.
	Strategy Strategy
}

// Default values of Policy's fields.
const (
	DefaultFailureThreshold = 5
	DefaultOpenFor          = 30 * time.Second
	DefaultMaxOpen          = 5 * time.Minute
	DefaultCooldownBase     = time.Second
	DefaultCooldownMax      = time.Minute
	DefaultProbeAfter       = time.Minute
	DefaultProbeMax         = 30 * time.Minute
	DefaultProbeTimeout     = time.Minute
)

// WithDefaults returns p with every zero or negative field set to its
// default, each maximum raised to at least its base, and an unknown Strategy
// replaced by RoundRobin. Validate reports what it would have to fix.
func (p Policy) WithDefaults() Policy {
	if p.FailureThreshold <= 0 {
		p.FailureThreshold = DefaultFailureThreshold
	}
	p.OpenFor = orDefault(p.OpenFor, DefaultOpenFor)
	p.MaxOpen = max(orDefault(p.MaxOpen, DefaultMaxOpen), p.OpenFor)
	p.CooldownBase = orDefault(p.CooldownBase, DefaultCooldownBase)
	p.CooldownMax = max(orDefault(p.CooldownMax, DefaultCooldownMax), p.CooldownBase)
	p.ProbeAfter = orDefault(p.ProbeAfter, DefaultProbeAfter)
	p.ProbeMax = max(orDefault(p.ProbeMax, DefaultProbeMax), p.ProbeAfter)
	p.ProbeTimeout = orDefault(p.ProbeTimeout, DefaultProbeTimeout)
	if p.Strategy != LeastRecentlyLimited {
		p.Strategy = RoundRobin
	}
	return p
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Validate reports the first field that WithDefaults would not take as
// given: a negative number or an unknown strategy. Zero fields are valid
// (they take their defaults). The error names the field.
func (p Policy) Validate() error {
	if p.FailureThreshold < 0 {
		return fmt.Errorf("health: FailureThreshold: must not be negative, got %d", p.FailureThreshold)
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{
		{"OpenFor", p.OpenFor}, {"MaxOpen", p.MaxOpen},
		{"CooldownBase", p.CooldownBase}, {"CooldownMax", p.CooldownMax},
		{"ProbeAfter", p.ProbeAfter}, {"ProbeMax", p.ProbeMax},
		{"ProbeTimeout", p.ProbeTimeout},
	} {
		if f.d < 0 {
			return fmt.Errorf("health: %s: must not be negative, got %v", f.name, f.d)
		}
	}
	switch p.Strategy {
	case "", RoundRobin, LeastRecentlyLimited:
		return nil
	}
	return fmt.Errorf("health: Strategy: unknown strategy %q (want %q or %q)", p.Strategy, RoundRobin, LeastRecentlyLimited)
}

// backoff returns base doubled n-1 times, capped at limit (n ≥ 1).
func backoff(base, limit time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}
