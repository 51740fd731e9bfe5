package llm

import "strings"

// Role is who said a message.
type Role string

const (
	// RoleSystem carries instructions from the application.
	RoleSystem Role = "system"
	// RoleDeveloper is OpenAI's newer name for system instructions; encoders
	// for protocols without it send it as system.
	RoleDeveloper Role = "developer"
	// RoleUser is the end user.
	RoleUser Role = "user"
	// RoleAssistant is the model.
	RoleAssistant Role = "assistant"
	// RoleTool carries tool results (PartToolResult parts). Protocols that put
	// results in a user turn (Anthropic, Gemini, Bedrock) decode them into a
	// tool message and encode them back into the user turn.
	RoleTool Role = "tool"
)

// IsInstruction reports whether r is system or developer.
func (r Role) IsInstruction() bool { return r == RoleSystem || r == RoleDeveloper }

// Message is one turn of the conversation.
type Message struct {
	// Role says who produced the message.
	Role Role
	// Name is the optional participant name (OpenAI name); other protocols
	// have no slot for it.
	Name string
	// Parts is the ordered content. An assistant message holds text,
	// refusal, reasoning and tool-call parts; a tool message holds
	// tool-result parts.
	Parts []Part
	// Extensions holds other fields of the message in the request's Origin
	// naming.
	Extensions Extensions
}

// Text returns the concatenated text parts of the message.
func (m *Message) Text() string {
	if len(m.Parts) == 1 && m.Parts[0].Type == PartText {
		return m.Parts[0].Text
	}
	var b strings.Builder
	for i := range m.Parts {
		if m.Parts[i].Type == PartText {
			b.WriteString(m.Parts[i].Text)
		}
	}
	return b.String()
}

// ToolCalls returns the tool calls of the message in order.
func (m *Message) ToolCalls() []*ToolCall {
	var calls []*ToolCall
	for i := range m.Parts {
		if m.Parts[i].Type == PartToolCall && m.Parts[i].ToolCall != nil {
			calls = append(calls, m.Parts[i].ToolCall)
		}
	}
	return calls
}

// PartType is the kind of a Part.
type PartType string

const (
	// PartText is text in Part.Text.
	PartText PartType = "text"
	// PartRefusal is a refusal message from the model in Part.Text.
	PartRefusal PartType = "refusal"
	// PartImage is an image in Part.Media.
	PartImage PartType = "image"
	// PartAudio is audio in Part.Media.
	PartAudio PartType = "audio"
	// PartFile is a document or other file (PDF, text, video) in Part.Media.
	PartFile PartType = "file"
	// PartToolCall is a call the model made, in Part.ToolCall.
	PartToolCall PartType = "tool_call"
	// PartToolResult is the result of a call, in Part.ToolResult.
	PartToolResult PartType = "tool_result"
	// PartReasoning is thinking, in Part.Reasoning.
	PartReasoning PartType = "reasoning"
)

// Part is one piece of message content. Exactly the field that matches Type
// is set.
type Part struct {
	// Type says which field holds the content.
	Type PartType
	// Text is the text of PartText and PartRefusal.
	Text string
	// Media is the payload of PartImage, PartAudio and PartFile.
	Media *Media
	// ToolCall is set for PartToolCall.
	ToolCall *ToolCall
	// ToolResult is set for PartToolResult.
	ToolResult *ToolResult
	// Reasoning is set for PartReasoning.
	Reasoning *Reasoning
	// CacheControl marks an Anthropic prompt-cache breakpoint after this part.
	CacheControl *CacheControl
	// Extensions holds other fields of the part (citations, annotations) in
	// the request's or response's Origin naming.
	Extensions Extensions
}

// TextPart returns a text part.
func TextPart(s string) Part { return Part{Type: PartText, Text: s} }

// Media is binary content: given inline as base64 data, by URL, or by a
// provider-side file id.
type Media struct {
	// MIMEType of the content, for example "image/png", "audio/wav" or
	// "application/pdf"; may be empty for a URL the upstream fetches itself.
	MIMEType string
	// Data is the content, base64-encoded (standard alphabet, padded, no
	// "data:" prefix); empty when URL or FileID is used.
	Data string
	// URL is an http(s) URL, or a provider file URI (Gemini Files API,
	// gs://) when the origin protocol uses one.
	URL string
	// FileID is a provider-side file id (OpenAI file_id).
	FileID string
	// Filename is the original file name, when known.
	Filename string
	// Detail is the image detail hint: auto, low or high.
	Detail string
}

// DataURL returns the content as a data: URL, or "" when there is no inline
// data.
func (m *Media) DataURL() string {
	if m.Data == "" {
		return ""
	}
	mt := m.MIMEType
	if mt == "" {
		mt = "application/octet-stream"
	}
	return "data:" + mt + ";base64," + m.Data
}

// ParseDataURL splits a base64 data: URL into its MIME type and payload. It
// reports false for anything else (a plain URL, or a data URL that is not
// base64).
func ParseDataURL(u string) (mimeType, data string, ok bool) {
	rest, found := strings.CutPrefix(u, "data:")
	if !found {
		return "", "", false
	}
	meta, payload, found := strings.Cut(rest, ",")
	if !found {
		return "", "", false
	}
	meta, isB64 := strings.CutSuffix(meta, ";base64")
	if !isB64 {
		return "", "", false
	}
	if i := strings.IndexByte(meta, ';'); i >= 0 {
		meta = meta[:i] // drop parameters such as charset
	}
	return meta, payload, true
}

// ToolCall kinds for ToolCall.Type.
const (
	// CallFunction is a call of a function tool with JSON arguments.
	CallFunction = "function"
	// CallCustom is a call of an OpenAI custom tool with free-form input.
	CallCustom = "custom"
)

// ToolCall is a call the model made.
type ToolCall struct {
	// ID matches the call with its result. Codecs synthesize stable ids for
	// protocols that have none (Gemini, older Ollama).
	ID string
	// Type is CallFunction (the default when empty) or CallCustom.
	Type string
	// Name is the tool's name.
	Name string
	// Arguments is the JSON text of the arguments object ("{}" when none);
	// for CallCustom it is the raw input text.
	Arguments string
	// Signature is Gemini's thoughtSignature attached to the call; it must be
	// echoed back to Gemini on the next turn.
	Signature string
}

// ToolResult is the result of a tool call, sent back by the client.
type ToolResult struct {
	// CallID is the ToolCall.ID this answers.
	CallID string
	// Name is the tool's name when known (Gemini and Ollama require it;
	// decoders fill it from the matching call where the wire omits it).
	Name string
	// Content is the result: text parts, and image or file parts where the
	// protocol allows. A JSON result is one text part holding the JSON.
	Content []Part
	// IsError marks a failed call.
	IsError bool
}

// Text returns the concatenated text content of the result.
func (r *ToolResult) Text() string {
	m := Message{Parts: r.Content}
	return m.Text()
}

// Reasoning is a piece of the model's thinking.
type Reasoning struct {
	// ID is the upstream's id of the reasoning item (Responses "rs_…").
	ID string
	// Text is the thinking text, or its summary when Summary is set.
	Text string
	// Summary marks Text as a summary of the reasoning rather than the
	// reasoning itself (Responses summary_text, Gemini thought summaries).
	Summary bool
	// Signature authenticates the thinking for replay (Anthropic signature,
	// Gemini thoughtSignature on a text part).
	Signature string
	// Redacted marks thinking the upstream encrypted (Anthropic
	// redacted_thinking); Data holds it.
	Redacted bool
	// Data is opaque encrypted reasoning: Anthropic redacted_thinking data or
	// Responses encrypted_content.
	Data string
	// Origin is the registry ID of the protocol that produced Signature and
	// Data. They are only valid for that protocol's upstreams; encoders for
	// other protocols drop them.
	Origin string
}
