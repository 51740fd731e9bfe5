package ollama

import (
	"bytes"
	"errors"
	"io"
	"strconv"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/internal/sse"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// routed lists the members passthrough reads or rewrites. A body that
// repeats one of them (possibly spelled with escapes) is refused: the
// gateway and the upstream could otherwise disagree on which copy counts,
// for example routing and billing one model while the upstream serves
// another.
var routed = [...]string{"model", "stream"}

// PeekRequest reads model and stream from a raw /api/chat body, validating
// its JSON syntax and the types of the members it reads. An absent (or
// null) stream means a stream, as in Ollama. A chat without messages is
// let through: the upstream answers it by loading the model.
func (Protocol) PeekRequest(body []byte) (protocol.Peek, error) {
	var buf [16]rawjson.Member
	ms, err := members(body, buf[:0])
	if err != nil {
		return protocol.Peek{}, err
	}
	p := protocol.Peek{Stream: true}
	var seen [len(routed)]bool
	hasModel := false
	for i := range ms {
		m := &ms[i]
		key := m.OneOf("model", "stream", "messages")
		for k, name := range routed {
			if key == name {
				if seen[k] {
					return p, llm.InvalidParam(name, "%s: the member appears more than once", name)
				}
				seen[k] = true
			}
		}
		v := m.Value(body)
		switch key {
		case "model":
			s, err := rawjson.String(v)
			if err != nil {
				return p, llm.InvalidParam("model", "model: expected a string, got %s", rawjson.Kind(v))
			}
			p.Model, hasModel = s, true
		case "stream":
			if rawjson.Kind(v) == "null" {
				continue
			}
			b, ok := rawjson.Bool(v)
			if !ok {
				return p, llm.InvalidParam("stream", "stream: expected a boolean, got %s", rawjson.Kind(v))
			}
			p.Stream = b
		case "messages":
			if k := rawjson.Kind(v); k != "array" && k != "null" {
				return p, llm.InvalidParam("messages", "messages: expected an array, got %s", k)
			}
		}
	}
	if !hasModel || p.Model == "" {
		return p, llm.InvalidParam("model", "model is required")
	}
	sc := &scan{body: &body[0], size: len(body)}
	sc.members = append(sc.buf[:0], ms...)
	p.Scan = sc
	return p, nil
}

// scan is PeekRequest's Peek.Scan: the members of the body it read, and
// which body that was, so that RewriteRequest reuses them only for it.
type scan struct {
	body    *byte
	size    int
	members []rawjson.Member
	buf     [8]rawjson.Member // members, when they fit: one allocation instead of two
}

// members scans a request body, turning syntax errors into a 400.
func members(body []byte, dst []rawjson.Member) ([]rawjson.Member, error) {
	ms, err := rawjson.Members(body, dst)
	if err != nil {
		if errors.Is(err, rawjson.ErrNotObject) {
			return nil, &llm.Error{Kind: llm.KindInvalidRequest, Message: "the request body must be a JSON object"}
		}
		return nil, &llm.Error{Kind: llm.KindInvalidRequest, Message: "the request body is not valid JSON: " + err.Error(), Cause: err}
	}
	return ms, nil
}

// RewriteRequest sets the upstream model and drops, renames or refuses the
// fields the upstream does not accept. All other bytes of the body are
// kept. Members are found by their decoded names, as PeekRequest and the
// upstream read them, also when the client spelled them with escapes.
// Rewrite.StreamUsage needs nothing: Ollama always counts.
func (Protocol) RewriteRequest(dst, body []byte, rw protocol.Rewrite) ([]byte, error) {
	var ms []rawjson.Member
	if sc, ok := rw.Scan.(*scan); ok && len(body) == sc.size && len(body) > 0 && &body[0] == sc.body {
		ms = sc.members
	} else {
		var buf [16]rawjson.Member
		var err error
		if ms, err = members(body, buf[:0]); err != nil {
			return nil, err
		}
	}
	var eb [4]rawjson.Edit // enough for the usual request
	edits := eb[:0]
	if rw.Model != "" {
		edits = append(edits, rawjson.Edit{Key: rawjson.RawKey(ms, "model"), Value: rawjson.AppendString(nil, rw.Model)})
	}
	edits, refused := rawjson.FieldEdits(body, ms, edits, rw.Drop, rw.Rename, rw.Refuse)
	if refused != "" {
		return nil, protocol.RefuseField(refused, rw.Upstream)
	}
	return rawjson.Apply(dst, body, ms, edits), nil
}

// TapResponse reads prompt_eval_count and eval_count from a complete
// answer. For a body of several lines it reads the last.
func (Protocol) TapResponse(body []byte) (llm.Usage, bool) {
	var buf [16]rawjson.Member
	ms, err := rawjson.Members(body, buf[:0])
	if err != nil {
		return llm.Usage{}, false // not one valid object: the gateway refuses it
	}
	var u llm.Usage
	found := false
	for i := range ms {
		var dst *int
		switch {
		case ms[i].KeyIs("prompt_eval_count"):
			dst = &u.InputTokens
		case ms[i].KeyIs("eval_count"):
			dst = &u.OutputTokens
		default:
			continue
		}
		if n, err := strconv.Atoi(string(ms[i].Value(body))); err == nil {
			*dst, found = max(n, 0), true
		}
	}
	return u, found
}

// NewRelay returns the relay for one streamed passthrough response.
func (Protocol) NewRelay(p protocol.Peek) protocol.Relay { return &relay{} }

type relay struct {
	usage    llm.Usage
	hasUsage bool
	line     []byte
	chunk    relayChunk
}

// relayChunk is what the relay reads from the lines it inspects.
type relayChunk struct {
	Done            bool       `json:"done"`
	PromptEvalCount *int       `json:"prompt_eval_count"`
	EvalCount       *int       `json:"eval_count"`
	Error           *errorText `json:"error"`
}

var (
	doneKey  = []byte(`"done"`)
	errorKey = []byte(`"error"`)
)

// Copy relays NDJSON lines as they arrive. Only a line holding "done":true
// or an "error" member is decoded; every other line is forwarded byte for
// byte after a substring check. It returns nil after the done line, the
// upstream's error after forwarding an error line, and an early-end error
// when the stream stops before its done line. What it wrote is flushed
// before each read from the upstream and before it returns.
func (r *relay) Copy(dst io.Writer, flush func() error, src io.Reader) error {
	in := &flushBeforeRead{src: src, flush: flush}
	lines := sse.NewLineReader(in)
	done := func(err error) error {
		if in.pending {
			if ferr := flush(); err == nil {
				err = ferr
			}
		}
		return err
	}
	for {
		line, err := lines.Next()
		if err != nil {
			switch {
			case in.err != nil:
				return in.err
			case errors.Is(err, io.EOF):
				return done(earlyEnd())
			}
			return done(readFailure(err))
		}
		last, failed := false, error(nil)
		if hasMember(line, doneKey, 't') || hasMember(line, errorKey, 0) {
			last, failed = r.inspect(line)
		}
		r.line = append(append(r.line[:0], line...), '\n')
		if _, err := dst.Write(r.line); err != nil {
			return err
		}
		in.pending = true
		switch {
		case failed != nil:
			return done(failed)
		case last:
			return done(nil)
		}
	}
}

// inspect decodes a line that may end the stream: the done line, whose
// counts it taps, or an error line.
func (r *relay) inspect(line []byte) (last bool, err error) {
	c := &r.chunk
	*c = relayChunk{}
	if json.Unmarshal(line, c) != nil {
		return false, nil // not ours to judge: forward as is
	}
	if c.Error != nil {
		return true, streamError(c.Error.Message)
	}
	if !c.Done {
		return false, nil
	}
	if c.PromptEvalCount != nil || c.EvalCount != nil {
		r.usage = usageOf(&chatResponse{PromptEvalCount: c.PromptEvalCount, EvalCount: c.EvalCount})
		r.hasUsage = true
	}
	return true, nil
}

func (r *relay) Usage() (llm.Usage, bool) { return r.usage, r.hasUsage }

// hasMember reports whether data holds a member named key (quoted) whose
// value starts with first (any value when first is 0). It allows white
// space around the colon; a false positive only costs a decode. It
// searches for the name without its opening quote: quotes are everywhere
// in JSON, and a search led by one crawls.
func hasMember(data, key []byte, first byte) bool {
	name := key[1:]
	for {
		i := bytes.Index(data, name)
		if i < 0 {
			return false
		}
		quoted := i > 0 && data[i-1] == '"'
		data = data[i+len(name):]
		if !quoted {
			continue
		}
		rest := skipSpace(data)
		if len(rest) > 0 && rest[0] == ':' {
			if v := skipSpace(rest[1:]); len(v) > 0 && (first == 0 || v[0] == first) {
				return true
			}
		}
	}
}

func skipSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	return b
}

// flushBeforeRead is the relay's upstream reader. It flushes what the relay
// wrote before every read, which may block: lines that arrived together
// leave together, and none waits for the upstream's next bytes.
type flushBeforeRead struct {
	src     io.Reader
	flush   func() error
	pending bool  // written since the last flush
	err     error // a failed flush, which ends the copy
}

func (f *flushBeforeRead) Read(p []byte) (int, error) {
	if f.pending {
		f.pending = false
		if err := f.flush(); err != nil {
			f.err = err
			return 0, err
		}
	}
	return f.src.Read(p)
}
