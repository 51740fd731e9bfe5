package llm

// Stream is a pull-based stream of events from one generation.
//
// Next returns the next event; at a clean end it returns io.EOF, and on a
// failure a non-nil error (usually an *Error) after which the stream is
// finished. Close releases the underlying connection; it may be called at any
// time, also before the end, and more than once. Cancellation comes from the
// context the stream was opened with. A Stream is used by one goroutine.
type Stream interface {
	Next() (Event, error)
	Close() error
}

// EventType says what an Event carries.
type EventType uint8

// Event types. A well-formed stream starts with EventStart, carries deltas,
// and ends each choice with EventFinish; EventUsage may come at any point and
// the last one wins.
const (
	// EventStart opens the response: ID, Model, Created; Usage may hold the
	// input counts when the upstream reports them up front.
	EventStart EventType = iota + 1
	// EventText is a text delta in Text.
	EventText
	// EventRefusal is a refusal-text delta in Text.
	EventRefusal
	// EventReasoning is a thinking delta: Text, and/or Signature, and/or
	// Data (with Redacted) for opaque reasoning. ID names the reasoning item
	// when the upstream has ids (Responses).
	EventReasoning
	// EventToolCall starts tool call number ToolIndex (0-based within the
	// choice) with ID and Name; Text may already hold arguments.
	EventToolCall
	// EventToolArgs is an argument fragment (JSON text) in Text for call
	// ToolIndex.
	EventToolArgs
	// EventUsage reports token counts so far (cumulative, not incremental).
	EventUsage
	// EventFinish ends a choice with FinishReason (and StopSequence).
	EventFinish
)

var eventNames = [...]string{
	EventStart:     "start",
	EventText:      "text",
	EventRefusal:   "refusal",
	EventReasoning: "reasoning",
	EventToolCall:  "tool_call",
	EventToolArgs:  "tool_args",
	EventUsage:     "usage",
	EventFinish:    "finish",
}

func (t EventType) String() string {
	if int(t) < len(eventNames) && eventNames[t] != "" {
		return eventNames[t]
	}
	return "unknown"
}

// Event is one step of a stream. Which fields are set depends on Type; the
// struct is flat and passed by value so that relaying a delta allocates
// nothing.
type Event struct {
	// Type says what the event carries.
	Type EventType
	// Choice is the choice index the event belongs to.
	Choice int
	// Text is the delta of EventText, EventRefusal, EventReasoning and
	// EventToolArgs (and initial arguments of EventToolCall).
	Text string
	// ToolIndex numbers tool calls within the choice, from 0.
	ToolIndex int
	// ID is the response id (EventStart), the tool call id (EventToolCall)
	// or the reasoning item id (EventReasoning).
	ID string
	// Name is the tool name (EventToolCall).
	Name string
	// Model is the answering model (EventStart).
	Model string
	// Created is the creation time in Unix seconds (EventStart).
	Created int64
	// Signature is a reasoning signature (EventReasoning) or a Gemini
	// thoughtSignature of a tool call (EventToolCall).
	Signature string
	// Data is opaque reasoning (EventReasoning), with Redacted set for
	// Anthropic redacted_thinking.
	Data     string
	Redacted bool
	// Summary marks reasoning Text as a summary (EventReasoning).
	Summary bool
	// Origin is the registry ID of the protocol that made an
	// EventReasoning's Signature or Data: they are valid only there, so
	// encoders of other protocols leave them out. "" means unknown.
	Origin string
	// Usage holds counts (EventUsage, optionally EventStart).
	Usage *Usage
	// FinishReason and StopSequence end a choice (EventFinish).
	FinishReason FinishReason
	StopSequence string
	// Logprobs of the tokens in this delta, when requested (EventText).
	Logprobs []TokenLogprob
}
