package limits

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// Limiter admits requests under their key's and team's limits and accounts
// for what they cost. Implementations: Memory, Redis and Unlimited. All
// methods are safe for concurrent use.
type Limiter interface {
	// Admit checks r against every limit of its key and team and, if all
	// allow it, records it and returns a Ticket, which must later go to
	// Settle or Release. If a limit refuses it, nothing is recorded and the
	// error is a *Denial. Any other error comes from the backend (Redis); the
	// limiter never admits on an error, so failing open or closed is the
	// caller's choice.
	Admit(ctx context.Context, r Request) (*Ticket, error)
	// Settle ends an admitted request that ran: its token estimate is
	// replaced by u.Tokens, its cost reservation by u.Cost, and its
	// concurrency slot is freed. A ticket settles once: a second Settle, or
	// one after Release, returns ErrTicketDone and changes nothing. A failed
	// Settle (backend error) also uses the ticket up; its reservation then
	// lapses with the lease and u is not counted.
	Settle(ctx context.Context, t *Ticket, u Usage) error
	// Release ends an admitted request that did not run (it failed before the
	// upstream answered): its tokens are refunded, its reservation and slot
	// freed; it still counts as a request for RPM. Release of a ticket
	// already settled or released does nothing and returns nil, so it can
	// be deferred.
	Release(ctx context.Context, t *Ticket) error
	// Spend reports the subject's spent and reserved amounts in the current
	// period of kind p (by the limiter's clock).
	Spend(ctx context.Context, s Subject, p Period) (Spend, error)
	// SeedSpend raises the subject's spent amount in the current period of
	// kind p to spent, if it is lower; it never lowers it. Call it at startup
	// with the usage stored for the period, so that a restarted Memory
	// limiter (or an emptied Redis) does not forget what was spent.
	SeedSpend(ctx context.Context, s Subject, p Period, spent Money) error
}

// Request is one request to admit.
type Request struct {
	// Key is the virtual key's id. Required.
	Key string
	// KeyPolicy holds the key's limits.
	KeyPolicy Policy
	// Team is the key's team id; empty when the key has no team, and then
	// TeamPolicy is ignored.
	Team string
	// TeamPolicy holds the team's limits, shared by all its keys.
	TeamPolicy Policy
	// Tokens is the request's estimated token count (input counted, output
	// bounded by max tokens), charged to TPM at admission. Not negative.
	Tokens int64
	// Cost is the request's estimated cost, reserved against budgets at
	// admission. Not negative.
	Cost Money
}

// Policy is the set of limits of one key or team. A zero field means no
// limit of that kind.
type Policy struct {
	// RPM is the number of requests admitted in any 60-second interval.
	RPM int64
	// TPM is the number of tokens charged in any 60-second interval.
	TPM int64
	// MaxConcurrent is the number of requests in flight at once.
	MaxConcurrent int64
	// Budget is the amount that may be spent per Period.
	Budget Money
	// Period is the budget's period; empty means PeriodTotal. Spend is
	// counted per period even when Budget is zero, so that a budget set
	// later in the period knows what was spent already. A period changed
	// between daily, monthly and total starts from zero (see SeedSpend).
	Period Period
}

// Validate reports the first field of p that is out of range.
func (p Policy) Validate() error {
	switch {
	case p.RPM < 0:
		return errors.New("rpm must not be negative")
	case p.TPM < 0:
		return errors.New("tpm must not be negative")
	case p.MaxConcurrent < 0:
		return errors.New("max_concurrent must not be negative")
	case p.Budget < 0:
		return errors.New("budget must not be negative")
	}
	return p.Period.Validate()
}

// Period is the span a budget applies to. Its string values are stable.
type Period string

const (
	// PeriodTotal never resets.
	PeriodTotal Period = "total"
	// PeriodDaily resets at 00:00 UTC.
	PeriodDaily Period = "daily"
	// PeriodMonthly resets at 00:00 UTC on the first day of each month.
	PeriodMonthly Period = "monthly"
)

// Validate reports whether p is one of the periods (or empty, for total).
func (p Period) Validate() error {
	switch p {
	case "", PeriodTotal, PeriodDaily, PeriodMonthly:
		return nil
	}
	return fmt.Errorf("period %q is not total, daily or monthly", string(p))
}

// Bounds returns the period of kind p that holds t: its id (as used in
// storage: "total", "day:2006-01-02", "month:2006-01") and its start and
// end in UTC; both are zero for PeriodTotal.
func (p Period) Bounds(t time.Time) (id string, start, end time.Time) {
	t = t.UTC()
	switch p {
	case PeriodDaily:
		start = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return "day:" + start.Format(time.DateOnly), start, start.AddDate(0, 0, 1)
	case PeriodMonthly:
		start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return "month:" + start.Format("2006-01"), start, start.AddDate(0, 1, 0)
	}
	return "total", time.Time{}, time.Time{}
}

// Money is an amount of US dollars in nano-dollars (1e-9 USD). Integers keep
// Memory and Redis exact and in agreement, and sums free of drift; int64
// holds up to about 9.2 billion dollars.
type Money int64

// Dollar is one US dollar.
const Dollar Money = 1e9

// Dollars converts a float amount of dollars to Money, rounding to the
// nearest nano-dollar (NaN gives 0; out-of-range values saturate).
func Dollars(usd float64) Money {
	switch n := math.Round(usd * 1e9); {
	case math.IsNaN(n):
		return 0
	case n >= math.MaxInt64:
		return math.MaxInt64
	case n <= math.MinInt64:
		return math.MinInt64
	default:
		return Money(n)
	}
}

// Dollars returns m in dollars.
func (m Money) Dollars() float64 { return float64(m) / 1e9 }

// String formats m as dollars, e.g. "$0.012500".
func (m Money) String() string { return fmt.Sprintf("$%.6f", m.Dollars()) }

// Usage is what an admitted request actually consumed.
type Usage struct {
	// Tokens is the request's token count, as charged to TPM (the same
	// measure as Request.Tokens). Not negative.
	Tokens int64
	// Cost is the request's real cost. Not negative.
	Cost Money
}

// Kind says whether a Subject is a key or a team. Its values are stable and
// appear in Redis keys.
type Kind string

const (
	KindKey  Kind = "key"  // a virtual key
	KindTeam Kind = "team" // a team, whose limits its keys share
)

// Subject is what limits apply to: one key or one team.
type Subject struct {
	Kind Kind
	ID   string
}

// Spend is a subject's account for one budget period.
type Spend struct {
	// Period is the period's kind, and ID its id (see Period.Bounds).
	Period Period
	ID     string
	// Start and End bound the period in UTC; zero for PeriodTotal.
	Start, End time.Time
	// Spent is the actual cost of the requests of the period settled so far,
	// or the seeded amount if that was higher.
	Spent Money
	// Reserved is the estimated cost of the requests of the period in flight.
	Reserved Money
}

// Limit names a limit. Its values are stable.
type Limit string

const (
	LimitRPM         Limit = "rpm"         // Policy.RPM
	LimitTPM         Limit = "tpm"         // Policy.TPM
	LimitConcurrency Limit = "concurrency" // Policy.MaxConcurrent
	LimitBudget      Limit = "budget"      // Policy.Budget
)

var (
	// ErrRateLimited is wrapped by Denials of rpm, tpm and concurrency: the
	// client should slow down (HTTP 429 with Retry-After).
	ErrRateLimited = errors.New("rate limit reached")
	// ErrBudgetExceeded is wrapped by Denials of a budget: the client has no
	// money left for this request (OpenAI's insufficient_quota).
	ErrBudgetExceeded = errors.New("budget exceeded")
	// ErrTicketDone: the ticket was already settled or released.
	ErrTicketDone = errors.New("limits: ticket already settled or released")
)

// Denial is the error Admit returns when a limit refuses the request.
type Denial struct {
	// Limit is the limit that refused it, and Subject whose limit it is.
	Limit   Limit
	Subject Subject
	// Allowed is the configured limit; Used what it already counts (window
	// count for rpm and tpm, leases held for concurrency, spent + reserved
	// for a budget); Requested what this request asked for (1, its token
	// estimate, 1, its cost estimate). Budget amounts are Money.
	Allowed, Used, Requested int64
	// RetryAfter is when to try again (round it up to whole seconds for the
	// Retry-After header); zero when waiting will not help.
	RetryAfter time.Duration
	// Limits are the numbers for the x-ratelimit-* headers of the refusal.
	Limits RateLimits
}

func (d *Denial) Error() string {
	var b string
	if d.Limit == LimitBudget {
		b = fmt.Sprintf("limits: %s budget of %v exceeded: %v spent or reserved, %v requested",
			d.Subject.Kind, Money(d.Allowed), Money(d.Used), Money(d.Requested))
	} else {
		b = fmt.Sprintf("limits: %s %s limit of %d reached: %d used, %d requested",
			d.Subject.Kind, d.Limit, d.Allowed, d.Used, d.Requested)
	}
	if d.RetryAfter > 0 {
		return b + "; retry after " + d.RetryAfter.String()
	}
	return b
}

// Unwrap returns ErrBudgetExceeded or ErrRateLimited.
func (d *Denial) Unwrap() error {
	if d.Limit == LimitBudget {
		return ErrBudgetExceeded
	}
	return ErrRateLimited
}

// RateLimits are the numbers for the x-ratelimit-{limit,remaining,reset}-
// {requests,tokens} headers. Where both the key and the team limit a
// dimension, they are the tighter one's (the fewer remaining; key on ties).
type RateLimits struct {
	Requests, Tokens Window
}

// Window is one dimension of RateLimits.
type Window struct {
	// Limit is the RPM or TPM; zero when neither subject has one (send no
	// headers for this dimension then).
	Limit int64
	// Remaining is what may still be admitted in the window now.
	Remaining int64
	// Reset is the time until the window is empty again (fully replenished).
	Reset time.Duration
}

// Ticket is an admitted request. Hand it to exactly one Settle or Release of
// the limiter that issued it. Do not copy it.
type Ticket struct {
	// ID identifies the admission, unique across instances.
	ID string
	// Admitted is the limiter's clock at admission.
	Admitted time.Time
	// Limits are the numbers for the x-ratelimit-* headers, after counting
	// this request.
	Limits RateLimits

	sec    int64 // unix second of admission: the window bucket charged
	tokens int64 // tokens charged to TPM windows
	n      int   // subjects in subs
	subs   [2]ticketSubject
	done   atomic.Bool
}

// ticketSubject is what one admission recorded for one subject.
type ticketSubject struct {
	subject  Subject
	period   string // budget period id
	reserved Money
	charged  bool // tokens were charged to the subject's TPM window
}

// Options configure Memory and Redis.
type Options struct {
	// Lease bounds how long an admitted request holds its concurrency slot
	// and budget reservation without Settle or Release; it protects against
	// instances that crash mid-request. Set it above the longest request the
	// gateway lets run. Zero means DefaultLease.
	Lease time.Duration
	// Now is the clock; nil means time.Now. Tests move it.
	Now func() time.Time
	// Prefix starts every Redis key (Redis only). Empty means DefaultPrefix.
	Prefix string
}

const (
	// DefaultLease is the Lease when Options leave it zero.
	DefaultLease = 15 * time.Minute
	// DefaultPrefix is the Redis key prefix when Options leave it empty.
	DefaultPrefix = "llmux:limits"
)

func (o Options) withDefaults() Options {
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	return o
}
