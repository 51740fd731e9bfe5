package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/llmux/llmux/internal/keys"
	"github.com/llmux/llmux/internal/store"
)

// apiError is an answer other than success: the HTTP status, a short code,
// the field or parameter at fault (Param, "" for none) and a message for
// people. Err is the cause, logged for 5xx and never shown.
type apiError struct {
	Status  int
	Code    string
	Param   string
	Message string
	Err     error
}

func (e *apiError) Error() string { return e.Message }
func (e *apiError) Unwrap() error { return e.Err }

// invalid is a 400 about one field or query parameter; the message starts
// with its name.
func invalid(param, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "invalid_value", Param: param,
		Message: param + ": " + fmt.Sprintf(format, args...)}
}

// errorBody is the OpenAI-style error body the gateway's admin paths use too.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    string  `json:"code"`
}

// writeError renders err: an *apiError as it is; the store's ErrInvalid as
// 400 naming the field its message names, ErrNotFound as 404, ErrConflict as
// 409; anything else as a 500 whose cause goes to the log only.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		e = fromStore(err)
	}
	if e.Status >= 500 && !errors.Is(err, context.Canceled) {
		a.log.Error("admin API", "method", r.Method, "path", hideSecret(r.URL.Path), "err", err)
	}
	WriteError(w, e.Status, e.Code, e.Param, e.Message)
}

// WriteError writes the admin API's error body,
// {"error":{"message","type","param","code"}}, with param null when "".
// The gateway's own admin endpoints answer with it too.
func WriteError(w http.ResponseWriter, status int, code, param, msg string) {
	typ := "invalid_request_error"
	if status >= 500 {
		typ = "server_error"
	}
	body := errorBody{Error: errorDetail{Message: msg, Type: typ, Code: code}}
	if param != "" {
		body.Error.Param = &param
	}
	_ = writeJSON(w, status, body)
}

// fromStore maps a store error onto an answer.
func fromStore(err error) *apiError {
	switch {
	case errors.Is(err, store.ErrInvalid):
		detail := storeDetail(err, store.ErrInvalid)
		param, _, _ := strings.Cut(detail, ": ")
		return &apiError{Status: http.StatusBadRequest, Code: "invalid_value", Param: param, Message: detail, Err: err}
	case errors.Is(err, store.ErrNotFound):
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "Not found: " + storeDetail(err, store.ErrNotFound) + ".", Err: err}
	case errors.Is(err, store.ErrConflict):
		return &apiError{Status: http.StatusConflict, Code: "conflict", Message: "Conflict: " + storeDetail(err, store.ErrConflict) + ".", Err: err}
	}
	return &apiError{Status: http.StatusInternalServerError, Code: "internal_error",
		Message: "The admin API failed; the llmux log has the details.", Err: err}
}

// storeDetail returns what a store error says after its sentinel's text,
// e.g. "rpm: must not be negative" from "store: invalid: rpm: must not be
// negative".
func storeDetail(err, sentinel error) string {
	msg := err.Error()
	if _, after, ok := strings.Cut(msg, sentinel.Error()+": "); ok {
		return after
	}
	return strings.TrimPrefix(msg, sentinel.Error())
}

// hideSecret cuts what follows a virtual key's prefix out of s, a value the
// client sent that goes back into a message or the log: an admin who pastes
// a raw key where an id belongs must not find it echoed.
func hideSecret(s string) string {
	if i := strings.Index(s, keys.SecretPrefix); i >= 0 {
		return s[:i] + keys.SecretPrefix + "…"
	}
	return s
}
