package provider

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/llm"
)

// upstreamCalls are the provider's calls that reach the upstream. Errors
// must come back from each of them mapped the same way.
var upstreamCalls = []struct {
	name string
	run  func(ctx context.Context, p *HTTP) error
}{
	{"do", func(ctx context.Context, p *HTTP) error {
		_, err := p.Do(ctx, &Call{Request: userRequest("hi"), Model: "m"})
		return err
	}},
	{"stream", func(ctx context.Context, p *HTTP) error {
		s, err := p.Stream(ctx, &Call{Request: userRequest("hi"), Model: "m"})
		if err != nil {
			return err
		}
		_, err = drain(s)
		return err
	}},
	{"forward", func(ctx context.Context, p *HTTP) error {
		resp, err := p.Forward(ctx, &Forward{Model: "m", Body: []byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`)})
		if err != nil {
			return err
		}
		return forwarded(resp)
	}},
	{"forward embeddings", func(ctx context.Context, p *HTTP) error {
		resp, err := p.Forward(ctx, &Forward{Embeddings: true, Model: "m", Body: []byte(`{"model":"m","input":"hi"}`)})
		if err != nil {
			return err
		}
		return forwarded(resp)
	}},
	{"embed", func(ctx context.Context, p *HTTP) error {
		_, err := p.Embed(ctx, &llm.EmbeddingRequest{Inputs: []llm.EmbeddingInput{{Text: "hi"}}}, "m")
		return err
	}},
	{"list models", func(ctx context.Context, p *HTTP) error {
		_, err := p.ListModels(ctx)
		return err
	}},
}

// forwarded reads and closes a forwarded response that should have been an
// error. The body is the caller's to read: a failure reading it is
// classified the way the gateway does, with llm.AsError.
func forwarded(resp *http.Response) error {
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); err != nil {
		return llm.AsError(err)
	}
	return errors.New("forward returned HTTP " + strconv.Itoa(resp.StatusCode))
}

func TestHTTPUpstreamErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   []byte
		header []string // name, value pairs
		want   llm.Error
	}{
		{"recorded 400", 400, fixture(t, "chat-error-400.body.json"), nil,
			llm.Error{Kind: llm.KindInvalidRequest, Type: "invalid_request_error", Code: "unsupported_value",
				Param: "messages[0].role", Message: "'messages[0].role' does not support 'system' with this model"}},
		{"recorded 429 quota", 429, fixture(t, "chat-error-429.body.json"), nil,
			llm.Error{Kind: llm.KindQuota, Type: "insufficient_quota", Code: "insufficient_quota",
				Message: "You exceeded your current quota"}},
		{"429 rate limit with Retry-After", 429,
			[]byte(`{"error":{"message":"Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`),
			[]string{"Retry-After", "20"},
			llm.Error{Kind: llm.KindRateLimited, Type: "requests", Code: "rate_limit_exceeded", RetryAfter: 20 * time.Second,
				Message: "Please try again in 20s."}},
		{"404 unknown model", 404,
			[]byte(`{"error":{"message":"The model ` + "`gpt-9`" + ` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}`),
			nil, llm.Error{Kind: llm.KindNotFound, Type: "invalid_request_error", Code: "model_not_found", Message: "does not exist"}},
		{"500", 500,
			[]byte(`{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}`),
			nil, llm.Error{Kind: llm.KindUpstream, Type: "server_error", Message: "Sorry about that!"}},
		{"503 with Retry-After-Ms", 503,
			[]byte(`{"error":{"message":"The engine is currently overloaded, please try again later","type":"server_error","param":null,"code":null}}`),
			[]string{"Retry-After-Ms", "1500"},
			llm.Error{Kind: llm.KindOverloaded, Type: "server_error", RetryAfter: 1500 * time.Millisecond, Message: "overloaded"}},
		{"422 in Mistral's shape", 422,
			[]byte(`{"object":"error","message":"Extra inputs are not permitted","type":"invalid_request_message_error","param":null,"code":null}`),
			nil, llm.Error{Kind: llm.KindInvalidRequest, Type: "invalid_request_message_error", Message: "Extra inputs are not permitted"}},
		{"502 from a proxy in HTML", 502, []byte("<html><body>Bad Gateway</body></html>"), nil,
			llm.Error{Kind: llm.KindUpstream, Message: "the upstream answered HTTP 502"}},
	}
	for _, tt := range tests {
		for _, c := range upstreamCalls {
			t.Run(tt.name+"/"+c.name, func(t *testing.T) {
				up := newUpstream(t, reply(tt.status, tt.body, tt.header...))
				p := newHTTPProvider(t, "openai", up.URL+"/v1", nil)
				e := asLLMError(t, c.run(t.Context(), p))
				if e.HTTPStatus() != tt.status || e.Kind != tt.want.Kind || e.Type != tt.want.Type ||
					e.Code != tt.want.Code || e.Param != tt.want.Param || e.RetryAfter != tt.want.RetryAfter {
					t.Errorf("error = {status %d kind %s type %q code %q param %q retry %v}\nwant  {status %d kind %s type %q code %q param %q retry %v}",
						e.HTTPStatus(), e.Kind, e.Type, e.Code, e.Param, e.RetryAfter,
						tt.status, tt.want.Kind, tt.want.Type, tt.want.Code, tt.want.Param, tt.want.RetryAfter)
				}
				if !strings.Contains(e.Message, tt.want.Message) {
					t.Errorf("message %q does not contain %q", e.Message, tt.want.Message)
				}
			})
		}
	}
}

func TestHTTPRetryAfter(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name     string
		header   []string
		min, max time.Duration
	}{
		{"none", nil, 0, 0},
		{"seconds", []string{"Retry-After", "7"}, 7 * time.Second, 7 * time.Second},
		{"fractional seconds", []string{"Retry-After", "1.5"}, 1500 * time.Millisecond, 1500 * time.Millisecond},
		{"milliseconds", []string{"Retry-After-Ms", "250"}, 250 * time.Millisecond, 250 * time.Millisecond},
		{"milliseconds are more precise", []string{"Retry-After", "1", "Retry-After-Ms", "250"}, 250 * time.Millisecond, 250 * time.Millisecond},
		{"HTTP date", []string{"Retry-After", now.Add(time.Hour).UTC().Format(http.TimeFormat)}, 59 * time.Minute, time.Hour},
		{"HTTP date in the past", []string{"Retry-After", now.Add(-time.Hour).UTC().Format(http.TimeFormat)}, 0, 0},
		{"negative", []string{"Retry-After", "-5"}, 0, 0},
		{"garbage", []string{"Retry-After", "soon", "Retry-After-Ms", "x"}, 0, 0},
	}
	body := []byte(`{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, reply(429, body, tt.header...))
			p := newHTTPProvider(t, "openai", up.URL+"/v1", nil)
			_, err := p.Do(t.Context(), &Call{Request: userRequest("hi"), Model: "m"})
			e := asLLMError(t, err)
			if e.Kind != llm.KindRateLimited || e.RetryAfter < tt.min || e.RetryAfter > tt.max {
				t.Errorf("kind %s, RetryAfter = %v, want rate_limited and %v…%v", e.Kind, e.RetryAfter, tt.min, tt.max)
			}
		})
	}
}

// TestHTTPCredentialsRefused: an upstream refusing the gateway's own key
// must not reach the client as a 401, which would tell the client that its
// key is wrong.
func TestHTTPCredentialsRefused(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   []byte
	}{
		{"recorded 401", 401, fixture(t, "chat-error-401.body.json")},
		{"401 echoing the configured key", 401,
			[]byte(`{"error":{"message":"Incorrect API key provided: ` + testKey + `. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)},
		{"403", 403,
			[]byte(`{"error":{"message":"Country, region, or territory not supported","type":"request_forbidden","param":null,"code":"unsupported_country_region_territory"}}`)},
		{"401 without a body", 401, nil},
	}
	leaks := []string{testKey, "Incorrect API key", "sk-XXXX", "platform.openai.com", "You can find your API key", "invalid_api_key"}
	for _, tt := range tests {
		for _, c := range upstreamCalls {
			t.Run(tt.name+"/"+c.name, func(t *testing.T) {
				up := newUpstream(t, reply(tt.status, tt.body))
				p := newHTTPProvider(t, "openai", up.URL+"/v1", nil)
				err := c.run(t.Context(), p)
				e := asLLMError(t, err)
				if e.Kind != llm.KindUpstream || e.HTTPStatus() != http.StatusBadGateway || e.Code != "upstream_auth_failed" {
					t.Errorf("error = {kind %s status %d code %q}, want upstream 502 upstream_auth_failed", e.Kind, e.HTTPStatus(), e.Code)
				}
				wantMsg := "the upstream provider up refused the gateway's credentials (HTTP " + strconv.Itoa(tt.status) + ")"
				if !strings.Contains(e.Message, wantMsg) {
					t.Errorf("message %q does not say %q", e.Message, wantMsg)
				}
				if e.Type != "" || e.Param != "" {
					t.Errorf("the upstream's type %q / param %q would be shown to the client", e.Type, e.Param)
				}
				for _, s := range append(leaks, "your key", "your API key") {
					if strings.Contains(e.Message, s) {
						t.Errorf("message %q contains %q", e.Message, s)
					}
				}
				// The cause is for logs, but it must not carry the key either.
				if strings.Contains(err.Error(), testKey) {
					t.Errorf("the error's log form %q holds the configured key", err.Error())
				}
			})
		}
	}
}

// TestHTTPRedaction: whatever an upstream puts in an error, the gateway's
// key, the upstream's internal address and private IPs stay inside.
func TestHTTPRedaction(t *testing.T) {
	// leak is what a careless upstream says, called by the name host.
	leak := func(host string) string {
		hostname, _, _ := net.SplitHostPort(host)
		return "upstream rejected the request with key " + testKey + " at http://" + host + "/v1/chat/completions (" +
			host + " alias " + hostname + ", replica 10.20.30.40:8000, peer 192.168.1.7); contact admin"
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		stream  bool
	}{
		{"error response", func(w http.ResponseWriter, r *http.Request) {
			body := `{"error":{"message":` + strconv.Quote(leak(r.Host)) + `,"type":"invalid_request_error","param":` +
				strconv.Quote("key "+testKey+" on "+r.Host) + `,"code":null}}`
			reply(400, []byte(body))(w, r)
		}, false},
		{"error response to a stream", func(w http.ResponseWriter, r *http.Request) {
			reply(500, []byte(`{"error":{"message":`+strconv.Quote(leak(r.Host))+`,"type":"server_error"}}`))(w, r)
		}, true},
		{"error inside a stream", func(w http.ResponseWriter, r *http.Request) {
			sseThen(nil, chunkHi, `data: {"error":{"message":`+strconv.Quote(leak(r.Host))+`,"type":"server_error","code":"internal_error"}}`+"\n\n")(w, r)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, tt.handler)
			_, port, _ := net.SplitHostPort(up.Listener.Addr().String())
			p := newHTTPProvider(t, "openai", "http://gpu-box.corp.example:"+port+"/v1", nil)
			routeTo(p, up)
			_, err := call(t, p, &Call{Request: userRequest("hi"), Model: "m"}, tt.stream)
			e := asLLMError(t, err)
			if !strings.Contains(e.Message, "upstream rejected the request") || !strings.Contains(e.Message, "contact admin") {
				t.Errorf("message %q lost the upstream's explanation", e.Message)
			}
			for _, s := range []string{testKey, "gpu-box", "corp.example", port, "10.20.30.40", "192.168.1.7"} {
				if strings.Contains(e.Message, s) || strings.Contains(e.Param, s) {
					t.Errorf("message %q (param %q) contains %q", e.Message, e.Param, s)
				}
			}
		})
	}
}

func TestHTTPTransportErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()
	_, refusedPort, _ := net.SplitHostPort(refused)

	tests := []struct {
		name    string
		handler http.HandlerFunc // nil: nothing listens
		timeout time.Duration    // the provider's timeout; 0 for the default
		ctx     func(t *testing.T, arrived <-chan struct{}) context.Context
		want    llm.ErrorKind
		// inBody: the failure comes while reading the body, which is the
		// caller's job after Forward.
		inBody bool
	}{
		{name: "connection refused", want: llm.KindUpstream},
		{name: "caller's deadline", handler: hang(nil), want: llm.KindTimeout,
			ctx: func(t *testing.T, _ <-chan struct{}) context.Context {
				ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
				t.Cleanup(cancel)
				return ctx
			}},
		{name: "caller cancels while waiting", handler: hang(nil), want: llm.KindCanceled,
			ctx: func(t *testing.T, arrived <-chan struct{}) context.Context {
				ctx, cancel := context.WithCancel(t.Context())
				go func() {
					select {
					case <-arrived:
					case <-ctx.Done():
					}
					cancel()
				}()
				return ctx
			}},
		{name: "caller canceled before the call", handler: hang(nil), want: llm.KindCanceled,
			ctx: func(t *testing.T, _ <-chan struct{}) context.Context {
				ctx, cancel := context.WithCancel(t.Context())
				cancel()
				return ctx
			}},
		{name: "the provider's timeout cuts a hanging upstream", handler: hang(nil), timeout: 20 * time.Millisecond, want: llm.KindTimeout},
		{name: "the provider's timeout cuts a hanging body", timeout: 20 * time.Millisecond, want: llm.KindTimeout, inBody: true,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"id":`))
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			}},
	}
	for _, tt := range tests {
		for _, c := range upstreamCalls {
			t.Run(tt.name+"/"+c.name, func(t *testing.T) {
				base := "http://" + refused + "/v1"
				arrived := make(chan struct{}, 1)
				if tt.handler != nil {
					up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
						select {
						case arrived <- struct{}{}:
						default:
						}
						tt.handler(w, r)
					})
					base = up.URL + "/v1"
				}
				p := newHTTPProvider(t, "openai", base, func(pc *config.Provider) { pc.Timeout = config.Duration(tt.timeout) })
				ctx := t.Context()
				if tt.ctx != nil {
					ctx = tt.ctx(t, arrived)
				}
				err := c.run(ctx, p)
				e := asLLMError(t, err)
				if e.Kind != tt.want {
					t.Fatalf("kind = %s, want %s (%v)", e.Kind, tt.want, err)
				}
				for _, s := range []string{"127.0.0.1", refusedPort, "http://", "/v1"} {
					if strings.Contains(e.Message, s) {
						t.Errorf("message %q contains %q", e.Message, s)
					}
				}
				fromProvider := !tt.inBody || !strings.HasPrefix(c.name, "forward")
				if e.Kind != llm.KindCanceled && fromProvider && !strings.Contains(e.Message, "up") {
					t.Errorf("message %q does not name the provider", e.Message)
				}
			})
		}
	}
}

// TestHTTPCallDeadline: every call runs under the provider's timeout (a
// model listing under at most 15s), and its context is released once the
// call is over: returned, stream closed, forwarded body closed.
func TestHTTPCallDeadline(t *testing.T) {
	embeddings := []byte(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[1]}],"model":"m","usage":{"prompt_tokens":1,"total_tokens":1}}`)
	models := []byte(`{"object":"list","data":[{"id":"m","object":"model","owned_by":"o"}]}`)
	chat := chatFixtures(t, "chat-text")
	handler := func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/embeddings":
			reply(200, embeddings)(w, r)
		case "/v1/models":
			reply(200, models)(w, r)
		default:
			chat(w, r)
		}
	}
	tests := []struct {
		name           string
		timeout        time.Duration // configured
		want, wantList time.Duration
	}{
		{"default", 0, DefaultTimeout, 15 * time.Second},
		{"configured", 3 * time.Second, 3 * time.Second, 3 * time.Second},
		{"configured above the listing's bound", time.Hour, time.Hour, 15 * time.Second},
	}
	for _, tt := range tests {
		for _, c := range upstreamCalls {
			t.Run(tt.name+"/"+c.name, func(t *testing.T) {
				up := newUpstream(t, handler)
				p := newHTTPProvider(t, "openai", up.URL+"/v1", func(pc *config.Provider) { pc.Timeout = config.Duration(tt.timeout) })
				spy := spyOn(p)
				before := time.Now()
				err := c.run(t.Context(), p)
				after := time.Now()
				if err != nil && !strings.HasPrefix(err.Error(), "forward returned HTTP 200") {
					t.Fatal(err)
				}
				ctx := spy.last(t)
				want := tt.want
				if c.name == "list models" {
					want = tt.wantList
				}
				deadline, ok := ctx.Deadline()
				if !ok || deadline.Sub(before) < want || deadline.Sub(after) > want {
					t.Errorf("the call ran with deadline %v (set: %v), want %v after its start", deadline.Sub(before), ok, want)
				}
				if ctx.Err() == nil {
					t.Errorf("the call's context is still live after the call ended")
				}
			})
		}
	}
}
