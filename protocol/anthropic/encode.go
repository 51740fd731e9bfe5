package anthropic

import (
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// EncodeRequest encodes req as a Messages request for model. What the
// Messages API cannot express is refused, emulated or dropped as the
// package documentation lists.
func (Protocol) EncodeRequest(req *llm.Request, model string) ([]byte, error) {
	wr, err := encodeRequest(req, model, false)
	if err != nil {
		return nil, err
	}
	return marshalRequest(wr)
}

// EncodeCountRequest encodes req as a count_tokens body: the Messages body
// without max_tokens, stream and the sampling fields the endpoint refuses.
func (Protocol) EncodeCountRequest(req *llm.Request, model string) ([]byte, error) {
	wr, err := encodeRequest(req, model, true)
	if err != nil {
		return nil, err
	}
	return marshalRequest(wr)
}

func encodeRequest(req *llm.Request, model string, count bool) (*messagesRequest, error) {
	if err := refuse(req); err != nil {
		return nil, err
	}
	// Vendor fields travel on only to the protocol they came from.
	ext := req.Origin == ID
	wr := &messagesRequest{Model: model}
	system, msgs, err := encodeMessages(req.Messages, ext)
	if err != nil {
		return nil, err
	}
	if len(system) > 0 {
		wr.System = &content{IsBlock: true, Blocks: system}
	}
	if len(msgs) == 0 {
		return nil, llm.InvalidParam("messages", "messages: no message with content is left to send to an Anthropic upstream")
	}
	wr.Messages = msgs
	if wr.Tools, err = encodeTools(req, ext); err != nil {
		return nil, err
	}
	wr.ToolChoice = encodeToolChoice(req, len(wr.Tools) > 0)
	th, effort := encodeReasoning(req.Reasoning, ext)
	thinkingOn := th != nil && th.Type != "disabled"
	if thinkingOn && !ext && forcesTool(wr.ToolChoice) {
		// Thinking cannot be combined with a forced tool: the client's
		// explicit choice wins over a reasoning hint.
		th, thinkingOn = nil, false
	}
	wr.Thinking = th
	if effort != "" {
		wr.OutputConfig = &outputConfig{Effort: effort}
	}
	if err := encodeResponseFormat(wr, req, ext, thinkingOn); err != nil {
		return nil, err
	}
	if ext && len(req.Extensions) > 0 {
		top := req.Extensions
		if oc, ok := top["output_config"]; ok {
			top = top.Clone()
			delete(top, "output_config")
			if wr.OutputConfig == nil {
				wr.OutputConfig = &outputConfig{}
			}
			wr.OutputConfig.Unknown = jsontext.Value(oc)
		}
		wr.Unknown = wirejson.Unknown(top)
	}
	if count {
		return wr, nil
	}

	maxTokens := DefaultMaxTokens(model)
	if req.MaxTokens != nil && *req.MaxTokens > 0 {
		maxTokens = *req.MaxTokens
	}
	if th != nil && th.BudgetTokens != nil && maxTokens <= *th.BudgetTokens {
		maxTokens += *th.BudgetTokens // max_tokens must exceed the budget
	}
	wr.MaxTokens = &maxTokens
	wr.Temperature, wr.TopP, wr.TopK = req.Temperature, req.TopP, req.TopK
	if t := wr.Temperature; t != nil && (*t > 1 || *t < 0) {
		c := min(max(*t, 0), 1) // OpenAI's scale reaches 2, Anthropic's 1
		wr.Temperature = &c
	}
	if thinkingOn {
		wr.Temperature, wr.TopK = nil, nil
		if p := wr.TopP; p != nil && *p < 0.95 {
			wr.TopP = nil
		}
	}
	if !ext && wr.Temperature != nil && wr.TopP != nil {
		wr.TopP = nil // newer models refuse both; temperature is the usual knob
	}
	wr.StopSequences = req.Stop
	if req.Stream {
		t := true
		wr.Stream = &t
	}
	if req.User != "" {
		u := req.User
		wr.Metadata = &metadata{UserID: &u}
	}
	if req.ServiceTier == "auto" || req.ServiceTier == "standard_only" {
		wr.ServiceTier = req.ServiceTier
	}
	return wr, nil
}

// refuse rejects what the Messages API cannot express and a gateway must
// not silently drop, because the answer would differ.
func refuse(req *llm.Request) error {
	switch {
	case req.N > 1:
		return llm.InvalidParam("n", "n: Anthropic upstreams return one choice; n must be 1")
	case req.Logprobs || req.TopLogprobs != nil:
		return llm.InvalidParam("logprobs", "logprobs: not supported by Anthropic upstreams")
	case req.FrequencyPenalty != nil:
		return llm.InvalidParam("frequency_penalty", "frequency_penalty: not supported by Anthropic upstreams")
	case req.PresencePenalty != nil:
		return llm.InvalidParam("presence_penalty", "presence_penalty: not supported by Anthropic upstreams")
	}
	return nil
}

// encodeMessages hoists instructions into system blocks and turns the rest
// of the conversation into alternating user and assistant turns.
func encodeMessages(msgs []llm.Message, ext bool) (system []block, out []message, err error) {
	out = make([]message, 0, len(msgs))
	nparts := 0
	for i := range msgs {
		nparts += len(msgs[i].Parts)
	}
	arena := make([]block, 0, nparts) // every message's blocks, carved from one array
	leading := true
	root := wirejson.Root("messages")
	for i := range msgs {
		m := &msgs[i]
		p := root.Elem(i)
		var unknown jsontext.Value
		if ext {
			unknown = wirejson.Unknown(m.Extensions)
		}
		if m.Role.IsInstruction() {
			blocks, err := textBlocks(m.Parts, &p, ext)
			if err != nil {
				return nil, nil, err
			}
			if leading || !ext || m.Role != llm.RoleSystem {
				system = append(system, blocks...)
				continue
			}
			// An Anthropic client's system message inside the conversation
			// stays where it was.
			if len(blocks) > 0 || len(unknown) > 0 {
				out = append(out, message{Role: "system", Content: content{IsBlock: true, Blocks: blocks}, Unknown: unknown})
			}
			continue
		}
		leading = false
		role := "user"
		switch m.Role {
		case llm.RoleAssistant:
			role = "assistant"
		case llm.RoleUser, llm.RoleTool:
		default:
			return nil, nil, llm.InvalidParam(p.String()+".role", "%s.role: %q cannot be sent to an Anthropic upstream", p.String(), m.Role)
		}
		blocks := arena[:0:len(m.Parts)]
		arena = arena[len(m.Parts):cap(arena)][:0]
		calls := 0
		pc := p.Field("content")
		for j := range m.Parts {
			pp := pc.Elem(j)
			b, ok, err := encodePart(&m.Parts[j], &pp, m.Role, ext, &calls, &p)
			if err != nil {
				return nil, nil, err
			}
			if ok {
				blocks = append(blocks, b)
			}
		}
		if len(blocks) == 0 && len(unknown) == 0 {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Role == role && len(unknown) == 0 {
			out[n-1].Content.Blocks = append(out[n-1].Content.Blocks, blocks...)
			continue
		}
		out = append(out, message{Role: role, Content: content{IsBlock: true, Blocks: blocks}, Unknown: unknown})
	}
	for i := range out {
		if out[i].Role == "user" {
			resultsFirst(out[i].Content.Blocks)
		}
	}
	trimPrefill(&out)
	return system, out, nil
}

// textBlocks encodes an instruction message: text parts only.
func textBlocks(parts []llm.Part, p *wirejson.Path, ext bool) ([]block, error) {
	var blocks []block
	for j := range parts {
		part := &parts[j]
		if part.Type != llm.PartText {
			pc := p.Field("content")
			pp := pc.Elem(j)
			return nil, llm.InvalidParam(pp.String(), "%s: system instructions may hold only text for Anthropic upstreams", pp.String())
		}
		if part.Text == "" {
			continue
		}
		blocks = append(blocks, textBlock(part, ext))
	}
	return blocks, nil
}

func textBlock(part *llm.Part, ext bool) block {
	b := block{Type: "text", Text: &part.Text, CacheControl: encodeCache(part.CacheControl)} // read only, during the encoding
	if ext {
		b.Unknown = wirejson.Unknown(part.Extensions)
	}
	return b
}

func encodeCache(cc *llm.CacheControl) *cacheControl {
	if cc == nil {
		return nil
	}
	typ := cc.Type
	if typ == "" {
		typ = "ephemeral"
	}
	return &cacheControl{Type: typ, TTL: cc.TTL}
}

// resultsFirst moves a user turn's tool_result blocks before its other
// blocks, keeping the order within each group, as the API requires.
func resultsFirst(blocks []block) {
	sorted := true
	seenOther := false
	for i := range blocks {
		if blocks[i].Type != "tool_result" {
			seenOther = true
		} else if seenOther {
			sorted = false
			break
		}
	}
	if sorted {
		return
	}
	out := make([]block, 0, len(blocks))
	for _, b := range blocks {
		if b.Type == "tool_result" {
			out = append(out, b)
		}
	}
	for _, b := range blocks {
		if b.Type != "tool_result" {
			out = append(out, b)
		}
	}
	copy(blocks, out)
}

// trimPrefill removes trailing white space from a final assistant turn,
// which the API rejects in a prefill.
func trimPrefill(out *[]message) {
	msgs := *out
	n := len(msgs)
	if n == 0 || msgs[n-1].Role != "assistant" {
		return
	}
	blocks := msgs[n-1].Content.Blocks
	k := len(blocks) - 1
	if k < 0 || blocks[k].Type != "text" || blocks[k].Text == nil {
		return
	}
	t := strings.TrimRight(*blocks[k].Text, " \t\r\n")
	if t != "" {
		blocks[k].Text = &t
		return
	}
	msgs[n-1].Content.Blocks = blocks[:k]
	if k == 0 && len(msgs[n-1].Unknown) == 0 {
		*out = msgs[:n-1]
	}
}

// encodePart encodes one part of a user, tool or assistant message; ok is
// false for parts that are left out.
func encodePart(part *llm.Part, p *wirejson.Path, role llm.Role, ext bool, calls *int, mp *wirejson.Path) (block, bool, error) {
	var b block
	switch part.Type {
	case llm.PartText, llm.PartRefusal:
		if part.Text == "" {
			return b, false, nil
		}
		return textBlock(part, ext), true, nil
	case llm.PartImage, llm.PartFile:
		if role == llm.RoleAssistant {
			return b, false, llm.InvalidParam(p.String(), "%s: media cannot be sent in an assistant turn to an Anthropic upstream", p.String())
		}
		return encodeMedia(part, p, ext)
	case llm.PartAudio:
		return b, false, llm.InvalidParam(p.String(), "%s: audio input is not supported by Anthropic upstreams", p.String())
	case llm.PartToolCall:
		tc := part.ToolCall
		k := *calls
		*calls++
		if tc == nil || role != llm.RoleAssistant {
			return b, false, nil
		}
		tcs := mp.Field("tool_calls")
		cp := tcs.Elem(k)
		if tc.Type == llm.CallCustom {
			return b, false, llm.InvalidParam(cp.String(), "%s: custom (free-form) tool calls cannot be sent to an Anthropic upstream", cp.String())
		}
		fn := cp.Field("function")
		fa := fn.Field("arguments")
		input, err := toolInput(tc.Arguments, &fa)
		if err != nil {
			return b, false, err
		}
		b = block{Type: "tool_use", ID: toolID(tc.ID), Name: tc.Name, Input: input, CacheControl: encodeCache(part.CacheControl)}
	case llm.PartToolResult:
		r := part.ToolResult
		if r == nil || role == llm.RoleAssistant {
			return b, false, nil
		}
		b = block{Type: "tool_result", ToolUseID: toolID(r.CallID), CacheControl: encodeCache(part.CacheControl)}
		if r.IsError {
			t := true
			b.IsError = &t
		}
		c, err := resultContent(r.Content, p, ext)
		if err != nil {
			return b, false, err
		}
		b.Content = c
	case llm.PartReasoning:
		r := part.Reasoning
		if r == nil || role != llm.RoleAssistant || r.Origin != ID {
			return b, false, nil // signatures are only valid where they were made
		}
		switch {
		case r.Redacted && r.Data != "":
			b = block{Type: "redacted_thinking", Data: r.Data}
		case !r.Redacted && r.Signature != "":
			b = block{Type: "thinking", Thinking: &r.Text, Signature: &r.Signature} // read only, during the encoding
		default:
			return b, false, nil // unsigned thinking is refused by the API
		}
	default:
		return b, false, nil
	}
	if ext {
		b.Unknown = wirejson.Unknown(part.Extensions)
	}
	return b, true, nil
}
