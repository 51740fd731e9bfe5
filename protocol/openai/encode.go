package openai

import (
	"io"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// EncodeRequest encodes req as a Chat Completions request for model.
// Streaming requests always ask for usage: the gateway bills from it.
func (Protocol) EncodeRequest(req *llm.Request, model string) ([]byte, error) {
	wr, err := encodeRequest(req, model)
	if err != nil {
		return nil, err
	}
	return json.Marshal(wr)
}

func encodeRequest(req *llm.Request, model string) (*chatRequest, error) {
	wr := &chatRequest{
		Model:               model,
		MaxCompletionTokens: req.MaxTokens,
		Temperature:         req.Temperature,
		TopP:                req.TopP,
		FrequencyPenalty:    req.FrequencyPenalty,
		PresencePenalty:     req.PresencePenalty,
		Seed:                req.Seed,
		Stop:                req.Stop,
		TopLogprobs:         req.TopLogprobs,
		ParallelToolCalls:   req.ParallelToolCalls,
		User:                req.User,
		Metadata:            req.Metadata,
		ServiceTier:         req.ServiceTier,
		Store:               req.Store,
	}
	// top_k has no slot in Chat Completions; it is a sampling hint that
	// clients such as Gemini CLI send by default, so it is dropped.
	if req.N > 1 {
		n := req.N
		wr.N = &n
	}
	if req.Logprobs {
		t := true
		wr.Logprobs = &t
	}
	if req.Stream {
		t := true
		wr.Stream = &t
		wr.StreamOptions = &streamOptions{IncludeUsage: true}
	}
	if r := req.Reasoning; r != nil {
		wr.ReasoningEffort = effortOf(r)
	}
	if rf := req.ResponseFormat; rf != nil {
		wr.ResponseFormat = &responseFormat{Type: string(rf.Type)}
		if rf.Type == llm.FormatJSONSchema {
			name := rf.Name
			if name == "" {
				name = "response"
			}
			wr.ResponseFormat.JSONSchema = &jsonSchema{Name: name, Description: rf.Description,
				Schema: jsontext.Value(rf.Schema), Strict: rf.Strict}
		}
	}
	// Vendor fields travel on only to the protocol they came from.
	ext := req.Origin == ID
	for i, t := range req.Tools {
		switch t.Type {
		case llm.ToolFunction, "":
			wt := tool{Type: "function", Function: &functionDef{Name: t.Name,
				Description: t.Description, Parameters: jsontext.Value(t.Parameters), Strict: t.Strict}}
			if ext {
				wt.Unknown = wirejson.Unknown(t.Extensions)
			}
			wr.Tools = append(wr.Tools, wt)
		case llm.ToolCustom:
			raw := t.Raw
			if len(raw) == 0 {
				raw, _ = json.Marshal(map[string]string{"name": t.Name, "description": t.Description})
			}
			wr.Tools = append(wr.Tools, tool{Type: "custom", Custom: jsontext.Value(raw)})
		default:
			// A hosted tool of another API (web_search, code execution, …)
			// runs on that vendor's side; Chat Completions has no such tools,
			// so it is dropped, unless the request forces exactly that tool.
			if tc := req.ToolChoice; tc != nil && tc.Mode == llm.ToolChoiceTool && tc.Name != "" && (tc.Name == t.Name || tc.Name == t.Type) {
				return nil, llm.InvalidParam(wirejson.Index("tools", i)+".type",
					"tool_choice forces the hosted tool %q, which an OpenAI Chat Completions upstream cannot run", t.Type)
			}
		}
	}
	if tc := req.ToolChoice; tc != nil && (len(wr.Tools) > 0 || len(req.Tools) == 0) { // not when every tool was dropped
		wr.ToolChoice = encodeToolChoice(tc, req.Tools)
	}
	msgs, err := encodeMessages(req.Messages, ext)
	if err != nil {
		return nil, err
	}
	wr.Messages = msgs
	if ext && len(req.Extensions) > 0 {
		wr.Unknown = wirejson.Unknown(req.Extensions)
	}
	return wr, nil
}

// effortOf picks a reasoning_effort for a reasoning config: the effort
// itself, "none" when disabled, or the effort a thinking budget most
// resembles.
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

func encodeToolChoice(tc *llm.ToolChoice, tools []llm.Tool) *toolChoice {
	if len(tc.Allowed) > 0 {
		mode := "auto"
		if tc.Mode == llm.ToolChoiceRequired || tc.Mode == llm.ToolChoiceTool {
			mode = "required"
		}
		return &toolChoice{Type: "allowed_tools", AllowedMode: mode, AllowedTools: tc.Allowed}
	}
	switch tc.Mode {
	case llm.ToolChoiceTool:
		typ := "function"
		for _, t := range tools {
			if t.Name == tc.Name && t.Type == llm.ToolCustom {
				typ = "custom"
			}
		}
		return &toolChoice{Type: typ, Name: tc.Name}
	case "":
		return nil
	}
	return &toolChoice{Mode: string(tc.Mode)}
}

// encodeMessages encodes the conversation; ext says whether the messages'
// and parts' Extensions are in this protocol's naming and are sent on.
func encodeMessages(msgs []llm.Message, ext bool) ([]message, error) {
	out := make([]message, 0, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		p := wirejson.Index("messages", i)
		var unknown jsontext.Value
		if ext {
			unknown = wirejson.Unknown(m.Extensions)
		}
		switch m.Role {
		case llm.RoleTool:
			// One tool message per result.
			for _, part := range m.Parts {
				if part.Type != llm.PartToolResult {
					continue
				}
				r := part.ToolResult
				c, err := encodeContent(r.Content, p, true, ext)
				if err != nil {
					return nil, err
				}
				if c.IsZero() {
					empty := ""
					c = content{Text: &empty}
				}
				out = append(out, message{Role: "tool", ToolCallID: r.CallID, Content: c, Unknown: unknown})
			}
		case llm.RoleAssistant:
			wm := message{Role: "assistant", Name: m.Name, Unknown: unknown}
			var rest []llm.Part
			for _, part := range m.Parts {
				switch part.Type {
				case llm.PartToolCall:
					wm.ToolCalls = append(wm.ToolCalls, encodeToolCall(part.ToolCall, nil))
				case llm.PartRefusal:
					wm.addRefusal(part.Text)
				case llm.PartReasoning:
					// Chat Completions has no field for reasoning history.
				default:
					rest = append(rest, part)
				}
			}
			c, err := encodeContent(rest, p, false, ext)
			if err != nil {
				return nil, err
			}
			wm.Content = c
			out = append(out, wm)
		default:
			c, err := encodeContent(m.Parts, p, m.Role == llm.RoleUser, ext)
			if err != nil {
				return nil, err
			}
			if c.IsZero() {
				empty := ""
				c = content{Text: &empty}
			}
			out = append(out, message{Role: string(m.Role), Name: m.Name, Content: c, Unknown: unknown})
		}
	}
	return out, nil
}

// encodeContent encodes parts as a plain string when they are all text (the
// form every compatible server accepts), else as an array of parts. With
// ext, parts keep their Extensions, which only the array form can carry.
func encodeContent(parts []llm.Part, p string, media, ext bool) (content, error) {
	allText := true
	for _, part := range parts {
		if part.Type != llm.PartText || ext && len(part.Extensions) > 0 {
			allText = false
		}
	}
	if len(parts) == 0 {
		return content{}, nil
	}
	if allText {
		var s string
		if len(parts) == 1 {
			s = parts[0].Text
		} else {
			var b strings.Builder
			for _, part := range parts {
				b.WriteString(part.Text)
			}
			s = b.String()
		}
		return content{Text: &s}, nil
	}
	out := content{IsParts: true}
	for _, part := range parts {
		cp := contentPart{Type: string(part.Type)}
		if ext {
			cp.Unknown = wirejson.Unknown(part.Extensions)
		}
		switch part.Type {
		case llm.PartText:
			t := part.Text
			cp.Text = &t
		case llm.PartRefusal:
			t := part.Text
			cp.Refusal = &t
		case llm.PartImage:
			if !media {
				return content{}, llm.InvalidParam(p, "%s: images are only allowed in user messages for OpenAI upstreams", p)
			}
			u := part.Media.URL
			if part.Media.Data != "" {
				u = part.Media.DataURL()
			}
			cp.Type, cp.ImageURL = "image_url", &imageURL{URL: u, Detail: part.Media.Detail}
		case llm.PartAudio:
			if !media || part.Media.Data == "" {
				return content{}, llm.InvalidParam(p, "%s: audio must be inline data in a user message for OpenAI upstreams", p)
			}
			cp.Type, cp.InputAudio = "input_audio", &inputAudio{Data: part.Media.Data, Format: audioFormat(part.Media.MIMEType)}
		case llm.PartFile:
			if !media {
				return content{}, llm.InvalidParam(p, "%s: files are only allowed in user messages for OpenAI upstreams", p)
			}
			cp.File = &fileRef{FileID: part.Media.FileID, Filename: part.Media.Filename}
			if part.Media.Data != "" {
				cp.File.FileData = part.Media.DataURL()
			} else if part.Media.FileID == "" {
				return content{}, llm.InvalidParam(p, "%s: a file by URL cannot be sent to an OpenAI Chat Completions upstream", p)
			}
		case llm.PartReasoning, llm.PartToolCall, llm.PartToolResult:
			continue
		}
		out.Parts = append(out.Parts, cp)
	}
	return out, nil
}

func encodeToolCall(tc *llm.ToolCall, index *int) toolCall {
	if tc.Type == llm.CallCustom {
		return toolCall{Index: index, ID: tc.ID, Type: "custom", Custom: &customCall{Name: tc.Name, Input: tc.Arguments}}
	}
	args := tc.Arguments
	if args == "" {
		args = "{}"
	}
	return toolCall{Index: index, ID: tc.ID, Type: "function", Function: &functionCall{Name: tc.Name, Arguments: arguments(args)}}
}

// EncodeResponse writes resp as a chat.completion object.
func (Protocol) EncodeResponse(w io.Writer, req *llm.Request, resp *llm.Response) error {
	wr := chatResponse{
		ID:                resp.ID,
		Object:            "chat.completion",
		Created:           resp.Created,
		Model:             resp.Model,
		ServiceTier:       resp.ServiceTier,
		SystemFingerprint: resp.SystemFingerprint,
		Usage:             encodeUsage(resp.Usage),
	}
	if wr.ID == "" {
		wr.ID = newID("chatcmpl-")
	}
	if wr.Created == 0 {
		wr.Created = time.Now().Unix()
	}
	if wr.Model == "" && req != nil {
		wr.Model = req.Model
	}
	if resp.Origin == ID {
		wr.Unknown = wirejson.Unknown(resp.Extensions)
	}
	wr.Choices = make([]choice, len(resp.Choices))
	for i := range resp.Choices {
		c := &resp.Choices[i]
		fr := finishToWire(c.FinishReason)
		wr.Choices[i] = choice{Index: c.Index, Message: encodeAnswer(&c.Message), FinishReason: &fr,
			Logprobs: encodeLogprobs(c.Logprobs)}
	}
	return json.MarshalWrite(w, &wr)
}

// encodeAnswer builds the assistant message of a response: content as a
// string (null when there is none), refusal, tool calls, and reasoning text
// as reasoning_content, the field compatible servers use for it.
func encodeAnswer(m *llm.Message) message {
	wm := message{Role: "assistant"}
	var text, reasoning strings.Builder
	hasText := false
	for _, part := range m.Parts {
		switch part.Type {
		case llm.PartText:
			text.WriteString(part.Text)
			hasText = true
		case llm.PartRefusal:
			wm.addRefusal(part.Text)
		case llm.PartReasoning:
			reasoning.WriteString(part.Reasoning.Text)
		case llm.PartToolCall:
			wm.ToolCalls = append(wm.ToolCalls, encodeToolCall(part.ToolCall, nil))
		}
	}
	if hasText {
		s := text.String()
		wm.Content = content{Text: &s}
	}
	if reasoning.Len() > 0 {
		s := reasoning.String()
		wm.ReasoningContent = &s
	}
	return wm
}

func encodeLogprobs(lps []llm.TokenLogprob) *logprobs {
	if len(lps) == 0 {
		return nil
	}
	out := &logprobs{Content: make([]tokenLogprob, len(lps))}
	for i, lp := range lps {
		tl := tokenLogprob{Token: lp.Token, Logprob: lp.Logprob, Bytes: bytesToInts(lp.Bytes), TopLogprobs: []topLogprob{}}
		for _, t := range lp.Top {
			tl.TopLogprobs = append(tl.TopLogprobs, topLogprob{Token: t.Token, Logprob: t.Logprob, Bytes: bytesToInts(t.Bytes)})
		}
		out.Content[i] = tl
	}
	return out
}

func bytesToInts(b []byte) []int {
	if b == nil {
		return nil
	}
	out := make([]int, len(b))
	for i, c := range b {
		out[i] = int(c)
	}
	return out
}

func encodeUsage(u llm.Usage) *usage {
	wu := &usage{
		PromptTokens:     u.InputTokens,
		CompletionTokens: u.OutputTokens,
		TotalTokens:      u.Total(),
		PromptTokensDetails: &promptDetails{CachedTokens: u.CachedTokens,
			CacheWriteTokens: u.CacheWriteTokens},
		CompletionTokensDetails: &completionDetails{ReasoningTokens: u.ReasoningTokens},
	}
	return wu
}

func finishToWire(f llm.FinishReason) string {
	switch f {
	case llm.FinishLength:
		return "length"
	case llm.FinishToolCalls:
		return "tool_calls"
	case llm.FinishContentFilter:
		return "content_filter"
	}
	return "stop"
}

func finishFromWire(s string) llm.FinishReason {
	switch s {
	case "length":
		return llm.FinishLength
	case "tool_calls", "function_call":
		return llm.FinishToolCalls
	case "content_filter":
		return llm.FinishContentFilter
	case "":
		return ""
	}
	return llm.FinishStop
}

// addRefusal appends refusal text to the message's refusal.
func (wm *message) addRefusal(text string) {
	if wm.Refusal != nil {
		text = *wm.Refusal + text
	}
	wm.Refusal = &text
}
