package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/llmux/llmux/internal/limits"
	"github.com/llmux/llmux/internal/store"
)

// limitsView is store.Limits as the API spells it.
type limitsView struct {
	RPM           int64   `json:"rpm"`
	TPM           int64   `json:"tpm"`
	MaxConcurrent int64   `json:"max_concurrent"`
	BudgetUSD     float64 `json:"budget_usd"`
	BudgetPeriod  *string `json:"budget_period"` // null without a budget
}

func viewLimits(l store.Limits) limitsView {
	v := limitsView{RPM: l.RPM, TPM: l.TPM, MaxConcurrent: l.MaxConcurrent, BudgetUSD: l.BudgetUSD}
	if l.BudgetPeriod != store.NoPeriod {
		p := string(l.BudgetPeriod)
		v.BudgetPeriod = &p
	}
	return v
}

// keyView is a virtual key as the API shows it. Key, the raw secret, is set
// only in the answer to POST /admin/api/keys.
type keyView struct {
	ID     string   `json:"id"`
	Key    string   `json:"key,omitempty"`
	Prefix string   `json:"prefix"`
	Name   string   `json:"name"`
	Team   *string  `json:"team"` // the team's id; null for none
	Models []string `json:"models"`
	limitsView
	ExpiresAt *time.Time        `json:"expires_at"`
	Enabled   bool              `json:"enabled"`
	Metadata  map[string]string `json:"metadata"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	RevokedAt *time.Time        `json:"revoked_at"`
	Revision  int64             `json:"revision"`
	// Spend is a *spendView, null when the limiter failed to say, and
	// absent without a limiter or outside GET answers.
	Spend any `json:"spend,omitempty"`
}

func viewKey(k store.VirtualKey) keyView {
	v := keyView{
		ID: k.ID, Prefix: k.Prefix, Name: k.Name, Models: k.Models, limitsView: viewLimits(k.Limits),
		ExpiresAt: optTime(k.ExpiresAt), Enabled: k.Enabled, Metadata: k.Metadata,
		CreatedAt: k.CreatedAt, UpdatedAt: k.UpdatedAt, RevokedAt: optTime(k.RevokedAt), Revision: k.Revision,
	}
	if k.TeamID != "" {
		v.Team = &k.TeamID
	}
	if v.Models == nil {
		v.Models = []string{}
	}
	if v.Metadata == nil {
		v.Metadata = map[string]string{}
	}
	return v
}

// teamView is a team as the API shows it.
type teamView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	limitsView
	Enabled   bool              `json:"enabled"`
	Metadata  map[string]string `json:"metadata"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	Revision  int64             `json:"revision"`
	// Spend is as in keyView.
	Spend any `json:"spend,omitempty"`
}

func viewTeam(t store.Team) teamView {
	v := teamView{ID: t.ID, Name: t.Name, limitsView: viewLimits(t.Limits), Enabled: t.Enabled,
		Metadata: t.Metadata, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, Revision: t.Revision}
	if v.Metadata == nil {
		v.Metadata = map[string]string{}
	}
	return v
}

// spendView is a subject's account for its current budget period.
type spendView struct {
	// Period is the budget period ("total" when the subject has no budget)
	// and PeriodID its id, e.g. "month:2025-06".
	Period   string `json:"period"`
	PeriodID string `json:"period_id"`
	// Start and End bound the period; null for total.
	Start *time.Time `json:"start"`
	End   *time.Time `json:"end"`
	// SpentUSD is settled spend, ReservedUSD the estimates of requests in
	// flight.
	SpentUSD    float64 `json:"spent_usd"`
	ReservedUSD float64 `json:"reserved_usd"`
}

// spend asks the limiter for a subject's spend in its budget period. It
// returns nil without a limiter, and JSON null (after logging) when the
// limiter fails: a down Redis must not make keys unreadable.
func (a *api) spend(ctx context.Context, kind limits.Kind, id string, l store.Limits) any {
	if a.limiter == nil {
		return nil
	}
	p := limits.Period(l.BudgetPeriod)
	if p == "" {
		p = limits.PeriodTotal
	}
	sp, err := a.limiter.Spend(ctx, limits.Subject{Kind: kind, ID: id}, p)
	if err != nil {
		a.log.Warn("admin API: reading spend", "subject", string(kind), "id", id, "err", err)
		return json.RawMessage("null")
	}
	return &spendView{Period: string(sp.Period), PeriodID: sp.ID, Start: optTime(sp.Start), End: optTime(sp.End),
		SpentUSD: sp.Spent.Dollars(), ReservedUSD: sp.Reserved.Dollars()}
}

// optTime is t for JSON: null when zero.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// setETag gives an answer about one key or team its revision as ETag, the
// value If-Match takes.
func setETag(w http.ResponseWriter, revision int64) {
	w.Header().Set("ETag", `"`+strconv.FormatInt(revision, 10)+`"`)
}

// deletedView answers a DELETE that removed something for good.
type deletedView struct {
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}
