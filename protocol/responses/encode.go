package responses

import (
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// EncodeRequest encodes req as a Responses request for model. Features the
// API lacks are refused (see the package doc); the request keeps no state
// upstream unless it asks for store.
func (Protocol) EncodeRequest(req *llm.Request, model string) ([]byte, error) {
	wr, err := encodeRequest(req, model)
	if err != nil {
		return nil, err
	}
	return json.Marshal(wr)
}

func encodeRequest(req *llm.Request, model string) (*request, error) {
	if err := refuseUnsupported(req); err != nil {
		return nil, err
	}
	// Vendor fields travel on only to the protocol they came from.
	ext := req.Origin == ID
	wr := &request{
		Model:             model,
		MaxOutputTokens:   req.MaxTokens,
		Temperature:       req.Temperature,
		TopP:              req.TopP,
		TopLogprobs:       req.TopLogprobs,
		ParallelToolCalls: req.ParallelToolCalls,
		Metadata:          req.Metadata,
		ServiceTier:       req.ServiceTier,
		User:              req.User,
	}
	store := false
	if req.Store != nil {
		store = *req.Store
	}
	wr.Store = &store
	if req.Stream {
		t := true
		wr.Stream = &t
	}
	if ext && req.User != "" {
		// A user that came from safety_identifier goes back only there.
		var sid string
		if json.Unmarshal(req.Extensions[extSafetyIdentifier], &sid) == nil && sid == req.User {
			wr.User = ""
		}
	}
	wr.Reasoning = encodeReasoning(req.Reasoning)
	wr.Text = encodeText(req, ext)
	wr.Include = encodeInclude(req, ext)
	idx := newToolIndex(req)
	tools, err := encodeTools(req.Tools, ext)
	if err != nil {
		return nil, err
	}
	wr.Tools = tools
	wr.ToolChoice = encodeToolChoice(req, idx, ext)
	instructions, items, err := encodeInput(req.Messages, idx)
	if err != nil {
		return nil, err
	}
	wr.Instructions = instructions
	wr.Input = input{Items: items, IsItems: true}
	if ext {
		wr.Unknown = unknownWithout(req.Extensions, knownFields)
	}
	return wr, nil
}

// refuseUnsupported refuses the request features the Responses API does
// not have.
func refuseUnsupported(req *llm.Request) error {
	refuse := func(param string) error {
		return llm.InvalidParam(param, "%s is not supported by OpenAI Responses upstreams", param)
	}
	switch {
	case req.N > 1:
		return refuse("n")
	case len(req.Stop) > 0:
		return refuse("stop")
	case req.FrequencyPenalty != nil:
		return refuse("frequency_penalty")
	case req.PresencePenalty != nil:
		return refuse("presence_penalty")
	}
	return nil
}

// encodeReasoning maps a reasoning config to {effort, summary}.
func encodeReasoning(r *llm.ReasoningConfig) *reasoningConfig {
	if r == nil {
		return nil
	}
	var out reasoningConfig
	if e := effortOf(r); e != "" {
		out.Effort = &e
	}
	summary := r.Summary
	if summary == "" && r.Mode != llm.ReasoningDisabled && (r.IncludeThoughts || r.Display == "summarized") {
		summary = "auto"
	}
	if summary != "" {
		out.Summary = &summary
	}
	if out.Effort == nil && out.Summary == nil {
		return nil
	}
	return &out
}

// effortOf picks an effort for a reasoning config: the effort itself,
// "none" when disabled, or the effort a thinking budget most resembles.
func effortOf(r *llm.ReasoningConfig) string {
	switch {
	case r.Effort != "":
		return r.Effort
	case r.Mode == llm.ReasoningDisabled:
		return "none"
	case r.BudgetTokens != nil:
		switch b := *r.BudgetTokens; {
		case b <= 0:
			return "" // dynamic or off: leave it to the model
		case b <= 2048:
			return "low"
		case b <= 12288:
			return "medium"
		default:
			return "high"
		}
	}
	return ""
}

// encodeText builds text: format from ResponseFormat, the other members
// from Extensions when they are ours.
func encodeText(req *llm.Request, ext bool) *textConfig {
	var tc textConfig
	if rf := req.ResponseFormat; rf != nil {
		f := &textFormat{Type: string(rf.Type)}
		if rf.Type == llm.FormatJSONSchema {
			f.Name, f.Description, f.Schema, f.Strict = rf.Name, rf.Description, jsontext.Value(rf.Schema), rf.Strict
			if f.Name == "" {
				f.Name = "response"
			}
			if len(f.Schema) == 0 {
				f.Schema = jsontext.Value(`{"type":"object"}`)
			}
		}
		tc.Format = f
	}
	if raw, ok := req.Extensions[extText]; ext && ok && rawKind(raw) == "object" {
		var m map[string]jsontext.Value
		if json.Unmarshal(raw, &m) == nil {
			delete(m, "format")
			if len(m) > 0 {
				tc.Unknown, _ = json.Marshal(m, json.Deterministic(true))
			}
		}
	}
	if tc.Format == nil && len(tc.Unknown) == 0 {
		return nil
	}
	return &tc
}

// encodeInclude merges the client's include (when ours) with what the
// request asks for.
func encodeInclude(req *llm.Request, ext bool) []string {
	var inc []string
	if raw, ok := req.Extensions[extInclude]; ext && ok {
		_ = json.Unmarshal(raw, &inc)
	}
	if req.Logprobs {
		found := false
		for _, s := range inc {
			found = found || s == logprobsInclude
		}
		if !found {
			inc = append(inc, logprobsInclude)
		}
	}
	return inc
}

// unknownWithout returns ext as a raw object without the keys in skip.
func unknownWithout(ext llm.Extensions, skip map[string]bool) jsontext.Value {
	if len(ext) == 0 {
		return nil
	}
	keep := make(llm.Extensions, len(ext))
	for k, v := range ext {
		if !skip[k] && len(v) > 0 {
			keep[k] = v
		}
	}
	return wirejson.Unknown(keep)
}

// encodeInput turns the conversation into instructions (a leading system
// message of text) and input items.
func encodeInput(msgs []llm.Message, idx toolIndex) (*string, []item, error) {
	var instructions *string
	if len(msgs) > 0 && msgs[0].Role == llm.RoleSystem && allText(msgs[0].Parts) {
		if s := msgs[0].Text(); s != "" {
			instructions = &s
			msgs = msgs[1:]
		}
	}
	items := make([]item, 0, len(msgs)+4)
	custom := map[string]bool{} // call ids of custom tool calls
	for i := range msgs {
		m := &msgs[i]
		p := wirejson.Index("messages", i)
		switch m.Role {
		case llm.RoleAssistant:
			items = encodeAssistant(items, m.Parts, idx, custom)
		case llm.RoleTool:
			for _, part := range m.Parts {
				if part.Type != llm.PartToolResult || part.ToolResult == nil {
					continue
				}
				r := part.ToolResult
				out, err := encodeContent(r.Content, p, true)
				if err != nil {
					return nil, nil, err
				}
				typ := "function_call_output"
				if custom[r.CallID] {
					typ = "custom_tool_call_output"
				}
				items = append(items, item{Type: typ, CallID: r.CallID, Output: out})
			}
		default:
			c, err := encodeContent(m.Parts, p, false)
			if err != nil {
				return nil, nil, err
			}
			role := string(m.Role)
			if m.Role == llm.RoleTool || role == "" {
				role = "user"
			}
			items = append(items, item{Type: "message", Role: role, Content: c})
		}
	}
	return instructions, items, nil
}

func allText(parts []llm.Part) bool {
	for _, p := range parts {
		if p.Type != llm.PartText {
			return false
		}
	}
	return true
}

// encodeAssistant appends the items of one assistant turn: reasoning items
// (those this protocol made), message items for runs of text and refusals,
// and function or custom tool calls.
func encodeAssistant(items []item, parts []llm.Part, idx toolIndex, custom map[string]bool) []item {
	start := len(items)
	msg := -1       // index of the message item being filled, or -1
	reasoning := -1 // index of the reasoning item being filled, or -1
	for _, part := range parts {
		switch part.Type {
		case llm.PartText, llm.PartRefusal:
			reasoning = -1
			if msg < 0 {
				items = append(items, item{Type: "message", Role: "assistant", Content: content{IsParts: true}})
				msg = len(items) - 1
			}
			c := &items[msg].Content
			cp := contentPart{Type: "output_text"}
			t := part.Text
			if part.Type == llm.PartRefusal {
				cp.Type, cp.Refusal = "refusal", &t
			} else {
				cp.Text = &t
				if a, ok := part.Extensions[extAnnotations]; ok {
					cp.Annotations = jsontext.Value(a)
				}
			}
			c.Parts = append(c.Parts, cp)
		case llm.PartReasoning:
			msg = -1
			r := part.Reasoning
			if r == nil || r.Origin != ID {
				continue // another protocol's reasoning means nothing here
			}
			// A new item starts at a new id, or (for ids the client left
			// out, as Codex does) at the next encrypted content.
			if reasoning < 0 || items[reasoning].ID != r.ID || r.Data != "" && items[reasoning].EncryptedContent != nil {
				items = append(items, item{Type: "reasoning", ID: r.ID, Summary: []summaryPart{}})
				reasoning = len(items) - 1
			}
			it := &items[reasoning]
			switch {
			case r.Summary && r.Text != "":
				it.Summary = append(it.Summary, summaryPart{Type: "summary_text", Text: r.Text})
			case !r.Summary && r.Text != "":
				t := r.Text
				it.Content.IsParts = true
				it.Content.Parts = append(it.Content.Parts, contentPart{Type: "reasoning_text", Text: &t})
			}
			if r.Data != "" && !r.Redacted && it.EncryptedContent == nil {
				d := r.Data
				it.EncryptedContent = &d
			}
		case llm.PartToolCall:
			msg, reasoning = -1, -1
			tc := part.ToolCall
			if tc == nil {
				continue
			}
			ns, name := idx.split(tc.Name)
			if tc.Type == llm.CallCustom || idx.custom(tc.Name) {
				custom[tc.ID] = true
				in := tc.Arguments
				items = append(items, item{Type: "custom_tool_call", CallID: tc.ID, Name: name, Namespace: ns, Input: &in})
				continue
			}
			args := arguments(tc.Arguments)
			if args == "" {
				args = "{}"
			}
			items = append(items, item{Type: "function_call", CallID: tc.ID, Name: name, Namespace: ns, Arguments: &args})
		}
	}
	// A reasoning item with neither id nor encrypted content refers to
	// nothing the upstream could use (another upstream's reasoning shown to
	// a Responses client as a summary, and sent back): leave it out.
	out := items[:start]
	for _, it := range items[start:] {
		if it.Type == "reasoning" && it.ID == "" && it.EncryptedContent == nil {
			continue
		}
		out = append(out, it)
	}
	if len(out) == start {
		// An assistant turn that says nothing still takes its turn.
		empty := ""
		out = append(out, item{Type: "message", Role: "assistant", Content: content{Text: &empty}})
	}
	return out
}

// encodeContent encodes message or tool-output parts: one string when they
// are all plain text, else input parts.
func encodeContent(parts []llm.Part, p string, output bool) (content, error) {
	plain := true
	for _, part := range parts {
		if (part.Type != llm.PartText && part.Type != llm.PartRefusal) || len(part.Extensions) > 0 {
			plain = false
		}
	}
	if plain {
		var b strings.Builder
		for _, part := range parts {
			b.WriteString(part.Text)
		}
		s := b.String()
		return content{Text: &s}, nil
	}
	out := content{IsParts: true}
	for _, part := range parts {
		var cp contentPart
		switch part.Type {
		case llm.PartText, llm.PartRefusal:
			t := part.Text
			cp = contentPart{Type: "input_text", Text: &t}
		case llm.PartImage:
			m := part.Media
			cp = contentPart{Type: "input_image", FileID: m.FileID, Detail: m.Detail}
			if u := m.URL; m.Data != "" || u != "" {
				if m.Data != "" {
					u = m.DataURL()
				}
				cp.ImageURL = &u
			}
			if cp.Detail == "" && !output {
				cp.Detail = "auto"
			}
		case llm.PartFile:
			m := part.Media
			cp = contentPart{Type: "input_file", FileID: m.FileID, Filename: m.Filename, FileData: m.DataURL()}
			if m.Data == "" {
				cp.FileURL = m.URL
			}
			if cp.Filename == "" && m.Data != "" {
				cp.Filename = "file" + extFor(m.MIMEType)
			}
		case llm.PartAudio:
			if part.Media.Data == "" {
				return content{}, llm.InvalidParam(p, "%s: audio must be inline data for OpenAI Responses upstreams", p)
			}
			cp = contentPart{Type: "input_audio", InputAudio: &inputAudio{Data: part.Media.Data, Format: audioFormat(part.Media.MIMEType)}}
		default:
			continue
		}
		out.Parts = append(out.Parts, cp)
	}
	return out, nil
}

// extFor returns a file name extension for a MIME type: the API wants a
// filename with inline file data.
func extFor(mime string) string {
	switch mime {
	case "application/pdf":
		return ".pdf"
	case "text/plain":
		return ".txt"
	case "text/markdown":
		return ".md"
	case "text/csv":
		return ".csv"
	case "application/json":
		return ".json"
	}
	return ""
}
