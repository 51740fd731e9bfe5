package admin

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/llmux/llmux/internal/store"
)

// applyLimits sets the limit fields o has on l. A budget_usd set to 0 or
// null without a budget_period in the same body also clears the period, so
// that {"budget_usd": null} removes a budget in one step.
func applyLimits(o object, l *store.Limits) error {
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"rpm", &l.RPM}, {"tpm", &l.TPM}, {"max_concurrent", &l.MaxConcurrent}} {
		if err := o.count(f.name, f.dst); err != nil {
			return err
		}
	}
	if err := o.dollars("budget_usd", &l.BudgetUSD); err != nil {
		return err
	}
	if o.has("budget_period") {
		var p string
		if err := o.text("budget_period", &p, true); err != nil {
			return err
		}
		l.BudgetPeriod = store.BudgetPeriod(p)
		if !l.BudgetPeriod.Valid() {
			return invalid("budget_period", "%q is not total, daily or monthly", p)
		}
	} else if o.has("budget_usd") && l.BudgetUSD == 0 {
		l.BudgetPeriod = store.NoPeriod
	}
	return nil
}

// precondition is a request's If-Match header; nil when there is none.
type precondition struct {
	any       bool    // "*": any revision will do
	revisions []int64 // the revisions the client accepts
}

// ifMatch reads If-Match: "*", or revisions as ETag returns them ("7") or
// bare (7), comma-separated.
func ifMatch(r *http.Request) (*precondition, error) {
	values := r.Header.Values("If-Match")
	if len(values) == 0 {
		return nil, nil
	}
	p := &precondition{}
	for _, v := range values {
		for _, tag := range strings.Split(v, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" {
				p.any = true
				continue
			}
			if len(tag) >= 2 && tag[0] == '"' && tag[len(tag)-1] == '"' {
				tag = tag[1 : len(tag)-1]
			}
			n, err := strconv.ParseInt(tag, 10, 64)
			if err != nil || n < 1 {
				return nil, invalid("If-Match", "must be a revision as the ETag header gives it (\"7\"), or *")
			}
			p.revisions = append(p.revisions, n)
		}
	}
	return p, nil
}

// check answers 412 when the current revision is not one p accepts.
func (p *precondition) check(what string, current int64) error {
	if p == nil || p.any {
		return nil
	}
	for _, r := range p.revisions {
		if r == current {
			return nil
		}
	}
	return &apiError{Status: http.StatusPreconditionFailed, Code: "revision_mismatch", Param: "If-Match",
		Message: fmt.Sprintf("The %s is at revision %d, not the one If-Match names: read it again and reapply the change.", what, current)}
}
