package anthropic_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

func TestEncodeError(t *testing.T) {
	tests := []struct {
		err    llm.Error
		status int
		typ    string
	}{
		{llm.Error{Kind: llm.KindInvalidRequest, Message: "max_tokens: Field required", Param: "max_tokens"}, 400, "invalid_request_error"},
		{llm.Error{Kind: llm.KindAuth, Message: "invalid x-api-key"}, 401, "authentication_error"},
		{llm.Error{Kind: llm.KindQuota, Status: 402, Message: "credit"}, 402, "billing_error"},
		{llm.Error{Kind: llm.KindQuota, Message: "budget"}, 402, "billing_error"}, // a budget: not worth retrying
		{llm.Error{Kind: llm.KindPermission, Message: "no"}, 403, "permission_error"},
		{llm.Error{Kind: llm.KindNotFound, Message: "model: x"}, 404, "not_found_error"},
		{llm.Error{Kind: llm.KindTooLarge, Message: "big"}, 413, "request_too_large"},
		{llm.Error{Kind: llm.KindRateLimited, Message: "slow"}, 429, "rate_limit_error"},
		{llm.Error{Kind: llm.KindInternal, Message: "internal error"}, 500, "api_error"},
		{llm.Error{Kind: llm.KindUpstream, Message: "bad gateway"}, 502, "api_error"},
		{llm.Error{Kind: llm.KindOverloaded, Message: "busy"}, 529, "overloaded_error"},
		{llm.Error{Kind: llm.KindOverloaded, Status: 503, Message: "busy"}, 529, "overloaded_error"},
		{llm.Error{Kind: llm.KindTimeout, Message: "slow"}, 504, "timeout_error"},
		// An Anthropic upstream's own type is kept; another protocol's is not.
		{llm.Error{Kind: llm.KindInvalidRequest, Status: 400, Type: "invalid_request_error", Origin: "anthropic", Message: "x"}, 400, "invalid_request_error"},
		{llm.Error{Kind: llm.KindRateLimited, Status: 429, Type: "tokens", Origin: "openai", Message: "x"}, 429, "rate_limit_error"},
	}
	for _, tt := range tests {
		status, body := proto.EncodeError(&tt.err)
		var got struct {
			Type  string `json:"type"`
			Error struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if status != tt.status || got.Type != "error" || got.Error.Type != tt.typ || got.Error.Message != tt.err.Message {
			t.Errorf("%s: EncodeError = %d %s, want %d %s", tt.err.Kind, status, body, tt.status, tt.typ)
		}
	}
}

func TestDecodeErrorFixtures(t *testing.T) {
	tests := map[string]struct {
		kind   llm.ErrorKind
		status int
		typ    string
		msg    string
	}{
		"messages-error-400.body.json": {llm.KindInvalidRequest, 400, "invalid_request_error", "does not support effort level 'xhigh'"},
		"messages-error-401.body.json": {llm.KindAuth, 401, "authentication_error", "invalid x-api-key"},
		"messages-error-429.body.json": {llm.KindRateLimited, 429, "rate_limit_error", "would exceed the rate limit"},
	}
	files := fixtures(t, false, false)
	if len(files) != len(tests) {
		t.Errorf("%d error fixtures, %d expectations", len(files), len(tests))
	}
	for _, file := range files {
		want, ok := tests[filepath.Base(file)]
		if !ok {
			t.Errorf("no expectation for %s", file)
			continue
		}
		e := proto.DecodeError(want.status, testkit.ReadFile(t, file))
		if e.Kind != want.kind || e.HTTPStatus() != want.status || e.Type != want.typ || e.Origin != "anthropic" || !strings.Contains(e.Message, want.msg) {
			t.Errorf("%s: DecodeError = %#v", filepath.Base(file), e)
		}
		// Rendered for an Anthropic client, the upstream's error looks the same.
		status, body := proto.EncodeError(e)
		if status != want.status || !strings.Contains(string(body), `"type":"`+want.typ+`"`) {
			t.Errorf("%s: EncodeError = %d %s", filepath.Base(file), status, body)
		}
	}
}

func TestDecodeError(t *testing.T) {
	tests := []struct {
		status int
		body   string
		kind   llm.ErrorKind
		code   string
		msg    string
	}{
		{529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, llm.KindOverloaded, "", "Overloaded"},
		{500, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, llm.KindOverloaded, "", "Overloaded"},
		{402, `{"type":"error","error":{"type":"billing_error","message":"credit balance is too low"}}`, llm.KindQuota, "", "credit"},
		{400, `{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}`,
			llm.KindInvalidRequest, "context_length_exceeded", "prompt is too long"},
		{404, `{"type":"error","error":{"type":"not_found_error","message":"model: claude-x"}}`, llm.KindNotFound, "", "model: claude-x"},
		{413, `{"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum size"}}`, llm.KindTooLarge, "", "maximum size"},
		{504, `{"type":"error","error":{"type":"timeout_error","message":"timeout"}}`, llm.KindTimeout, "", "timeout"},
		{502, `<html>Bad Gateway</html>`, llm.KindUpstream, "", "HTTP 502"},
		{400, ``, llm.KindInvalidRequest, "", "HTTP 400"},
		{403, `{"type":"error","error":{"type":"brand_new_error","message":"m"}}`, llm.KindPermission, "", "m"},
	}
	for _, tt := range tests {
		e := proto.DecodeError(tt.status, []byte(tt.body))
		if e.Kind != tt.kind || e.Code != tt.code || e.HTTPStatus() != tt.status || !strings.Contains(e.Message, tt.msg) {
			t.Errorf("DecodeError(%d, %s) = %#v", tt.status, tt.body, e)
		}
	}
}
