package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/llmux/llmux/internal/store"
)

// usageView answers GET /admin/api/usage.
type usageView struct {
	From    *time.Time `json:"from"` // null: unbounded
	To      *time.Time `json:"to"`   // exclusive; null: unbounded
	GroupBy []string   `json:"group_by"`
	Rows    []usageRow `json:"rows"`
}

// usageRow is one aggregate. Of the dimension fields (key to hour) only the
// grouped ones are present; day and hour are the bucket's start in UTC.
type usageRow struct {
	Key             *string    `json:"key,omitempty"`
	Team            *string    `json:"team,omitempty"`
	Model           *string    `json:"model,omitempty"`
	UpstreamModel   *string    `json:"upstream_model,omitempty"`
	Provider        *string    `json:"provider,omitempty"`
	Day             *time.Time `json:"day,omitempty"`
	Hour            *time.Time `json:"hour,omitempty"`
	Requests        int64      `json:"requests"`
	Errors          int64      `json:"errors"`
	InputTokens     int64      `json:"input_tokens"`
	OutputTokens    int64      `json:"output_tokens"`
	CachedTokens    int64      `json:"cached_tokens"`
	ReasoningTokens int64      `json:"reasoning_tokens"`
	CostUSD         float64    `json:"cost_usd"`
	AvgLatencyMS    float64    `json:"avg_latency_ms"`
	AvgTTFTMS       float64    `json:"avg_ttft_ms"` // over streamed requests only
}

// usage serves GET /admin/api/usage.
func (a *api) usage(w http.ResponseWriter, r *http.Request) error {
	q, err := params(r, []string{"key", "team", "model", "provider", "from", "to"}, "group_by")
	if err != nil {
		return err
	}
	f, err := a.usageFilter(r.Context(), q)
	if err != nil {
		return err
	}
	agg := store.AggregateQuery{Filter: f}
	names := []string{}
	for _, v := range q["group_by"] {
		for _, d := range strings.Split(v, ",") {
			if d = strings.TrimSpace(d); d != "" {
				agg.GroupBy = append(agg.GroupBy, store.Dimension(d))
				names = append(names, d)
			}
		}
	}
	if err := agg.Validate(); err != nil {
		return err
	}
	list, err := a.store.AggregateUsage(r.Context(), agg)
	if err != nil {
		return err
	}
	out := usageView{From: optTime(f.From), To: optTime(f.To), GroupBy: names, Rows: make([]usageRow, len(list))}
	for i, u := range list {
		row := usageRow{
			Requests: u.Requests, Errors: u.Errors, InputTokens: u.InputTokens, OutputTokens: u.OutputTokens,
			CachedTokens: u.CachedTokens, ReasoningTokens: u.ReasoningTokens, CostUSD: u.CostUSD,
			AvgLatencyMS: ms(u.AvgLatency), AvgTTFTMS: ms(u.AvgTTFT),
		}
		for _, d := range agg.GroupBy {
			switch d {
			case store.DimKey:
				row.Key = &u.KeyID
			case store.DimTeam:
				row.Team = &u.TeamID
			case store.DimModel:
				row.Model = &u.Model
			case store.DimUpstreamModel:
				row.UpstreamModel = &u.UpstreamModel
			case store.DimProvider:
				row.Provider = &u.Provider
			case store.DimDay:
				row.Day = optTime(u.Bucket)
			case store.DimHour:
				row.Hour = optTime(u.Bucket)
			}
		}
		out.Rows[i] = row
	}
	return writeJSON(w, http.StatusOK, out)
}

// usageFilter reads the filter parameters both usage paths share. A team
// may be named by id or name; a value that is neither is taken as an id, as
// records outlive their teams.
func (a *api) usageFilter(ctx context.Context, q url.Values) (f store.UsageFilter, err error) {
	f.KeyID, f.Model, f.Provider = q.Get("key"), q.Get("model"), q.Get("provider")
	if ref := q.Get("team"); ref != "" {
		t, err := a.findTeam(ctx, ref)
		var e *apiError
		switch {
		case errors.As(err, &e) && e.Status == http.StatusNotFound:
			f.TeamID = ref
		case err != nil:
			return f, err
		default:
			f.TeamID = t.ID
		}
	}
	f.From, f.To, err = timeRange(q)
	return f, err
}

// recordView is a store.UsageRecord as the request log shows it.
type recordView struct {
	ID              int64     `json:"id"`
	Time            time.Time `json:"time"`
	RequestID       string    `json:"request_id"`
	KeyID           string    `json:"key_id"`
	TeamID          string    `json:"team_id"`
	RequestedModel  string    `json:"requested_model"`
	Provider        string    `json:"provider"`
	UpstreamModel   string    `json:"upstream_model"`
	ProtocolIn      string    `json:"protocol_in"`
	ProtocolOut     string    `json:"protocol_out"`
	InputTokens     int64     `json:"input_tokens"`
	OutputTokens    int64     `json:"output_tokens"`
	CachedTokens    int64     `json:"cached_tokens"`
	ReasoningTokens int64     `json:"reasoning_tokens"`
	CostUSD         float64   `json:"cost_usd"`
	LatencyMS       float64   `json:"latency_ms"`
	TTFTMS          float64   `json:"ttft_ms"`
	Status          int       `json:"status"`
	ErrorType       string    `json:"error_type"`
	Attempts        int       `json:"attempts"`
	Estimated       bool      `json:"estimated"`
	// Prompt and Completion are present with content=true, when stored.
	Prompt     string `json:"prompt,omitempty"`
	Completion string `json:"completion,omitempty"`
}

// logsView answers GET /admin/api/logs. NextBefore is the before= of the
// next (older) page; null when there is none.
type logsView struct {
	Records    []recordView `json:"records"`
	NextBefore *int64       `json:"next_before"`
}

// logs serves GET /admin/api/logs, newest first.
func (a *api) logs(w http.ResponseWriter, r *http.Request) error {
	q, err := params(r, []string{"limit", "key", "team", "model", "provider", "status", "errors",
		"request_id", "before", "from", "to", "content"})
	if err != nil {
		return err
	}
	lq := store.ListQuery{}
	if lq.Filter, err = a.usageFilter(r.Context(), q); err != nil {
		return err
	}
	lq.Filter.RequestID = q.Get("request_id")
	limit, err := number(q, "limit", 1, store.MaxListLimit, 100)
	if err != nil {
		return err
	}
	status, err := number(q, "status", 100, 599, 0)
	if err != nil {
		return err
	}
	lq.Filter.Status = int(status)
	if lq.Filter.ErrorsOnly, err = flag(q, "errors"); err != nil {
		return err
	}
	if lq.BeforeID, err = number(q, "before", 1, 1<<63-1, 0); err != nil {
		return err
	}
	if lq.WithContent, err = flag(q, "content"); err != nil {
		return err
	}
	// One record more than asked for tells whether there is another page
	// (at the largest limit, a full page is taken to mean there may be).
	lq.Limit = int(min(limit+1, store.MaxListLimit))
	list, err := a.store.ListUsage(r.Context(), lq)
	if err != nil {
		return err
	}
	out := logsView{Records: make([]recordView, 0, min(len(list), int(limit)))}
	for _, rec := range list[:min(len(list), int(limit))] {
		out.Records = append(out.Records, viewRecord(rec, lq.WithContent))
	}
	if len(list) > int(limit) || (len(list) == store.MaxListLimit && len(list) == int(limit)) {
		last := out.Records[len(out.Records)-1].ID
		out.NextBefore = &last
	}
	return writeJSON(w, http.StatusOK, out)
}

func viewRecord(r store.UsageRecord, content bool) recordView {
	v := recordView{
		ID: r.ID, Time: r.Time.UTC(), RequestID: r.RequestID, KeyID: r.KeyID, TeamID: r.TeamID,
		RequestedModel: r.RequestedModel, Provider: r.Provider, UpstreamModel: r.UpstreamModel,
		ProtocolIn: r.ProtocolIn, ProtocolOut: r.ProtocolOut, InputTokens: r.InputTokens,
		OutputTokens: r.OutputTokens, CachedTokens: r.CachedTokens, ReasoningTokens: r.ReasoningTokens,
		CostUSD: r.CostUSD, LatencyMS: ms(r.Latency), TTFTMS: ms(r.TTFT), Status: r.Status,
		ErrorType: r.ErrorType, Attempts: r.Attempts, Estimated: r.Estimated,
	}
	if content {
		v.Prompt, v.Completion = r.Prompt, r.Completion
	}
	return v
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
