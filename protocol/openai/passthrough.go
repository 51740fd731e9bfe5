package openai

import (
	"bytes"
	"errors"
	"io"
	"slices"

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
var routed = [...]string{"model", "stream", "stream_options"}

// PeekRequest reads model, stream and stream_options.include_usage from a
// raw Chat Completions body, validating its JSON syntax and the types of the
// members it reads.
func (Protocol) PeekRequest(body []byte) (protocol.Peek, error) {
	var buf [24]rawjson.Member
	ms, err := members(body, buf[:0])
	if err != nil {
		return protocol.Peek{}, err
	}
	var p protocol.Peek
	var seen [len(routed)]bool
	hasModel, hasMessages := false, false
	for i := range ms {
		m := &ms[i]
		key := m.OneOf("model", "stream", "stream_options", "messages")
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
		case "stream_options":
			switch rawjson.Kind(v) {
			case "null":
			case "object":
				iu, found, _ := rawjson.Find(v, "include_usage")
				if found && rawjson.Kind(iu) != "null" {
					b, ok := rawjson.Bool(iu)
					if !ok {
						return p, llm.InvalidParam("stream_options.include_usage", "stream_options.include_usage: expected a boolean, got %s", rawjson.Kind(iu))
					}
					p.StreamUsage = b
				}
			default:
				return p, llm.InvalidParam("stream_options", "stream_options: expected an object, got %s", rawjson.Kind(v))
			}
		case "messages":
			if rawjson.Kind(v) != "array" {
				return p, llm.InvalidParam("messages", "messages: expected an array, got %s", rawjson.Kind(v))
			}
			hasMessages = len(bytes.TrimSpace(v[1:len(v)-1])) > 0
		}
	}
	if !hasModel || p.Model == "" {
		return p, llm.InvalidParam("model", "model: you must provide a model parameter")
	}
	if !hasMessages {
		return p, llm.InvalidParam("messages", "messages: at least one message is required")
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

// RewriteRequest sets the upstream model, makes a stream report usage,
// and drops or renames the fields the upstream does not accept. All other
// bytes of the body are kept. Members are found by their decoded names, as
// PeekRequest and the upstream read them, also when the client spelled them
// with escapes.
func (Protocol) RewriteRequest(dst, body []byte, rw protocol.Rewrite) ([]byte, error) {
	var ms []rawjson.Member
	if sc, ok := rw.Scan.(*scan); ok && len(body) == sc.size && &body[0] == sc.body {
		ms = sc.members
	} else {
		// Without the peek's scan (rare) the members are found again, on
		// the heap: an array of them here would sit in this frame on every
		// stream's goroutine stack.
		var err error
		if ms, err = members(body, nil); err != nil {
			return nil, err
		}
	}
	var eb [4]rawjson.Edit // enough for the usual request
	edits := eb[:0]
	if rw.Model != "" {
		edits = append(edits, rawjson.Edit{Key: rawjson.RawKey(ms, "model"), Value: rawjson.AppendString(nil, rw.Model)})
	}
	if rw.StreamUsage && !slices.Contains(rw.Drop, "stream_options") {
		if i := rawjson.Index(ms, "stream"); i >= 0 {
			if b, _ := rawjson.Bool(ms[i].Value(body)); b {
				edits = append(edits, rawjson.Edit{Key: rawjson.RawKey(ms, "stream_options"),
					Value: withIncludeUsage(ms, body, rawjson.Index(ms, "stream_options"))})
			}
		}
	}
	edits, refused := rawjson.FieldEdits(body, ms, edits, rw.Drop, rw.Rename, rw.Refuse)
	if refused != "" {
		return nil, protocol.RefuseField(refused, rw.Upstream)
	}
	return rawjson.Apply(dst, body, ms, edits), nil
}

// withIncludeUsage returns stream_options with include_usage set to true,
// keeping its other members.
func withIncludeUsage(ms []rawjson.Member, body []byte, i int) []byte {
	if i < 0 {
		return []byte(`{"include_usage":true}`)
	}
	v := ms[i].Value(body)
	if rawjson.Kind(v) != "object" {
		return []byte(`{"include_usage":true}`)
	}
	inner, err := rawjson.Members(v, nil)
	if err != nil {
		return []byte(`{"include_usage":true}`)
	}
	return rawjson.Apply(nil, v, inner, []rawjson.Edit{{Key: "include_usage", Value: []byte("true")}})
}

// TapResponse reads the usage of a complete chat.completion body.
func (Protocol) TapResponse(body []byte) (llm.Usage, bool) {
	v, found, err := rawjson.Find(body, "usage")
	if err != nil || !found || rawjson.Kind(v) != "object" {
		return llm.Usage{}, false
	}
	return usageOf(v)
}

// NewRelay returns the relay for one streamed passthrough response.
func (Protocol) NewRelay(p protocol.Peek) protocol.Relay {
	return &relay{clientUsage: p.StreamUsage}
}

type relay struct {
	clientUsage bool
	usage       llm.Usage
	hasUsage    bool
	finished    bool
	chunk       chunk
}

var (
	doneData  = []byte("[DONE]")
	usageKey  = []byte(`"usage"`)
	finishKey = []byte(`"finish_reason"`)
	errorMark = []byte(`"error"`)
)

// hasMember reports whether data holds a member named key (quoted) whose
// value starts with first. It allows white space around the colon, as
// servers that format with Python's json.dumps send it; a false positive
// only costs a decode. It searches for the name without its opening quote:
// quotes are everywhere in JSON, and a search led by one crawls.
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
			if v := skipSpace(rest[1:]); len(v) > 0 && v[0] == first {
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

// Copy relays SSE events as they arrive. Only chunks holding usage or an
// error are decoded; every other chunk is forwarded byte for byte after a
// substring check. What it wrote is flushed before each read from the
// upstream and before it returns.
func (r *relay) Copy(dst io.Writer, flush func() error, src io.Reader) error {
	in := &flushBeforeRead{src: src, flush: flush}
	rd := sse.NewReader(in)
	rd.KeepComments() // keep-alives reach the client and keep its connection busy
	// done flushes what was written before Copy returns.
	done := func(err error) error {
		if in.pending {
			if ferr := flush(); err == nil {
				err = ferr
			}
		}
		return err
	}
	for {
		ev, err := rd.Next()
		if err != nil {
			switch {
			case in.err != nil:
				return in.err
			case errors.Is(err, io.EOF) && r.finished:
				return done(nil)
			case errors.Is(err, io.EOF):
				return done(&llm.Error{Kind: llm.KindUpstream, Message: "the upstream stream ended before the answer was complete"})
			}
			return done(readFailure(err))
		}
		if ev.Comment {
			if _, err := dst.Write(ev.Raw); err != nil {
				return err
			}
			in.pending = true
			continue
		}
		data := ev.Data
		if bytes.Equal(bytes.TrimSpace(data), doneData) {
			if _, err := dst.Write(ev.Raw); err != nil {
				return err
			}
			return flush()
		}
		if hasMember(data, finishKey, '"') {
			r.finished = true
		}
		if hasMember(data, usageKey, '{') || bytes.Contains(data, errorMark) {
			hide, err := r.inspect(data)
			if err != nil {
				return done(err)
			}
			if hide {
				continue
			}
		}
		if _, err := dst.Write(ev.Raw); err != nil {
			return err
		}
		in.pending = true
	}
}

// flushBeforeRead is the relay's upstream reader. It flushes what the relay
// wrote before every read, which may block: events that arrived together
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

// inspect decodes a chunk that carries usage or an error. It reports
// whether the chunk exists only because the gateway asked for usage.
func (r *relay) inspect(data []byte) (hide bool, err error) {
	c := &r.chunk
	*c = chunk{}
	if json.Unmarshal(data, c) != nil {
		return false, nil // not ours to judge: forward as is
	}
	if c.Error != nil {
		return true, streamError(c.Error)
	}
	var u *usage
	switch {
	case c.Usage != nil:
		u = c.Usage
	case c.XGroq != nil && c.XGroq.Usage != nil:
		u = c.XGroq.Usage
	default:
		for i := range c.Choices {
			if c.Choices[i].Usage != nil {
				u = c.Choices[i].Usage
			}
		}
	}
	if u != nil {
		r.usage, r.hasUsage = decodeUsage(u), true
	}
	return c.Usage != nil && len(c.Choices) == 0 && !r.clientUsage, nil
}

func (r *relay) Usage() (llm.Usage, bool) { return r.usage, r.hasUsage }
