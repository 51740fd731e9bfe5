package llm

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrorKind classifies an error independently of any protocol. Ingress codecs
// map it to their status code and error type.
type ErrorKind string

const (
	// KindInvalidRequest is a malformed or unacceptable request (400).
	KindInvalidRequest ErrorKind = "invalid_request"
	// KindAuth is a missing or wrong key (401).
	KindAuth ErrorKind = "auth"
	// KindPermission is a valid key that may not do this (403).
	KindPermission ErrorKind = "permission"
	// KindNotFound is an unknown model or path (404).
	KindNotFound ErrorKind = "not_found"
	// KindTooLarge is a request body over the limit (413).
	KindTooLarge ErrorKind = "request_too_large"
	// KindRateLimited is a rate limit (429).
	KindRateLimited ErrorKind = "rate_limited"
	// KindQuota is an exhausted budget or quota (429, insufficient_quota).
	KindQuota ErrorKind = "quota"
	// KindOverloaded is a temporarily overloaded upstream (503, Anthropic 529).
	KindOverloaded ErrorKind = "overloaded"
	// KindUpstream is a failure of the upstream or of talking to it (502).
	KindUpstream ErrorKind = "upstream"
	// KindTimeout is a deadline that expired (504).
	KindTimeout ErrorKind = "timeout"
	// KindCanceled is a client that went away (499; nobody sees it).
	KindCanceled ErrorKind = "canceled"
	// KindInternal is a bug or unexpected state in the gateway (500).
	KindInternal ErrorKind = "internal"
)

var kindStatus = map[ErrorKind]int{
	KindInvalidRequest: 400,
	KindAuth:           401,
	KindPermission:     403,
	KindNotFound:       404,
	KindTooLarge:       413,
	KindRateLimited:    429,
	KindQuota:          429,
	KindOverloaded:     503,
	KindUpstream:       502,
	KindTimeout:        504,
	KindCanceled:       499,
	KindInternal:       500,
}

// KindForStatus returns the kind that best describes an HTTP status.
func KindForStatus(status int) ErrorKind {
	switch {
	case status == 400 || status == 409 || status == 422:
		return KindInvalidRequest
	case status == 401:
		return KindAuth
	case status == 402:
		return KindQuota
	case status == 403:
		return KindPermission
	case status == 404:
		return KindNotFound
	case status == 408 || status == 504:
		return KindTimeout
	case status == 413:
		return KindTooLarge
	case status == 429:
		return KindRateLimited
	case status == 503 || status == 529:
		return KindOverloaded
	case status >= 500:
		return KindUpstream
	case status >= 400:
		return KindInvalidRequest
	}
	return KindInternal
}

// Error is a typed error that every protocol can render. Message, Param and
// Code are shown to clients and must never hold secrets or internal
// addresses; Cause is for logs only.
type Error struct {
	// Kind classifies the error.
	Kind ErrorKind
	// Status is the HTTP status to answer with; 0 means the Kind's default.
	Status int
	// Message is the client-facing explanation.
	Message string
	// Param names the offending request field, e.g. "messages[0].content".
	Param string
	// Code is a machine-readable code, e.g. "model_not_found",
	// "context_length_exceeded", "invalid_api_key".
	Code string
	// Type is the upstream's own error type string (OpenAI type, Anthropic
	// error.type, Gemini status) when an upstream error is passed on; Origin
	// names that upstream's protocol so that only the same protocol reuses it.
	Type   string
	Origin string
	// RetryAfter is how long the client should wait before retrying, when
	// known.
	RetryAfter time.Duration
	// Cause is the underlying error, for logs and errors.Is/As.
	Cause error
}

// Error returns the message, prefixed by the kind.
func (e *Error) Error() string {
	msg := string(e.Kind) + ": " + e.Message
	if e.Param != "" {
		msg += " (param " + e.Param + ")"
	}
	if e.Cause != nil && e.Cause.Error() != e.Message {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// HTTPStatus returns Status, or the Kind's default status.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	if s, ok := kindStatus[e.Kind]; ok {
		return s
	}
	return 500
}

// Errorf returns an *Error of the given kind with a formatted message.
func Errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// InvalidParam returns a 400 error naming the offending field.
func InvalidParam(param, format string, args ...any) *Error {
	return &Error{Kind: KindInvalidRequest, Param: param, Message: fmt.Sprintf(format, args...)}
}

// AsError returns err as an *Error: itself when it is one (anywhere in its
// chain), a timeout or cancellation for context errors, otherwise an internal
// error whose message does not reveal err.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: KindTimeout, Message: "the request timed out", Cause: err}
	case errors.Is(err, context.Canceled):
		return &Error{Kind: KindCanceled, Message: "the request was canceled", Cause: err}
	}
	return &Error{Kind: KindInternal, Message: "internal error", Cause: err}
}
