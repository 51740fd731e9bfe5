package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/llmux/llmux/internal/store"
)

// usageColumnNames are the columns InsertUsage writes, in order.
var usageColumnNames = []string{"ts", "request_id", "key_id", "team_id", "requested_model", "provider",
	"upstream_model", "protocol_in", "protocol_out", "input_tokens", "output_tokens", "cached_tokens",
	"reasoning_tokens", "cost_usd", "latency_us", "ttft_us", "status", "error_type", "attempts", "estimated",
	"prompt", "completion"}

var usageColumns = strings.Join(usageColumnNames, ", ")

// copyThreshold: batches this big go in by COPY; smaller ones by one
// multi-row INSERT, which takes one round trip where COPY takes three.
const copyThreshold = 16

// InsertUsage implements store.UsageStore.
func (s *Store) InsertUsage(ctx context.Context, records []store.UsageRecord) error {
	for i := range records {
		if err := records[i].Validate(); err != nil {
			return fmt.Errorf("usage record %d: %w", i, err)
		}
	}
	if len(records) == 0 {
		return nil
	}
	if len(records) < copyThreshold {
		args := make([]any, 0, len(records)*len(usageColumnNames))
		for i := range records {
			args = append(args, usageRow(records[i].Normalized())...)
		}
		if _, err := s.pool.Exec(ctx, insertSQL(len(records)), args...); err != nil {
			return errf("insert usage", err)
		}
		return nil
	}
	i := 0
	n, err := s.pool.CopyFrom(ctx, pgx.Identifier{"usage_records"}, usageColumnNames,
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(records) {
				return nil, nil
			}
			i++
			return usageRow(records[i-1].Normalized()), nil
		}))
	if err != nil {
		return errf("insert usage", err)
	}
	if n != int64(len(records)) {
		return errf("insert usage", fmt.Errorf("COPY wrote %d of %d records", n, len(records)))
	}
	return nil
}

// insertSQL returns a multi-row INSERT of n records.
func insertSQL(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO usage_records (" + usageColumns + ") VALUES ")
	p := 1
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range usageColumnNames {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(p))
			p++
		}
		b.WriteByte(')')
	}
	return b.String()
}

func usageRow(r store.UsageRecord) []any {
	return []any{r.Time, r.RequestID, r.KeyID, r.TeamID, r.RequestedModel, r.Provider, r.UpstreamModel,
		r.ProtocolIn, r.ProtocolOut, r.InputTokens, r.OutputTokens, r.CachedTokens, r.ReasoningTokens,
		r.CostUSD, r.Latency.Microseconds(), r.TTFT.Microseconds(), int32(r.Status), r.ErrorType,
		int32(r.Attempts), r.Estimated, nullString(r.Prompt), nullString(r.Completion)}
}

// query builds SQL with numbered parameters.
type query struct {
	conds []string
	args  []any
}

func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

func (q *query) where() string {
	if len(q.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.conds, " AND ")
}

// filter adds the conditions of a usage filter.
func (q *query) filter(f store.UsageFilter) {
	if !f.From.IsZero() {
		q.conds = append(q.conds, "ts >= "+q.arg(f.From))
	}
	if !f.To.IsZero() {
		q.conds = append(q.conds, "ts < "+q.arg(f.To))
	}
	for _, c := range []struct{ col, v string }{
		{"key_id", f.KeyID}, {"team_id", f.TeamID}, {"requested_model", f.Model},
		{"provider", f.Provider}, {"request_id", f.RequestID},
	} {
		if c.v != "" {
			q.conds = append(q.conds, c.col+" = "+q.arg(c.v))
		}
	}
	if f.Status != 0 {
		q.conds = append(q.conds, "status = "+q.arg(int32(f.Status)))
	}
	if f.ErrorsOnly {
		q.conds = append(q.conds, failed)
	}
}

// failed is store.UsageRecord.Failed in SQL.
const failed = "(status >= 400 OR error_type <> '')"

// dimension is a group's SQL expression.
func dimension(d store.Dimension) string {
	switch d {
	case store.DimKey:
		return "key_id"
	case store.DimTeam:
		return "team_id"
	case store.DimModel:
		return "requested_model"
	case store.DimUpstreamModel:
		return "upstream_model"
	case store.DimProvider:
		return "provider"
	case store.DimDay:
		return "date_trunc('day', ts AT TIME ZONE 'UTC')"
	case store.DimHour:
		return "date_trunc('hour', ts AT TIME ZONE 'UTC')"
	}
	panic("postgres: unknown dimension " + string(d)) // AggregateQuery.Validate ran
}

// AggregateUsage implements store.UsageStore.
func (s *Store) AggregateUsage(ctx context.Context, q store.AggregateQuery) ([]store.UsageAggregate, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	var groups []string
	for _, d := range q.GroupBy {
		groups = append(groups, dimension(d))
	}
	var b query
	b.filter(q.Filter)
	sel := strings.Join(append(append([]string(nil), groups...),
		"count(*)", "count(*) FILTER (WHERE "+failed+")",
		"coalesce(sum(input_tokens), 0)::bigint", "coalesce(sum(output_tokens), 0)::bigint",
		"coalesce(sum(cached_tokens), 0)::bigint", "coalesce(sum(reasoning_tokens), 0)::bigint",
		"coalesce(sum(cost_usd), 0)::float8", "coalesce(avg(latency_us), 0)::float8",
		"coalesce(avg(nullif(ttft_us, 0)), 0)::float8"), ", ")
	sql := "SELECT " + sel + " FROM usage_records" + b.where()
	if len(groups) > 0 {
		// Group by position (the bucket expressions are long); order text
		// byte-wise, as SQLite does, whatever the database's collation.
		var pos, order []string
		for i, d := range q.GroupBy {
			pos = append(pos, strconv.Itoa(i+1))
			if d == store.DimDay || d == store.DimHour {
				order = append(order, groups[i])
			} else {
				order = append(order, groups[i]+` COLLATE "C"`)
			}
		}
		sql += " GROUP BY " + strings.Join(pos, ", ") + " ORDER BY " + strings.Join(order, ", ")
	}
	bucketed := slices.Contains(q.GroupBy, store.DimDay) || slices.Contains(q.GroupBy, store.DimHour)
	rows, err := s.pool.Query(ctx, sql, b.args...)
	if err != nil {
		return nil, errf("aggregate usage", err)
	}
	defer rows.Close()
	var out []store.UsageAggregate
	for rows.Next() {
		var (
			a         store.UsageAggregate
			bucket    time.Time
			lat, ttft float64
			dest      []any
		)
		for _, d := range q.GroupBy {
			switch d {
			case store.DimKey:
				dest = append(dest, &a.KeyID)
			case store.DimTeam:
				dest = append(dest, &a.TeamID)
			case store.DimModel:
				dest = append(dest, &a.Model)
			case store.DimUpstreamModel:
				dest = append(dest, &a.UpstreamModel)
			case store.DimProvider:
				dest = append(dest, &a.Provider)
			case store.DimDay, store.DimHour:
				dest = append(dest, &bucket)
			}
		}
		dest = append(dest, &a.Requests, &a.Errors, &a.InputTokens, &a.OutputTokens, &a.CachedTokens,
			&a.ReasoningTokens, &a.CostUSD, &lat, &ttft)
		if err := rows.Scan(dest...); err != nil {
			return nil, errf("aggregate usage", err)
		}
		if bucketed {
			// A timestamp without time zone comes back as UTC wall time.
			a.Bucket = time.Date(bucket.Year(), bucket.Month(), bucket.Day(), bucket.Hour(), 0, 0, 0, time.UTC)
		}
		a.AvgLatency = time.Duration(lat * float64(time.Microsecond))
		a.AvgTTFT = time.Duration(ttft * float64(time.Microsecond))
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, errf("aggregate usage", err)
	}
	return out, nil
}

// ListUsage implements store.UsageStore.
func (s *Store) ListUsage(ctx context.Context, q store.ListQuery) ([]store.UsageRecord, error) {
	cols := "id, " + usageColumns
	if !q.WithContent {
		cols = strings.Replace(cols, "prompt, completion", "NULL::text, NULL::text", 1)
	}
	var b query
	b.filter(q.Filter)
	if q.BeforeID > 0 {
		b.conds = append(b.conds, "id < "+b.arg(q.BeforeID))
	}
	limit := b.arg(q.EffectiveLimit())
	rows, err := s.pool.Query(ctx, "SELECT "+cols+" FROM usage_records"+b.where()+" ORDER BY id DESC LIMIT "+limit, b.args...)
	if err != nil {
		return nil, errf("list usage", err)
	}
	defer rows.Close()
	var out []store.UsageRecord
	for rows.Next() {
		var (
			r                  store.UsageRecord
			lat, ttft          int64
			status, attempts   int32
			prompt, completion *string
		)
		err := rows.Scan(&r.ID, &r.Time, &r.RequestID, &r.KeyID, &r.TeamID, &r.RequestedModel, &r.Provider,
			&r.UpstreamModel, &r.ProtocolIn, &r.ProtocolOut, &r.InputTokens, &r.OutputTokens, &r.CachedTokens,
			&r.ReasoningTokens, &r.CostUSD, &lat, &ttft, &status, &r.ErrorType, &attempts, &r.Estimated,
			&prompt, &completion)
		if err != nil {
			return nil, errf("list usage", err)
		}
		r.Time = r.Time.UTC()
		r.Latency, r.TTFT = time.Duration(lat)*time.Microsecond, time.Duration(ttft)*time.Microsecond
		r.Status, r.Attempts = int(status), int(attempts)
		if prompt != nil {
			r.Prompt = *prompt
		}
		if completion != nil {
			r.Completion = *completion
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, errf("list usage", err)
	}
	return out, nil
}

// deleteChunk bounds the rows one retention DELETE removes.
const deleteChunk = 5000

// DeleteUsageBefore implements store.UsageStore.
func (s *Store) DeleteUsageBefore(ctx context.Context, t time.Time) (int64, error) {
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, `DELETE FROM usage_records WHERE id IN
			(SELECT id FROM usage_records WHERE ts < $1 LIMIT $2)`, t, deleteChunk)
		if err != nil {
			return total, errf("delete usage", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < deleteChunk {
			return total, nil
		}
	}
}
