// Package usage prices requests and writes their usage records. It is the
// only path from a finished request to the usage store: the gateway computes
// a cost with a Table, fills a store.UsageRecord and hands it to a Writer,
// which writes records in batches off the request path.
//
// # Prices
//
// A Table answers "what does this upstream model cost" in USD per million
// tokens. It holds a built-in list of list prices (prices.go, as of the date
// written there) for the common models of every supported vendor, under the
// `pricing:` overrides of the configuration. Lookup tries, in order:
//
//  1. overrides by exact name: "provider/model", then "model";
//  2. override patterns ending in "*" (prefix matches), longest first,
//     provider-qualified before bare;
//  3. the built-in list by exact name;
//  4. the built-in list by longest prefix.
//
// Every step tries the model name as given and then normalised: lower-cased,
// a vendor prefix removed ("openai/gpt-4o", "anthropic.claude-…" on Bedrock),
// and snapshot suffixes removed ("-2024-08-06", "-20250514", "-0709",
// "-08-2024", "-latest", "@20241022", "-v1:0", ":free"), so that dated
// snapshots and aggregator names find their family's price. A built-in
// prefix matches only at a word boundary and never across a version number:
// "gpt-4o-audio-preview" is priced as gpt-4o, but "gpt-5.9" or
// "claude-opus-4-9" are unknown rather than priced as gpt-5 or claude-opus-4.
// An unknown model has no price (ok=false); the caller records a cost of 0
// and marks it. Price.Cost turns an llm.Usage into limits.Money
// (nano-dollars), pricing cached and cache-written input apart from the rest.
//
// # Writing records
//
// Writer.Add queues a record under a mutex and returns: it never waits for the
// database. A background loop, owned by the Writer and stopped by Close,
// writes a batch when BatchSize records are waiting or FlushInterval has
// passed, in the order they were added. A failed batch is retried with capped
// exponential backoff and keeps its place at the head of the queue; records
// the store refuses as invalid are found by splitting the batch and dropped
// alone. While the store is down records wait in memory, up to MaxPending;
// beyond that the oldest waiting records are dropped and counted. Prompt and
// completion text is removed unless LogContent is set, and otherwise capped.
//
// What can be lost:
//
//   - Graceful shutdown (SIGTERM): the server stops taking requests, lets
//     those in flight finish, then calls Close, which writes everything
//     queued, retrying until its context ends. Nothing is lost while the
//     database answers within that time; what is left is counted in Close's
//     error.
//   - The process killed outright (SIGKILL, OOM, power loss): the records
//     still in memory, at most FlushInterval's worth (plus the batch being
//     written) while the database is healthy.
//   - The database down for long: records beyond MaxPending, oldest first,
//     counted in WriterStats.Dropped and logged at error level.
//   - A record given to Add after Close is not written: it is counted in
//     WriterStats.Rejected and logged once.
//
// RunRetention deletes records older than the configured retention, hourly.
//
// This package imports llm, internal/store (the interfaces, never an
// implementation), internal/limits (for Money) and internal/config (for the
// override type), and nothing else of llmux; the gateway imports it.
// imports_test.go enforces that.
package usage
