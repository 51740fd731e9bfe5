package gateway

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	"google.golang.org/genai"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/keys"
	"github.com/llmux/llmux/internal/limits"
	"github.com/llmux/llmux/internal/store"
	"github.com/llmux/llmux/internal/store/testdb"
	"github.com/llmux/llmux/internal/tokens"
	"github.com/llmux/llmux/internal/usage"
)

// policyEnv is a gateway with the whole policy stack on real parts: a
// SQLite store, the key resolver, the in-memory limiter and the usage
// writer, in front of an upstream replaying recorded OpenAI answers.
type policyEnv struct {
	ts  *httptest.Server
	srv *Server
	st  store.Store
	res *keys.Resolver
	w   *usage.Writer
	up  *upstream
}

// Prices in the test configuration: the chat-text fixture reports 8 input
// and 9 output tokens, so a request costs 8*1 + 9*2 = 26 µ$ × 1000 = $0.026.
const policyYAML = `
keys: [sk-static]
log_content: %CONTENT%
pricing:
  gpt-4o-mini: { input: 1000, output: 2000 }
providers:
  openai:
    type: openai
    base_url: ${UPSTREAM}/v1
    api_key: sk-up
    models: [gpt-4o-mini]
`

const requestCost = 0.026

func newPolicyEnv(t *testing.T, logContent bool) *policyEnv {
	t.Helper()
	e := &policyEnv{up: newUpstream(t)}
	e.st, _ = testdb.Open(t, "sqlite")
	yaml := strings.ReplaceAll(strings.ReplaceAll(policyYAML, "${UPSTREAM}", e.up.URL), "%CONTENT%", map[bool]string{true: "true", false: "false"}[logContent])
	cfg, err := config.Parse("test.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	e.res = keys.New(e.st, keys.Options{})
	e.w = usage.NewWriter(e.st, usage.WriterOptions{FlushInterval: 10 * time.Millisecond, LogContent: logContent})
	t.Cleanup(func() { e.w.Close(context.Background()) })
	e.srv, err = New(cfg, Options{Registry: registry(), Keys: e.res, Limiter: limits.NewMemory(limits.Options{}), Usage: e.w, Settings: e.st})
	if err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(e.srv)
	t.Cleanup(e.ts.Close)
	return e
}

// key creates a virtual key and makes the gateway see it.
func (e *policyEnv) key(t *testing.T, k store.VirtualKey) (string, store.VirtualKey) {
	t.Helper()
	sec := keys.NewSecret()
	k.Hash, k.Prefix, k.Enabled = sec.Hash, sec.Prefix, true
	if k.Name == "" {
		k.Name = t.Name()
	}
	k, err := e.st.CreateKey(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.res.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	return sec.Raw, k
}

// records returns the stored records, newest first, once there are n: a
// record is queued when its request's handler returns, which may be a
// moment after the client has read the whole answer.
func (e *policyEnv) records(t *testing.T, n int) []store.UsageRecord {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := e.w.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		recs, err := e.st.ListUsage(context.Background(), store.ListQuery{WithContent: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) >= n || time.Now().After(deadline) {
			return recs
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// client is the OpenAI SDK on the gateway, addressable for its methods.
func client(ts *httptest.Server, key string) *openai.Client {
	c := sdk(ts, key)
	return &c
}

func (e *policyEnv) anthropic(key string) *anthropic.Client {
	c := anthropic.NewClient(aoption.WithoutEnvironmentDefaults(), aoption.WithBaseURL(e.ts.URL),
		aoption.WithAPIKey(key), aoption.WithMaxRetries(0), aoption.WithHTTPClient(e.ts.Client()))
	return &c
}

func (e *policyEnv) gemini(t *testing.T, key string) *genai.Client {
	c, err := genai.NewClient(context.Background(), &genai.ClientConfig{APIKey: key, Backend: genai.BackendGeminiAPI,
		HTTPClient: e.ts.Client(), HTTPOptions: genai.HTTPOptions{BaseURL: e.ts.URL + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestVirtualKeysAuthenticate(t *testing.T) {
	e := newPolicyEnv(t, false)
	ctx := context.Background()
	raw, k := e.key(t, store.VirtualKey{})
	if _, err := client(e.ts, raw).Chat.Completions.New(ctx, chatParams("openai/gpt-4o-mini")); err != nil {
		t.Fatalf("virtual key: %v", err)
	}
	if _, err := client(e.ts, "sk-static").Chat.Completions.New(ctx, chatParams("openai/gpt-4o-mini")); err != nil {
		t.Fatalf("static key next to virtual ones: %v", err)
	}
	if _, err := e.st.RevokeKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	e.res.Sync(ctx)
	_, err := client(e.ts, raw).Chat.Completions.New(ctx, chatParams("openai/gpt-4o-mini"))
	var oe *openai.Error
	if !errors.As(err, &oe) || oe.StatusCode != 401 || !strings.Contains(oe.Message, "revoked") {
		t.Fatalf("revoked key: %v", err)
	}
	if strings.Contains(oe.RawJSON(), raw) {
		t.Error("the error echoes the key")
	}
	// A client key is no admin key.
	resp, _ := send(t, e.ts, http.MethodGet, "/admin/api/health", "", map[string]string{"Authorization": "Bearer sk-static"})
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("client key on the admin API: %d", resp.StatusCode)
	}
}

func TestModelAllowList(t *testing.T) {
	e := newPolicyEnv(t, false)
	ctx := context.Background()
	raw, _ := e.key(t, store.VirtualKey{Models: []string{"openai/gpt-4o*"}})
	if _, err := client(e.ts, raw).Chat.Completions.New(ctx, chatParams("gpt-4o-mini")); err != nil {
		t.Fatalf("bare name of an allowed model: %v", err)
	}
	_, err := e.anthropic(raw).Messages.New(ctx, messageParams("mock/echo"))
	var ae *anthropic.Error
	if !errors.As(err, &ae) || ae.StatusCode != 403 || !strings.Contains(ae.RawJSON(), `"permission_error"`) {
		t.Fatalf("model outside the allow-list, Anthropic client: %v", err)
	}
	resp, body := postRaw(t, e.ts, "/v1/chat/completions", raw, `{"model":"mock/echo","messages":[{"role":"user","content":"hi"}]}`)
	if eb := decodeError(t, body); resp.StatusCode != 403 || eb.Error.Param == nil || *eb.Error.Param != "model" {
		t.Errorf("OpenAI client: %d %s", resp.StatusCode, body)
	}
	if e.up.count() != 1 {
		t.Errorf("the upstream got %d requests, want only the allowed one", e.up.count())
	}
	// The model list shows what the key may use, and nothing else.
	page, err := client(e.ts, raw).Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
	}
	if len(ids) == 0 || slices.ContainsFunc(ids, func(id string) bool { return strings.HasPrefix(id, "mock/") }) {
		t.Errorf("models listed for a key allowed openai/gpt-4o*: %v", ids)
	}
}

func TestRateLimitInEveryProtocol(t *testing.T) {
	e := newPolicyEnv(t, false)
	ctx := context.Background()
	raw, _ := e.key(t, store.VirtualKey{Limits: store.Limits{RPM: 2}})
	resp, body := postRaw(t, e.ts, "/v1/chat/completions", raw, `{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 || resp.Header.Get("X-Ratelimit-Limit-Requests") != "2" || resp.Header.Get("X-Ratelimit-Remaining-Requests") != "1" {
		t.Fatalf("first request: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if _, err := client(e.ts, raw).Chat.Completions.New(ctx, chatParams("openai/gpt-4o-mini")); err != nil {
		t.Fatal(err)
	}

	resp, body = postRaw(t, e.ts, "/v1/chat/completions", raw, `{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`)
	eb := decodeError(t, body)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-Ratelimit-Remaining-Requests") != "0" ||
		eb.Error.Code == nil || *eb.Error.Code != "rate_limit_exceeded" {
		t.Errorf("OpenAI refusal: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	_, err := e.anthropic(raw).Messages.New(ctx, messageParams("openai/gpt-4o-mini"))
	var ae *anthropic.Error
	if !errors.As(err, &ae) || ae.StatusCode != 429 || !strings.Contains(ae.RawJSON(), `"rate_limit_error"`) {
		t.Errorf("Anthropic refusal: %v", err)
	}
	_, err = e.gemini(t, raw).Models.GenerateContent(ctx, "openai/gpt-4o-mini", genai.Text("hi"), nil)
	var ge genai.APIError
	if !errors.As(err, &ge) || ge.Code != 429 || ge.Status != "RESOURCE_EXHAUSTED" {
		t.Errorf("Gemini refusal: %v", err)
	}
	if e.up.count() != 2 {
		t.Errorf("the upstream got %d requests, want 2", e.up.count())
	}
	recs := e.records(t, 5)
	refused := 0
	for _, r := range recs {
		if r.Status == 429 && r.ErrorType == "rate_limited" && r.Attempts == 0 {
			refused++
		}
	}
	if len(recs) != 5 || refused != 3 {
		t.Errorf("records: %d, refused %d; want 5 and 3", len(recs), refused)
	}
}

// TestBudget: concurrent requests against a budget; the spend recorded
// never passes it (every estimate is above the real cost, so the bound of
// internal/limits is the budget itself), and an exhausted budget answers
// in each client's own words.
func TestBudget(t *testing.T) {
	e := newPolicyEnv(t, false)
	ctx := context.Background()
	const budget = 0.2
	raw, k := e.key(t, store.VirtualKey{Limits: store.Limits{BudgetUSD: budget, BudgetPeriod: store.PeriodTotal}})
	var (
		mu        sync.Mutex
		ok, quota int
		wg        sync.WaitGroup
	)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				p := chatParams("openai/gpt-4o-mini")
				p.MaxTokens = openai.Int(10) // estimate: 7 input tokens counted + 10 = $0.027, above the real $0.026
				_, err := client(e.ts, raw).Chat.Completions.New(ctx, p)
				var oe *openai.Error
				mu.Lock()
				switch {
				case err == nil:
					ok++
				case errors.As(err, &oe) && oe.StatusCode == 429 && oe.Code == "insufficient_quota" && oe.Type == "insufficient_quota":
					quota++
				default:
					t.Errorf("unexpected: %v", err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// Reservations may have refused some requests early; sequential ones
	// use what is left.
	for {
		p := chatParams("openai/gpt-4o-mini")
		p.MaxTokens = openai.Int(10)
		if _, err := client(e.ts, raw).Chat.Completions.New(ctx, p); err != nil {
			break
		}
		ok++
	}
	recs := e.records(t, ok+quota)
	spent := 0.0
	for _, r := range recs {
		if r.KeyID != k.ID {
			t.Errorf("record of key %q", r.KeyID)
		}
		spent += r.CostUSD
	}
	const wantServed = 7 // after 7, $0.182 + the next estimate of $0.027 is over $0.20
	if quota == 0 || spent > budget+1e-9 || ok != wantServed {
		t.Errorf("%d served, %d refused, $%.4f recorded of $%.2f; want %d served", ok, quota, spent, budget, wantServed)
	}
	_, err := e.anthropic(raw).Messages.New(ctx, messageParams("openai/gpt-4o-mini"))
	var ae *anthropic.Error
	if !errors.As(err, &ae) || ae.StatusCode != 402 || !strings.Contains(ae.RawJSON(), `"billing_error"`) || !strings.Contains(ae.RawJSON(), "budget") {
		t.Errorf("Anthropic client, budget exhausted: %v", err)
	}
	_, err = e.gemini(t, raw).Models.GenerateContent(ctx, "openai/gpt-4o-mini", genai.Text("hi"), nil)
	var ge genai.APIError
	if !errors.As(err, &ge) || ge.Code != 429 || ge.Status != "RESOURCE_EXHAUSTED" {
		t.Errorf("Gemini client, budget exhausted: %v", err)
	}
}

func TestUsageRecords(t *testing.T) {
	e := newPolicyEnv(t, false)
	ctx := context.Background()
	team, _ := e.st.CreateTeam(ctx, store.Team{Name: "ml", Enabled: true})
	raw, k := e.key(t, store.VirtualKey{TeamID: team.ID})
	if _, err := client(e.ts, raw).Chat.Completions.New(ctx, chatParams("openai/gpt-4o-mini")); err != nil {
		t.Fatal(err)
	}
	stream := client(e.ts, raw).Chat.Completions.NewStreaming(ctx, chatParams("openai/gpt-4o-mini"))
	for stream.Next() {
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.anthropic(raw).Messages.New(ctx, messageParams("openai/gpt-4o-mini")); err != nil {
		t.Fatal(err)
	}
	recs := e.records(t, 3)
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	for i, r := range recs {
		if r.KeyID != k.ID || r.TeamID != team.ID || r.RequestedModel != "openai/gpt-4o-mini" || r.Provider != "openai" ||
			r.UpstreamModel != "gpt-4o-mini" || r.ProtocolOut != "openai" || r.Status != 200 || r.Attempts != 1 ||
			r.RequestID == "" || r.Latency <= 0 || r.Estimated || r.Prompt != "" || r.Completion != "" {
			t.Errorf("record %d: %+v", i, r)
		}
		if r.InputTokens == 0 || r.OutputTokens == 0 || r.CostUSD <= 0 {
			t.Errorf("record %d has no usage or cost: %+v", i, r)
		}
	}
	if recs[0].ProtocolIn != "anthropic" || recs[1].ProtocolIn != "openai" || recs[1].TTFT <= 0 {
		t.Errorf("newest first: anthropic, then the stream with a TTFT: %+v %+v", recs[0], recs[1])
	}
	if recs[2].InputTokens != 8 || recs[2].OutputTokens != 9 || recs[2].CostUSD < requestCost-1e-9 || recs[2].CostUSD > requestCost+1e-9 {
		t.Errorf("the fixture's usage and cost: %+v", recs[2])
	}
}

// TestCutStreamIsEstimated: an upstream stream that breaks off before its
// usage chunk is billed for what the client got, counted with the
// tokenizer and marked estimated.
func TestCutStreamIsEstimated(t *testing.T) {
	e := newPolicyEnv(t, false)
	ctx := context.Background()
	raw, _ := e.key(t, store.VirtualKey{})
	events := [][]byte{}
	sc := bufio.NewScanner(strings.NewReader(string(fixture(t, "openai/chat-text.stream.body.sse"))))
	var cur []byte
	for sc.Scan() {
		cur = append(cur, sc.Bytes()...)
		cur = append(cur, '\n')
		if sc.Text() == "" {
			events = append(events, cur)
			cur = nil
		}
	}
	e.up.handle = func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range events[:len(events)-3] { // no finish, no usage, no [DONE]
			w.Write(ev)
		}
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler) // the connection breaks
	}
	stream := client(e.ts, raw).Chat.Completions.NewStreaming(ctx, chatParams("openai/gpt-4o-mini"))
	var got strings.Builder
	for stream.Next() {
		for _, c := range stream.Current().Choices {
			got.WriteString(c.Delta.Content)
		}
	}
	if got.Len() == 0 {
		t.Fatal("the client got no text before the break")
	}
	recs := e.records(t, 1)
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	// The gateway keeps the first 64 KiB of the delivered frames and scales
	// the count of their text up by bytes; this 100 KB stream's estimate is
	// therefore within a few tokens of the count of all it delivered.
	want := int64(tokens.Text(got.String()))
	if !r.Estimated || r.OutputTokens < want*98/100 || r.OutputTokens > want*102/100 || r.InputTokens == 0 || r.CostUSD <= 0 {
		t.Errorf("record %+v; want estimated with about %d output tokens for %q", r, want, got.String())
	}
}

func TestLogContent(t *testing.T) {
	e := newPolicyEnv(t, true)
	raw, _ := e.key(t, store.VirtualKey{})
	if _, err := client(e.ts, raw).Chat.Completions.New(context.Background(), chatParams("openai/gpt-4o-mini")); err != nil {
		t.Fatal(err)
	}
	recs := e.records(t, 1)
	if len(recs) != 1 || !strings.Contains(recs[0].Prompt, `"hi"`) || recs[0].Completion != "Hello! How can I assist you today?" {
		t.Errorf("content: %+v", recs)
	}
}

// TestRuntimeConfig: a route added through the admin API serves at once,
// is refused when it names an unknown provider, and reaches a second
// instance sharing the store.
func TestRuntimeConfig(t *testing.T) {
	e := newPolicyEnv(t, false)
	ctx := context.Background()
	raw, _ := e.key(t, store.VirtualKey{})
	admin := map[string]string{} // loopback without an admin key
	resp, body := send(t, e.ts, http.MethodPut, "/admin/api/routes/fast", `{"targets":[{"model":"nope/x"}]}`, admin)
	if eb := decodeError(t, body); resp.StatusCode != 400 || eb.Error.Param == nil || !strings.HasPrefix(*eb.Error.Param, "routes.fast.targets") {
		t.Errorf("bad route: %d %s", resp.StatusCode, body)
	}
	resp, body = send(t, e.ts, http.MethodPut, "/admin/api/routes/fast", `{"targets":[{"model":"openai/gpt-4o-mini"}]}`, admin)
	if resp.StatusCode != 200 {
		t.Fatalf("PUT route: %d %s", resp.StatusCode, body)
	}
	if _, err := client(e.ts, raw).Chat.Completions.New(ctx, chatParams("fast")); err != nil {
		t.Fatalf("the new route on this instance: %v", err)
	}

	// A second instance over the same store.
	cfg := e.srv.state.Load().cfg
	other, err := New(e.srv.rt.base, Options{Registry: registry(), Keys: e.res, Settings: e.st})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := other.state.Load().cfg.Routes["fast"]; !ok {
		t.Error("a new instance does not start with the stored route")
	}
	if _, err := e.st.PutSetting(ctx, settingPrefix+"routes/slow", []byte(`{"targets":[{"model":"openai/gpt-4o-mini"}]}`), store.AnyRevision); err != nil {
		t.Fatal(err)
	}
	if err := other.SyncSettings(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := other.state.Load().cfg.Routes["slow"]; !ok {
		t.Error("a stored change did not reach the other instance")
	}
	if _, ok := cfg.Routes["fast"]; !ok {
		t.Error("the running configuration lost the route")
	}
	resp, _ = send(t, e.ts, http.MethodDelete, "/admin/api/routes/fast", "", admin)
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE route: %d", resp.StatusCode)
	}
	if _, err := client(e.ts, raw).Chat.Completions.New(ctx, chatParams("fast")); err == nil {
		t.Error("a deleted route still serves")
	}
}
