package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/llmux/llmux/internal/store"
)

const usageColumns = `ts, request_id, key_id, team_id, requested_model, provider, upstream_model, protocol_in,
	protocol_out, input_tokens, output_tokens, cached_tokens, reasoning_tokens, cost_usd, latency_us, ttft_us,
	status, error_type, attempts, estimated, prompt, completion`

// usageParams is the number of columns in usageColumns.
var usageParams = strings.Count(usageColumns, ",") + 1

// maxRows is the most rows one INSERT statement carries. SQLite allows
// 32766 parameters per statement, and a statement of many rows costs far
// less per row than one statement per row.
const maxRows = 256

// InsertUsage implements store.UsageStore. A batch goes in as statements of
// 256, 128, …, 2, 1 rows (the binary digits of its length), each prepared
// once on the writer connection and kept.
func (s *Store) InsertUsage(ctx context.Context, records []store.UsageRecord) error {
	for i := range records {
		if err := records[i].Validate(); err != nil {
			return fmt.Errorf("usage record %d: %w", i, err)
		}
	}
	if len(records) == 0 {
		return nil
	}
	args := make([]any, 0, min(len(records), maxRows)*usageParams)
	err := s.write(ctx, func(tx *sql.Tx) error {
		for rest := records; len(rest) > 0; {
			n := maxRows
			for n > len(rest) {
				n /= 2
			}
			args = args[:0]
			for i := range rest[:n] {
				args = appendUsageArgs(args, rest[i].Normalized())
			}
			if _, err := tx.StmtContext(ctx, s.inserts[n]).ExecContext(ctx, args...); err != nil {
				return err
			}
			rest = rest[n:]
		}
		return nil
	})
	if err != nil {
		return errf("insert usage", err)
	}
	return nil
}

// prepareInserts prepares the usage INSERTs of 1, 2, 4, … maxRows rows on
// the writer connection. It runs in Open, before any transaction: preparing
// on the one-connection pool while a transaction holds it would wait
// forever.
func (s *Store) prepareInserts(ctx context.Context) error {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", usageParams), ", ") + ")"
	for n := 1; n <= maxRows; n *= 2 {
		st, err := s.w.PrepareContext(ctx, "INSERT INTO usage_records ("+usageColumns+") VALUES "+
			strings.TrimSuffix(strings.Repeat(row+", ", n), ", "))
		if err != nil {
			return fmt.Errorf("sqlite: preparing inserts: %w", err)
		}
		s.inserts[n] = st
	}
	return nil
}

func appendUsageArgs(args []any, r store.UsageRecord) []any {
	return append(args, r.Time.UnixMicro(), r.RequestID, r.KeyID, r.TeamID, r.RequestedModel, r.Provider,
		r.UpstreamModel, r.ProtocolIn, r.ProtocolOut, r.InputTokens, r.OutputTokens, r.CachedTokens,
		r.ReasoningTokens, r.CostUSD, r.Latency.Microseconds(), r.TTFT.Microseconds(), r.Status, r.ErrorType,
		r.Attempts, r.Estimated, nullString(r.Prompt), nullString(r.Completion))
}

// where builds the WHERE clause of a usage filter.
func where(f store.UsageFilter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	if !f.From.IsZero() {
		add("ts >= ?", f.From.UnixMicro())
	}
	if !f.To.IsZero() {
		add("ts < ?", f.To.UnixMicro())
	}
	for _, c := range []struct{ col, v string }{
		{"key_id", f.KeyID}, {"team_id", f.TeamID}, {"requested_model", f.Model},
		{"provider", f.Provider}, {"request_id", f.RequestID},
	} {
		if c.v != "" {
			add(c.col+" = ?", c.v)
		}
	}
	if f.Status != 0 {
		add("status = ?", f.Status)
	}
	if f.ErrorsOnly {
		conds = append(conds, failed)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
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
		return "(ts - ts % 86400000000)"
	case store.DimHour:
		return "(ts - ts % 3600000000)"
	}
	panic("sqlite: unknown dimension " + string(d)) // AggregateQuery.Validate ran
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
	cond, args := where(q.Filter)
	sel := strings.Join(append(append([]string(nil), groups...),
		"count(*)", "coalesce(sum(CASE WHEN "+failed+" THEN 1 ELSE 0 END), 0)",
		"coalesce(sum(input_tokens), 0)", "coalesce(sum(output_tokens), 0)",
		"coalesce(sum(cached_tokens), 0)", "coalesce(sum(reasoning_tokens), 0)",
		"coalesce(sum(cost_usd), 0)", "coalesce(avg(latency_us), 0)", "coalesce(avg(nullif(ttft_us, 0)), 0)"), ", ")
	query := "SELECT " + sel + " FROM usage_records" + cond
	if len(groups) > 0 {
		g := strings.Join(groups, ", ")
		query += " GROUP BY " + g + " ORDER BY " + g
	}
	bucketed := slices.Contains(q.GroupBy, store.DimDay) || slices.Contains(q.GroupBy, store.DimHour)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, errf("aggregate usage", err)
	}
	defer rows.Close()
	var out []store.UsageAggregate
	for rows.Next() {
		var (
			a         store.UsageAggregate
			bucket    int64
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
			a.Bucket = time.UnixMicro(bucket).UTC()
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
		cols = strings.Replace(cols, "prompt, completion", "NULL, NULL", 1)
	}
	cond, args := where(q.Filter)
	if q.BeforeID > 0 {
		if cond == "" {
			cond = " WHERE id < ?"
		} else {
			cond += " AND id < ?"
		}
		args = append(args, q.BeforeID)
	}
	args = append(args, q.EffectiveLimit())
	rows, err := s.r.QueryContext(ctx, "SELECT "+cols+" FROM usage_records"+cond+" ORDER BY id DESC LIMIT ?", args...)
	if err != nil {
		return nil, errf("list usage", err)
	}
	defer rows.Close()
	var out []store.UsageRecord
	for rows.Next() {
		var (
			r                  store.UsageRecord
			ts, lat, ttft      int64
			prompt, completion sql.NullString
		)
		err := rows.Scan(&r.ID, &ts, &r.RequestID, &r.KeyID, &r.TeamID, &r.RequestedModel, &r.Provider,
			&r.UpstreamModel, &r.ProtocolIn, &r.ProtocolOut, &r.InputTokens, &r.OutputTokens, &r.CachedTokens,
			&r.ReasoningTokens, &r.CostUSD, &lat, &ttft, &r.Status, &r.ErrorType, &r.Attempts, &r.Estimated,
			&prompt, &completion)
		if err != nil {
			return nil, errf("list usage", err)
		}
		r.Time = time.UnixMicro(ts).UTC()
		r.Latency, r.TTFT = time.Duration(lat)*time.Microsecond, time.Duration(ttft)*time.Microsecond
		r.Prompt, r.Completion = prompt.String, completion.String
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
		res, err := s.w.ExecContext(ctx, `DELETE FROM usage_records WHERE id IN
			(SELECT id FROM usage_records WHERE ts < ? LIMIT ?)`, t.UnixMicro(), deleteChunk)
		if err != nil {
			return total, errf("delete usage", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, errf("delete usage", err)
		}
		total += n
		if n < deleteChunk {
			return total, nil
		}
	}
}
