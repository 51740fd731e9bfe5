package llm

import (
	"errors"
	"io"
	"strings"
)

// Accumulator folds stream events into a complete Response. The zero value
// is ready to use. It is how a streamed upstream answers a non-streaming
// client, and how encoders that must repeat the whole output at the end
// (Responses' response.completed) keep it.
type Accumulator struct {
	resp    Response
	choices []choiceAcc
	usage   bool
}

type choiceAcc struct {
	parts   []Part
	builder []*strings.Builder // per part: text, reasoning text or arguments
	tools   map[int]int        // tool index → part index
	finish  FinishReason
	stop    string
	logprob []TokenLogprob
}

// Add folds one event in.
func (a *Accumulator) Add(ev Event) {
	switch ev.Type {
	case EventStart:
		if ev.ID != "" {
			a.resp.ID = ev.ID
		}
		if ev.Model != "" {
			a.resp.Model = ev.Model
		}
		if ev.Created != 0 {
			a.resp.Created = ev.Created
		}
		if ev.Usage != nil {
			a.resp.Usage = *ev.Usage
			a.usage = true
		}
		return
	case EventUsage:
		if ev.Usage != nil {
			a.resp.Usage = *ev.Usage
			a.usage = true
		}
		return
	}
	if ev.Choice < 0 || ev.Choice >= MaxChoices {
		return // no such choice can exist; decoders refuse them
	}
	c := a.choice(ev.Choice)
	switch ev.Type {
	case EventText:
		c.appendText(PartText, ev.Text)
		c.logprob = append(c.logprob, ev.Logprobs...)
	case EventRefusal:
		c.appendText(PartRefusal, ev.Text)
	case EventReasoning:
		c.addReasoning(ev)
	case EventToolCall:
		if c.tools == nil {
			c.tools = make(map[int]int)
		}
		c.tools[ev.ToolIndex] = len(c.parts)
		c.parts = append(c.parts, Part{Type: PartToolCall, ToolCall: &ToolCall{
			ID: ev.ID, Name: ev.Name, Signature: ev.Signature,
		}})
		c.builder = append(c.builder, newBuilder(ev.Text))
	case EventToolArgs:
		if i, ok := c.tools[ev.ToolIndex]; ok {
			c.builder[i].WriteString(ev.Text)
		}
	case EventFinish:
		c.finish = ev.FinishReason
		c.stop = ev.StopSequence
	}
}

func (a *Accumulator) choice(i int) *choiceAcc {
	for len(a.choices) <= i {
		a.choices = append(a.choices, choiceAcc{})
	}
	return &a.choices[i]
}

func (c *choiceAcc) appendText(t PartType, s string) {
	if n := len(c.parts); n > 0 && c.parts[n-1].Type == t {
		c.builder[n-1].WriteString(s)
		return
	}
	c.parts = append(c.parts, Part{Type: t})
	c.builder = append(c.builder, newBuilder(s))
}

func newBuilder(s string) *strings.Builder {
	b := &strings.Builder{}
	b.WriteString(s)
	return b
}

func (c *choiceAcc) addReasoning(ev Event) {
	n := len(c.parts)
	if n > 0 && c.parts[n-1].Type == PartReasoning {
		r := c.parts[n-1].Reasoning
		same := ev.ID == "" || ev.ID == r.ID
		if same && !r.Redacted && !ev.Redacted && r.Signature == "" && r.Data == "" {
			c.builder[n-1].WriteString(ev.Text)
			r.Signature = ev.Signature
			r.Data = ev.Data
			if r.Origin == "" {
				r.Origin = ev.Origin
			}
			return
		}
	}
	c.parts = append(c.parts, Part{Type: PartReasoning, Reasoning: &Reasoning{
		ID: ev.ID, Summary: ev.Summary, Signature: ev.Signature, Data: ev.Data, Redacted: ev.Redacted, Origin: ev.Origin,
	}})
	c.builder = append(c.builder, newBuilder(ev.Text))
}

// HasUsage reports whether any event carried usage.
func (a *Accumulator) HasUsage() bool { return a.usage }

// Usage returns the last usage seen.
func (a *Accumulator) Usage() Usage { return a.resp.Usage }

// Response returns the response folded so far. Calling it finalizes the
// builders; keep adding afterwards only through a new Accumulator.
func (a *Accumulator) Response() *Response {
	resp := a.resp
	resp.Choices = make([]Choice, len(a.choices))
	for i := range a.choices {
		c := &a.choices[i]
		parts := c.parts
		for j := range parts {
			s := c.builder[j].String()
			switch parts[j].Type {
			case PartText, PartRefusal:
				parts[j].Text = s
			case PartReasoning:
				parts[j].Reasoning.Text = s
			case PartToolCall:
				parts[j].ToolCall.Arguments = s
			}
		}
		finish := c.finish
		if finish == "" {
			finish = FinishStop
		}
		resp.Choices[i] = Choice{
			Index:        i,
			Message:      Message{Role: RoleAssistant, Parts: parts},
			FinishReason: finish,
			StopSequence: c.stop,
			Logprobs:     c.logprob,
		}
	}
	if len(resp.Choices) == 0 {
		resp.Choices = []Choice{{Message: Message{Role: RoleAssistant}, FinishReason: FinishStop}}
	}
	return &resp
}

// Collect reads s to the end and returns the folded response. It closes s.
func Collect(s Stream) (*Response, error) {
	defer s.Close()
	var acc Accumulator
	for {
		ev, err := s.Next()
		if errors.Is(err, io.EOF) {
			return acc.Response(), nil
		}
		if err != nil {
			return nil, err
		}
		acc.Add(ev)
	}
}

// Events returns the events that stream resp: a start, the content of every
// choice as whole deltas, usage, and a finish per choice. It is how a
// complete answer is sent to a streaming client.
func Events(resp *Response) []Event {
	evs := []Event{{Type: EventStart, ID: resp.ID, Model: resp.Model, Created: resp.Created}}
	for _, ch := range resp.Choices {
		tool := 0
		for _, p := range ch.Message.Parts {
			switch p.Type {
			case PartText:
				evs = append(evs, Event{Type: EventText, Choice: ch.Index, Text: p.Text})
			case PartRefusal:
				evs = append(evs, Event{Type: EventRefusal, Choice: ch.Index, Text: p.Text})
			case PartReasoning:
				r := p.Reasoning
				evs = append(evs, Event{Type: EventReasoning, Choice: ch.Index, ID: r.ID, Text: r.Text,
					Summary: r.Summary, Signature: r.Signature, Data: r.Data, Redacted: r.Redacted})
			case PartToolCall:
				tc := p.ToolCall
				evs = append(evs, Event{Type: EventToolCall, Choice: ch.Index, ToolIndex: tool,
					ID: tc.ID, Name: tc.Name, Signature: tc.Signature})
				if tc.Arguments != "" {
					evs = append(evs, Event{Type: EventToolArgs, Choice: ch.Index, ToolIndex: tool, Text: tc.Arguments})
				}
				tool++
			}
		}
		evs = append(evs, Event{Type: EventFinish, Choice: ch.Index, FinishReason: ch.FinishReason, StopSequence: ch.StopSequence})
	}
	u := resp.Usage
	evs = append(evs, Event{Type: EventUsage, Usage: &u})
	return evs
}

// SliceStream streams a fixed list of events.
type SliceStream struct {
	events []Event
	next   int
}

// NewSliceStream returns a Stream over evs.
func NewSliceStream(evs []Event) *SliceStream { return &SliceStream{events: evs} }

// Next returns the next event, or io.EOF after the last.
func (s *SliceStream) Next() (Event, error) {
	if s.next >= len(s.events) {
		return Event{}, io.EOF
	}
	ev := s.events[s.next]
	s.next++
	return ev, nil
}

// Close ends the stream.
func (s *SliceStream) Close() error {
	s.next = len(s.events)
	return nil
}

var _ Stream = (*SliceStream)(nil)
