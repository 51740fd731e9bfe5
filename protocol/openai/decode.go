package openai

import (
	"strconv"
	"strings"

	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// DecodeRequest decodes a Chat Completions request body into the canonical
// model. Type errors and missing required fields yield a 400 naming the
// field; fields the model has no slot for are kept in Extensions.
func (Protocol) DecodeRequest(body []byte) (*llm.Request, error) {
	var wr chatRequest
	if err := wirejson.Unmarshal(body, &wr); err != nil {
		return nil, err
	}
	return decodeRequest(&wr)
}

func decodeRequest(wr *chatRequest) (*llm.Request, error) {
	if wr.Model == "" {
		return nil, llm.InvalidParam("model", "model: you must provide a model parameter")
	}
	if len(wr.Messages) == 0 {
		return nil, llm.InvalidParam("messages", "messages: at least one message is required")
	}
	req := &llm.Request{
		Model:             wr.Model,
		Temperature:       wr.Temperature,
		TopP:              wr.TopP,
		FrequencyPenalty:  wr.FrequencyPenalty,
		PresencePenalty:   wr.PresencePenalty,
		Seed:              wr.Seed,
		Stop:              wr.Stop,
		TopLogprobs:       wr.TopLogprobs,
		ParallelToolCalls: wr.ParallelToolCalls,
		User:              wr.User,
		Metadata:          wr.Metadata,
		ServiceTier:       wr.ServiceTier,
		Store:             wr.Store,
		Origin:            ID,
		Extensions:        wirejson.Extensions(wr.Unknown),
	}
	if err := validateSampling(wr); err != nil {
		return nil, err
	}
	req.MaxTokens = wr.MaxCompletionTokens
	if req.MaxTokens == nil {
		req.MaxTokens = wr.MaxTokens
	}
	if wr.N != nil {
		req.N = *wr.N
	}
	if wr.Logprobs != nil {
		req.Logprobs = *wr.Logprobs
	}
	if wr.Stream != nil {
		req.Stream = *wr.Stream
	}
	if wr.StreamOptions != nil {
		req.StreamUsage = wr.StreamOptions.IncludeUsage
	}
	if wr.ReasoningEffort != "" {
		req.Reasoning = &llm.ReasoningConfig{Effort: wr.ReasoningEffort}
		if wr.ReasoningEffort == "none" {
			req.Reasoning.Mode = llm.ReasoningDisabled
		}
	}
	rf, err := decodeResponseFormat(wr.ResponseFormat)
	if err != nil {
		return nil, err
	}
	req.ResponseFormat = rf
	if req.Tools, err = decodeTools(wr.Tools, wr.Functions); err != nil {
		return nil, err
	}
	choice := wr.ToolChoice
	param := "tool_choice"
	if choice == nil && wr.FunctionCall != nil {
		choice, param = wr.FunctionCall, "function_call"
	}
	if req.ToolChoice, err = decodeToolChoice(choice, param); err != nil {
		return nil, err
	}
	if req.Messages, err = decodeMessages(wr.Messages); err != nil {
		return nil, err
	}
	return req, nil
}

// maxChoices bounds n, and the choice indexes accepted from upstreams.
const maxChoices = llm.MaxChoices

func validateSampling(wr *chatRequest) error {
	if t := wr.Temperature; t != nil && (*t < 0 || *t > 2) {
		return llm.InvalidParam("temperature", "temperature: must be between 0 and 2")
	}
	if p := wr.TopP; p != nil && (*p < 0 || *p > 1) {
		return llm.InvalidParam("top_p", "top_p: must be between 0 and 1")
	}
	if n := wr.N; n != nil && (*n < 1 || *n > maxChoices) {
		return llm.InvalidParam("n", "n: must be between 1 and 128")
	}
	for _, m := range []struct {
		name string
		v    *int
	}{{"max_completion_tokens", wr.MaxCompletionTokens}, {"max_tokens", wr.MaxTokens}} {
		if m.v != nil && *m.v < 1 {
			return llm.InvalidParam(m.name, "%s: must be at least 1", m.name)
		}
	}
	if t := wr.TopLogprobs; t != nil && (*t < 0 || *t > 20) {
		return llm.InvalidParam("top_logprobs", "top_logprobs: must be between 0 and 20")
	}
	return nil
}

func decodeResponseFormat(rf *responseFormat) (*llm.ResponseFormat, error) {
	if rf == nil {
		return nil, nil
	}
	switch rf.Type {
	case "text":
		return &llm.ResponseFormat{Type: llm.FormatText}, nil
	case "json_object":
		return &llm.ResponseFormat{Type: llm.FormatJSONObject}, nil
	case "json_schema":
		js := rf.JSONSchema
		if js == nil {
			return nil, llm.InvalidParam("response_format.json_schema", "response_format.json_schema: required when type is json_schema")
		}
		if js.Name == "" {
			return nil, llm.InvalidParam("response_format.json_schema.name", "response_format.json_schema.name: required")
		}
		return &llm.ResponseFormat{Type: llm.FormatJSONSchema, Name: js.Name, Description: js.Description,
			Schema: []byte(js.Schema), Strict: js.Strict}, nil
	}
	return nil, llm.InvalidParam("response_format.type", "response_format.type: must be text, json_object or json_schema, got %q", rf.Type)
}

func decodeTools(tools []tool, legacy []functionDef) ([]llm.Tool, error) {
	var out []llm.Tool
	for i, t := range tools {
		p := func() string { return wirejson.Index("tools", i) } // for errors only
		switch t.Type {
		case "function", "":
			if t.Function == nil || t.Function.Name == "" {
				return nil, llm.InvalidParam(p()+".function.name", "%s.function.name: required", p())
			}
			out = append(out, llm.Tool{Type: llm.ToolFunction, Name: t.Function.Name,
				Description: t.Function.Description, Parameters: []byte(t.Function.Parameters),
				Strict: t.Function.Strict, Extensions: wirejson.Extensions(t.Unknown)})
		case "custom":
			var name struct {
				Name        string `json:"name"`
				Description string `json:"description"`
			}
			if err := wirejson.Unmarshal(t.Custom, &name); err != nil || name.Name == "" {
				return nil, llm.InvalidParam(p()+".custom.name", "%s.custom.name: required", p())
			}
			out = append(out, llm.Tool{Type: llm.ToolCustom, Name: name.Name, Description: name.Description,
				Raw: []byte(t.Custom)})
		default:
			return nil, llm.InvalidParam(p()+".type", "%s.type: unsupported tool type %q", p(), t.Type)
		}
	}
	for i, f := range legacy {
		if f.Name == "" {
			return nil, llm.InvalidParam(wirejson.Index("functions", i)+".name", "functions[%d].name: required", i)
		}
		out = append(out, llm.Tool{Type: llm.ToolFunction, Name: f.Name, Description: f.Description,
			Parameters: []byte(f.Parameters), Strict: f.Strict})
	}
	return out, nil
}

func decodeToolChoice(tc *toolChoice, param string) (*llm.ToolChoice, error) {
	if tc == nil {
		return nil, nil
	}
	switch tc.Mode {
	case "auto":
		return &llm.ToolChoice{Mode: llm.ToolChoiceAuto}, nil
	case "none":
		return &llm.ToolChoice{Mode: llm.ToolChoiceNone}, nil
	case "required":
		return &llm.ToolChoice{Mode: llm.ToolChoiceRequired}, nil
	case "":
	default:
		return nil, llm.InvalidParam(param, "%s: must be none, auto, required or an object, got %q", param, tc.Mode)
	}
	switch tc.Type {
	case "allowed_tools":
		mode := llm.ToolChoiceAuto
		if tc.AllowedMode == "required" {
			mode = llm.ToolChoiceRequired
		}
		return &llm.ToolChoice{Mode: mode, Allowed: tc.AllowedTools}, nil
	case "function", "custom", "":
		if tc.Name == "" {
			return nil, llm.InvalidParam(param, "%s: the tool's name is required", param)
		}
		return &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: tc.Name}, nil
	}
	return nil, llm.InvalidParam(param+".type", "%s.type: unsupported value %q", param, tc.Type)
}

func decodeMessages(wms []message) ([]llm.Message, error) {
	msgs := make([]llm.Message, 0, len(wms))
	calls := map[string]string{} // tool call id → name, for tool results
	var legacy []string          // ids of legacy function calls, in order
	nText := 0                   // messages whose content is a string: their parts share one array
	for i := range wms {
		if c := &wms[i].Content; !c.IsParts && c.Text != nil && *c.Text != "" {
			nText++
		}
	}
	texts := make([]llm.Part, nText)
	slot := func(c *content) []llm.Part {
		if c.IsParts || c.Text == nil || *c.Text == "" || len(texts) == 0 {
			return nil
		}
		s := texts[:1:1]
		texts = texts[1:]
		return s
	}
	root := wirejson.Root("messages")
	for i := range wms {
		wm := &wms[i]
		p := root.Elem(i)
		pc := p.Field("content")
		m := llm.Message{Name: wm.Name, Extensions: wirejson.Extensions(wm.Unknown)}
		var err error
		switch wm.Role {
		case "system", "developer", "user":
			m.Role = llm.Role(wm.Role)
			if m.Parts, err = decodeContentInto(&wm.Content, &pc, m.Role == llm.RoleUser, slot(&wm.Content)); err != nil {
				return nil, err
			}
		case "assistant":
			m.Role = llm.RoleAssistant
			if m.Parts, err = decodeAssistant(wm, &p, calls, &legacy); err != nil {
				return nil, err
			}
		case "tool":
			if wm.ToolCallID == "" {
				return nil, llm.InvalidParam(p.String()+".tool_call_id", "%s.tool_call_id: required for role tool", p.String())
			}
			res, err := decodeContent(&wm.Content, &pc, true)
			if err != nil {
				return nil, err
			}
			m.Role = llm.RoleTool
			m.Parts = []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{
				CallID: wm.ToolCallID, Name: calls[wm.ToolCallID], Content: res}}}
		case "function":
			// Legacy function result: match the oldest open call of that name.
			res, err := decodeContent(&wm.Content, &pc, false)
			if err != nil {
				return nil, err
			}
			id := "call_" + strconv.Itoa(i)
			for j, cid := range legacy {
				if calls[cid] == wm.Name {
					id = cid
					legacy = append(legacy[:j], legacy[j+1:]...)
					break
				}
			}
			m.Role, m.Name = llm.RoleTool, ""
			m.Parts = []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{
				CallID: id, Name: wm.Name, Content: res}}}
		case "":
			return nil, llm.InvalidParam(p.String()+".role", "%s.role: required", p.String())
		default:
			return nil, llm.InvalidParam(p.String()+".role", "%s.role: must be system, developer, user, assistant or tool, got %q", p.String(), wm.Role)
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

func decodeAssistant(wm *message, p *wirejson.Path, calls map[string]string, legacy *[]string) ([]llm.Part, error) {
	var parts []llm.Part
	reasoning := wm.ReasoningContent
	if reasoning == nil {
		reasoning = wm.Reasoning
	}
	if reasoning != nil && *reasoning != "" {
		parts = append(parts, llm.Part{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: *reasoning, Origin: ID}})
	}
	cp := p.Field("content")
	content, err := decodeContent(&wm.Content, &cp, false)
	if err != nil {
		return nil, err
	}
	parts = append(parts, content...)
	if wm.Refusal != nil && *wm.Refusal != "" {
		parts = append(parts, llm.Part{Type: llm.PartRefusal, Text: *wm.Refusal})
	}
	tcs := p.Field("tool_calls")
	for j, tc := range wm.ToolCalls {
		tp := tcs.Elem(j)
		call := &llm.ToolCall{ID: tc.ID, Type: llm.CallFunction}
		switch {
		case tc.Function != nil:
			call.Name, call.Arguments = tc.Function.Name, string(tc.Function.Arguments)
		case tc.Custom != nil:
			call.Type, call.Name, call.Arguments = llm.CallCustom, tc.Custom.Name, tc.Custom.Input
		default:
			return nil, llm.InvalidParam(tp.String()+".function", "%s.function: required", tp.String())
		}
		if call.ID == "" {
			return nil, llm.InvalidParam(tp.String()+".id", "%s.id: required", tp.String())
		}
		if call.Name == "" {
			return nil, llm.InvalidParam(tp.String()+".function.name", "%s.function.name: required", tp.String())
		}
		calls[call.ID] = call.Name
		parts = append(parts, llm.Part{Type: llm.PartToolCall, ToolCall: call})
	}
	if fc := wm.FunctionCall; fc != nil && len(wm.ToolCalls) == 0 {
		if fc.Name == "" {
			return nil, llm.InvalidParam(p.String()+".function_call.name", "%s.function_call.name: required", p.String())
		}
		id := "call_legacy_" + strconv.Itoa(len(calls))
		calls[id] = fc.Name
		*legacy = append(*legacy, id)
		parts = append(parts, llm.Part{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{
			ID: id, Type: llm.CallFunction, Name: fc.Name, Arguments: string(fc.Arguments)}})
	}
	return parts, nil
}

// decodeContent turns message content into parts. Media parts are allowed
// only where the API allows them (user and tool messages).
func decodeContent(c *content, p *wirejson.Path, media bool) ([]llm.Part, error) {
	return decodeContentInto(c, p, media, nil)
}

// decodeContentInto is decodeContent that puts the part of a plain string
// content in slot, when it has one (len 1), instead of allocating.
func decodeContentInto(c *content, p *wirejson.Path, media bool, slot []llm.Part) ([]llm.Part, error) {
	if !c.IsParts {
		if c.Text == nil || *c.Text == "" {
			return nil, nil
		}
		if len(slot) != 1 {
			slot = make([]llm.Part, 1)
		}
		slot[0] = llm.TextPart(*c.Text)
		return slot[:1:1], nil
	}
	parts := make([]llm.Part, 0, len(c.Parts))
	for j := range c.Parts {
		cp := &c.Parts[j]
		pp := p.Elem(j)
		part, err := decodePart(cp, &pp)
		if err != nil {
			return nil, err
		}
		if !media && part.Media != nil {
			return nil, llm.InvalidParam(pp.String()+".type", "%s.type: %s parts are only allowed in user messages", pp.String(), cp.Type)
		}
		if part.Media == nil && part.Text == "" && len(part.Extensions) == 0 {
			continue // an empty text or refusal part says nothing, like empty string content
		}
		parts = append(parts, part)
	}
	return parts, nil
}

func decodePart(cp *contentPart, p *wirejson.Path) (llm.Part, error) {
	ext := wirejson.Extensions(cp.Unknown)
	switch cp.Type {
	case "text":
		if cp.Text == nil {
			return llm.Part{}, llm.InvalidParam(p.String()+".text", "%s.text: required for a text part", p.String())
		}
		return llm.Part{Type: llm.PartText, Text: *cp.Text, Extensions: ext}, nil
	case "refusal":
		if cp.Refusal == nil {
			return llm.Part{}, llm.InvalidParam(p.String()+".refusal", "%s.refusal: required for a refusal part", p.String())
		}
		return llm.Part{Type: llm.PartRefusal, Text: *cp.Refusal}, nil
	case "image_url":
		if cp.ImageURL == nil || cp.ImageURL.URL == "" {
			return llm.Part{}, llm.InvalidParam(p.String()+".image_url.url", "%s.image_url.url: required for an image part", p.String())
		}
		m := &llm.Media{Detail: cp.ImageURL.Detail}
		if mt, data, ok := llm.ParseDataURL(cp.ImageURL.URL); ok && data != "" {
			m.MIMEType, m.Data = mt, data
		} else if strings.HasPrefix(cp.ImageURL.URL, "data:") {
			return llm.Part{}, llm.InvalidParam(p.String()+".image_url.url", "%s.image_url.url: a data URL must hold base64-encoded data", p.String())
		} else {
			m.URL = cp.ImageURL.URL
		}
		return llm.Part{Type: llm.PartImage, Media: m, Extensions: ext}, nil
	case "input_audio":
		if cp.InputAudio == nil || cp.InputAudio.Data == "" {
			return llm.Part{}, llm.InvalidParam(p.String()+".input_audio.data", "%s.input_audio.data: required for an audio part", p.String())
		}
		return llm.Part{Type: llm.PartAudio, Media: &llm.Media{
			Data: cp.InputAudio.Data, MIMEType: audioMIME(cp.InputAudio.Format)}, Extensions: ext}, nil
	case "file":
		f := cp.File
		if f == nil || (f.FileData == "" && f.FileID == "") {
			return llm.Part{}, llm.InvalidParam(p.String()+".file", "%s.file: file_data or file_id is required", p.String())
		}
		m := &llm.Media{FileID: f.FileID, Filename: f.Filename}
		if f.FileData != "" {
			if mt, data, ok := llm.ParseDataURL(f.FileData); ok {
				if data == "" {
					return llm.Part{}, llm.InvalidParam(p.String()+".file.file_data", "%s.file.file_data: the data URL holds no data", p.String())
				}
				m.MIMEType, m.Data = mt, data
			} else {
				m.Data = f.FileData // bare base64, as some clients send it
				m.MIMEType = mimeFromFilename(f.Filename)
			}
		}
		return llm.Part{Type: llm.PartFile, Media: m, Extensions: ext}, nil
	case "":
		return llm.Part{}, llm.InvalidParam(p.String()+".type", "%s.type: required", p.String())
	}
	return llm.Part{}, llm.InvalidParam(p.String()+".type", "%s.type: unsupported content part type %q", p.String(), cp.Type)
}

func audioMIME(format string) string {
	switch format {
	case "mp3":
		return "audio/mpeg"
	case "":
		return ""
	}
	return "audio/" + format
}

func audioFormat(mime string) string {
	switch mime {
	case "audio/mpeg", "audio/mp3":
		return "mp3"
	case "audio/wav", "audio/x-wav", "audio/wave":
		return "wav"
	}
	if f, ok := strings.CutPrefix(mime, "audio/"); ok {
		return f
	}
	return "wav"
}

func mimeFromFilename(name string) string {
	switch {
	case strings.HasSuffix(strings.ToLower(name), ".pdf"):
		return "application/pdf"
	case strings.HasSuffix(strings.ToLower(name), ".txt"):
		return "text/plain"
	}
	return "application/pdf"
}
