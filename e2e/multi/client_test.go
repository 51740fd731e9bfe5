package multi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// Every chat request asks for at most maxTokens output tokens: more than
// the recorded answers' 9, so that the gateway's cost estimate bounds the
// real cost (see TestBudgetSharedAcrossInstances).
const (
	prompt    = "Say hello."
	maxTokens = 16
)

// outcome is what a client saw of one chat request.
type outcome struct {
	node   int
	id     string // the x-request-id the client sent
	stream bool
	// status is the HTTP status; 0 when no answer came (a connection
	// refused or reset).
	status int
	header http.Header
	apiErr *openai.Error // the error body of a refusal
	err    error         // what went wrong, for any outcome but a complete 200
	end    time.Time     // when the client had the whole answer (or gave up)
}

func (o outcome) String() string {
	s := fmt.Sprintf("instance %d, request %s: status %d", o.node+1, o.id, o.status)
	if o.apiErr != nil {
		s += fmt.Sprintf(" %s/%s %q", o.apiErr.Type, o.apiErr.Code, o.apiErr.Message)
	} else if o.err != nil {
		s += fmt.Sprintf(" (%v)", o.err)
	}
	return s
}

// ok reports a complete, correct answer.
func (o outcome) ok() bool { return o.status == http.StatusOK && o.err == nil }

// chat sends one chat completion with the official SDK to instance node
// and checks that a 200 carries the recorded answer (the whole stream,
// usage included, for a streamed one). id becomes the request's
// x-request-id.
func (c *cluster) chat(ctx context.Context, node int, key, modelName string, stream bool, id string) outcome {
	client := openai.NewClient(
		option.WithBaseURL(c.nodes[node].url+"/v1"),
		option.WithAPIKey(key),
		option.WithMaxRetries(0),
		option.WithHTTPClient(c.http),
		option.WithRequestTimeout(2*time.Minute),
	)
	params := openai.ChatCompletionNewParams{
		Model:     modelName,
		Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
		MaxTokens: openai.Int(maxTokens),
	}
	o := outcome{node: node, id: id, stream: stream}
	var resp *http.Response
	opts := []option.RequestOption{option.WithResponseInto(&resp), option.WithHeader("X-Request-Id", id)}
	if stream {
		params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		o.err = c.chatStream(ctx, client, params, opts)
	} else {
		var got *openai.ChatCompletion
		got, o.err = client.Chat.Completions.New(ctx, params, opts...)
		if o.err == nil {
			o.err = c.checkAnswer(got.Choices, got.Usage, false)
		}
	}
	o.end = time.Now()
	if resp != nil {
		o.status, o.header = resp.StatusCode, resp.Header
	}
	var apiErr *openai.Error
	if errors.As(o.err, &apiErr) {
		o.apiErr = apiErr
		if apiErr.Response != nil {
			o.status, o.header = apiErr.StatusCode, apiErr.Response.Header
		}
	}
	if o.err == nil && o.header.Get("X-Request-Id") != id {
		o.err = fmt.Errorf("x-request-id %q, want the client's %q", o.header.Get("X-Request-Id"), id)
	}
	return o
}

// chatStream reads a whole stream and checks it.
func (c *cluster) chatStream(ctx context.Context, client openai.Client, params openai.ChatCompletionNewParams, opts []option.RequestOption) error {
	s := client.Chat.Completions.NewStreaming(ctx, params, opts...)
	defer s.Close()
	var acc openai.ChatCompletionAccumulator
	for s.Next() {
		acc.AddChunk(s.Current())
	}
	if err := s.Err(); err != nil {
		return err
	}
	return c.checkAnswer(acc.Choices, acc.Usage, true)
}

// checkAnswer compares what the client got with the recorded answer.
func (c *cluster) checkAnswer(choices []openai.ChatCompletionChoice, u openai.CompletionUsage, stream bool) error {
	want, wantUsage := c.up.fx.plainText, c.up.fx.plainUsage
	if stream {
		want, wantUsage = c.up.fx.streamText, c.up.fx.streamUsage
	}
	if len(choices) == 0 || choices[0].Message.Content != want {
		return fmt.Errorf("the answer is not the recorded one: %+v", choices)
	}
	if u.PromptTokens != wantUsage.In || u.CompletionTokens != wantUsage.Out {
		return fmt.Errorf("usage %d+%d tokens, recorded %d+%d", u.PromptTokens, u.CompletionTokens, wantUsage.In, wantUsage.Out)
	}
	return nil
}

// vkey is a virtual key: its id and its secret.
type vkey struct{ id, secret string }

// createKey issues a virtual key through the admin API of instance 1 and
// waits until every instance authenticates clients with keys: an instance
// that has not yet seen its first key serves loopback clients without one
// (and without limits), which would let the key's first requests through
// uncounted.
func (c *cluster) createKey(t *testing.T, body map[string]any) vkey {
	t.Helper()
	status, b := c.admin(t, 0, http.MethodPost, "/admin/api/keys", body)
	var k struct{ ID, Key string }
	switch {
	case status == http.StatusNotFound || status == http.StatusNotImplemented:
		t.Logf("the admin API cannot create keys (%d %s); using 'llmux keys create' instead", status, b)
		k.ID, k.Key = c.createKeyCLI(t, body)
	case status != http.StatusCreated:
		t.Fatalf("POST /admin/api/keys %v: %d %s", body, status, b)
	default:
		if err := json.Unmarshal(b, &k); err != nil || k.ID == "" || k.Key == "" {
			t.Fatalf("POST /admin/api/keys: no id and key in %s (%v)", b, err)
		}
	}
	c.waitKeysRequired(t)
	return vkey{id: k.ID, secret: k.Key}
}

// createKeyCLI is createKey through `llmux keys create --json`.
func (c *cluster) createKeyCLI(t *testing.T, body map[string]any) (id, secret string) {
	t.Helper()
	args := []string{"keys", "create", "--config", c.nodes[0].cfg, "--json"}
	flags := map[string]string{"name": "--name", "rpm": "--rpm", "budget_usd": "--budget-usd", "budget_period": "--budget-period"}
	for k, v := range body {
		f, ok := flags[k]
		if !ok {
			t.Fatalf("createKeyCLI: no flag for %q", k)
		}
		args = append(args, f, fmt.Sprint(v))
	}
	cmd := exec.Command(llmuxBin, args...)
	cmd.Dir, cmd.Env = c.nodes[0].cmd.Dir, c.nodes[0].cmd.Env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("llmux %s: %v", strings.Join(args, " "), err)
	}
	var k struct{ ID, Key string }
	if err := json.Unmarshal(out, &k); err != nil || k.ID == "" || k.Key == "" {
		t.Fatalf("llmux keys create printed %s (%v)", out, err)
	}
	return k.ID, k.Key
}

// waitKeysRequired waits until every instance refuses an unknown key.
func (c *cluster) waitKeysRequired(t *testing.T) {
	t.Helper()
	for _, n := range c.nodes {
		deadline := time.Now().Add(10 * time.Second)
		for {
			req, _ := http.NewRequest(http.MethodGet, n.url+"/v1/models", nil)
			req.Header.Set("Authorization", "Bearer sk-llmux-not-a-key")
			resp, err := c.http.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusUnauthorized {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("instance %d still accepts requests without a valid key 10s after a key was created (%v)", n.i+1, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// admin calls the admin API of instance node with the admin key and
// returns the status and body.
func (c *cluster) admin(t *testing.T, node int, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.nodes[node].url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s on instance %d: %v", method, path, node+1, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// usageRow is the one row of GET /admin/api/usage without group_by.
type usageRow struct {
	Requests     int64   `json:"requests"`
	Errors       int64   `json:"errors"`
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	CostUSD      float64 `json:"cost_usd"`
}

// usage returns the key's usage as instance node's admin API sums it.
func (c *cluster) usage(t *testing.T, node int, keyID string) usageRow {
	t.Helper()
	status, b := c.admin(t, node, http.MethodGet, "/admin/api/usage?key="+url.QueryEscape(keyID), nil)
	var v struct{ Rows []usageRow }
	if err := json.Unmarshal(b, &v); status != http.StatusOK || err != nil || len(v.Rows) != 1 {
		t.Fatalf("GET /admin/api/usage?key=%s: %d %s (%v)", keyID, status, b, err)
	}
	return v.Rows[0]
}

// settledUsage waits until the key's usage has stopped changing for five
// flush intervals (every instance has written what it had) and returns it.
func (c *cluster) settledUsage(t *testing.T, keyID string) usageRow {
	t.Helper()
	const quiet = 5 * flushInterval
	deadline := time.Now().Add(30 * time.Second)
	last, since := c.usage(t, 0, keyID), time.Now()
	for time.Since(since) < quiet {
		if time.Now().After(deadline) {
			t.Fatalf("the usage of key %s was still changing after 30s: %+v", keyID, last)
		}
		time.Sleep(flushInterval / 2)
		if u := c.usage(t, 0, keyID); u != last {
			last, since = u, time.Now()
		}
	}
	return last
}
