package responses

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

// routed lists the members passthrough reads. A body that repeats one of
// them (possibly spelled with escapes) is refused: the gateway and the
// upstream could otherwise disagree on which copy counts, for example
// routing and billing one model while the upstream serves another.
var routed = [...]string{"model", "stream", "background"}

// PeekRequest reads model and stream from a raw Responses body, validating
// its JSON syntax and the types of the members it reads. Server-side state
// (previous_response_id, conversation) is the upstream's business here;
// only background mode is refused, as its result is fetched later from a
// path the gateway does not serve.
func (Protocol) PeekRequest(body []byte) (protocol.Peek, error) {
	var buf [24]rawjson.Member
	ms, err := members(body, buf[:0])
	if err != nil {
		return protocol.Peek{}, err
	}
	var p protocol.Peek
	var seen [len(routed)]bool
	hasModel := false
	for i := range ms {
		m := &ms[i]
		key := ""
		for k, name := range routed {
			if m.NameIs(name) {
				if seen[k] {
					return p, llm.InvalidParam(name, "%s: the member appears more than once", name)
				}
				seen[k], key = true, name
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
		case "stream", "background":
			if rawjson.Kind(v) == "null" {
				continue
			}
			b, ok := rawjson.Bool(v)
			if !ok {
				return p, llm.InvalidParam(key, "%s: expected a boolean, got %s", key, rawjson.Kind(v))
			}
			if key == "stream" {
				p.Stream = b
			} else if b {
				return p, llm.InvalidParam("background", "background: background responses are not supported by this gateway")
			}
		}
	}
	if !hasModel || p.Model == "" {
		return p, llm.InvalidParam("model", "model: you must provide a model parameter")
	}
	// Responses streams always carry usage in their last event.
	p.StreamUsage = p.Stream
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
// Rewrite.StreamUsage needs nothing: Responses streams always report
// usage.
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

// TapResponse reads the usage of a complete response object.
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
	final    struct {
		Type     string        `json:"type"`
		Response *wireResponse `json:"response"`
	}
	ev streamEvent
}

// Copy relays SSE events as they arrive, byte for byte. Only the terminal
// events are decoded: response.completed and response.incomplete for
// their usage (the copy then ends), response.failed and error events for
// the error they report. Those two are not forwarded: the gateway renders
// the (redacted) error in the client's protocol itself, and an error
// before anything was forwarded can still go to another upstream. What was
// written is flushed before each read from the upstream and before Copy
// returns.
func (r *relay) Copy(dst io.Writer, flush func() error, src io.Reader) error {
	in := &flushBeforeRead{src: src, flush: flush}
	rd := sse.NewReader(in)
	rd.KeepComments() // keep-alives reach the client and keep its connection busy
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
			case errors.Is(err, io.EOF):
				return done(&llm.Error{Kind: llm.KindUpstream, Message: errEarlyEnd})
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
		switch terminal(ev) {
		case "response.completed", "response.incomplete":
			r.tap(ev.Data)
			if _, err := dst.Write(ev.Raw); err != nil {
				return err
			}
			return flush()
		case "response.failed":
			r.tap(ev.Data)
			return done(r.failure("response.failed", ev.Data))
		case "error":
			return done(r.failure("error", ev.Data))
		}
		if _, err := dst.Write(ev.Raw); err != nil {
			return err
		}
		in.pending = true
	}
}

// terminal returns the type of an event that ends the stream, or "". The
// SSE event name says it without decoding; a server that sends no names
// has the few candidates decoded.
func terminal(ev sse.Event) string {
	name := ev.Name
	if len(name) == 0 {
		if !bytes.Contains(ev.Data, []byte(`response.completed`)) && !bytes.Contains(ev.Data, []byte(`response.incomplete`)) &&
			!bytes.Contains(ev.Data, []byte(`response.failed`)) && !bytes.Contains(ev.Data, []byte(`"error"`)) {
			return ""
		}
		var t struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(ev.Data, &t) != nil {
			return ""
		}
		name = []byte(t.Type)
	}
	switch string(name) {
	case "response.completed", "response.incomplete", "response.failed", "error":
		return string(name)
	}
	return ""
}

// tap reads the usage of a final response.
func (r *relay) tap(data []byte) {
	f := &r.final
	f.Response = nil
	if json.Unmarshal(data, f) != nil || f.Response == nil || f.Response.Usage == nil {
		return
	}
	r.usage, r.hasUsage = decodeUsage(f.Response.Usage), true
}

// failure decodes the error a response.failed or error event reports.
func (r *relay) failure(typ string, data []byte) error {
	ev := &r.ev
	*ev = streamEvent{}
	if json.Unmarshal(data, ev) != nil {
		return &llm.Error{Kind: llm.KindUpstream, Message: "the upstream reported an error in the stream"}
	}
	ev.Type = typ
	return failureOf(ev)
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
