package anthropic

import (
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/llm"
)

// statusOverloaded is Anthropic's own status for an overloaded API, which
// its SDKs retry.
const statusOverloaded = 529

// EncodeError renders err as {"type":"error","error":{"type","message"}}
// with the status Anthropic uses for the same situation.
func (Protocol) EncodeError(err *llm.Error) (int, []byte) {
	status := errorStatus(err)
	return status, appendError(nil, err, status)
}

// errorStatus is the error's status, with overload reported as 529 and an
// exhausted quota or budget as Anthropic's 402 billing_error (a 429 would
// make Anthropic's SDKs retry what waiting does not fix).
func errorStatus(err *llm.Error) int {
	status := err.HTTPStatus()
	switch {
	case err.Kind == llm.KindOverloaded && (err.Status == 0 || status == 503):
		status = statusOverloaded
	case err.Kind == llm.KindQuota && err.Origin != ID:
		status = statusBilling
	}
	return status
}

// statusBilling is Anthropic's status for a billing problem.
const statusBilling = 402

func appendError(dst []byte, err *llm.Error, status int) []byte {
	typ := typeForStatus(status)
	if err.Origin == ID && err.Type != "" {
		typ = err.Type
	}
	msg := err.Message
	if msg == "" {
		msg = "an error occurred"
	}
	b, _ := json.Marshal(errorEnvelope{Type: "error", Error: &errorBody{Type: typ, Message: msg}})
	return append(dst, b...)
}

// typeForStatus is the error type Anthropic sends with a status.
func typeForStatus(status int) string {
	switch status {
	case 400:
		return "invalid_request_error"
	case 401:
		return "authentication_error"
	case 402:
		return "billing_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 413:
		return "request_too_large"
	case 429:
		return "rate_limit_error"
	case 503, statusOverloaded:
		return "overloaded_error"
	case 504:
		return "timeout_error"
	}
	if status >= 400 && status < 500 {
		return "invalid_request_error"
	}
	return "api_error"
}

// kindForType is the kind of an Anthropic error type; "" for a type it
// does not know.
func kindForType(typ string) llm.ErrorKind {
	switch typ {
	case "invalid_request_error":
		return llm.KindInvalidRequest
	case "authentication_error":
		return llm.KindAuth
	case "permission_error":
		return llm.KindPermission
	case "not_found_error":
		return llm.KindNotFound
	case "request_too_large":
		return llm.KindTooLarge
	case "rate_limit_error":
		return llm.KindRateLimited
	case "billing_error":
		return llm.KindQuota
	case "overloaded_error":
		return llm.KindOverloaded
	case "timeout_error":
		return llm.KindTimeout
	case "api_error":
		return llm.KindUpstream
	}
	return ""
}

// DecodeError reads an upstream error body, keeping its status and type.
func (Protocol) DecodeError(status int, body []byte) *llm.Error {
	e := &llm.Error{Kind: llm.KindForStatus(status), Status: status, Origin: ID}
	var env errorEnvelope
	if json.Unmarshal(body, &env) == nil && env.Error != nil {
		e.Type, e.Message = env.Error.Type, env.Error.Message
		if k := kindForType(e.Type); k != "" && status != 529 && status != 503 {
			e.Kind = k
		}
	}
	if e.Message == "" {
		e.Message = "the upstream answered HTTP " + strconv.Itoa(status)
	}
	classify(e)
	return e
}

// classify adds the codes other protocols' clients understand.
func classify(e *llm.Error) {
	if e.Kind == llm.KindInvalidRequest && strings.Contains(e.Message, "prompt is too long") {
		e.Code = "context_length_exceeded"
	}
}

// streamError maps an error event sent inside a stream, where there is no
// status: the kind and status come from the type.
func streamError(eb *errorBody) *llm.Error {
	e := &llm.Error{Kind: kindForType(eb.Type), Message: eb.Message, Type: eb.Type, Origin: ID}
	switch {
	case e.Kind == "":
		e.Kind = llm.KindUpstream
	case e.Kind == llm.KindOverloaded:
		e.Status = statusOverloaded
	}
	if e.Message == "" {
		e.Message = "the upstream reported an error in the stream"
	}
	classify(e)
	return e
}
