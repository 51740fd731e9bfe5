package gemini

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/llm"
)

// rpcStatus is the google.rpc status name for each error kind.
var rpcStatus = map[llm.ErrorKind]string{
	llm.KindInvalidRequest: "INVALID_ARGUMENT",
	llm.KindAuth:           "UNAUTHENTICATED",
	llm.KindPermission:     "PERMISSION_DENIED",
	llm.KindNotFound:       "NOT_FOUND",
	llm.KindTooLarge:       "INVALID_ARGUMENT",
	llm.KindRateLimited:    "RESOURCE_EXHAUSTED",
	llm.KindQuota:          "RESOURCE_EXHAUSTED",
	llm.KindOverloaded:     "UNAVAILABLE",
	llm.KindUpstream:       "UNAVAILABLE",
	llm.KindTimeout:        "DEADLINE_EXCEEDED",
	llm.KindCanceled:       "CANCELLED",
	llm.KindInternal:       "INTERNAL",
}

// EncodeError renders err as {"error":{"code","message","status"}}. The
// gateway's own refusal of a client key is 401 UNAUTHENTICATED (Gemini
// itself answers a bad API key with 400 INVALID_ARGUMENT, but a client
// should see that the gateway's key was wrong).
func (Protocol) EncodeError(err *llm.Error) (int, []byte) {
	return err.HTTPStatus(), appendError(nil, err)
}

func appendError(dst []byte, err *llm.Error) []byte {
	status := rpcStatus[err.Kind]
	if err.Origin == ID && err.Type != "" && err.Kind != llm.KindAuth {
		status = err.Type
	}
	if status == "" {
		status = "INTERNAL"
	}
	msg := err.Message
	if err.Param != "" && !strings.Contains(msg, err.Param) {
		msg = err.Param + ": " + msg
	}
	b, _ := json.Marshal(errorEnvelope{Error: &errorBody{Code: err.HTTPStatus(), Message: msg, Status: status}})
	return append(dst, b...)
}

// errorDetail is what DecodeError reads of a google.rpc detail.
type errorDetail struct {
	Type       string `json:"@type"`
	Reason     string `json:"reason"`
	RetryDelay string `json:"retryDelay"`
}

// DecodeError reads an upstream google.rpc error body (also the one-element
// array form the non-SSE stream endpoint sends). A 400 whose detail reason
// is API_KEY_INVALID is an auth error; a RetryInfo retryDelay becomes
// RetryAfter.
func (Protocol) DecodeError(status int, body []byte) *llm.Error {
	e := &llm.Error{Kind: llm.KindForStatus(status), Status: status, Origin: ID}
	data := bytes.TrimSpace(body)
	if len(data) > 0 && data[0] == '[' {
		var arr []errorEnvelope
		if json.Unmarshal(data, &arr) == nil && len(arr) > 0 && arr[0].Error != nil {
			fillError(e, arr[0].Error)
		}
	} else {
		var env errorEnvelope
		if json.Unmarshal(data, &env) == nil && env.Error != nil {
			fillError(e, env.Error)
		}
	}
	if e.Message == "" {
		e.Message = "the upstream answered HTTP " + strconv.Itoa(status)
	}
	return e
}

// streamError maps an error object sent inside a stream (or inside a 200
// body); its code is the HTTP status Gemini would have answered with.
func streamError(eb *errorBody) *llm.Error {
	e := &llm.Error{Kind: llm.KindUpstream, Origin: ID}
	if eb.Code >= 400 && eb.Code < 600 {
		e.Kind = llm.KindForStatus(eb.Code)
	}
	fillError(e, eb)
	if e.Message == "" {
		e.Message = "the upstream reported an error in the stream"
	}
	return e
}

// fillError copies an error body into e and refines the kind from the
// status name and details.
func fillError(e *llm.Error, eb *errorBody) {
	e.Message, e.Type = eb.Message, eb.Status
	switch eb.Status {
	case "RESOURCE_EXHAUSTED":
		e.Kind = llm.KindRateLimited
	case "UNAVAILABLE":
		e.Kind = llm.KindOverloaded
	case "DEADLINE_EXCEEDED":
		e.Kind = llm.KindTimeout
	case "UNAUTHENTICATED":
		e.Kind = llm.KindAuth
	case "PERMISSION_DENIED":
		e.Kind = llm.KindPermission
	case "NOT_FOUND":
		e.Kind = llm.KindNotFound
	case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE":
		e.Kind = llm.KindInvalidRequest
	}
	for _, raw := range eb.Details {
		var d errorDetail
		if json.Unmarshal(raw, &d) != nil {
			continue
		}
		switch {
		case d.Reason == "API_KEY_INVALID" || d.Reason == "API_KEY_EXPIRED":
			e.Kind, e.Code = llm.KindAuth, "invalid_api_key"
		case strings.HasSuffix(d.Type, "google.rpc.RetryInfo") && d.RetryDelay != "":
			if delay, err := time.ParseDuration(d.RetryDelay); err == nil && delay > 0 && delay < 24*time.Hour {
				e.RetryAfter = delay
			}
		}
	}
	if e.Kind == llm.KindInvalidRequest && strings.Contains(e.Message, "exceeds the maximum number of tokens") {
		e.Code = "context_length_exceeded"
	}
}
