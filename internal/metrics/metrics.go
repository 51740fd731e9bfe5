// Package metrics defines llmux's Prometheus collectors. Metric names are
// llmux_<subsystem>_<name>, the subsystem being the package that records
// them. Every collector lives in one registry owned by a Metrics value (no
// global registration), so that tests and several servers in one process do
// not collide.
//
// Labels are bounded: protocol and provider ids come from the
// configuration, and model names (which for providers without a model list
// come from clients) are capped at MaxModels distinct values per Metrics,
// later ones counting as "other".
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors and their registry.
type Metrics struct {
	reg *prometheus.Registry

	// Requests counts finished client requests by ingress protocol,
	// provider ("" when none was reached) and status code.
	Requests *prometheus.CounterVec
	// Duration observes request durations in seconds by protocol, provider
	// and whether the request streamed.
	Duration *prometheus.HistogramVec
	// TTFT observes the time to the first streamed token, by provider.
	TTFT *prometheus.HistogramVec
	// Tokens counts tokens by provider, upstream model and direction
	// (input, output, cached, reasoning).
	Tokens *prometheus.CounterVec
	// Attempts counts upstream attempts by provider and outcome (ok, or
	// the error kind).
	Attempts *prometheus.CounterVec
	// InFlight is the number of requests being served.
	InFlight prometheus.Gauge
	// Denials counts requests refused by a key's or team's limit, by limit
	// (rpm, tpm, concurrency, budget).
	Denials *prometheus.CounterVec
	// LimiterErrors counts failed calls to the limiter's backend (Redis).
	LimiterErrors prometheus.Counter
	// CostUSD sums the computed cost of requests, by provider.
	CostUSD *prometheus.CounterVec

	mu     sync.Mutex
	models map[string]struct{}
}

// MaxModels caps the distinct model label values.
const MaxModels = 500

// modelLabel returns model if it may be a label value, else "other".
func (m *Metrics) modelLabel(model string) string {
	if len(model) > 128 {
		return "other"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.models[model]; ok {
		return model
	}
	if len(m.models) >= MaxModels {
		return "other"
	}
	m.models[model] = struct{}{}
	return model
}

// New returns a fresh set of collectors, with Go runtime and process
// collectors included.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), models: map[string]struct{}{}}
	m.Requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "llmux_gateway_requests_total", Help: "Client requests served, by ingress protocol, provider and status code.",
	}, []string{"protocol", "provider", "code"})
	m.Duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "llmux_gateway_request_duration_seconds", Help: "Time from request to the end of the response.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
	}, []string{"protocol", "provider", "stream"})
	m.TTFT = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "llmux_gateway_time_to_first_token_seconds", Help: "Time from request to the first streamed token.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2, 5, 10, 30},
	}, []string{"provider"})
	m.Tokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "llmux_gateway_tokens_total", Help: "Tokens processed, by provider, upstream model and kind.",
	}, []string{"provider", "model", "kind"})
	m.Attempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "llmux_gateway_upstream_attempts_total", Help: "Upstream attempts, by provider and outcome.",
	}, []string{"provider", "outcome"})
	m.InFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "llmux_gateway_requests_in_flight", Help: "Requests being served now.",
	})
	m.Denials = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "llmux_gateway_limit_denials_total", Help: "Requests refused by a key's or team's limit, by limit.",
	}, []string{"limit"})
	m.LimiterErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "llmux_gateway_limiter_errors_total", Help: "Failed calls to the rate limiter's backend; requests were admitted without limits.",
	})
	m.CostUSD = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "llmux_gateway_cost_usd_total", Help: "Computed cost of requests in US dollars, by provider.",
	}, []string{"provider"})
	m.reg.MustRegister(m.Requests, m.Duration, m.TTFT, m.Tokens, m.Attempts, m.InFlight, m.Denials, m.LimiterErrors, m.CostUSD,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Request records one finished request.
func (m *Metrics) Request(protocol, provider string, code int, stream bool, d time.Duration) {
	m.Requests.WithLabelValues(protocol, provider, strconv.Itoa(code)).Inc()
	m.Duration.WithLabelValues(protocol, provider, strconv.FormatBool(stream)).Observe(d.Seconds())
}

// Usage records the tokens of one request.
func (m *Metrics) Usage(provider, model string, input, output, cached, reasoning int) {
	model = m.modelLabel(model)
	add := func(kind string, n int) {
		if n > 0 {
			m.Tokens.WithLabelValues(provider, model, kind).Add(float64(n))
		}
	}
	add("input", input)
	add("output", output)
	add("cached", cached)
	add("reasoning", reasoning)
}
