//go:build unix

package clients

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeUpstream answers every provider protocol by path, replaying the
// recorded text answers (streamed when the request asks for a stream), and
// records each request it gets. The same server is a vendor API for the
// gateway and, for the wire captures, the gateway itself for a CLI.
type fakeUpstream struct {
	name string
	fx   fixtureSet
	// only, when set, is the one endpoint served: generation requests of
	// any other protocol get 404, so that a request the gateway sends in
	// the wrong protocol fails instead of being answered.
	only   string
	models []string // what the model-list endpoints answer
	srv    *httptest.Server

	mu  sync.Mutex
	log []exchange
}

// exchange is one request a fake server got, as the wire captures save it.
type exchange struct {
	Method string            `json:"method"`
	Path   string            `json:"path"`
	Query  string            `json:"query,omitempty"`
	Header map[string]string `json:"headers"`
	// Body is the request body: JSON as sent, anything else as a string.
	Body   json.RawMessage `json:"body,omitempty"`
	Status int             `json:"status"`
	// Served names the fixture answered with, for generation requests.
	Served string `json:"served,omitempty"`

	at      time.Time
	rawBody []byte
	fixture *fixture
}

func newFakeUpstream(t testing.TB, name string, fx fixtureSet, only string, models ...string) *fakeUpstream {
	u := &fakeUpstream{name: name, fx: fx, only: only, models: models}
	u.srv = httptest.NewServer(u)
	t.Cleanup(u.srv.Close)
	return u
}

// URL is the server's root, without a trailing slash.
func (u *fakeUpstream) URL() string { return u.srv.URL }

// requests returns a copy of the requests recorded since mark.
func (u *fakeUpstream) requests(mark int) []exchange {
	u.mu.Lock()
	defer u.mu.Unlock()
	if mark > len(u.log) {
		return nil
	}
	return append([]exchange(nil), u.log[mark:]...)
}

// mark returns the position of the next request, for requests.
func (u *fakeUpstream) mark() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.log)
}

func (u *fakeUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ex := exchange{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: flatHeader(r.Header),
		at: time.Now(), rawBody: body}
	if len(body) > 0 {
		if json.Valid(body) {
			ex.Body = json.RawMessage(body)
		} else {
			ex.Body, _ = json.Marshal(string(body))
		}
	}
	if ep := endpointOf(r); u.only != "" && ep != "" && ep != u.only {
		ex.Status = writeJSON(w, 404, map[string]any{"error": map[string]any{"type": "not_found",
			"message": fmt.Sprintf("fake %s upstream serves %s, not %s: %s %s", u.name, u.only, ep, r.Method, r.URL.Path)}})
	} else {
		ex.Status, ex.fixture = u.answer(w, r, body)
	}
	if ex.fixture != nil {
		ex.Served = ex.fixture.ID
	}
	u.mu.Lock()
	u.log = append(u.log, ex)
	u.mu.Unlock()
}

// endpointOf names the protocol of a generation (or token-counting)
// request by its path, "" for anything else.
func endpointOf(r *http.Request) string {
	if r.Method != http.MethodPost {
		return ""
	}
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, "/api/chat"):
		return epOllama
	case strings.HasSuffix(p, "/chat/completions"):
		return epChat
	case strings.HasSuffix(p, "/responses"):
		return epResponses
	case strings.HasSuffix(p, "/messages"), strings.HasSuffix(p, "/messages/count_tokens"):
		return epMessages
	case strings.Contains(p, "/models/") && (strings.HasSuffix(p, "Content") || strings.HasSuffix(p, ":countTokens")):
		return epGemini
	}
	return ""
}

// answer routes by path the way the vendors' APIs do and writes the answer.
// It returns the status and the fixture replayed, if any.
func (u *fakeUpstream) answer(w http.ResponseWriter, r *http.Request, body []byte) (int, *fixture) {
	p := r.URL.Path
	post := r.Method == http.MethodPost
	switch {
	case post && strings.HasSuffix(p, "/chat/completions"):
		return u.replay(w, epChat, streamFlag(body, false), false)
	case post && strings.HasSuffix(p, "/responses"):
		return u.replay(w, epResponses, streamFlag(body, false), false)
	case post && strings.HasSuffix(p, "/messages/count_tokens"):
		return writeJSON(w, 200, map[string]any{"input_tokens": 42}), nil
	case post && strings.HasSuffix(p, "/messages"):
		return u.replay(w, epMessages, streamFlag(body, false), false)
	case post && strings.HasSuffix(p, ":streamGenerateContent"):
		return u.replay(w, epGemini, true, r.URL.Query().Get("alt") != "sse")
	case post && strings.HasSuffix(p, ":generateContent"):
		return u.replay(w, epGemini, false, false)
	case post && strings.HasSuffix(p, ":countTokens"):
		return writeJSON(w, 200, map[string]any{"totalTokens": 42}), nil
	case post && strings.HasSuffix(p, "/api/chat"):
		return u.replay(w, epOllama, streamFlag(body, true), false) // Ollama streams unless told not to
	case r.Method == http.MethodGet && strings.Contains(p, "/v1beta/models"):
		var ms []map[string]any
		for _, m := range u.models {
			ms = append(ms, map[string]any{"name": "models/" + m, "displayName": m, "inputTokenLimit": 1048576,
				"outputTokenLimit": 65536, "supportedGenerationMethods": []string{"generateContent", "countTokens"}})
		}
		return writeJSON(w, 200, map[string]any{"models": ms}), nil
	case r.Method == http.MethodGet && strings.HasSuffix(p, "/models"):
		// One shape for OpenAI and Anthropic clients: both read data[].id.
		ms := []map[string]any{}
		for _, m := range u.models {
			ms = append(ms, map[string]any{"id": m, "object": "model", "type": "model", "display_name": m,
				"created": 1735689600, "created_at": "2025-01-01T00:00:00Z", "owned_by": "fake"})
		}
		first, last := "", ""
		if len(u.models) > 0 {
			first, last = u.models[0], u.models[len(u.models)-1]
		}
		return writeJSON(w, 200, map[string]any{"object": "list", "data": ms, "has_more": false,
			"first_id": first, "last_id": last}), nil
	case r.Method == http.MethodGet && strings.HasSuffix(p, "/api/tags"):
		var ms []map[string]any
		for _, m := range u.models {
			ms = append(ms, map[string]any{"name": m, "model": m, "size": 1, "digest": "0",
				"modified_at": "2025-01-01T00:00:00Z", "details": map[string]any{"family": "fake"}})
		}
		return writeJSON(w, 200, map[string]any{"models": ms}), nil
	case post && strings.HasSuffix(p, "/api/show"):
		return writeJSON(w, 200, map[string]any{"details": map[string]any{"family": "fake"},
			"model_info": map[string]any{"general.context_length": 131072}, "capabilities": []string{"completion", "tools"}}), nil
	case r.Method == http.MethodGet && strings.HasSuffix(p, "/api/version"):
		return writeJSON(w, 200, map[string]any{"version": "0.12.0"}), nil
	case p == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		w.WriteHeader(200)
		return 200, nil
	}
	return writeJSON(w, 404, map[string]any{"error": map[string]any{
		"message": fmt.Sprintf("fake %s upstream: no route for %s %s", u.name, r.Method, p), "type": "not_found"}}), nil
}

// replay writes the recorded answer of endpoint. asJSONArray turns a
// recorded SSE stream into the JSON array Gemini sends without alt=sse.
func (u *fakeUpstream) replay(w http.ResponseWriter, endpoint string, stream, asJSONArray bool) (int, *fixture) {
	f := u.fx.get(endpoint, stream)
	body, ctype := f.Body, f.ContentType
	if asJSONArray {
		body = append(append([]byte("["), bytes.Join(sseData(f.Body), []byte(","))...), ']')
		ctype = "application/json"
	}
	if ctype == "" {
		ctype = "application/json"
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(f.Status)
	if !stream || asJSONArray {
		_, _ = w.Write(body)
		return f.Status, f
	}
	// Event by event, flushed, as a vendor streams.
	fl, _ := w.(http.Flusher)
	ndjson := strings.HasPrefix(ctype, "application/x-ndjson")
	for chunk := range bytes.SplitAfterSeq(body, []byte("\n")) {
		_, _ = w.Write(chunk)
		if fl != nil && (ndjson || len(bytes.TrimSpace(chunk)) == 0) {
			fl.Flush()
		}
	}
	if fl != nil {
		fl.Flush()
	}
	return f.Status, f
}

// streamFlag reads the "stream" member of a JSON request body.
func streamFlag(body []byte, def bool) bool {
	var v struct {
		Stream *bool `json:"stream"`
	}
	if json.Unmarshal(body, &v) != nil || v.Stream == nil {
		return def
	}
	return *v.Stream
}

func writeJSON(w http.ResponseWriter, status int, v any) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
	return status
}

// secretHeaders are replaced by "REDACTED" (keeping an auth scheme) in
// everything recorded.
var secretHeaders = map[string]bool{"authorization": true, "x-api-key": true, "x-goog-api-key": true,
	"api-key": true, "cookie": true, "proxy-authorization": true}

func flatHeader(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		k = strings.ToLower(k)
		v := strings.Join(vs, ", ")
		if secretHeaders[k] {
			if scheme, _, ok := strings.Cut(v, " "); ok {
				v = scheme + " REDACTED"
			} else {
				v = "REDACTED"
			}
		}
		out[k] = v
	}
	return out
}

// summary is one line per exchange, for failure messages.
func summary(exs []exchange) string {
	var sb strings.Builder
	for _, ex := range exs {
		target := ex.Path
		if ex.Query != "" {
			target += "?" + ex.Query
		}
		fmt.Fprintf(&sb, "  %s %s %s → %d", ex.at.Format("15:04:05.000"), ex.Method, target, ex.Status)
		if ex.Served != "" {
			fmt.Fprintf(&sb, " (replayed %s)", ex.Served)
		}
		if len(ex.rawBody) > 0 {
			fmt.Fprintf(&sb, " [%d-byte body%s]", len(ex.rawBody), bodyHint(ex.rawBody))
		}
		sb.WriteByte('\n')
	}
	if sb.Len() == 0 {
		return "  (none)\n"
	}
	return sb.String()
}

// bodyHint names the model and stream flag of a JSON body.
func bodyHint(body []byte) string {
	var v map[string]json.RawMessage
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	var parts []string
	for _, k := range []string{"model", "stream"} {
		if raw, ok := v[k]; ok {
			parts = append(parts, k+"="+string(raw))
		}
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return ""
	}
	return ", " + strings.Join(parts, " ")
}
