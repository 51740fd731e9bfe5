package responses

import (
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/llm"
)

// errorShape is how each error kind looks to an OpenAI client: the type and
// code OpenAI itself uses for the same situation (the Responses API shares
// Chat Completions' error bodies and statuses).
var errorShape = map[llm.ErrorKind]struct{ typ, code string }{
	llm.KindInvalidRequest: {"invalid_request_error", ""},
	llm.KindAuth:           {"invalid_request_error", "invalid_api_key"},
	llm.KindPermission:     {"permission_error", ""},
	llm.KindNotFound:       {"invalid_request_error", "model_not_found"},
	llm.KindTooLarge:       {"invalid_request_error", "request_too_large"},
	llm.KindRateLimited:    {"rate_limit_error", "rate_limit_exceeded"},
	llm.KindQuota:          {"insufficient_quota", "insufficient_quota"},
	llm.KindOverloaded:     {"server_error", "overloaded"},
	llm.KindUpstream:       {"upstream_error", ""},
	llm.KindTimeout:        {"timeout_error", "timeout"},
	llm.KindCanceled:       {"invalid_request_error", "canceled"},
	llm.KindInternal:       {"server_error", ""},
}

// EncodeError renders err as {"error":{"message","type","param","code"}}.
func (Protocol) EncodeError(err *llm.Error) (int, []byte) {
	return err.HTTPStatus(), appendError(nil, err)
}

func appendError(dst []byte, err *llm.Error) []byte {
	shape := errorShape[err.Kind]
	typ, code := shape.typ, shape.code
	if err.Origin == ID && err.Type != "" {
		typ = err.Type
	}
	if err.Code != "" {
		code = err.Code
	}
	if typ == "" {
		typ = "server_error"
	}
	body := errorBody{Message: err.Message, Type: typ}
	if err.Param != "" {
		p := err.Param
		body.Param = &p
	}
	if code != "" {
		body.Code = code
	}
	b, _ := json.Marshal(errorEnvelope{Error: &body})
	return append(dst, b...)
}

// failCode is the code of an in-stream failure: the error's own, or the
// response error code the API uses for its kind.
func failCode(err *llm.Error) string {
	if err.Code != "" {
		return err.Code
	}
	switch err.Kind {
	case llm.KindRateLimited, llm.KindQuota:
		return "rate_limit_exceeded"
	case llm.KindInvalidRequest:
		return "invalid_prompt"
	}
	return "server_error"
}

// DecodeError reads an upstream error body: OpenAI's envelope, or the
// shapes compatible servers use ({"error":"text"}, {"message":…},
// {"detail":…}).
func (Protocol) DecodeError(status int, body []byte) *llm.Error {
	e := &llm.Error{Kind: llm.KindForStatus(status), Status: status, Origin: ID}
	var env struct {
		Error   jsontext.Value `json:"error"`
		Message any            `json:"message"`
		Type    string         `json:"type"`
		Code    any            `json:"code"`
		Detail  any            `json:"detail"`
	}
	if json.Unmarshal(body, &env) == nil {
		var eb errorBody
		switch {
		case rawKind(env.Error) == "object" && json.Unmarshal(env.Error, &eb) == nil:
			e.Message, e.Type, e.Code = eb.Message, eb.Type, codeString(eb.Code)
			if eb.Param != nil {
				e.Param = *eb.Param
			}
		case rawKind(env.Error) == "string":
			_ = json.Unmarshal(env.Error, &e.Message)
		default:
			e.Message, e.Type, e.Code = textOf(env.Message), env.Type, codeString(env.Code)
			if e.Message == "" {
				e.Message = textOf(env.Detail)
			}
		}
	}
	if e.Message == "" {
		e.Message = "the upstream answered HTTP " + strconv.Itoa(status)
	}
	classify(e)
	return e
}

// streamError maps an error reported inside a stream (an error event, a
// failed response) to an *llm.Error.
func streamError(code, message string, param *string, typ string) *llm.Error {
	e := &llm.Error{Kind: llm.KindUpstream, Message: message, Code: code, Type: typ, Origin: ID}
	if param != nil {
		e.Param = *param
	}
	switch typ {
	case "invalid_request_error":
		e.Kind = llm.KindInvalidRequest
	case "rate_limit_error":
		e.Kind = llm.KindRateLimited
	}
	switch code {
	case "rate_limit_exceeded":
		e.Kind = llm.KindRateLimited
	case "invalid_prompt", "invalid_image", "invalid_image_format", "invalid_base64_image", "invalid_image_url",
		"image_too_large", "image_too_small", "image_parse_error", "image_content_policy_violation",
		"invalid_image_mode", "image_file_too_large", "unsupported_image_media_type", "empty_image_file",
		"failed_to_download_image", "image_file_not_found":
		e.Kind = llm.KindInvalidRequest
	case "vector_store_timeout":
		e.Kind = llm.KindTimeout
	case "server_is_overloaded", "overloaded":
		e.Kind = llm.KindOverloaded
	}
	classify(e)
	if e.Message == "" {
		e.Message = "the upstream reported an error in the stream"
	}
	return e
}

// classify refines the kind from the code or type where the status alone is
// ambiguous.
func classify(e *llm.Error) {
	switch e.Code {
	case "insufficient_quota":
		e.Kind = llm.KindQuota
	case "context_length_exceeded", "string_above_max_length":
		e.Kind, e.Code = llm.KindInvalidRequest, "context_length_exceeded"
	case "content_filter", "content_policy_violation":
		e.Kind, e.Code = llm.KindInvalidRequest, "content_filter"
	case "model_not_found":
		e.Kind = llm.KindNotFound
	}
	if e.Type == "insufficient_quota" {
		e.Kind = llm.KindQuota
	}
	if e.Kind == llm.KindInvalidRequest && e.Code == "" && strings.Contains(e.Message, "maximum context length") {
		e.Code = "context_length_exceeded"
	}
}

func codeString(c any) string {
	switch v := c.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// textOf renders a message that may be a string or a structured detail.
func textOf(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	}
	b, _ := json.Marshal(v)
	return string(b)
}
