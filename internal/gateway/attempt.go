package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/provider"
	"github.com/llmux/llmux/internal/router"
	"github.com/llmux/llmux/llm"
)

// Defaults of the attempt loop.
const defaultMaxAttempts = 4

// defaultRetryStatuses are the upstream statuses worth trying elsewhere.
var defaultRetryStatuses = []int{408, 409, 429, 500, 502, 503, 504, 529}

// retryPolicy is the attempt loop's configuration for one snapshot.
type retryPolicy struct {
	maxAttempts int
	timeout     time.Duration
	statuses    [600]bool
}

func newRetryPolicy(c config.Retry) retryPolicy {
	p := retryPolicy{maxAttempts: c.MaxAttempts, timeout: c.Timeout.Std()}
	if p.maxAttempts == 0 {
		p.maxAttempts = defaultMaxAttempts
	}
	statuses := c.Statuses
	if len(statuses) == 0 {
		statuses = defaultRetryStatuses
	}
	for _, s := range statuses {
		p.statuses[s] = true
	}
	return p
}

// retryable reports whether another candidate may succeed where this one
// failed: connection failures and timeouts always, upstream statuses when
// configured; problems with the request itself never.
func (p *retryPolicy) retryable(e *llm.Error) bool {
	switch e.Kind {
	case llm.KindCanceled:
		return false
	case llm.KindTimeout:
		return true
	case llm.KindUpstream:
		if e.Status == 0 {
			return true // no answer at all: connection refused, reset, bad body
		}
	}
	if e.Code == provider.CodeUnavailable {
		return true
	}
	s := e.HTTPStatus()
	return s > 0 && s < len(p.statuses) && p.statuses[s]
}

// tryFunc makes one attempt at a candidate, under r's context (which the
// route's deadline may cancel). It reports whether anything was written to
// the client: after that, no other candidate may be tried.
type tryFunc func(r *http.Request, c router.Candidate, p provider.Provider) (wrote bool, err error)

// errDeadline cancels the attempts of a request whose retry timeout passed
// before its answer started.
var errDeadline = errors.New("retry deadline")

// attempt walks the candidates for model until one succeeds, a failure is
// not worth retrying, the attempts or the time run out, or the response has
// started. A rate-limited or refused key makes the same candidate be tried
// again while its provider has another usable key; a context-window or
// content-filter failure jumps to the route's special fallback.
func (s *Server) attempt(w *responseWriter, r *http.Request, rc *reqCtx, model string, cands []router.Candidate, try tryFunc) error {
	opts := rc.st.router.Options(model)
	pol := &rc.st.retry
	maxAttempts, timeout := pol.maxAttempts, pol.timeout
	if opts.MaxAttempts > 0 {
		maxAttempts = opts.MaxAttempts
	}
	if opts.Timeout > 0 {
		timeout = opts.Timeout
	}
	if timeout > 0 {
		var stop func()
		r, stop = withDeadline(w, r, timeout-time.Since(rc.start))
		defer stop()
	}
	var f failures
	f.timeout = timeout
	for i := 0; i < len(cands); i++ {
		c := cands[i]
		if err := r.Context().Err(); err != nil {
			return f.stopped(r, err)
		}
		if rc.attempts >= maxAttempts {
			break
		}
		prov, ok := rc.st.providers[c.Provider]
		if !ok {
			continue
		}
		if p := rc.principal; p != nil && p.Restricted() && !p.Allows(model) && !candidateAllowed(p, c) {
			continue // a route's special fallback outside the key's allow-list
		}
		rc.attempts++
		rc.provider, rc.upstreamModel = c.Provider, c.Model
		rc.protocolOut = protocolOf(prov)
		wrote, err := try(r, c, prov)
		if err == nil {
			s.metrics.Attempts.WithLabelValues(c.Provider, "ok").Inc()
			return nil
		}
		var stop error
		if i, cands, stop = s.failed(r, rc, &f, &opts, pol, cands, i, prov, wrote, err); stop != nil {
			return stop
		}
	}
	return f.result()
}

// withDeadline returns r under a context canceled with errDeadline when d
// passes before the response started, and the function that releases it.
// The deadline bounds the attempts, not the answer: once the first byte
// went out, a stream runs to its end.
func withDeadline(w *responseWriter, r *http.Request, d time.Duration) (*http.Request, func()) {
	ctx, cancel := context.WithCancelCause(r.Context())
	t := time.AfterFunc(d, func() {
		if !w.started.Load() {
			cancel(errDeadline)
		}
	})
	return r.WithContext(ctx), func() {
		t.Stop()
		cancel(nil)
	}
}

// failures is what attempt knows of the candidates that failed so far.
type failures struct {
	last                    *llm.Error
	failed, skipped         int
	usedContext, usedFilter bool
	timeout                 time.Duration
}

func (f *failures) deadline() *llm.Error {
	return &llm.Error{Kind: llm.KindTimeout, Message: fmt.Sprintf("no upstream answered within %s", f.timeout)}
}

// stopped is the error of attempts ended by r's context.
func (f *failures) stopped(r *http.Request, err error) error {
	if errors.Is(context.Cause(r.Context()), errDeadline) {
		return f.deadline()
	}
	return llm.AsError(err)
}

// result is the error once no candidate is left to try.
func (f *failures) result() error {
	if f.last == nil {
		return &llm.Error{Kind: llm.KindUpstream, Message: "no provider is available for this model"}
	}
	if n := f.failed + f.skipped; n > 1 {
		e := *f.last
		e.Message = fmt.Sprintf("all %d upstream candidates failed; the last one said: %s", n, e.Message)
		return &e
	}
	return f.last
}

// failed handles the failure err of the attempt at cands[i] and says what
// comes next: the index and candidates to go on with, or the error that
// ends the attempts.
func (s *Server) failed(r *http.Request, rc *reqCtx, f *failures, opts *router.Options, pol *retryPolicy,
	cands []router.Candidate, i int, prov provider.Provider, wrote bool, err error) (int, []router.Candidate, error) {
	c := cands[i]
	e := llm.AsError(err)
	if wrote {
		s.metrics.Attempts.WithLabelValues(c.Provider, string(e.Kind)).Inc()
		return i, cands, errAborted
	}
	if e.Kind == llm.KindCanceled {
		if errors.Is(context.Cause(r.Context()), errDeadline) {
			s.log.Info("attempt failed", "request_id", rc.id, "provider", c.Provider, "model", c.Model,
				"attempt", rc.attempts, "kind", llm.KindTimeout, "error", "the request's retry timeout passed", "next", "give up")
			return i, cands, f.deadline()
		}
		return i, cands, e
	}
	if e.Code == provider.CodeUnavailable {
		// Refused without calling the upstream (open breaker, every key
		// cooling down): not an attempt, but the reason stays.
		rc.attempts--
		f.skipped++
		s.metrics.Attempts.WithLabelValues(c.Provider, "skipped").Inc()
	} else {
		f.failed++
		s.metrics.Attempts.WithLabelValues(c.Provider, string(e.Kind)).Inc()
	}
	f.last = e
	next := "give up"
	switch {
	case opts.Context != nil && !f.usedContext && contextExceeded(e):
		f.usedContext = true
		cands = insertAfter(cands, i, *opts.Context)
		next = "context fallback " + opts.Context.Name
	case opts.Filter != nil && !f.usedFilter && contentFiltered(e):
		f.usedFilter = true
		cands = insertAfter(cands, i, *opts.Filter)
		next = "content-filter fallback " + opts.Filter.Name
	case !pol.retryable(e):
	case sameAgain(prov, e):
		i-- // the provider has another key to try
		next = "another key"
	case i+1 < len(cands):
		next = "next candidate"
	default:
		next = "no candidate left" // the summary below says how many failed
	}
	s.log.Info("attempt failed", "request_id", rc.id, "provider", c.Provider, "model", c.Model,
		"attempt", rc.attempts, "kind", e.Kind, "status", e.HTTPStatus(), "code", e.Code, "error", e.Message, "next", next)
	if next == "give up" {
		return i, cands, e
	}
	return i, cands, nil
}

// sameAgain reports whether the failure was one key's (rate limit, refused
// credentials) and the provider still has a key to try.
func sameAgain(p provider.Provider, e *llm.Error) bool {
	kp, ok := p.(provider.KeyPooled)
	if !ok {
		return false
	}
	if e.Kind != llm.KindRateLimited && e.Code != provider.CodeCredentialsRefused {
		return false
	}
	return kp.KeysAvailable() > 0
}

func insertAfter(cs []router.Candidate, i int, c router.Candidate) []router.Candidate {
	out := make([]router.Candidate, 0, len(cs)+1)
	out = append(out, cs[:i+1]...)
	out = append(out, c)
	return append(out, cs[i+1:]...)
}

// contextExceeded recognises the vendors' ways of saying that a request is
// too long for the model's context window.
func contextExceeded(e *llm.Error) bool {
	switch e.Code {
	case "context_length_exceeded", "string_above_max_length", "context_window_exceeded":
		return true
	}
	if e.Kind != llm.KindInvalidRequest && e.Kind != llm.KindTooLarge {
		return false
	}
	m := strings.ToLower(e.Message)
	for _, s := range []string{"context length", "context window", "maximum context", "prompt is too long",
		"input is too long", "exceeds the maximum number of tokens", "too many tokens", "input token count"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// contentFiltered recognises a refusal by the vendor's content filter.
func contentFiltered(e *llm.Error) bool {
	switch e.Code {
	case "content_filter", "content_policy_violation", "content_filtered", "responsible_ai_policy_violation":
		return true
	}
	m := strings.ToLower(e.Message)
	return strings.Contains(m, "content management policy") || strings.Contains(m, "content filter") ||
		strings.Contains(m, "safety system")
}

// protocolOf names the protocol a provider speaks upstream, for usage
// records: the registry ID, or "mock" for the built-in mock.
func protocolOf(p provider.Provider) string {
	if pp, ok := p.(interface{ Protocol() string }); ok {
		return pp.Protocol()
	}
	return provider.MockType
}
