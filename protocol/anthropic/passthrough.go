package anthropic

import (
	"bytes"
	"errors"
	"io"

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

// PeekRequest reads model and stream from a raw Messages (or count_tokens)
// body, validating its JSON syntax and the types of the members it reads.
// Anthropic streams always report usage, so Peek.StreamUsage stays false:
// there is nothing for the relay to hide.
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
		key := routedKey(m)
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
			if rawjson.Kind(v) != "array" {
				return p, llm.InvalidParam("messages", "messages: expected an array, got %s", rawjson.Kind(v))
			}
			hasMessages = len(bytes.TrimSpace(v[1:len(v)-1])) > 0
		}
	}
	if !hasModel || p.Model == "" {
		return p, llm.InvalidParam("model", "model: Field required")
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

// routedKey returns a member's name when it is one PeekRequest reads, ""
// otherwise; it allocates only for names spelled with escapes.
func routedKey(m *rawjson.Member) string {
	if bytes.IndexByte(m.Key, '\\') >= 0 {
		return m.Name()
	}
	switch string(m.Key) {
	case "model":
		return "model"
	case "stream":
		return "stream"
	case "messages":
		return "messages"
	}
	return ""
}

// RewriteRequest sets the upstream model and drops, renames or refuses the
// fields the upstream's quirks name. All other bytes of the body are kept.
// Members are found by their decoded names, as PeekRequest and the
// upstream read them, also when the client spelled them with escapes.
// Rewrite.StreamUsage needs nothing: Anthropic streams always carry usage.
func (Protocol) RewriteRequest(dst, body []byte, rw protocol.Rewrite) ([]byte, error) {
	var ms []rawjson.Member
	if sc, ok := rw.Scan.(*scan); ok && len(body) == sc.size && len(body) > 0 && &body[0] == sc.body {
		ms = sc.members
	} else {
		var buf [24]rawjson.Member
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

// TapResponse reads the usage of a complete message body.
func (Protocol) TapResponse(body []byte) (llm.Usage, bool) {
	v, found, err := rawjson.Find(body, "usage")
	if err != nil || !found || rawjson.Kind(v) != "object" {
		return llm.Usage{}, false
	}
	return usageOf(v)
}

// NewRelay returns the relay for one streamed passthrough response.
func (Protocol) NewRelay(p protocol.Peek) protocol.Relay { return &relay{} }

type relay struct {
	usage    llm.Usage
	hasUsage bool
	event    streamEvent
}

var (
	nameMessageStart = []byte("message_start")
	nameMessageDelta = []byte("message_delta")
	nameMessageStop  = []byte("message_stop")
	nameError        = []byte("error")
)

// Copy relays SSE events as they arrive, byte for byte, pings and comments
// included. Only message_start, message_delta and error events are
// decoded (for usage and the error); the copy ends after message_stop.
// What it wrote is flushed before each read from the upstream and before
// it returns.
func (r *relay) Copy(dst io.Writer, flush func() error, src io.Reader) error {
	in := &flushBeforeRead{src: src, flush: flush}
	rd := sse.NewReader(in)
	rd.KeepComments() // keep-alives reach the client and keep its connection busy
	// done flushes what was written before Copy returns.
	done := func(err error) error {
		if in.pending {
			in.pending = false
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
			case errors.Is(err, io.EOF):
				return done(&llm.Error{Kind: llm.KindUpstream, Message: "the upstream stream ended before the answer was complete"})
			}
			return done(readFailure(err))
		}
		if _, err := dst.Write(ev.Raw); err != nil {
			return err
		}
		in.pending = true
		if ev.Comment {
			continue
		}
		name := ev.Name
		if len(name) == 0 {
			name = r.typeOf(ev.Data)
		}
		switch {
		case bytes.Equal(name, nameMessageStop):
			return done(nil)
		case bytes.Equal(name, nameMessageStart):
			r.tap(ev.Data, true)
		case bytes.Equal(name, nameMessageDelta):
			r.tap(ev.Data, false)
		case bytes.Equal(name, nameError):
			return done(r.fail(ev.Data))
		}
	}
}

// typeOf returns the type member of an event without an event: line.
func (r *relay) typeOf(data []byte) []byte {
	v, found, err := rawjson.Find(data, "type")
	if err != nil || !found {
		return nil
	}
	s, err := rawjson.String(v)
	if err != nil {
		return nil
	}
	return []byte(s)
}

// tap folds the usage of a message_start or message_delta event in.
func (r *relay) tap(data []byte, start bool) {
	e := &r.event
	*e = streamEvent{}
	if json.Unmarshal(data, e) != nil {
		return // not ours to judge: it was forwarded as is
	}
	u := e.Usage
	if start {
		u = nil
		if e.Message != nil {
			u = e.Message.Usage
		}
	}
	if u != nil {
		r.usage, r.hasUsage = decodeUsage(r.usage, u), true
	}
}

// fail turns a forwarded error event into the error Copy returns.
func (r *relay) fail(data []byte) error {
	e := &r.event
	*e = streamEvent{}
	if json.Unmarshal(data, e) != nil || e.Error == nil {
		return &llm.Error{Kind: llm.KindUpstream, Message: "the upstream reported an error in the stream", Origin: ID}
	}
	return streamError(e.Error)
}

func (r *relay) Usage() (llm.Usage, bool) { return r.usage, r.hasUsage }

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
