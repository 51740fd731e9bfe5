package openai_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// wireError is an OpenAI error body as a client SDK reads it.
type wireError struct {
	Error *struct {
		Message *string         `json:"message"`
		Type    *string         `json:"type"`
		Param   json.RawMessage `json:"param"`
		Code    json.RawMessage `json:"code"`
	} `json:"error"`
}

func TestEncodeError(t *testing.T) {
	tests := []struct {
		err    llm.Error
		status int
		typ    string
		param  string // JSON
		code   string // JSON
	}{
		{llm.Error{Kind: llm.KindInvalidRequest, Message: "bad", Param: "messages[0].content"}, 400, "invalid_request_error", `"messages[0].content"`, `null`},
		{llm.Error{Kind: llm.KindInvalidRequest, Message: "bad"}, 400, "invalid_request_error", `null`, `null`},
		{llm.Error{Kind: llm.KindAuth, Message: "no key"}, 401, "invalid_request_error", `null`, `"invalid_api_key"`},
		{llm.Error{Kind: llm.KindPermission, Message: "no"}, 403, "permission_error", `null`, `null`},
		{llm.Error{Kind: llm.KindNotFound, Message: "no model"}, 404, "invalid_request_error", `null`, `"model_not_found"`},
		{llm.Error{Kind: llm.KindTooLarge, Message: "big"}, 413, "invalid_request_error", `null`, `"request_too_large"`},
		{llm.Error{Kind: llm.KindRateLimited, Message: "slow down"}, 429, "rate_limit_error", `null`, `"rate_limit_exceeded"`},
		{llm.Error{Kind: llm.KindQuota, Message: "pay"}, 429, "insufficient_quota", `null`, `"insufficient_quota"`},
		{llm.Error{Kind: llm.KindOverloaded, Message: "busy"}, 503, "server_error", `null`, `"overloaded"`},
		{llm.Error{Kind: llm.KindUpstream, Message: "upstream broke"}, 502, "upstream_error", `null`, `null`},
		{llm.Error{Kind: llm.KindTimeout, Message: "slow"}, 504, "timeout_error", `null`, `"timeout"`},
		{llm.Error{Kind: llm.KindCanceled, Message: "gone"}, 499, "invalid_request_error", `null`, `"canceled"`},
		{llm.Error{Kind: llm.KindInternal, Message: "oops"}, 500, "server_error", `null`, `null`},
		{llm.Error{Kind: "unheard_of", Message: "?"}, 500, "server_error", `null`, `null`},
		// An explicit status and code win; an upstream type is reused only
		// when the upstream spoke this protocol.
		{llm.Error{Kind: llm.KindInvalidRequest, Status: 422, Message: "x", Code: "context_length_exceeded"}, 422, "invalid_request_error", `null`, `"context_length_exceeded"`},
		{llm.Error{Kind: llm.KindRateLimited, Message: "x", Type: "tokens", Origin: "openai"}, 429, "tokens", `null`, `"rate_limit_exceeded"`},
		{llm.Error{Kind: llm.KindOverloaded, Message: "x", Type: "overloaded_error", Origin: "anthropic"}, 503, "server_error", `null`, `"overloaded"`},
	}
	for _, tt := range tests {
		t.Run(string(tt.err.Kind)+"/"+tt.err.Type+tt.err.Code, func(t *testing.T) {
			status, body := proto.EncodeError(&tt.err)
			if status != tt.status {
				t.Errorf("status = %d, want %d", status, tt.status)
			}
			var w wireError
			if err := json.Unmarshal(body, &w); err != nil || w.Error == nil {
				t.Fatalf("body %s is not an error envelope: %v", body, err)
			}
			e := w.Error
			if e.Message == nil || *e.Message != tt.err.Message {
				t.Errorf("message in %s, want %q", body, tt.err.Message)
			}
			if e.Type == nil || *e.Type != tt.typ {
				t.Errorf("type in %s, want %q", body, tt.typ)
			}
			if string(e.Param) != tt.param {
				t.Errorf("param = %s, want %s", e.Param, tt.param)
			}
			if string(e.Code) != tt.code {
				t.Errorf("code = %s, want %s", e.Code, tt.code)
			}
		})
	}
}

func TestDecodeErrorFixtures(t *testing.T) {
	tests := map[string]struct {
		status int
		kind   llm.ErrorKind
		typ    string
		code   string
		param  string
		msg    string
	}{
		"chat-error-400.body.json": {400, llm.KindInvalidRequest, "invalid_request_error", "unsupported_value", "messages[0].role", "does not support 'system'"},
		"chat-error-401.body.json": {401, llm.KindAuth, "invalid_request_error", "invalid_api_key", "", "Incorrect API key provided"},
		"chat-error-429.body.json": {429, llm.KindQuota, "insufficient_quota", "insufficient_quota", "", "You exceeded your current quota"},
	}
	files := chatFixtures(t, false, false)
	if len(files) != len(tests) {
		t.Errorf("%d error fixtures, the table covers %d", len(files), len(tests))
	}
	for _, file := range files {
		name := filepath.Base(file)
		tt, ok := tests[name]
		if !ok {
			t.Errorf("no expectation for %s", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			e := proto.DecodeError(tt.status, testkit.ReadFile(t, file))
			if e.Kind != tt.kind || e.Type != tt.typ || e.Code != tt.code || e.Param != tt.param {
				t.Errorf("DecodeError = kind %q type %q code %q param %q, want %q %q %q %q",
					e.Kind, e.Type, e.Code, e.Param, tt.kind, tt.typ, tt.code, tt.param)
			}
			if e.HTTPStatus() != tt.status || e.Origin != "openai" {
				t.Errorf("status %d origin %q", e.HTTPStatus(), e.Origin)
			}
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message %q does not contain %q", e.Message, tt.msg)
			}
		})
	}
}

func TestDecodeError(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		kind   llm.ErrorKind
		msg    string
		code   string
	}{
		{"openai envelope", 404, `{"error":{"message":"The model ` + "`x`" + ` does not exist","type":"invalid_request_error","param":null,"code":"model_not_found"}}`,
			llm.KindNotFound, "does not exist", "model_not_found"},
		{"model_not_found on 400", 400, `{"error":{"message":"no such model","type":"invalid_request_error","code":"model_not_found"}}`,
			llm.KindNotFound, "no such model", "model_not_found"},
		{"context length by code", 400, `{"error":{"message":"too long","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`,
			llm.KindInvalidRequest, "too long", "context_length_exceeded"},
		{"context length by message", 400, `{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error"}}`,
			llm.KindInvalidRequest, "maximum context length", "context_length_exceeded"},
		{"string_above_max_length", 400, `{"error":{"message":"too long","code":"string_above_max_length"}}`,
			llm.KindInvalidRequest, "too long", "context_length_exceeded"},
		{"content filter", 400, `{"error":{"message":"filtered","type":"invalid_request_error","code":"content_filter"}}`,
			llm.KindInvalidRequest, "filtered", "content_filter"},
		{"rate limit", 429, `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`,
			llm.KindRateLimited, "Rate limit reached", "rate_limit_exceeded"},
		{"quota by type only", 429, `{"error":{"message":"quota","type":"insufficient_quota","code":null}}`,
			llm.KindQuota, "quota", ""},
		{"numeric code", 500, `{"error":{"message":"boom","type":"server_error","code":500}}`,
			llm.KindUpstream, "boom", "500"},
		{"overloaded", 503, `{"error":{"message":"The engine is currently overloaded","type":"server_error"}}`,
			llm.KindOverloaded, "overloaded", ""},
		{"error as text", 401, `{"error":"Unauthorized: invalid token"}`, llm.KindAuth, "Unauthorized: invalid token", ""},
		{"mistral", 400, `{"object":"error","message":"Invalid model: mistral-huge","type":"invalid_model","param":null,"code":"1500"}`,
			llm.KindInvalidRequest, "Invalid model: mistral-huge", "1500"},
		{"mistral structured message", 422, `{"object":"error","message":{"detail":[{"loc":["body","messages"],"msg":"field required"}]},"type":"invalid_request_error"}`,
			llm.KindInvalidRequest, "field required", ""},
		{"fastapi detail", 404, `{"detail":"Not Found"}`, llm.KindNotFound, "Not Found", ""},
		{"fastapi validation detail", 422, `{"detail":[{"loc":["body","model"],"msg":"field required","type":"value_error.missing"}]}`,
			llm.KindInvalidRequest, "field required", ""},
		{"not JSON", 502, `<html><body>Bad Gateway</body></html>`, llm.KindUpstream, "HTTP 502", ""},
		{"empty body", 504, ``, llm.KindTimeout, "HTTP 504", ""},
		{"JSON without a message", 500, `{"status":"down"}`, llm.KindUpstream, "HTTP 500", ""},
		{"error null", 403, `{"error":null}`, llm.KindPermission, "HTTP 403", ""},
		{"quota 402", 402, `{"error":{"message":"Insufficient credits"}}`, llm.KindQuota, "Insufficient credits", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := proto.DecodeError(tt.status, []byte(tt.body))
			if e == nil {
				t.Fatal("DecodeError returned nil")
			}
			if e.Kind != tt.kind {
				t.Errorf("Kind = %q, want %q", e.Kind, tt.kind)
			}
			if e.HTTPStatus() != tt.status {
				t.Errorf("status = %d, want %d", e.HTTPStatus(), tt.status)
			}
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message %q does not contain %q", e.Message, tt.msg)
			}
			if e.Code != tt.code {
				t.Errorf("Code = %q, want %q", e.Code, tt.code)
			}
		})
	}
}

// TestErrorRoundTrip: an error the gateway renders decodes to the same
// kind, so that one llmux can sit behind another. A gateway's internal
// error is, seen from the next one, an upstream failure.
func TestErrorRoundTrip(t *testing.T) {
	kinds := map[llm.ErrorKind]llm.ErrorKind{
		llm.KindInvalidRequest: llm.KindInvalidRequest,
		llm.KindAuth:           llm.KindAuth,
		llm.KindPermission:     llm.KindPermission,
		llm.KindNotFound:       llm.KindNotFound,
		llm.KindTooLarge:       llm.KindTooLarge,
		llm.KindRateLimited:    llm.KindRateLimited,
		llm.KindQuota:          llm.KindQuota,
		llm.KindOverloaded:     llm.KindOverloaded,
		llm.KindUpstream:       llm.KindUpstream,
		llm.KindTimeout:        llm.KindTimeout,
		llm.KindInternal:       llm.KindUpstream,
	}
	for in, want := range kinds {
		status, body := proto.EncodeError(&llm.Error{Kind: in, Message: "m", Param: "p"})
		out := proto.DecodeError(status, body)
		if out.Kind != want || out.Message != "m" || out.Param != "p" {
			t.Errorf("%s: round trip gave kind %q message %q param %q, want kind %q", in, out.Kind, out.Message, out.Param, want)
		}
	}
}
