package ollama

import (
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// EncodeRequest encodes req as an /api/chat request for model. "stream" is
// always sent, as Ollama streams when it is absent. What Ollama cannot
// express is refused or dropped as the package doc lists.
func (Protocol) EncodeRequest(req *llm.Request, model string) ([]byte, error) {
	wr, err := encodeRequest(req, model)
	if err != nil {
		return nil, err
	}
	return json.Marshal(wr)
}

func encodeRequest(req *llm.Request, model string) (*chatRequest, error) {
	stream := req.Stream
	wr := &chatRequest{Model: model, Stream: &stream}
	if req.N > 1 {
		return nil, llm.InvalidParam("n", "n: Ollama upstreams generate one choice per request")
	}
	if req.Logprobs {
		t := true
		wr.Logprobs = &t
	}
	wr.TopLogprobs = req.TopLogprobs
	if r := req.Reasoning; r != nil {
		wr.Think = thinkOf(r)
	}
	if rf := req.ResponseFormat; rf != nil {
		switch {
		case rf.Type == llm.FormatJSONObject, rf.Type == llm.FormatJSONSchema && len(rf.Schema) == 0:
			wr.Format = jsontext.Value(`"json"`)
		case rf.Type == llm.FormatJSONSchema:
			wr.Format = jsontext.Value(rf.Schema)
		}
	}
	// Vendor fields travel on only to the protocol they came from.
	ext := req.Origin == ID
	var err error
	if wr.Options, err = encodeOptions(req, ext); err != nil {
		return nil, err
	}
	if wr.Tools, err = encodeTools(req, ext); err != nil {
		return nil, err
	}
	if wr.Messages, err = encodeMessages(req.Messages, ext); err != nil {
		return nil, err
	}
	if ext {
		wr.Unknown = unknownExcept(req.Extensions, topLevel)
	}
	return wr, nil
}

// thinkOf maps a reasoning config to "think", as Ollama's own OpenAI layer
// maps reasoning_effort: none is false, minimal is low, xhigh is max. A
// thinking budget has no Ollama form beyond "on".
func thinkOf(r *llm.ReasoningConfig) *think {
	if r.Mode == llm.ReasoningDisabled {
		return &think{}
	}
	switch r.Effort {
	case "none":
		return &think{}
	case "minimal":
		return &think{On: true, Level: "low"}
	case "low", "medium", "high", "max":
		return &think{On: true, Level: r.Effort}
	case "xhigh":
		return &think{On: true, Level: "max"}
	}
	switch {
	case r.Mode == llm.ReasoningEnabled, r.Mode == llm.ReasoningAdaptive:
		return &think{On: true}
	case r.BudgetTokens != nil:
		return &think{On: *r.BudgetTokens != 0}
	}
	return nil
}

// encodeOptions builds "options"; with ext, the request's own Ollama
// options (Extensions["options"]) are merged in, the canonical values
// winning.
func encodeOptions(req *llm.Request, ext bool) (*options, error) {
	o := &options{Temperature: req.Temperature, TopP: req.TopP, Stop: req.Stop,
		FrequencyPenalty: req.FrequencyPenalty, PresencePenalty: req.PresencePenalty}
	if req.MaxTokens != nil {
		n := intOpt(*req.MaxTokens)
		o.NumPredict = &n
	}
	if req.TopK != nil {
		n := intOpt(*req.TopK)
		o.TopK = &n
	}
	if req.Seed != nil {
		n := intOpt(*req.Seed)
		o.Seed = &n
	}
	if raw := req.Extensions["options"]; ext && len(raw) > 0 {
		set := map[string]bool{
			"temperature": o.Temperature != nil, "top_p": o.TopP != nil, "top_k": o.TopK != nil,
			"num_predict": o.NumPredict != nil, "stop": o.Stop != nil, "seed": o.Seed != nil,
			"frequency_penalty": o.FrequencyPenalty != nil, "presence_penalty": o.PresencePenalty != nil,
		}
		ms, err := rawjson.Members(raw, nil)
		if err != nil {
			return nil, llm.InvalidParam("options", "options must be an object")
		}
		var drop []rawjson.Edit
		for i := range ms {
			k := string(ms[i].Key)
			if set[k] || optionNames[k] && !keptOption(k) {
				drop = append(drop, rawjson.Edit{Key: k, Delete: true})
			}
		}
		if len(drop) < len(ms) {
			o.Unknown = rawjson.Apply(nil, raw, ms, drop)
		}
	}
	if o.empty() {
		return nil, nil
	}
	return o, nil
}

func (o *options) empty() bool {
	return o.Temperature == nil && o.TopP == nil && o.TopK == nil && o.NumPredict == nil && o.Stop == nil &&
		o.Seed == nil && o.FrequencyPenalty == nil && o.PresencePenalty == nil && len(o.Unknown) == 0
}

// keptOption reports whether a named option may travel in
// Extensions["options"]: the ones decodeOptions keeps there when they hold
// Ollama's "unset" values.
func keptOption(name string) bool {
	return name == "num_predict" || name == "seed" || name == "top_k"
}

// unknownExcept returns the extensions as a raw object for an embed field,
// leaving out the members the struct declares itself.
func unknownExcept(ext llm.Extensions, declared map[string]bool) jsontext.Value {
	clash := false
	for k := range ext {
		if declared[k] {
			clash = true
		}
	}
	if clash {
		c := make(llm.Extensions, len(ext))
		for k, v := range ext {
			if !declared[k] {
				c[k] = v
			}
		}
		ext = c
	}
	return wirejson.Unknown(ext)
}

func encodeTools(req *llm.Request, ext bool) ([]tool, error) {
	tc := req.ToolChoice
	if tc != nil {
		switch tc.Mode {
		case llm.ToolChoiceNone:
			return nil, nil // exactly what "none" means: the model sees no tools
		case llm.ToolChoiceRequired, llm.ToolChoiceTool:
			return nil, llm.InvalidParam("tool_choice", "tool_choice: Ollama upstreams cannot be made to call a tool; use auto or none")
		}
	}
	allowed := func(name string) bool {
		if tc == nil || len(tc.Allowed) == 0 {
			return true
		}
		for _, a := range tc.Allowed {
			if a == name {
				return true
			}
		}
		return false
	}
	var out []tool
	for i := range req.Tools {
		t := &req.Tools[i]
		switch t.Type {
		case llm.ToolFunction, "":
		case llm.ToolCustom:
			return nil, llm.InvalidParam(wirejson.Index("tools", i), "tools[%d]: custom (free-form) tools are not supported by Ollama upstreams", i)
		default:
			continue // a hosted tool of another protocol: Ollama has none
		}
		if !allowed(t.Name) {
			continue
		}
		params := jsontext.Value(t.Parameters)
		if len(params) == 0 {
			params = jsontext.Value(`{"type":"object","properties":{}}`)
		}
		wt := tool{Type: "function", Function: &toolFunction{Name: t.Name, Description: t.Description, Parameters: params}}
		if ext {
			wt.Unknown = unknownExcept(t.Extensions, map[string]bool{"type": true, "function": true})
		}
		out = append(out, wt)
	}
	return out, nil
}

// encodeMessages encodes the conversation. System and developer messages
// stay in place as system messages; each tool result becomes a tool
// message naming its tool, found from the call it answers.
func encodeMessages(msgs []llm.Message, ext bool) ([]message, error) {
	out := make([]message, 0, len(msgs))
	names := map[string]string{} // call id → tool name
	for i := range msgs {
		m := &msgs[i]
		p := wirejson.Index("messages", i)
		var unknown jsontext.Value
		if ext {
			unknown = unknownExcept(m.Extensions, messageMembers)
		}
		if m.Role == llm.RoleTool {
			for j := range m.Parts {
				part := &m.Parts[j]
				if part.Type != llm.PartToolResult || part.ToolResult == nil {
					continue
				}
				r := part.ToolResult
				wm := message{Role: "tool", ToolName: r.Name, Unknown: unknown}
				if wm.ToolName == "" {
					wm.ToolName = names[r.CallID]
				}
				if !isSynthetic(r.CallID) {
					wm.ToolCallID = r.CallID
				}
				var err error
				if wm.Content, wm.Images, err = encodeContent(r.Content, wirejson.Index(p+".content", j)+".content"); err != nil {
					return nil, err
				}
				out = append(out, wm)
			}
			continue
		}
		wm := message{Role: string(m.Role), Unknown: unknown}
		switch m.Role {
		case llm.RoleSystem, llm.RoleDeveloper:
			wm.Role = "system"
		case llm.RoleUser, llm.RoleAssistant:
		default:
			return nil, llm.InvalidParam(p+".role", "%s.role %q cannot be sent to an Ollama upstream", p, m.Role)
		}
		var thinking strings.Builder
		var rest []llm.Part
		for j := range m.Parts {
			part := &m.Parts[j]
			switch part.Type {
			case llm.PartReasoning:
				// Text only: Ollama has no signatures or opaque reasoning.
				if r := part.Reasoning; r != nil && !r.Redacted {
					thinking.WriteString(r.Text)
				}
			case llm.PartToolCall:
				tc := part.ToolCall
				if tc == nil {
					continue
				}
				wc, err := encodeCall(tc, len(wm.ToolCalls), wirejson.Index(p+".tool_calls", len(wm.ToolCalls)))
				if err != nil {
					return nil, err
				}
				names[tc.ID] = tc.Name
				wm.ToolCalls = append(wm.ToolCalls, wc)
			default:
				rest = append(rest, *part)
			}
		}
		wm.Thinking = thinking.String()
		var err error
		if wm.Content, wm.Images, err = encodeContent(rest, p+".content"); err != nil {
			return nil, err
		}
		out = append(out, wm)
	}
	return out, nil
}

// messageMembers lists the members message declares.
var messageMembers = map[string]bool{
	"role": true, "content": true, "thinking": true, "images": true,
	"tool_calls": true, "tool_name": true, "tool_call_id": true,
}

// encodeCall encodes a call of an assistant turn. Its id goes along only
// when an upstream made it.
func encodeCall(tc *llm.ToolCall, index int, p string) (toolCall, error) {
	if tc.Type == llm.CallCustom {
		return toolCall{}, llm.InvalidParam(p, "%s: calls of custom (free-form) tools cannot be sent to an Ollama upstream", p)
	}
	args := strings.TrimSpace(tc.Arguments)
	switch {
	case args == "":
		args = "{}"
	case rawjson.Kind([]byte(args)) != "object" || rawjson.Valid([]byte(args)) != nil:
		return toolCall{}, llm.InvalidParam(p+".function.arguments", "%s.function.arguments must be a JSON object for Ollama upstreams", p)
	}
	wc := toolCall{Function: toolCallFunction{Index: &index, Name: tc.Name, Arguments: arguments(args)}}
	if !isSynthetic(tc.ID) {
		wc.ID = tc.ID
	}
	return wc, nil
}

// encodeContent turns parts into Ollama's content string and images. Text
// (and refusal text) is concatenated; images must be inline base64.
func encodeContent(parts []llm.Part, p string) (string, []string, error) {
	if len(parts) == 1 && parts[0].Type == llm.PartText {
		return parts[0].Text, nil, nil
	}
	var text strings.Builder
	var images []string
	for j := range parts {
		part := &parts[j]
		pp := wirejson.Index(p, j)
		switch part.Type {
		case llm.PartText, llm.PartRefusal:
			text.WriteString(part.Text)
		case llm.PartImage:
			m := part.Media
			if m == nil || m.Data == "" {
				return "", nil, llm.InvalidParam(pp, "%s: Ollama upstreams take images only as inline base64 data, not by URL or file id", pp)
			}
			images = append(images, m.Data)
		case llm.PartAudio:
			return "", nil, llm.InvalidParam(pp, "%s: audio is not supported by Ollama upstreams", pp)
		case llm.PartFile:
			return "", nil, llm.InvalidParam(pp, "%s: files are not supported by Ollama upstreams", pp)
		}
	}
	return text.String(), images, nil
}
