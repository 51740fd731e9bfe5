package anthropic

import (
	"bytes"
	"strconv"
	"sync"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// A hand-written encoder of the request body: the reflective Marshal was
// the largest cost of a translated request. It writes what Marshal writes,
// byte for byte (field order, omitzero, the embedded Unknown members,
// string escaping, number formats, raw values compacted); on any error,
// including the rare inputs wirejson leaves to it, marshalRequest calls
// Marshal, which returns the output or the error it always did.
// encode_json_test.go holds both to that over the corpora and a fuzz
// target.

// The JSON names of the struct fields that an embedded Unknown member
// must not repeat.
var (
	requestFields      = []string{"model", "max_tokens", "system", "messages", "tools", "tool_choice", "thinking", "output_config", "temperature", "top_p", "top_k", "stop_sequences", "stream", "metadata", "service_tier", "output_format"}
	messageFields      = []string{"role", "content"}
	blockFields        = []string{"type", "text", "source", "id", "name", "input", "tool_use_id", "content", "is_error", "thinking", "signature", "data", "cache_control"}
	toolFields         = []string{"type", "name", "description", "input_schema", "strict", "cache_control"}
	thinkingFields     = []string{"type", "budget_tokens", "display"}
	outputConfigFields = []string{"effort", "format"}
	metadataFields     = []string{"user_id"}
)

// maxPooled bounds the buffers kept for reuse, so that one huge request
// does not pin its buffer.
const maxPooled = 256 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// marshalRequest returns the body of wr in a slice of its own.
func marshalRequest(wr *messagesRequest) ([]byte, error) {
	p := bufPool.Get().(*[]byte)
	b, err := wr.appendJSON((*p)[:0])
	var out []byte
	if err == nil {
		out = bytes.Clone(b)
	}
	if cap(b) <= maxPooled {
		*p = b[:0]
		bufPool.Put(p)
	}
	if err != nil {
		return marshalReflect(wr)
	}
	return out, nil
}

// marshalReflect encodes wr with json.Marshal. What it refuses (invalid
// UTF-8 in a text file's data, a repeated key or a lone surrogate in tool
// arguments) came from the client, so the refusal is the client's 400, not
// the gateway's 500, and no partial body goes with it.
func marshalReflect(wr *messagesRequest) ([]byte, error) {
	b, err := json.Marshal(wr)
	if err != nil {
		return nil, llm.InvalidParam("", "the request cannot be encoded for an Anthropic upstream: %v", err)
	}
	return b, nil
}

// appendJSON appends r as json.Marshal(r) writes it; an error means that
// Marshal must decide (see wirejson.ErrUnhandled).
func (r *messagesRequest) appendJSON(dst []byte) ([]byte, error) {
	w := jsonWriter{b: dst}
	r.write(&w)
	return w.b, w.err
}

// jsonWriter appends JSON to b; the first error sticks and ends the
// encoding's meaning, though later writes still run.
type jsonWriter struct {
	b   []byte
	err error
}

func (w *jsonWriter) keep(err error) {
	if err != nil && w.err == nil {
		w.err = err
	}
}

// key writes a member name, given with its quotes and colon, after a comma
// unless it is the object's first.
func (w *jsonWriter) key(k string) {
	if w.b[len(w.b)-1] != '{' {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, k...)
}

func (w *jsonWriter) str(s string) {
	var err error
	w.b, err = wirejson.AppendString(w.b, s)
	w.keep(err)
}

func (w *jsonWriter) int(n int) { w.b = strconv.AppendInt(w.b, int64(n), 10) }

func (w *jsonWriter) bool(v bool) { w.b = strconv.AppendBool(w.b, v) }

func (w *jsonWriter) float(f float64) {
	var err error
	w.b, err = wirejson.AppendFloat(w.b, f)
	w.keep(err)
}

// value writes a jsontext.Value field's value.
func (w *jsonWriter) value(v []byte) {
	var err error
	w.b, err = wirejson.AppendValue(w.b, v)
	w.keep(err)
}

// members writes an embedded Unknown's members.
func (w *jsonWriter) members(v []byte, fields []string) {
	var err error
	w.b, err = wirejson.AppendMembers(w.b, v, fields)
	w.keep(err)
}

func (r *messagesRequest) write(w *jsonWriter) {
	w.b = append(w.b, `{"model":`...)
	w.str(r.Model)
	if r.MaxTokens != nil {
		w.key(`"max_tokens":`)
		w.int(*r.MaxTokens)
	}
	if r.System != nil && !r.System.IsZero() {
		w.key(`"system":`)
		r.System.write(w)
	}
	w.key(`"messages":[`)
	for i := range r.Messages {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		r.Messages[i].write(w)
	}
	w.b = append(w.b, ']')
	if r.Tools != nil {
		w.key(`"tools":[`)
		for i := range r.Tools {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			r.Tools[i].write(w)
		}
		w.b = append(w.b, ']')
	}
	if r.ToolChoice != nil {
		w.key(`"tool_choice":`)
		r.ToolChoice.write(w)
	}
	if r.Thinking != nil {
		w.key(`"thinking":`)
		r.Thinking.write(w)
	}
	if r.OutputConfig != nil {
		w.key(`"output_config":`)
		r.OutputConfig.write(w)
	}
	r.writeSampling(w)
	if r.Metadata != nil {
		w.key(`"metadata":`)
		r.Metadata.write(w)
	}
	if r.ServiceTier != "" {
		w.key(`"service_tier":`)
		w.str(r.ServiceTier)
	}
	if r.OutputFormat != nil {
		w.key(`"output_format":`)
		r.OutputFormat.write(w)
	}
	w.members(r.Unknown, requestFields)
	w.b = append(w.b, '}')
}

// writeSampling writes the members from temperature to stream.
func (r *messagesRequest) writeSampling(w *jsonWriter) {
	if r.Temperature != nil {
		w.key(`"temperature":`)
		w.float(*r.Temperature)
	}
	if r.TopP != nil {
		w.key(`"top_p":`)
		w.float(*r.TopP)
	}
	if r.TopK != nil {
		w.key(`"top_k":`)
		w.int(*r.TopK)
	}
	if r.StopSequences != nil {
		w.key(`"stop_sequences":[`)
		for i, s := range r.StopSequences {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.str(s)
		}
		w.b = append(w.b, ']')
	}
	if r.Stream != nil {
		w.key(`"stream":`)
		w.bool(*r.Stream)
	}
}

func (m *message) write(w *jsonWriter) {
	w.b = append(w.b, `{"role":`...)
	w.str(m.Role)
	w.key(`"content":`)
	m.Content.write(w)
	w.members(m.Unknown, messageFields)
	w.b = append(w.b, '}')
}

// write writes c as its MarshalJSONTo does.
func (c *content) write(w *jsonWriter) {
	switch {
	case c.IsBlock:
		w.b = append(w.b, '[')
		for i := range c.Blocks {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			c.Blocks[i].write(w)
		}
		w.b = append(w.b, ']')
	case c.Text != nil:
		w.str(*c.Text)
	default:
		w.b = append(w.b, "null"...)
	}
}

func (b *block) write(w *jsonWriter) {
	w.b = append(w.b, `{"type":`...)
	w.str(b.Type)
	if b.Text != nil {
		w.key(`"text":`)
		w.str(*b.Text)
	}
	if b.Source != nil {
		w.key(`"source":`)
		b.Source.write(w)
	}
	if b.ID != "" {
		w.key(`"id":`)
		w.str(b.ID)
	}
	if b.Name != "" {
		w.key(`"name":`)
		w.str(b.Name)
	}
	if b.Input != nil {
		w.key(`"input":`)
		w.value(b.Input)
	}
	if b.ToolUseID != "" {
		w.key(`"tool_use_id":`)
		w.str(b.ToolUseID)
	}
	if b.Content != nil && !b.Content.IsZero() {
		w.key(`"content":`)
		b.Content.write(w)
	}
	if b.IsError != nil {
		w.key(`"is_error":`)
		w.bool(*b.IsError)
	}
	b.writeThinking(w)
	if b.CacheControl != nil {
		w.key(`"cache_control":`)
		b.CacheControl.write(w)
	}
	w.members(b.Unknown, blockFields)
	w.b = append(w.b, '}')
}

// writeThinking writes the members of thinking and redacted_thinking
// blocks.
func (b *block) writeThinking(w *jsonWriter) {
	if b.Thinking != nil {
		w.key(`"thinking":`)
		w.str(*b.Thinking)
	}
	if b.Signature != nil {
		w.key(`"signature":`)
		w.str(*b.Signature)
	}
	if b.Data != "" {
		w.key(`"data":`)
		w.str(b.Data)
	}
}

// write writes s as its MarshalJSONTo does: a string for the string form.
func (s *source) write(w *jsonWriter) {
	if s.Name != nil {
		w.str(*s.Name)
		return
	}
	w.b = append(w.b, `{"type":`...)
	w.str(s.Type)
	if s.MediaType != "" {
		w.key(`"media_type":`)
		w.str(s.MediaType)
	}
	if s.Data != "" {
		w.key(`"data":`)
		w.str(s.Data)
	}
	if s.URL != "" {
		w.key(`"url":`)
		w.str(s.URL)
	}
	if s.FileID != "" {
		w.key(`"file_id":`)
		w.str(s.FileID)
	}
	if s.Content != nil && !s.Content.IsZero() {
		w.key(`"content":`)
		s.Content.write(w)
	}
	w.b = append(w.b, '}')
}

func (c *cacheControl) write(w *jsonWriter) {
	w.b = append(w.b, `{"type":`...)
	w.str(c.Type)
	if c.TTL != "" {
		w.key(`"ttl":`)
		w.str(c.TTL)
	}
	w.b = append(w.b, '}')
}

func (t *tool) write(w *jsonWriter) {
	w.b = append(w.b, '{')
	if t.Type != "" {
		w.key(`"type":`)
		w.str(t.Type)
	}
	w.key(`"name":`)
	w.str(t.Name)
	if t.Description != "" {
		w.key(`"description":`)
		w.str(t.Description)
	}
	if t.InputSchema != nil {
		w.key(`"input_schema":`)
		w.value(t.InputSchema)
	}
	if t.Strict != nil {
		w.key(`"strict":`)
		w.bool(*t.Strict)
	}
	if t.CacheControl != nil {
		w.key(`"cache_control":`)
		t.CacheControl.write(w)
	}
	w.members(t.Unknown, toolFields)
	w.b = append(w.b, '}')
}

func (c *toolChoice) write(w *jsonWriter) {
	w.b = append(w.b, `{"type":`...)
	w.str(c.Type)
	if c.Name != "" {
		w.key(`"name":`)
		w.str(c.Name)
	}
	if c.DisableParallelToolUse != nil {
		w.key(`"disable_parallel_tool_use":`)
		w.bool(*c.DisableParallelToolUse)
	}
	w.b = append(w.b, '}')
}

func (t *thinking) write(w *jsonWriter) {
	w.b = append(w.b, `{"type":`...)
	w.str(t.Type)
	if t.BudgetTokens != nil {
		w.key(`"budget_tokens":`)
		w.int(*t.BudgetTokens)
	}
	if t.Display != "" {
		w.key(`"display":`)
		w.str(t.Display)
	}
	w.members(t.Unknown, thinkingFields)
	w.b = append(w.b, '}')
}

func (c *outputConfig) write(w *jsonWriter) {
	w.b = append(w.b, '{')
	if c.Effort != "" {
		w.key(`"effort":`)
		w.str(c.Effort)
	}
	if c.Format != nil {
		w.key(`"format":`)
		c.Format.write(w)
	}
	w.members(c.Unknown, outputConfigFields)
	w.b = append(w.b, '}')
}

func (f *outputFormat) write(w *jsonWriter) {
	w.b = append(w.b, `{"type":`...)
	w.str(f.Type)
	if f.Schema != nil {
		w.key(`"schema":`)
		w.value(f.Schema)
	}
	w.b = append(w.b, '}')
}

func (m *metadata) write(w *jsonWriter) {
	w.b = append(w.b, '{')
	if m.UserID != nil {
		w.key(`"user_id":`)
		w.str(*m.UserID)
	}
	w.members(m.Unknown, metadataFields)
	w.b = append(w.b, '}')
}
