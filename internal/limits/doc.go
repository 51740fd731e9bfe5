// Package limits decides whether a request may go upstream now, under the
// rate limits, concurrency limit and USD budget of its virtual key and of the
// key's team, and keeps the counters that decide it. One Limiter interface
// has two implementations: Memory, for a single instance, and Redis, for
// several instances sharing one Redis (design.md §4), where every admission
// is one atomic Lua script (one round trip) and so is every settlement.
//
// The package holds counters, not configuration: each call carries the
// Policy of the key and of the team, as the caller's key store has them, so a
// changed limit applies from the next request. It imports only the standard
// library and go-redis; it must not import the gateway, providers, protocols
// or the store (the caller brings policies in, reads spend out, and seeds it
// from stored usage), and imports_test.go enforces that.
//
// # Lifecycle of a request
//
//	t, err := l.Admit(ctx, Request{Key: id, KeyPolicy: kp, Team: team, TeamPolicy: tp,
//		Tokens: estimatedTokens, Cost: estimatedCost})
//	if err != nil {
//		return err // a *Denial (errors.Is ErrRateLimited or ErrBudgetExceeded), or Redis failed
//	}
//	defer l.Release(context.WithoutCancel(ctx), t) // does nothing once settled
//	... set x-ratelimit-* from t.Limits, call upstream ...
//	l.Settle(context.WithoutCancel(ctx), t, Usage{Tokens: used, Cost: cost})
//
// A request is checked against its key and, when Team is set, its team;
// team limits are shared by all keys of the team. Admission is all or
// nothing: a request refused by one limit is counted by none.
//
// # Guarantees
//
// All times are the limiter's clock (Options.Now). With several instances,
// each passes its own clock into the script, so instances must keep their
// clocks in sync (NTP); a skew of d between instances shortens the window
// over which the RPM guarantee holds by up to d.
//
// Requests per minute (RPM). Sliding window counted in one-second buckets:
// an admission at second s counts the requests admitted in seconds s-60 to
// s, and needs that count + 1 ≤ RPM. Guarantee: in every interval of 60
// seconds, whatever its start, at most RPM requests of the subject are
// admitted (across all instances sharing the Redis). There is no burst at a
// window boundary as with fixed windows; the price is that a request may be
// refused up to one second longer than an exact sliding log would refuse it
// (the effective window is between 60 and 61 seconds). A request that was
// admitted counts even if it later fails.
//
// Tokens per minute (TPM). The same window over tokens: admission charges
// the request's estimate (Request.Tokens) to its second and needs window
// total + estimate ≤ TPM; settlement replaces the estimate with the actual
// count in that same second (if the second is still within the window), and
// a release refunds it. So in every 60-second interval the tokens charged
// (estimates while in flight, actual counts once settled) stay within TPM,
// except by what settled requests used beyond their estimates.
//
// Concurrency. Every admission takes a lease on the subject, held until
// Settle or Release, or until Options.Lease has passed (so an instance that
// crashes leaks no slot and no reservation for longer than the lease). At
// most MaxConcurrent leases are held at once. A request that outlives its
// lease loses its slot and its reservation early; set the lease above the
// longest request the gateway lets run.
//
// Budgets. A budget applies to one period, as UTC calendar periods: total
// (never resets), daily (from 00:00 UTC) or monthly (from the 1st, 00:00
// UTC). A request belongs to the period in which it was admitted, even when
// it settles in the next one. Per subject and period the limiter keeps spent
// (actual costs of settled requests, raised by SeedSpend) and reserved
// (estimates of requests in flight). Admission needs
//
//	spent + reserved + estimate ≤ budget
//
// and adds the estimate to reserved; Settle subtracts it and adds the
// actual cost to spent (which may be more or less than the estimate);
// Release, or the lease running out, subtracts it only. The bound: at any
// time
//
//	spent ≤ budget + Σ_{r∈F} max(0, actual_r − estimate_r)
//
// where F is the set of requests in flight (admitted, not yet settled or
// released) at the moment of the last admission of that period; a request of
// F whose lease had already run out at that moment counts with its whole
// actual cost instead. Two corollaries: if estimates are upper bounds of the
// real cost (input tokens counted, output bounded by max_tokens), spend
// never exceeds the budget; and spend exceeds it by at most N times the
// largest overrun of one request, where N is the number of requests in
// flight at once (at most MaxConcurrent when that is set).
//
// # Denials
//
// When several limits refuse one request, the Denial names a budget if any
// budget refuses (the key's before the team's), otherwise the limit with the
// longest Retry-After (key before team; rpm, tpm, concurrency in that order on
// ties). RetryAfter is when the refused limit would let this request in if
// nothing else happened: for rpm and tpm, when enough of the window has
// rolled off; for concurrency, one second (a guess: slots free as requests
// end); for a budget, one second when it is full only because of requests in
// flight, the start of the next period when it is spent, and zero when
// waiting will not help (the request alone exceeds the limit, or a total
// budget is spent).
//
// # Failures
//
// The limiter never admits on an error; failing open or closed when Redis is
// down is the caller's choice. An Admit that fails after Redis ran the script
// (a timeout, say) leaves an admission without a ticket: it counts for RPM
// and TPM, and its slot and reservation lapse with the lease. A Settle that
// fails uses its ticket up: the reservation lapses with the lease and the
// actual cost is not counted until SeedSpend brings in the stored usage.
// Memory keeps the counters of every key and team it has seen (a few hundred
// bytes each, 1.5 KB more once RPM or TPM is used) until the process ends.
//
// # Storage in Redis
//
// Per subject (kind "key" or "team" and its id), under Options.Prefix:
//
//	<prefix>:w:<kind>:<id>  hash of one-second buckets "r<unix second>" and
//	                        "t<unix second>"; expires 62 s after the last admission
//	<prefix>:f:<kind>:<id>  sorted set of leases "<ticket>|<period>|<reserved>",
//	                        scored by expiry (unix ms); empty sets vanish
//	<prefix>:b:<kind>:<id>  hash of "s:<period>" (spent) and "r:<period>"
//	                        (reserved) in nano-dollars, period "total",
//	                        "day:2006-01-02" or "month:2006-01"; past periods are
//	                        dropped once nothing is reserved in them
//
// One admission touches the keys of two subjects, so Redis Cluster (which
// would need them in one slot) is not supported: use one Redis, with or
// without replicas and Sentinel.
package limits
