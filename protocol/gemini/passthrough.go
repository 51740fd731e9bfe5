package gemini

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/internal/sse"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// PeekRequest validates a raw generateContent body: JSON syntax, an object,
// and contents holding at least one element. It returns an empty Peek: the
// model and the stream mode are in the URL (see Address). The scan
// allocates nothing; RewriteRequest scans again only when it has edits to
// make, so there is no Peek.Scan to carry.
func (Protocol) PeekRequest(body []byte) (protocol.Peek, error) {
	var buf [16]rawjson.Member
	ms, err := members(body, buf[:0])
	if err != nil {
		return protocol.Peek{}, err
	}
	for i := range ms {
		if !keyMatches(&ms[i], "contents") {
			continue
		}
		v := ms[i].Value(body)
		if rawjson.Kind(v) != "array" {
			return protocol.Peek{}, llm.InvalidParam("contents", "contents: expected an array, got %s", rawjson.Kind(v))
		}
		if len(bytes.TrimSpace(v[1:len(v)-1])) == 0 {
			break
		}
		return protocol.Peek{}, nil
	}
	return protocol.Peek{}, llm.InvalidParam("contents", "contents: at least one content is required")
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

// keyMatches reports whether a member's name matches name as DecodeRequest
// matches it (see decodeOptions): ignoring case, '_' and '-'. name is
// lower case, without either.
func keyMatches(m *rawjson.Member, name string) bool {
	if m.NameIs(name) {
		return true
	}
	var buf [32]byte
	folded := buf[:0]
	for _, c := range []byte(m.Name()) {
		if c != '_' && c != '-' {
			folded = append(folded, c)
		}
	}
	return strings.EqualFold(string(folded), name)
}

// RewriteRequest applies the upstream's quirks (Drop, Rename, Refuse) to a
// generateContent body; every other byte is kept. Rewrite.Model is ignored
// (the model is in the URL, see Endpoint) and so is StreamUsage (Gemini
// always reports usage). With nothing to change the body is copied as is,
// without a second scan: PeekRequest has validated it.
func (Protocol) RewriteRequest(dst, body []byte, rw protocol.Rewrite) ([]byte, error) {
	if len(rw.Drop) == 0 && len(rw.Rename) == 0 && len(rw.Refuse) == 0 {
		return append(dst, body...), nil // PeekRequest has validated it
	}
	var buf [16]rawjson.Member
	ms, err := members(body, buf[:0])
	if err != nil {
		return nil, err
	}
	edits, refused := rawjson.FieldEdits(body, ms, nil, rw.Drop, rw.Rename, rw.Refuse)
	if refused != "" {
		return nil, protocol.RefuseField(refused, rw.Upstream)
	}
	return rawjson.Apply(dst, body, ms, edits), nil
}

// TapResponse reads the usage of a complete GenerateContentResponse.
func (Protocol) TapResponse(body []byte) (llm.Usage, bool) {
	v, found, err := rawjson.Find(body, "usageMetadata")
	if err != nil || !found || rawjson.Kind(v) != "object" {
		return llm.Usage{}, false
	}
	return usageOf(v)
}

// NewRelay returns the relay for one streamed passthrough response.
func (Protocol) NewRelay(p protocol.Peek) protocol.Relay { return &relay{} }

type relay struct {
	lastUsage []byte // raw usageMetadata of the last chunk that had one
	usage     llm.Usage
	hasUsage  bool
	decoded   bool // usage holds lastUsage decoded
	finished  bool
}

// hasReason reports whether v holds a member "finishReason" or
// "blockReason" with a string value, white space allowed around the colon.
// It searches for `Reason"`, whose capital R is rare in JSON, and checks
// what precedes it; a false positive inside a string value would need an
// unescaped quote there, which JSON does not allow.
func hasReason(v []byte) bool {
	for {
		i := bytes.Index(v, reasonName)
		if i < 0 {
			return false
		}
		head, rest := v[:i], v[i+len(reasonName):]
		v = rest
		if !bytes.HasSuffix(head, finishPrefix) && !bytes.HasSuffix(head, blockPrefix) {
			continue
		}
		rest = skipSpace(rest)
		if len(rest) > 0 && rest[0] == ':' {
			if r := skipSpace(rest[1:]); len(r) > 0 && r[0] == '"' {
				return true
			}
		}
	}
}

var (
	reasonName   = []byte(`Reason"`)
	finishPrefix = []byte(`"finish`)
	blockPrefix  = []byte(`"block`)
)

func skipSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	return b
}

// Copy relays SSE chunks byte for byte as they arrive. Each chunk is
// scanned, not decoded, for its top-level members (Gemini repeats usage on
// every chunk); the last usage is decoded once, when asked for. An error chunk
// is forwarded and then reported as an *llm.Error. The stream ends cleanly
// when the upstream closes it after a chunk with a finishReason (or with
// the blockReason of a blocked prompt).
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
			case errors.Is(err, io.EOF) && r.finished:
				return done(nil)
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
		if err := r.inspect(ev.Data); err != nil {
			return done(err)
		}
	}
}

// inspect scans one chunk's top-level members (without decoding them): it
// keeps the usage, notes a finish (in candidates) or a blocked prompt (in
// promptFeedback), and reports an error member. A chunk that is not a
// JSON object is not the relay's to judge.
func (r *relay) inspect(data []byte) error {
	var buf [8]rawjson.Member
	ms, err := rawjson.Members(data, buf[:0])
	if err != nil {
		return nil
	}
	for i := range ms {
		m := &ms[i]
		v := m.Value(data)
		switch {
		case m.KeyIs("candidates"), m.KeyIs("promptFeedback"):
			if !r.finished && hasReason(v) {
				r.finished = true // the last chunk (or a blocked prompt's only one)
			}
		case m.KeyIs("usageMetadata"):
			if rawjson.Kind(v) == "object" {
				r.lastUsage = append(r.lastUsage[:0], v...)
				r.hasUsage, r.decoded = true, false
			}
		case m.KeyIs("error"):
			var eb errorBody
			if rawjson.Kind(v) == "object" && json.Unmarshal(v, &eb) == nil {
				return streamError(&eb)
			}
		}
	}
	return nil
}

// flushBeforeRead is the relay's upstream reader. It flushes what the relay
// wrote before every read, which may block: chunks that arrived together
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

// Usage returns the usage of the last chunk that reported one.
func (r *relay) Usage() (llm.Usage, bool) {
	if !r.hasUsage {
		return llm.Usage{}, false
	}
	if !r.decoded {
		var u usageMetadata
		if json.Unmarshal(r.lastUsage, &u) != nil {
			return llm.Usage{}, false
		}
		r.usage, r.decoded = decodeUsage(&u), true
	}
	return r.usage, true
}
