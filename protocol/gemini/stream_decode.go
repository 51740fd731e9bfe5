package gemini

import (
	"bytes"
	"errors"
	"io"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/sse"
	"github.com/llmux/llmux/llm"
)

// NewStreamDecoder returns a stream of canonical events read from an
// upstream's streamGenerateContent?alt=sse body.
func (Protocol) NewStreamDecoder(body io.ReadCloser) llm.Stream {
	return &streamDecoder{body: body, sse: sse.NewReader(body)}
}

// streamChunk is what the decoder reads of each event: a response without
// the members a stream never needs (so nothing unknown is kept).
// Its members are values rather than pointers and it is reused from
// chunk to chunk, so that a text delta costs few allocations.
type streamChunk struct {
	Candidates     []streamCandidate `json:"candidates"`
	PromptFeedback *promptFeedback   `json:"promptFeedback"`
	UsageMetadata  optUsage          `json:"usageMetadata"`
	ModelVersion   sticky            `json:"modelVersion"`
	ResponseID     sticky            `json:"responseId"`
	CreateTime     sticky            `json:"createTime"`
	Error          *errorBody        `json:"error"`
}

type streamCandidate struct {
	Content        content         `json:"content"`
	FinishReason   sticky          `json:"finishReason"`
	Index          optInt          `json:"index"`
	LogprobsResult *logprobsResult `json:"logprobsResult"`
}

type streamDecoder struct {
	body     io.ReadCloser
	sse      *sse.Reader
	queue    []llm.Event
	head     int
	started  bool
	finished bool // a finishReason (or a blocked prompt) was seen
	done     bool
	err      error
	scope    string // the response id, hashed into made-up call ids
	choices  []decodeChoice
	usage    llm.Usage
	newUsage bool // usage changed since it was last queued
	hasUsage bool
	chunk    streamChunk
	parts    partDecoder
	partBuf  []llm.Part // reused by modelParts
}

type decodeChoice struct {
	calls    int // function calls so far
	finished bool
}

func (d *streamDecoder) Next() (llm.Event, error) {
	for d.head >= len(d.queue) {
		if d.err != nil {
			return llm.Event{}, d.err
		}
		d.queue, d.head = d.queue[:0], 0
		d.err = d.read()
	}
	ev := d.queue[d.head]
	d.head++
	return ev, nil
}

// read decodes the next SSE event into queued canonical events.
func (d *streamDecoder) read() error {
	if d.done {
		return io.EOF
	}
	ev, err := d.sse.Next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			d.done = true
			if d.finished {
				// Gemini streams have no terminator: the end after a
				// finishReason is the clean end.
				d.pushUsage()
				return nil
			}
			return &llm.Error{Kind: llm.KindUpstream, Message: "the upstream stream ended before the answer was complete"}
		}
		return readFailure(err)
	}
	data := bytes.TrimSpace(ev.Data)
	if len(data) == 0 || data[0] != '{' {
		return nil // keep-alive or unknown framing: skip
	}
	c := &d.chunk
	*c = streamChunk{Candidates: c.Candidates[:0], ModelVersion: c.ModelVersion, ResponseID: c.ResponseID, CreateTime: c.CreateTime}
	if err := json.Unmarshal(data, c); err != nil {
		return &llm.Error{Kind: llm.KindUpstream, Message: "the upstream sent a malformed stream chunk", Cause: err}
	}
	if c.Error != nil {
		return streamError(c.Error)
	}
	for i := range c.Candidates {
		if idx := c.Candidates[i].Index; idx.Set && (idx.N < 0 || idx.N >= llm.MaxChoices) {
			return &llm.Error{Kind: llm.KindUpstream, Message: "the upstream sent a candidate index out of range"}
		}
	}
	if !d.started {
		d.started = true
		d.scope = string(c.ResponseID)
		d.parts = partDecoder{upstream: true, scope: d.scope}
		d.push(llm.Event{Type: llm.EventStart, ID: d.scope, Model: string(c.ModelVersion), Created: parseTime(string(c.CreateTime))})
	}
	if c.UsageMetadata.Set {
		if cu := decodeUsage(&c.UsageMetadata.U); !d.hasUsage || cu != d.usage {
			d.usage, d.hasUsage, d.newUsage = cu, true, true
		}
	}
	finishing := false
	for i := range c.Candidates {
		wc := &c.Candidates[i]
		idx := i
		if wc.Index.Set {
			idx = wc.Index.N
		}
		if err := d.candidate(idx, wc); err != nil {
			return err
		}
		finishing = finishing || wc.FinishReason != ""
	}
	if len(c.Candidates) == 0 && c.PromptFeedback != nil && c.PromptFeedback.BlockReason != "" {
		st := d.choice(0)
		if !st.finished {
			st.finished = true
			d.push(llm.Event{Type: llm.EventFinish, FinishReason: llm.FinishContentFilter})
		}
		d.finished, finishing = true, true
	}
	if finishing {
		d.pushUsage()
	}
	return nil
}

func (d *streamDecoder) candidate(idx int, wc *streamCandidate) error {
	st := d.choice(idx)
	if len(wc.Content.Parts) > 0 {
		parts, err := d.parts.modelParts(d.partBuf[:0], wc.Content.Parts, nil, idx)
		if err != nil {
			return err
		}
		d.partBuf = parts
		var lps []llm.TokenLogprob
		if wc.LogprobsResult != nil {
			lps = decodeLogprobs(wc.LogprobsResult)
		}
		for _, p := range parts {
			switch p.Type {
			case llm.PartText:
				d.push(llm.Event{Type: llm.EventText, Choice: idx, Text: p.Text, Logprobs: lps})
				lps = nil
				if sig := p.Extensions["thoughtSignature"]; len(sig) > 0 {
					// The signature of a text part travels as a reasoning
					// event holding only the signature.
					var s string
					if json.Unmarshal(sig, &s) == nil && s != "" {
						d.push(llm.Event{Type: llm.EventReasoning, Choice: idx, Signature: s, Origin: ID})
					}
				}
			case llm.PartReasoning:
				r := p.Reasoning
				d.push(llm.Event{Type: llm.EventReasoning, Choice: idx, Text: r.Text, Summary: r.Summary, Signature: r.Signature, Origin: ID})
			case llm.PartToolCall:
				// Gemini sends calls whole: the id is made from the call's
				// position in the candidate, as DecodeResponse does.
				tc := p.ToolCall
				if generatedID(tc.ID) {
					tc.ID = callID(d.scope, idx, st.calls, tc.Name, []byte(tc.Arguments))
				}
				d.push(llm.Event{Type: llm.EventToolCall, Choice: idx, ToolIndex: st.calls, ID: tc.ID, Name: tc.Name, Signature: tc.Signature})
				d.push(llm.Event{Type: llm.EventToolArgs, Choice: idx, ToolIndex: st.calls, Text: tc.Arguments})
				st.calls++
			case llm.PartImage, llm.PartAudio, llm.PartFile:
				// Generated media has no stream event; it is dropped.
			}
		}
	}
	if wc.FinishReason != "" && !st.finished {
		st.finished, d.finished = true, true
		d.push(llm.Event{Type: llm.EventFinish, Choice: idx, FinishReason: finishFromWire(string(wc.FinishReason), st.calls > 0)})
	}
	return nil
}

func (d *streamDecoder) choice(i int) *decodeChoice {
	for len(d.choices) <= i {
		d.choices = append(d.choices, decodeChoice{})
	}
	return &d.choices[i]
}

func (d *streamDecoder) push(ev llm.Event) { d.queue = append(d.queue, ev) }

// pushUsage queues the latest usage when it changed since it was last
// queued: usage repeats on every chunk, and only the last one counts.
func (d *streamDecoder) pushUsage() {
	if d.newUsage {
		d.newUsage = false
		u := d.usage
		d.push(llm.Event{Type: llm.EventUsage, Usage: &u})
	}
}

// Close releases the body; events not yet read are dropped.
func (d *streamDecoder) Close() error {
	d.done = true
	d.queue, d.head = d.queue[:0], 0
	if d.err == nil {
		d.err = io.EOF
	}
	return d.body.Close()
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
