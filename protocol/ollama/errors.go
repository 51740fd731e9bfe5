package ollama

import (
	"errors"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/llm"
)

// EncodeError renders err as {"error":"…"} with the status of its kind
// (400, 401, 403, 404, 429, 500, 502, 503, 504, …).
func (Protocol) EncodeError(err *llm.Error) (int, []byte) { return encodeError(err) }

func encodeError(err *llm.Error) (int, []byte) {
	b := rawjson.AppendString([]byte(`{"error":`), errorMessage(err))
	return err.HTTPStatus(), append(b, '}')
}

// errorMessage is the text a client sees.
func errorMessage(err *llm.Error) string {
	if err == nil {
		return "internal error"
	}
	if err.Message != "" {
		return err.Message
	}
	if err.Kind != "" {
		return strings.ReplaceAll(string(err.Kind), "_", " ")
	}
	return "internal error"
}

// DecodeError reads an upstream error body, {"error":"…"}. A body that is
// not that (an HTML page from a proxy) yields a message naming the status.
func (Protocol) DecodeError(status int, body []byte) *llm.Error {
	e := &llm.Error{Kind: llm.KindForStatus(status), Status: status, Origin: ID}
	var env struct {
		Error *errorText `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && env.Error != nil {
		e.Message = env.Error.Message
	}
	if e.Message == "" {
		e.Message = "the upstream answered HTTP " + strconv.Itoa(status)
	}
	classify(e)
	return e
}

// classify sets the code of the errors Ollama words recognisably.
func classify(e *llm.Error) {
	msg := strings.ToLower(e.Message)
	switch {
	case e.Kind == llm.KindNotFound && strings.Contains(msg, "not found"):
		e.Code = "model_not_found"
	case strings.Contains(msg, "context length") || strings.Contains(msg, "context window"):
		if e.Kind == llm.KindInvalidRequest || e.Kind == llm.KindUpstream && e.Status == 0 {
			e.Kind, e.Code = llm.KindInvalidRequest, "context_length_exceeded"
		}
	}
}

// streamError maps an {"error":"…"} line of a stream. The status was 200,
// so the kind is an upstream failure unless the words say otherwise.
func streamError(msg string) *llm.Error {
	e := &llm.Error{Kind: llm.KindUpstream, Message: msg, Origin: ID}
	if e.Message == "" {
		e.Message = "the upstream reported an error in the stream"
	}
	classify(e)
	return e
}

// earlyEnd is the error of a stream that ends without its done line.
func earlyEnd() *llm.Error {
	return &llm.Error{Kind: llm.KindUpstream, Message: "the upstream stream ended before the answer was complete"}
}

// readFailure keeps an *llm.Error the body reader classified (a deadline, a
// client that left) and wraps anything else as a broken upstream stream.
func readFailure(err error) error {
	var e *llm.Error
	if errors.As(err, &e) {
		return e
	}
	return &llm.Error{Kind: llm.KindUpstream, Message: "reading the upstream stream failed", Cause: err}
}
