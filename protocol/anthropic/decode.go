package anthropic

import (
	"encoding/base64"
	"strings"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// DecodeRequest decodes a Messages request body into the canonical model.
// Type errors and missing required fields (model, max_tokens, messages)
// yield a 400 naming the field; fields the model has no slot for are kept
// in Extensions.
func (Protocol) DecodeRequest(body []byte) (*llm.Request, error) {
	var wr messagesRequest
	if err := wirejson.Unmarshal(body, &wr); err != nil {
		return nil, err
	}
	if wr.MaxTokens == nil {
		return nil, llm.InvalidParam("max_tokens", "max_tokens: Field required")
	}
	return decodeRequest(&wr)
}

// DecodeCountRequest decodes a count_tokens body: a Messages body without
// max_tokens (which it ignores when present).
func (Protocol) DecodeCountRequest(body []byte) (*llm.Request, error) {
	var wr messagesRequest
	if err := wirejson.Unmarshal(body, &wr); err != nil {
		return nil, err
	}
	wr.MaxTokens, wr.Stream = nil, nil
	return decodeRequest(&wr)
}

func decodeRequest(wr *messagesRequest) (*llm.Request, error) {
	if wr.Model == "" {
		return nil, llm.InvalidParam("model", "model: Field required")
	}
	if len(wr.Messages) == 0 {
		return nil, llm.InvalidParam("messages", "messages: at least one message is required")
	}
	if err := validateSampling(wr); err != nil {
		return nil, err
	}
	req := &llm.Request{
		Model:       wr.Model,
		MaxTokens:   wr.MaxTokens,
		Temperature: wr.Temperature,
		TopP:        wr.TopP,
		TopK:        wr.TopK,
		Stop:        wr.StopSequences,
		ServiceTier: wr.ServiceTier,
		Origin:      ID,
		Extensions:  wirejson.Extensions(wr.Unknown),
	}
	if wr.Stream != nil {
		req.Stream = *wr.Stream
	}
	if md := wr.Metadata; md != nil && md.UserID != nil {
		req.User = *md.UserID
	}
	var err error
	if req.Reasoning, err = decodeThinking(wr.Thinking, wr.OutputConfig); err != nil {
		return nil, err
	}
	if req.ResponseFormat, err = decodeOutputFormat(wr); err != nil {
		return nil, err
	}
	if oc := wr.OutputConfig; oc != nil && len(oc.Unknown) > 0 {
		// Other output_config members (task_budget, …) have no canonical
		// slot; EncodeRequest merges them back for an Anthropic upstream.
		req.Extensions = withExtension(req.Extensions, "output_config", []byte(oc.Unknown))
	}
	if req.Tools, err = decodeTools(wr.Tools); err != nil {
		return nil, err
	}
	if tc := wr.ToolChoice; tc != nil {
		if req.ToolChoice, err = decodeToolChoice(tc); err != nil {
			return nil, err
		}
		if tc.DisableParallelToolUse != nil && *tc.DisableParallelToolUse {
			f := false
			req.ParallelToolCalls = &f
		}
	}
	if req.Messages, err = decodeSystem(wr.System); err != nil {
		return nil, err
	}
	if req.Messages, err = decodeMessages(req.Messages, wr.Messages); err != nil {
		return nil, err
	}
	return req, nil
}

func withExtension(ext llm.Extensions, key string, raw []byte) llm.Extensions {
	if ext == nil {
		ext = llm.Extensions{}
	}
	ext[key] = raw
	return ext
}

func validateSampling(wr *messagesRequest) error {
	if m := wr.MaxTokens; m != nil && *m < 1 {
		return llm.InvalidParam("max_tokens", "max_tokens: must be at least 1")
	}
	if t := wr.Temperature; t != nil && (*t < 0 || *t > 1) {
		return llm.InvalidParam("temperature", "temperature: must be between 0 and 1")
	}
	if p := wr.TopP; p != nil && (*p < 0 || *p > 1) {
		return llm.InvalidParam("top_p", "top_p: must be between 0 and 1")
	}
	if k := wr.TopK; k != nil && *k < 0 {
		return llm.InvalidParam("top_k", "top_k: must be at least 0")
	}
	return nil
}

func decodeThinking(th *thinking, oc *outputConfig) (*llm.ReasoningConfig, error) {
	var rc *llm.ReasoningConfig
	if th != nil {
		rc = &llm.ReasoningConfig{Display: th.Display}
		switch th.Type {
		case "enabled":
			if th.BudgetTokens == nil {
				return nil, llm.InvalidParam("thinking.budget_tokens", "thinking.budget_tokens: Field required")
			}
			if *th.BudgetTokens < minBudget {
				return nil, llm.InvalidParam("thinking.budget_tokens", "thinking.budget_tokens: must be at least 1024")
			}
			rc.Mode, rc.BudgetTokens = llm.ReasoningEnabled, th.BudgetTokens
		case "adaptive":
			rc.Mode = llm.ReasoningAdaptive
		case "disabled":
			rc.Mode = llm.ReasoningDisabled
		default:
			return nil, llm.InvalidParam("thinking.type", "thinking.type: must be enabled, adaptive or disabled, got %q", th.Type)
		}
	}
	if oc != nil && oc.Effort != "" {
		if rc == nil {
			rc = &llm.ReasoningConfig{}
		}
		rc.Effort = oc.Effort
	}
	return rc, nil
}

func decodeOutputFormat(wr *messagesRequest) (*llm.ResponseFormat, error) {
	f, param := wr.OutputFormat, "output_format"
	if oc := wr.OutputConfig; oc != nil && oc.Format != nil {
		f, param = oc.Format, "output_config.format"
	}
	if f == nil {
		return nil, nil
	}
	if f.Type != "json_schema" {
		return nil, llm.InvalidParam(param+".type", "%s.type: must be json_schema, got %q", param, f.Type)
	}
	if len(f.Schema) == 0 {
		return nil, llm.InvalidParam(param+".schema", "%s.schema: Field required", param)
	}
	return &llm.ResponseFormat{Type: llm.FormatJSONSchema, Schema: []byte(f.Schema)}, nil
}

// decodeTools maps custom tools to function tools and keeps server tools
// (any other type) whole.
func decodeTools(tools []tool) ([]llm.Tool, error) {
	if len(tools) == 0 {
		return nil, nil
	}
	out := make([]llm.Tool, 0, len(tools))
	for i := range tools {
		t := &tools[i]
		p := wirejson.Index("tools", i)
		if t.Name == "" {
			return nil, llm.InvalidParam(p+".name", "%s.name: Field required", p)
		}
		if t.Name == JSONToolName {
			return nil, llm.InvalidParam(p+".name", "%s.name: %q is reserved by the gateway", p, JSONToolName)
		}
		switch t.Type {
		case "", "custom":
			if len(t.InputSchema) == 0 {
				return nil, llm.InvalidParam(p+".input_schema", "%s.input_schema: Field required", p)
			}
			out = append(out, llm.Tool{Type: llm.ToolFunction, Name: t.Name, Description: t.Description,
				Parameters: []byte(t.InputSchema), Strict: t.Strict, CacheControl: decodeCache(t.CacheControl),
				Extensions: wirejson.Extensions(t.Unknown)})
		default:
			// A server tool: its definition travels whole, for an Anthropic
			// upstream only.
			raw, err := json.Marshal(t)
			if err != nil {
				return nil, llm.InvalidParam(p, "%s: invalid tool definition", p)
			}
			out = append(out, llm.Tool{Type: t.Type, Name: t.Name, CacheControl: decodeCache(t.CacheControl), Raw: raw})
		}
	}
	return out, nil
}

func decodeToolChoice(tc *toolChoice) (*llm.ToolChoice, error) {
	switch tc.Type {
	case "auto":
		return &llm.ToolChoice{Mode: llm.ToolChoiceAuto}, nil
	case "any":
		return &llm.ToolChoice{Mode: llm.ToolChoiceRequired}, nil
	case "none":
		return &llm.ToolChoice{Mode: llm.ToolChoiceNone}, nil
	case "tool":
		if tc.Name == "" {
			return nil, llm.InvalidParam("tool_choice.name", "tool_choice.name: Field required")
		}
		return &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: tc.Name}, nil
	}
	return nil, llm.InvalidParam("tool_choice.type", "tool_choice.type: must be auto, any, tool or none, got %q", tc.Type)
}

func decodeCache(cc *cacheControl) *llm.CacheControl {
	if cc == nil {
		return nil
	}
	return &llm.CacheControl{Type: cc.Type, TTL: cc.TTL}
}

// decodeSystem turns the system prompt into leading system messages, one
// per block, so that protocols that join instructions put a blank line
// between blocks.
func decodeSystem(sys *content) ([]llm.Message, error) {
	if sys == nil || sys.IsZero() {
		return nil, nil
	}
	if !sys.IsBlock {
		if *sys.Text == "" {
			return nil, nil
		}
		return []llm.Message{{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart(*sys.Text)}}}, nil
	}
	msgs := make([]llm.Message, 0, len(sys.Blocks))
	for j := range sys.Blocks {
		b := &sys.Blocks[j]
		p := wirejson.Index("system", j)
		if b.Type != "text" {
			return nil, llm.InvalidParam(p+".type", "%s.type: system blocks must be text, got %q", p, b.Type)
		}
		if b.Text == nil {
			return nil, llm.InvalidParam(p+".text", "%s.text: Field required", p)
		}
		msgs = append(msgs, llm.Message{Role: llm.RoleSystem, Parts: []llm.Part{{Type: llm.PartText, Text: *b.Text,
			CacheControl: decodeCache(b.CacheControl), Extensions: wirejson.Extensions(b.Unknown)}}})
	}
	return msgs, nil
}

// decodeMessages appends the conversation to msgs. A user turn's
// tool_result blocks become a tool message before the rest of the turn.
func decodeMessages(msgs []llm.Message, wms []message) ([]llm.Message, error) {
	if msgs == nil {
		msgs = make([]llm.Message, 0, len(wms)+1)
	}
	calls := map[string]string{} // tool_use id → name, for tool results
	for i := range wms {
		wm := &wms[i]
		p := wirejson.Index("messages", i)
		ext := wirejson.Extensions(wm.Unknown)
		if wm.Content.IsZero() {
			return nil, llm.InvalidParam(p+".content", "%s.content: Field required", p)
		}
		switch wm.Role {
		case "user":
			results, rest, err := decodeUserContent(&wm.Content, p+".content", calls)
			if err != nil {
				return nil, err
			}
			if len(results) == 0 && len(rest) == 0 {
				return nil, llm.InvalidParam(p+".content", "%s.content: user messages must have non-empty content", p)
			}
			if len(results) > 0 {
				msgs = append(msgs, llm.Message{Role: llm.RoleTool, Parts: results})
			}
			if len(rest) > 0 || len(results) == 0 {
				msgs = append(msgs, llm.Message{Role: llm.RoleUser, Parts: rest, Extensions: ext})
			}
		case "assistant":
			parts, err := decodeBlocks(&wm.Content, p+".content", roleAssistant, calls)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, llm.Message{Role: llm.RoleAssistant, Parts: parts, Extensions: ext})
		case "system":
			parts, err := decodeBlocks(&wm.Content, p+".content", roleSystem, calls)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, llm.Message{Role: llm.RoleSystem, Parts: parts, Extensions: ext})
		case "":
			return nil, llm.InvalidParam(p+".role", "%s.role: Field required", p)
		default:
			return nil, llm.InvalidParam(p+".role", "%s.role: must be user or assistant, got %q", p, wm.Role)
		}
	}
	return msgs, nil
}

// blockRole says which blocks a content list may hold.
type blockRole int

const (
	roleUser blockRole = iota
	roleAssistant
	roleSystem
	roleToolResult
)

// decodeUserContent splits a user turn into its tool results and the rest.
func decodeUserContent(c *content, p string, calls map[string]string) (results, rest []llm.Part, err error) {
	if !c.IsBlock {
		rest, err = decodeBlocks(c, p, roleUser, calls)
		return nil, rest, err
	}
	for j := range c.Blocks {
		b := &c.Blocks[j]
		if b.Type != "tool_result" {
			continue
		}
		bp := wirejson.Index(p, j)
		if b.ToolUseID == "" {
			return nil, nil, llm.InvalidParam(bp+".tool_use_id", "%s.tool_use_id: Field required", bp)
		}
		r := &llm.ToolResult{CallID: b.ToolUseID, Name: calls[b.ToolUseID]}
		if b.IsError != nil {
			r.IsError = *b.IsError
		}
		if b.Content != nil {
			if r.Content, err = decodeBlocks(b.Content, bp+".content", roleToolResult, calls); err != nil {
				return nil, nil, err
			}
		}
		results = append(results, llm.Part{Type: llm.PartToolResult, ToolResult: r,
			CacheControl: decodeCache(b.CacheControl), Extensions: wirejson.Extensions(b.Unknown)})
	}
	if len(results) == len(c.Blocks) {
		return results, nil, nil
	}
	rest, err = decodeBlocks(c, p, roleUser, calls)
	return results, rest, err
}

// serverBlocks are blocks of server-side tools (and the files they made)
// in a conversation's history. The canonical model has no form for them, so
// the translated path leaves them out.
var serverBlocks = map[string]bool{
	"server_tool_use": true, "web_search_tool_result": true, "web_fetch_tool_result": true,
	"code_execution_tool_result": true, "bash_code_execution_tool_result": true,
	"text_editor_code_execution_tool_result": true, "tool_search_tool_result": true,
	"mcp_tool_use": true, "mcp_tool_result": true, "container_upload": true, "tool_reference": true,
}

// decodeBlocks turns content into parts; tool_result blocks are skipped
// (decodeUserContent takes them).
func decodeBlocks(c *content, p string, role blockRole, calls map[string]string) ([]llm.Part, error) {
	if !c.IsBlock {
		if c.Text == nil || *c.Text == "" {
			return nil, nil
		}
		return []llm.Part{llm.TextPart(*c.Text)}, nil
	}
	parts := make([]llm.Part, 0, len(c.Blocks))
	for j := range c.Blocks {
		b := &c.Blocks[j]
		bp := wirejson.Index(p, j)
		if b.Type == "tool_result" {
			if role != roleUser {
				return nil, llm.InvalidParam(bp+".type", "%s.type: tool_result blocks are only allowed in user messages", bp)
			}
			continue
		}
		if serverBlocks[b.Type] {
			continue
		}
		part, err := decodeBlock(b, bp, role)
		if err != nil {
			return nil, err
		}
		if part.Type == llm.PartToolCall {
			calls[part.ToolCall.ID] = part.ToolCall.Name
		}
		if part.Type == llm.PartText && part.Text == "" && part.CacheControl == nil && len(part.Extensions) == 0 {
			continue
		}
		parts = append(parts, part)
	}
	return parts, nil
}

func decodeBlock(b *block, p string, role blockRole) (llm.Part, error) {
	ext := wirejson.Extensions(b.Unknown)
	cc := decodeCache(b.CacheControl)
	switch b.Type {
	case "text":
		if b.Text == nil {
			return llm.Part{}, llm.InvalidParam(p+".text", "%s.text: Field required", p)
		}
		return llm.Part{Type: llm.PartText, Text: *b.Text, CacheControl: cc, Extensions: citations(b.Unknown)}, nil
	case "image", "document":
		if role == roleAssistant || role == roleSystem {
			return llm.Part{}, llm.InvalidParam(p+".type", "%s.type: %s blocks are only allowed in user messages", p, b.Type)
		}
		return decodeMedia(b, p, cc, ext)
	case "search_result":
		// Search results the client supplies: their text, for any upstream.
		return llm.Part{Type: llm.PartText, Text: textOf(b.Content), CacheControl: cc}, nil
	case "tool_use":
		if role != roleAssistant {
			return llm.Part{}, llm.InvalidParam(p+".type", "%s.type: tool_use blocks are only allowed in assistant messages", p)
		}
		if b.ID == "" {
			return llm.Part{}, llm.InvalidParam(p+".id", "%s.id: Field required", p)
		}
		if b.Name == "" {
			return llm.Part{}, llm.InvalidParam(p+".name", "%s.name: Field required", p)
		}
		args := "{}"
		if len(b.Input) > 0 {
			if b.Input[0] != '{' {
				return llm.Part{}, llm.InvalidParam(p+".input", "%s.input: expected an object", p)
			}
			args = string(wirejson.Compact(b.Input))
		}
		return llm.Part{Type: llm.PartToolCall, CacheControl: cc, Extensions: ext,
			ToolCall: &llm.ToolCall{ID: b.ID, Type: llm.CallFunction, Name: b.Name, Arguments: args}}, nil
	case "thinking", "redacted_thinking":
		if role != roleAssistant {
			return llm.Part{}, llm.InvalidParam(p+".type", "%s.type: %s blocks are only allowed in assistant messages", p, b.Type)
		}
		r := &llm.Reasoning{Origin: ID}
		if b.Type == "redacted_thinking" {
			r.Redacted, r.Data = true, b.Data
		} else {
			if b.Thinking != nil {
				r.Text = *b.Thinking
			}
			if b.Signature != nil {
				r.Signature = *b.Signature
			}
		}
		return llm.Part{Type: llm.PartReasoning, Reasoning: r, CacheControl: cc, Extensions: ext}, nil
	case "":
		return llm.Part{}, llm.InvalidParam(p+".type", "%s.type: Field required", p)
	}
	return llm.Part{}, llm.InvalidParam(p+".type", "%s.type: unsupported content block type %q", p, b.Type)
}

func decodeMedia(b *block, p string, cc *llm.CacheControl, ext llm.Extensions) (llm.Part, error) {
	s := b.Source
	if s == nil {
		return llm.Part{}, llm.InvalidParam(p+".source", "%s.source: Field required", p)
	}
	typ := llm.PartImage
	if b.Type == "document" {
		typ = llm.PartFile
	}
	m := &llm.Media{}
	switch s.Type {
	case "base64":
		if s.Data == "" {
			return llm.Part{}, llm.InvalidParam(p+".source.data", "%s.source.data: Field required", p)
		}
		m.MIMEType, m.Data = s.MediaType, s.Data
	case "url":
		if s.URL == "" {
			return llm.Part{}, llm.InvalidParam(p+".source.url", "%s.source.url: Field required", p)
		}
		m.URL = s.URL
	case "file":
		if s.FileID == "" {
			return llm.Part{}, llm.InvalidParam(p+".source.file_id", "%s.source.file_id: Field required", p)
		}
		m.FileID = s.FileID
	case "text":
		if typ != llm.PartFile {
			return llm.Part{}, llm.InvalidParam(p+".source.type", "%s.source.type: text sources are only allowed in documents", p)
		}
		mt := s.MediaType
		if mt == "" {
			mt = "text/plain"
		}
		m.MIMEType, m.Data = mt, base64.StdEncoding.EncodeToString([]byte(s.Data))
	case "content":
		if typ != llm.PartFile {
			return llm.Part{}, llm.InvalidParam(p+".source.type", "%s.source.type: content sources are only allowed in documents", p)
		}
		return llm.Part{Type: llm.PartText, Text: textOf(s.Content), CacheControl: cc}, nil
	default:
		return llm.Part{}, llm.InvalidParam(p+".source.type", "%s.source.type: must be base64, url, file or text, got %q", p, s.Type)
	}
	return llm.Part{Type: typ, Media: m, CacheControl: cc, Extensions: ext}, nil
}

// textOf returns the text of content: the string, or its text blocks
// joined by newlines.
func textOf(c *content) string {
	if c == nil {
		return ""
	}
	if !c.IsBlock {
		if c.Text == nil {
			return ""
		}
		return *c.Text
	}
	var b strings.Builder
	for i := range c.Blocks {
		if c.Blocks[i].Type == "text" && c.Blocks[i].Text != nil {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(*c.Blocks[i].Text)
		}
	}
	return b.String()
}
