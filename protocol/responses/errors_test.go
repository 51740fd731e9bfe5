package responses_test

import (
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

func TestEncodeError(t *testing.T) {
	tests := []struct {
		err    llm.Error
		status int
		body   string
	}{
		{llm.Error{Kind: llm.KindInvalidRequest, Message: "input: required", Param: "input"}, 400,
			`{"error":{"message":"input: required","type":"invalid_request_error","param":"input","code":null}}`},
		{llm.Error{Kind: llm.KindAuth, Message: "bad key"}, 401,
			`{"error":{"message":"bad key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`},
		{llm.Error{Kind: llm.KindNotFound, Message: "no model"}, 404,
			`{"error":{"message":"no model","type":"invalid_request_error","param":null,"code":"model_not_found"}}`},
		{llm.Error{Kind: llm.KindRateLimited, Message: "slow"}, 429,
			`{"error":{"message":"slow","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}`},
		{llm.Error{Kind: llm.KindQuota, Message: "pay"}, 429,
			`{"error":{"message":"pay","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`},
		{llm.Error{Kind: llm.KindOverloaded, Message: "busy"}, 503,
			`{"error":{"message":"busy","type":"server_error","param":null,"code":"overloaded"}}`},
		{llm.Error{Kind: llm.KindUpstream, Message: "broke"}, 502,
			`{"error":{"message":"broke","type":"upstream_error","param":null,"code":null}}`},
		{llm.Error{Kind: llm.KindTimeout, Message: "late"}, 504,
			`{"error":{"message":"late","type":"timeout_error","param":null,"code":"timeout"}}`},
		{llm.Error{Kind: llm.KindInternal, Message: "bug"}, 500,
			`{"error":{"message":"bug","type":"server_error","param":null,"code":null}}`},
		// An upstream's own type is kept for its own protocol only.
		{llm.Error{Kind: llm.KindInvalidRequest, Message: "x", Type: "custom_type", Origin: "responses", Status: 422}, 422,
			`{"error":{"message":"x","type":"custom_type","param":null,"code":null}}`},
		{llm.Error{Kind: llm.KindInvalidRequest, Message: "x", Type: "invalid_request_error", Origin: "anthropic", Code: "c"}, 400,
			`{"error":{"message":"x","type":"invalid_request_error","param":null,"code":"c"}}`},
	}
	for _, tt := range tests {
		status, body := proto.EncodeError(&tt.err)
		if status != tt.status || !testkit.JSONEqual(body, []byte(tt.body)) {
			t.Errorf("EncodeError(%+v) = %d %s, want %d %s", tt.err, status, body, tt.status, tt.body)
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
		{400, `{"error":{"message":"bad","type":"invalid_request_error","param":"input","code":null}}`, llm.KindInvalidRequest, "", "bad"},
		{400, `{"error":{"message":"too long","type":"invalid_request_error","code":"context_length_exceeded"}}`, llm.KindInvalidRequest, "context_length_exceeded", "too long"},
		{429, `{"error":{"message":"quota","type":"insufficient_quota","code":"insufficient_quota"}}`, llm.KindQuota, "insufficient_quota", "quota"},
		{404, `{"error":{"message":"The model x does not exist","type":"invalid_request_error","code":"model_not_found"}}`, llm.KindNotFound, "model_not_found", "The model x does not exist"},
		{500, `{"error":"plain text"}`, llm.KindUpstream, "", "plain text"},
		{503, `{"message":"busy","type":"overloaded"}`, llm.KindOverloaded, "", "busy"},
		{502, `<html>bad gateway</html>`, llm.KindUpstream, "", "the upstream answered HTTP 502"},
		{401, ``, llm.KindAuth, "", "the upstream answered HTTP 401"},
	}
	for _, tt := range tests {
		e := proto.DecodeError(tt.status, []byte(tt.body))
		if e.Kind != tt.kind || e.Code != tt.code || e.Message != tt.msg || e.HTTPStatus() != tt.status || e.Origin != "responses" {
			t.Errorf("DecodeError(%d, %s) = %#v", tt.status, tt.body, e)
		}
	}
}

// TestFailedResponse: a complete body whose status is failed is its error.
func TestFailedResponse(t *testing.T) {
	_, err := proto.DecodeResponse([]byte(`{"id":"resp_1","status":"failed","error":{"code":"rate_limit_exceeded","message":"slow"},"output":[]}`))
	e := asError(t, err)
	if e.Kind != llm.KindRateLimited || e.Code != "rate_limit_exceeded" || e.Message != "slow" {
		t.Errorf("error = %#v", e)
	}
	_, err = proto.DecodeResponse([]byte(`{"id":`))
	if e := asError(t, err); e.Kind != llm.KindUpstream {
		t.Errorf("malformed body: %#v", e)
	}
}
