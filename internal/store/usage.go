package store

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// UsageRecord is what one request cost and how it went. The gateway fills
// one per request; internal/usage writes them in batches.
type UsageRecord struct {
	// ID is assigned by the store on insert and set on records it returns;
	// it orders records by when they were written.
	ID int64
	// Time is when the request arrived. Required.
	Time time.Time
	// RequestID is the x-request-id of the request (not unique: clients may
	// choose it).
	RequestID string
	// KeyID is the virtual key's ID, or another stable name for a static key
	// (never the secret). Not a foreign key: records outlive their keys.
	KeyID string
	// TeamID is the key's team at the time of the request; "" for none.
	TeamID string
	// RequestedModel is the model name the client asked for.
	RequestedModel string
	// Provider is the provider id that answered (or was tried last).
	Provider string
	// UpstreamModel is the model name sent upstream.
	UpstreamModel string
	// ProtocolIn is the client's protocol ID, ProtocolOut the upstream's.
	ProtocolIn, ProtocolOut string
	// Token counts. CachedTokens and ReasoningTokens are parts of
	// InputTokens and OutputTokens respectively, as the vendors report them.
	InputTokens, OutputTokens, CachedTokens, ReasoningTokens int64
	// CostUSD is the computed cost.
	CostUSD float64
	// Latency is from arrival to the last byte; TTFT to the first byte of a
	// stream (0 when not streamed). Stored to the microsecond.
	Latency, TTFT time.Duration
	// Status is the HTTP status given to the client (0 if it hung up first).
	Status int
	// ErrorType is the llm.Error kind or another short code; "" on success.
	ErrorType string
	// Attempts is how many upstream calls the request took.
	Attempts int
	// Estimated marks token counts made by the gateway's tokenizer because
	// the upstream reported none (a stream cut short).
	Estimated bool
	// Prompt and Completion are stored only when log_content is on; "" means
	// not stored. ListUsage returns them only with ListQuery.WithContent.
	Prompt, Completion string
}

// Failed reports whether the record counts as an error in aggregates and
// ListQuery.ErrorsOnly: a status of 400 or more, or an ErrorType.
func (r *UsageRecord) Failed() bool { return r.Status >= 400 || r.ErrorType != "" }

// Validate checks what InsertUsage cannot repair; errors wrap ErrInvalid.
func (r *UsageRecord) Validate() error {
	if r.Time.IsZero() {
		return invalid("time", "is required")
	}
	if y := r.Time.UTC().Year(); y < 1970 || y > 9999 {
		return invalid("time", fmt.Sprintf("year %d is out of range", y))
	}
	return nil
}

// Normalized returns r as every store persists it, so that both databases
// give back the same values: text fields made valid UTF-8 with NUL bytes
// removed (PostgreSQL refuses both, and one bad model name from a client must
// not sink a batch), the time in UTC to the microsecond, durations to the
// microsecond, and a non-finite cost as 0.
func (r UsageRecord) Normalized() UsageRecord {
	r.Time = r.Time.UTC().Truncate(time.Microsecond)
	for _, s := range []*string{&r.RequestID, &r.KeyID, &r.TeamID, &r.RequestedModel, &r.Provider,
		&r.UpstreamModel, &r.ProtocolIn, &r.ProtocolOut, &r.ErrorType, &r.Prompt, &r.Completion} {
		*s = CleanText(*s)
	}
	r.Latency = r.Latency.Truncate(time.Microsecond)
	r.TTFT = r.TTFT.Truncate(time.Microsecond)
	if math.IsNaN(r.CostUSD) || math.IsInf(r.CostUSD, 0) {
		r.CostUSD = 0
	}
	return r
}

// CleanText returns s as valid UTF-8 (invalid bytes become U+FFFD) without
// NUL bytes.
func CleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

// UsageFilter selects usage records. Empty fields select everything.
type UsageFilter struct {
	// From and To bound Time: From ≤ Time < To. Zero means unbounded.
	From, To time.Time
	// KeyID, TeamID, Model (the requested model), Provider and RequestID
	// match exactly.
	KeyID, TeamID, Model, Provider, RequestID string
	// Status matches exactly when not 0.
	Status int
	// ErrorsOnly keeps failed records (see UsageRecord.Failed).
	ErrorsOnly bool
}

// Dimension is a usage grouping, named as the admin API's group_by spells it.
type Dimension string

// The dimensions. DimDay and DimHour bucket Time in UTC; at most one of them
// may be used in a query.
const (
	DimKey           Dimension = "key"
	DimTeam          Dimension = "team"
	DimModel         Dimension = "model" // the requested model
	DimUpstreamModel Dimension = "upstream_model"
	DimProvider      Dimension = "provider"
	DimDay           Dimension = "day"
	DimHour          Dimension = "hour"
)

// Dimensions lists every Dimension, for validation and help texts.
var Dimensions = []Dimension{DimKey, DimTeam, DimModel, DimUpstreamModel, DimProvider, DimDay, DimHour}

// Valid reports whether d is one of Dimensions.
func (d Dimension) Valid() bool {
	for _, x := range Dimensions {
		if d == x {
			return true
		}
	}
	return false
}

// AggregateQuery asks for usage sums.
type AggregateQuery struct {
	Filter UsageFilter
	// GroupBy are the dimensions of the result rows, in order; each once.
	GroupBy []Dimension
}

// Validate checks the grouping; errors wrap ErrInvalid and name group_by.
func (q *AggregateQuery) Validate() error {
	seen := map[Dimension]bool{}
	for _, d := range q.GroupBy {
		if !d.Valid() {
			return invalid("group_by", fmt.Sprintf("%q is not one of %v", d, Dimensions))
		}
		if seen[d] {
			return invalid("group_by", fmt.Sprintf("%q is given twice", d))
		}
		seen[d] = true
	}
	if seen[DimDay] && seen[DimHour] {
		return invalid("group_by", "day and hour cannot be combined")
	}
	return nil
}

// UsageAggregate is one row of AggregateUsage. Only the group fields named
// in the query's GroupBy are set.
type UsageAggregate struct {
	KeyID, TeamID, Model, UpstreamModel, Provider string
	// Bucket is the start (UTC) of the day or hour, with DimDay or DimHour.
	Bucket time.Time

	// Requests counts records; Errors those that Failed.
	Requests, Errors int64
	// Sums of the records' token counts and cost.
	InputTokens, OutputTokens, CachedTokens, ReasoningTokens int64
	CostUSD                                                  float64
	// AvgLatency averages Latency; AvgTTFT averages the non-zero TTFTs.
	AvgLatency, AvgTTFT time.Duration
}

// ListQuery asks for recent records.
type ListQuery struct {
	Filter UsageFilter
	// Limit caps the count: 0 means 100; at most MaxListLimit.
	Limit int
	// BeforeID pages: only records with ID < BeforeID (0 for the newest).
	BeforeID int64
	// WithContent includes Prompt and Completion.
	WithContent bool
}

// MaxListLimit caps ListQuery.Limit.
const MaxListLimit = 10000

// EffectiveLimit returns the limit ListUsage applies.
func (q *ListQuery) EffectiveLimit() int {
	switch {
	case q.Limit <= 0:
		return 100
	case q.Limit > MaxListLimit:
		return MaxListLimit
	}
	return q.Limit
}
