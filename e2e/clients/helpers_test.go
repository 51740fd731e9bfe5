//go:build unix

package clients

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The tests in this file check the harness itself; they need no CLI and
// run with every `go test ./...`.

// TestFakeUpstream: every protocol path replays the recorded answer whose
// text the CLIs are then expected to print, streamed when asked.
func TestFakeUpstream(t *testing.T) {
	fx := loadFixtures(t)
	u := newFakeUpstream(t, "test", fx, "", "some-model")
	for _, tc := range []struct {
		method, path, body string
		endpoint           string // "" for no replay
		stream             bool
		status             int
		want               string // in the body, for non-replays
	}{
		{"POST", "/v1/chat/completions", `{"model":"m"}`, epChat, false, 200, ""},
		{"POST", "/v1/chat/completions", `{"model":"m","stream":true}`, epChat, true, 200, ""},
		{"POST", "/v1/responses", `{"stream":false}`, epResponses, false, 200, ""},
		{"POST", "/v1/responses", `{"stream":true}`, epResponses, true, 200, ""},
		{"POST", "/v1/messages?beta=true", `{"stream":false}`, epMessages, false, 200, ""},
		{"POST", "/v1/messages", `{"stream":true}`, epMessages, true, 200, ""},
		{"POST", "/v1beta/models/gem/m:generateContent", `{}`, epGemini, false, 200, ""},
		{"POST", "/v1beta/models/gem/m:streamGenerateContent?alt=sse", `{}`, epGemini, true, 200, ""},
		{"POST", "/api/chat", `{"model":"m"}`, epOllama, true, 200, ""},
		{"POST", "/api/chat", `{"model":"m","stream":false}`, epOllama, false, 200, ""},
		{"POST", "/v1/messages/count_tokens", `{}`, "", false, 200, `"input_tokens"`},
		{"POST", "/v1beta/models/m:countTokens", `{}`, "", false, 200, `"totalTokens"`},
		{"GET", "/v1/models", "", "", false, 200, `"id":"some-model"`},
		{"GET", "/v1beta/models", "", "", false, 200, `"name":"models/some-model"`},
		{"GET", "/api/tags", "", "", false, 200, `"name":"some-model"`},
		{"HEAD", "/", "", "", false, 200, ""},
		{"POST", "/v2/nothing", `{}`, "", false, 404, "no route for POST /v2/nothing"},
	} {
		req, err := http.NewRequest(tc.method, u.URL()+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		name := tc.method + " " + tc.path + " " + tc.body
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d: %s", name, resp.StatusCode, tc.status, body)
			continue
		}
		if tc.endpoint == "" {
			if !strings.Contains(string(body), tc.want) {
				t.Errorf("%s: body %s does not hold %s", name, body, tc.want)
			}
			continue
		}
		f := fx.get(tc.endpoint, tc.stream)
		got, err := textExtractors[tc.endpoint](body, tc.stream)
		if err != nil || got != f.Text {
			t.Errorf("%s: answer text %q (%v), want %q of %s", name, got, err, f.Text, f.ID)
		}
	}
	exs := u.requests(0)
	if len(exs) != 17 || exs[1].Served != "openai-chat-text-stream" || exs[10].Served != "" {
		t.Errorf("recorded %d requests: %s", len(exs), summary(exs))
	}
}

// TestFakeUpstreamGeminiArray: without alt=sse Gemini streams a JSON array.
func TestFakeUpstreamGeminiArray(t *testing.T) {
	fx := loadFixtures(t)
	u := newFakeUpstream(t, "test", fx, "")
	resp, err := http.Post(u.URL()+"/v1beta/models/m:streamGenerateContent", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var chunks []json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&chunks); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, c := range chunks {
		s, err := geminiText(c, false)
		if err != nil {
			t.Fatal(err)
		}
		sb.WriteString(s)
	}
	if want := fx.get(epGemini, true).Text; sb.String() != want {
		t.Errorf("text %q, want %q", sb.String(), want)
	}
}

// TestFakeUpstreamOnly: a fake standing for one vendor refuses the other
// protocols, so a request translated into the wrong one cannot pass.
func TestFakeUpstreamOnly(t *testing.T) {
	fx := loadFixtures(t)
	u := newFakeUpstream(t, "claude", fx, epMessages, "m")
	for path, want := range map[string]int{
		"/v1/messages": 200, "/v1/messages/count_tokens": 200, "/v1/chat/completions": 404,
		"/v1/responses": 404, "/v1beta/models/m:generateContent": 404, "/api/chat": 404,
	} {
		resp, err := http.Post(u.URL()+path, "application/json", strings.NewReader(`{"stream":false}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("POST %s: status %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// TestSecretsRedacted: keys never reach a capture or a failure message.
func TestSecretsRedacted(t *testing.T) {
	h := http.Header{}
	h.Set("Authorization", "Bearer sk-secret")
	h.Set("X-Api-Key", "sk-secret")
	h.Set("x-goog-api-key", "sk-secret")
	h.Set("User-Agent", "cli/1")
	got := flatHeader(h)
	if got["authorization"] != "Bearer REDACTED" || got["x-api-key"] != "REDACTED" ||
		got["x-goog-api-key"] != "REDACTED" || got["user-agent"] != "cli/1" {
		t.Errorf("flatHeader = %v", got)
	}
}

// TestUnwiredProviders: both ways llmux refuses a provider type it cannot
// serve yet are recognised, and nothing else is.
func TestUnwiredProviders(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want map[string]string
	}{
		{"configuration is not valid:\nllmux.yaml:9:11: providers.resp.type: unknown provider type \"openai-responses\"; known types: bailian, cerebras",
			map[string]string{"resp": `unknown provider type "openai-responses"`}},
		{"llmux.yaml:13:3: providers.gem.type: provider type \"gemini\" needs protocol \"gemini\", which this build lacks\n" +
			"llmux.yaml:18:3: providers.oll: unknown provider type \"ollama\"; known types: x",
			map[string]string{"gem": `provider type "gemini" needs protocol "gemini", which this build lacks`,
				"oll": `unknown provider type "ollama"`}},
		{"llmux.yaml:3:3: providers.oa: no API key: set api_key or api_keys", map[string]string{}},
	} {
		got := unwiredProviders(tc.msg)
		if len(got) != len(tc.want) {
			t.Errorf("%q: got %v, want %v", tc.msg, got, tc.want)
			continue
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%q: got %v, want %v", tc.msg, got, tc.want)
			}
		}
	}
}

// TestPrinted: answers match through Markdown rendering, wrapping and
// colour, and only as whole words.
func TestPrinted(t *testing.T) {
	for _, tc := range []struct {
		out, text string
		want      bool
	}{
		{"The capital of France is Paris.\n", "The capital of France is **Paris**.", true},
		{"\x1b[1mHoliday Name:\x1b[0m Harmony\n  Day", "**Holiday Name:** Harmony Day", true},
		{"codex\nstreamed\ntokens used\n24", "streamed", true},
		{"2\n", "2", true},
		{"Error 404: model not found", "2", false},
		{"exit status 12", "2", false},
		{"", "OK.", false},
	} {
		if got := printed(tc.out, tc.text); got != tc.want {
			t.Errorf("printed(%q, %q) = %v, want %v", tc.out, tc.text, got, tc.want)
		}
	}
}
