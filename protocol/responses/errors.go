package responses

import (
	"strconv"
	"strings"

	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol/openai"
)

// The Responses API shares Chat Completions' error bodies and statuses, so
// package openai encodes and decodes them; only the origin differs.

// EncodeError renders err as {"error":{"message","type","param","code"}}.
func (Protocol) EncodeError(err *llm.Error) (int, []byte) {
	return openai.Protocol{}.EncodeError(asOpenAI(err))
}

// asOpenAI presents an error of a Responses upstream as the same vendor's,
// so that its own type is kept.
func asOpenAI(err *llm.Error) *llm.Error {
	if err.Origin != ID {
		return err
	}
	c := *err
	c.Origin = openai.ID
	return &c
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

// DecodeError reads an upstream error body as package openai does: its
// envelope, or the shapes compatible servers use.
func (Protocol) DecodeError(status int, body []byte) *llm.Error {
	e := openai.Protocol{}.DecodeError(status, body)
	e.Origin = ID
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
