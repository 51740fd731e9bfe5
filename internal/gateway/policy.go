package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/llmux/llmux/internal/keys"
	"github.com/llmux/llmux/internal/limits"
	"github.com/llmux/llmux/internal/router"
	"github.com/llmux/llmux/internal/store"
	"github.com/llmux/llmux/internal/tokens"
	"github.com/llmux/llmux/llm"
)

// anonymous is the principal of a loopback client of a gateway that has no
// client keys at all.
var anonymous = &keys.Principal{}

// authenticate finds who the request is from. With no client keys at all,
// only loopback clients are served, whatever key they send.
func (s *Server) authenticate(r *http.Request, rc *reqCtx) error {
	if !s.keys.HasKeys() {
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err != nil || !isLoopbackHost(host) {
			return &llm.Error{Kind: llm.KindAuth, Message: "This gateway has no client keys configured and serves only its own machine."}
		}
		rc.principal = anonymous
		return nil
	}
	key := clientKey(r)
	if key == "" {
		return &llm.Error{Kind: llm.KindAuth, Code: "missing_api_key",
			Message: "You didn't provide an API key. Send it as 'Authorization: Bearer KEY' or 'x-api-key: KEY'."}
	}
	p, err := s.keys.Resolve(r.Context(), key)
	switch {
	case err == nil:
		rc.principal = p
		return nil
	case errors.Is(err, keys.ErrUnknown), errors.Is(err, keys.ErrRevoked), errors.Is(err, keys.ErrExpired),
		errors.Is(err, keys.ErrDisabled), errors.Is(err, keys.ErrTeamDisabled):
		return &llm.Error{Kind: llm.KindAuth, Code: "invalid_api_key", Message: err.Error()}
	}
	if r.Context().Err() != nil {
		return llm.AsError(r.Context().Err())
	}
	s.log.Error("checking a client key failed", "request_id", rc.id, "error", err)
	return &llm.Error{Kind: llm.KindOverloaded, Status: http.StatusServiceUnavailable, Code: "key_check_failed",
		Message: "The gateway could not check the API key just now; try again shortly."}
}

// allowed narrows the candidates to the models the key may use: all of them
// when the key may use the requested name itself (a route alias it was
// given), else those whose qualified name it may use.
func allowed(p *keys.Principal, model string, cands []router.Candidate) ([]router.Candidate, error) {
	if !p.Restricted() || p.Allows(model) {
		return cands, nil
	}
	var kept []router.Candidate
	for _, c := range cands {
		if candidateAllowed(p, c) {
			kept = append(kept, c)
		}
	}
	if len(kept) == 0 {
		return nil, &llm.Error{Kind: llm.KindPermission, Code: "model_not_allowed", Param: "model",
			Message: fmt.Sprintf("This API key may not use the model %q.", model)}
	}
	return kept, nil
}

func candidateAllowed(p *keys.Principal, c router.Candidate) bool {
	return p.Allows(c.Name) || p.Allows(c.Provider+"/"+c.Model)
}

// defaultMaxOutput bounds the output of a request that sets no limit, for
// models whose maximum the price table does not know.
const defaultMaxOutput = 4096

// admit checks the request against its key's and team's limits and
// reserves its estimated tokens and cost. The x-ratelimit-* headers go on
// the answer either way.
func (s *Server) admit(w *responseWriter, rc *reqCtx, req func() (*llm.Request, error), cands []router.Candidate) error {
	p := rc.principal
	if s.limiter == nil || !p.Limited() {
		return nil
	}
	lr := limits.Request{Key: p.ID, KeyPolicy: p.Key, Team: p.Team, TeamPolicy: p.TeamPolicy}
	if p.Metered() && req != nil {
		q, err := req()
		if err != nil {
			return err
		}
		in := tokens.Quick(q) // the tokenizer would cost ~0.2 ms per 2 KB request
		for _, c := range cands {
			out := defaultMaxOutput
			if q.MaxTokens != nil && *q.MaxTokens > 0 {
				out = *q.MaxTokens
			} else if m := rc.st.prices.MaxOutput(c.Provider, c.Model); m > 0 {
				out = m
			}
			if price, ok := rc.st.prices.Lookup(c.Provider, c.Model); ok {
				lr.Cost = max(lr.Cost, price.Cost(llm.Usage{InputTokens: in, OutputTokens: out}))
			}
			lr.Tokens = max(lr.Tokens, int64(in+out))
		}
	}
	t, err := s.limiter.Admit(context.WithoutCancel(rc.ctx), lr)
	var d *limits.Denial
	switch {
	case errors.As(err, &d):
		s.metrics.Denials.WithLabelValues(string(d.Limit)).Inc()
		rateHeaders(w.Header(), d.Limits)
		return denial(d)
	case err != nil:
		// The limiter's backend (Redis) failed: serve rather than fail every
		// request; the usage record still counts the spend.
		s.log.Error("rate limiter unavailable; admitting without limits", "request_id", rc.id, "error", err)
		s.metrics.LimiterErrors.Inc()
		return nil
	}
	rc.ticket = t
	rateHeaders(w.Header(), t.Limits)
	return nil
}

// denial is the client's error for a refusal by a limit.
func denial(d *limits.Denial) *llm.Error {
	who := "API key"
	if d.Subject.Kind == limits.KindTeam {
		who = "team"
	}
	if d.Limit == limits.LimitBudget {
		return &llm.Error{Kind: llm.KindQuota, Code: "insufficient_quota",
			Message: fmt.Sprintf("This %s has used its budget of %s; the request needs up to %s more.",
				who, limits.Money(d.Allowed), limits.Money(d.Requested))}
	}
	var msg string
	switch d.Limit {
	case limits.LimitRPM:
		msg = fmt.Sprintf("Rate limit reached: this %s may make %d requests per minute.", who, d.Allowed)
	case limits.LimitTPM:
		msg = fmt.Sprintf("Rate limit reached: this %s may use %d tokens per minute; %d are used and the request needs up to %d.",
			who, d.Allowed, d.Used, d.Requested)
	default:
		msg = fmt.Sprintf("Too many concurrent requests: this %s may have %d in flight.", who, d.Allowed)
	}
	if d.RetryAfter > 0 {
		msg += fmt.Sprintf(" Try again in %s.", d.RetryAfter.Round(time.Second))
	}
	return &llm.Error{Kind: llm.KindRateLimited, Code: "rate_limit_exceeded", Message: msg, RetryAfter: d.RetryAfter}
}

// rateHeaders sets OpenAI's x-ratelimit-* headers, which most SDKs and
// tools read whatever the protocol.
func rateHeaders(h http.Header, l limits.RateLimits) {
	set := func(dim string, win limits.Window) {
		if win.Limit <= 0 {
			return
		}
		h.Set("X-Ratelimit-Limit-"+dim, strconv.FormatInt(win.Limit, 10))
		h.Set("X-Ratelimit-Remaining-"+dim, strconv.FormatInt(max(win.Remaining, 0), 10))
		h.Set("X-Ratelimit-Reset-"+dim, resetValue(win.Reset))
	}
	set("Requests", l.Requests)
	set("Tokens", l.Tokens)
}

// resetValue formats a reset delay as OpenAI does: "1s", "6m0s", "20ms".
func resetValue(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	if d < time.Second {
		return strconv.FormatInt(max(d.Milliseconds(), 1), 10) + "ms"
	}
	return d.Round(time.Second).String()
}

// maxCapture bounds what a stream keeps of its delivered output, for
// counting tokens when the upstream reports none and for content logging.
const maxCapture = 64 << 10

// capture keeps the start of a stream's delivered output: raw frames on the
// passthrough path, text on the translated path. It fills pooled 4 KB
// blocks, so that it neither copies on growth nor holds more than what was
// delivered; release returns them.
type capture struct {
	blocks    []*[]byte
	kept      int  // bytes kept, at most maxCapture
	total     int  // bytes offered, kept or not
	frames    bool // the blocks hold raw frames of the client's protocol
	truncated bool
}

// A stream's first block is small, since a slow stream holds it for long;
// the next ones are larger.
const (
	captureFirst = 1 << 10
	captureBlock = 4 << 10
)

var (
	captureFirstPool = sync.Pool{New: func() any { b := make([]byte, 0, captureFirst); return &b }}
	capturePool      = sync.Pool{New: func() any { b := make([]byte, 0, captureBlock); return &b }}
)

func (c *capture) add(b []byte) { captureAdd(c, b) }

func captureAdd[T string | []byte](c *capture, b T) {
	c.total += len(b)
	for len(b) > 0 && c.kept < maxCapture {
		var blk *[]byte
		if n := len(c.blocks); n > 0 && len(*c.blocks[n-1]) < cap(*c.blocks[n-1]) {
			blk = c.blocks[n-1]
		} else {
			pool := &capturePool
			if n == 0 {
				pool = &captureFirstPool
			}
			blk = pool.Get().(*[]byte)
			*blk = (*blk)[:0]
			c.blocks = append(c.blocks, blk)
		}
		n := min(cap(*blk)-len(*blk), len(b), maxCapture-c.kept)
		*blk = append(*blk, b[:n]...)
		b = b[n:]
		c.kept += n
	}
	c.truncated = c.total > c.kept
}

// addEvent keeps what an event adds to the answer's text.
func (c *capture) addEvent(ev *llm.Event) {
	name, text := eventText(ev)
	captureAdd(c, name)
	captureAdd(c, text)
}

// bytes returns what was kept, in one slice.
func (c *capture) bytes() []byte {
	out := make([]byte, 0, c.kept)
	for _, b := range c.blocks {
		out = append(out, *b...)
	}
	return out
}

// release returns the blocks to the pool.
func (c *capture) release() {
	for i, b := range c.blocks {
		if i == 0 {
			captureFirstPool.Put(b)
		} else {
			capturePool.Put(b)
		}
	}
	c.blocks, c.kept = nil, 0
}

// text returns the delivered text: the frames decoded by the client
// protocol's own stream decoder, or the text kept.
func (s *Server) capturedText(rc *reqCtx) string {
	c := &rc.capture
	if !c.frames {
		return string(c.bytes())
	}
	eg, ok := s.reg.Egress(rc.ing.ID())
	if !ok {
		return ""
	}
	st := eg.NewStreamDecoder(io.NopCloser(bytes.NewReader(c.bytes())))
	defer st.Close()
	var b []byte
	for {
		ev, err := st.Next()
		if err != nil {
			break
		}
		b = appendEventText(b, &ev)
	}
	return string(b)
}

// appendEventText appends what an event adds to the answer's text.
func appendEventText(b []byte, ev *llm.Event) []byte {
	name, text := eventText(ev)
	return append(append(b, name...), text...)
}

// eventText is what an event adds to the answer's text: a tool call's name
// and its first arguments, or a delta.
func eventText(ev *llm.Event) (name, text string) {
	switch ev.Type {
	case llm.EventText, llm.EventRefusal, llm.EventReasoning, llm.EventToolArgs:
		return "", ev.Text
	case llm.EventToolCall:
		return ev.Name, ev.Text
	}
	return "", ""
}

// responseText is the text of a complete answer, for content logging and
// token estimates.
func responseText(resp *llm.Response) string {
	var b []byte
	for i := range resp.Choices {
		for _, p := range resp.Choices[i].Message.Parts {
			switch p.Type {
			case llm.PartText, llm.PartRefusal, llm.PartReasoning:
				b = append(b, p.Text...)
			case llm.PartToolCall:
				if p.ToolCall != nil {
					b = append(append(b, p.ToolCall.Name...), p.ToolCall.Arguments...)
				}
			}
		}
	}
	return string(b)
}

// account completes the request's usage while its body is at hand: when
// the upstream reported no usage for an answer that was (partly) delivered,
// the tokens are counted with the tokenizer and marked estimated; with
// content logging on, prompt and completion are kept.
func (s *Server) account(rc *reqCtx, c *chatCall) {
	defer rc.capture.release()
	delivered := rc.ttft > 0 || rc.capture.total > 0 || rc.completion != ""
	needEstimate := !rc.hasUsage && delivered
	if !needEstimate && !rc.st.logContent {
		return
	}
	text := rc.completion
	if text == "" {
		text = s.capturedText(rc)
	}
	if needEstimate {
		in := 0
		if req, err := c.decoded(); err == nil {
			in = tokens.Request(req)
		}
		out := tokens.Text(text)
		if rc.capture.truncated && rc.capture.kept > 0 {
			out = int(int64(out) * int64(rc.capture.total) / int64(rc.capture.kept))
		}
		rc.usage, rc.hasUsage = llm.Usage{InputTokens: in, OutputTokens: out, Estimated: true}, true
	}
	if rc.st.logContent {
		rc.prompt = string(c.body)
		rc.completion = text
	}
}

// settle ends the request's admission with what it really used, and
// queues its usage record.
func (s *Server) settle(rc *reqCtx, status int, latency time.Duration) {
	var cost limits.Money
	if rc.hasUsage && rc.provider != "" {
		if price, ok := rc.st.prices.Lookup(rc.provider, rc.upstreamModel); ok {
			cost = price.Cost(rc.usage)
			s.metrics.CostUSD.WithLabelValues(rc.provider).Add(cost.Dollars())
		}
	}
	if t := rc.ticket; t != nil {
		rc.ticket = nil
		ctx := context.WithoutCancel(rc.ctx)
		var err error
		if rc.attempts > 0 {
			err = s.limiter.Settle(ctx, t, limits.Usage{Tokens: int64(rc.usage.Total()), Cost: cost})
		} else {
			err = s.limiter.Release(ctx, t)
		}
		if err != nil {
			s.log.Error("settling a request with the rate limiter failed", "request_id", rc.id, "error", err)
			s.metrics.LimiterErrors.Inc()
		}
	}
	if !rc.record || s.usage == nil {
		return
	}
	rec := store.UsageRecord{
		Time: rc.start, RequestID: rc.id, KeyID: rc.principal.ID, TeamID: rc.principal.Team,
		RequestedModel: rc.model, Provider: rc.provider, UpstreamModel: rc.upstreamModel,
		ProtocolIn: rc.ing.ID(), ProtocolOut: rc.protocolOut,
		CostUSD: cost.Dollars(), Latency: latency, TTFT: rc.ttft,
		Status: status, Attempts: rc.attempts, Estimated: rc.usage.Estimated,
		Prompt: rc.prompt, Completion: rc.completion,
	}
	if rc.hasUsage {
		u := rc.usage
		rec.InputTokens, rec.OutputTokens = int64(u.InputTokens), int64(u.OutputTokens)
		rec.CachedTokens, rec.ReasoningTokens = int64(u.CachedTokens), int64(u.ReasoningTokens)
	}
	if rc.err != nil {
		rec.ErrorType = string(rc.err.Kind)
	}
	s.usage.Add(rec)
}
