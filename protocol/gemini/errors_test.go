package gemini_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

func TestEncodeError(t *testing.T) {
	tests := []struct {
		err    llm.Error
		status int
		body   string
	}{
		{llm.Error{Kind: llm.KindInvalidRequest, Param: "contents", Message: "contents: at least one content is required"},
			400, `{"error":{"code":400,"message":"contents: at least one content is required","status":"INVALID_ARGUMENT"}}`},
		{llm.Error{Kind: llm.KindInvalidRequest, Param: "tools[0]", Message: "bad tool"},
			400, `{"error":{"code":400,"message":"tools[0]: bad tool","status":"INVALID_ARGUMENT"}}`},
		// The gateway's own key check: 401, not Gemini's 400.
		{llm.Error{Kind: llm.KindAuth, Code: "invalid_api_key", Message: "Incorrect API key provided."},
			401, `{"error":{"code":401,"message":"Incorrect API key provided.","status":"UNAUTHENTICATED"}}`},
		{llm.Error{Kind: llm.KindPermission, Message: "no"}, 403, `{"error":{"code":403,"message":"no","status":"PERMISSION_DENIED"}}`},
		{llm.Error{Kind: llm.KindNotFound, Message: "models/x is not found"}, 404, `{"error":{"code":404,"message":"models/x is not found","status":"NOT_FOUND"}}`},
		{llm.Error{Kind: llm.KindRateLimited, Message: "slow down"}, 429, `{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}`},
		{llm.Error{Kind: llm.KindQuota, Message: "budget"}, 429, `{"error":{"code":429,"message":"budget","status":"RESOURCE_EXHAUSTED"}}`},
		{llm.Error{Kind: llm.KindOverloaded, Message: "busy"}, 503, `{"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}`},
		{llm.Error{Kind: llm.KindUpstream, Message: "broke"}, 502, `{"error":{"code":502,"message":"broke","status":"UNAVAILABLE"}}`},
		{llm.Error{Kind: llm.KindTimeout, Message: "late"}, 504, `{"error":{"code":504,"message":"late","status":"DEADLINE_EXCEEDED"}}`},
		{llm.Error{Kind: llm.KindInternal, Message: "internal error"}, 500, `{"error":{"code":500,"message":"internal error","status":"INTERNAL"}}`},
		// A Gemini upstream's own status name is kept for a Gemini client.
		{llm.Error{Kind: llm.KindInvalidRequest, Status: 400, Type: "FAILED_PRECONDITION", Origin: "gemini", Message: "region"},
			400, `{"error":{"code":400,"message":"region","status":"FAILED_PRECONDITION"}}`},
		// Another protocol's type is not.
		{llm.Error{Kind: llm.KindInvalidRequest, Type: "invalid_request_error", Origin: "openai", Message: "x"},
			400, `{"error":{"code":400,"message":"x","status":"INVALID_ARGUMENT"}}`},
	}
	for _, tt := range tests {
		t.Run(string(tt.err.Kind)+"/"+tt.err.Message, func(t *testing.T) {
			status, body := proto.EncodeError(&tt.err)
			if status != tt.status || !testkit.JSONEqual(body, []byte(tt.body)) {
				t.Errorf("EncodeError = %d %s, want %d %s", status, body, tt.status, tt.body)
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
		code   string
		msg    string
	}{
		{"not found", 404, `{"error":{"code":404,"message":"models/gemini-9 is not found for API version v1beta","status":"NOT_FOUND"}}`,
			llm.KindNotFound, "", "models/gemini-9 is not found for API version v1beta"},
		{"overloaded", 503, `{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`,
			llm.KindOverloaded, "", "The model is overloaded. Please try again later."},
		{"OAuth token", 401, `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`,
			llm.KindAuth, "", "Request had invalid authentication credentials."},
		{"context too long", 400, `{"error":{"code":400,"message":"The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}}`,
			llm.KindInvalidRequest, "context_length_exceeded", "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."},
		{"array form", 429, `[{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}}]`,
			llm.KindRateLimited, "", "Resource has been exhausted"},
		{"internal", 500, `{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}`,
			llm.KindUpstream, "", "An internal error has occurred."},
		{"timeout", 504, `{"error":{"code":504,"message":"Deadline","status":"DEADLINE_EXCEEDED"}}`, llm.KindTimeout, "", "Deadline"},
		{"not JSON", 502, `<html>Bad Gateway</html>`, llm.KindUpstream, "", "the upstream answered HTTP 502"},
		{"empty", 500, ``, llm.KindUpstream, "", "the upstream answered HTTP 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := proto.DecodeError(tt.status, []byte(tt.body))
			if e.Kind != tt.kind || e.Code != tt.code || e.Message != tt.msg || e.HTTPStatus() != tt.status || e.Origin != "gemini" {
				t.Errorf("DecodeError = %#v", e)
			}
		})
	}
}

// TestErrorRoundTrip: an upstream error re-rendered for a Gemini client
// keeps status and status name.
func TestErrorRoundTrip(t *testing.T) {
	for _, body := range []string{
		`{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2s"}]}}`,
		`{"error":{"code":400,"message":"User location is not supported for the API use.","status":"FAILED_PRECONDITION"}}`,
		`{"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED"}}`,
	} {
		var in struct {
			Error struct {
				Code    int
				Message string
				Status  string
			}
		}
		if err := json.Unmarshal([]byte(body), &in); err != nil {
			t.Fatal(err)
		}
		e := proto.DecodeError(in.Error.Code, []byte(body))
		status, out := proto.EncodeError(e)
		want := `{"error":{"code":` + itoa(in.Error.Code) + `,"message":` + quote(in.Error.Message) + `,"status":"` + in.Error.Status + `"}}`
		if status != in.Error.Code || !testkit.JSONEqual(out, []byte(want)) {
			t.Errorf("%s\n→ %d %s", body, status, out)
		}
		if in.Error.Code == 429 && e.RetryAfter != 2*time.Second {
			t.Errorf("RetryAfter = %v", e.RetryAfter)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }
