package ollama

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// DecodeRequest decodes an /api/chat request body into the canonical model.
// Type errors yield a 400 naming the field; members the model has no slot
// for (keep_alive, truncate, shift, unknown options, …) are kept in
// Extensions.
func (Protocol) DecodeRequest(body []byte) (*llm.Request, error) {
	var wr chatRequest
	if err := wirejson.Unmarshal(body, &wr); err != nil {
		return nil, err
	}
	return decodeChat(&wr)
}

func decodeChat(wr *chatRequest) (*llm.Request, error) {
	if wr.Model == "" {
		return nil, llm.InvalidParam("model", "model is required")
	}
	if len(wr.Messages) == 0 {
		return nil, llm.InvalidParam("messages", "messages: at least one message is required (loading a model without a chat is not supported through llmux)")
	}
	req := &llm.Request{Model: wr.Model, Origin: ID, Stream: wr.Stream == nil || *wr.Stream}
	err := decodeCommon(req, common{format: wr.Format, options: wr.Options, think: wr.Think,
		logprobs: wr.Logprobs, topLogprobs: wr.TopLogprobs, unknown: wr.Unknown})
	if err != nil {
		return nil, err
	}
	if req.Tools, err = decodeTools(wr.Tools); err != nil {
		return nil, err
	}
	if req.Messages, err = decodeMessages(wr.Messages); err != nil {
		return nil, err
	}
	return req, nil
}

// common holds the request members /api/chat and /api/generate share.
type common struct {
	format      jsontext.Value
	options     *options
	think       *think
	logprobs    *bool
	topLogprobs *int
	unknown     jsontext.Value
}

func decodeCommon(req *llm.Request, c common) error {
	rf, err := decodeFormat(c.format)
	if err != nil {
		return err
	}
	req.ResponseFormat = rf
	if t := c.think; t != nil {
		req.Reasoning = &llm.ReasoningConfig{Mode: llm.ReasoningEnabled, Effort: t.Level}
		if !t.On {
			req.Reasoning.Mode = llm.ReasoningDisabled
		}
	}
	if c.logprobs != nil {
		req.Logprobs = *c.logprobs
	}
	if t := c.topLogprobs; t != nil {
		if *t < 0 || *t > 20 {
			return llm.InvalidParam("top_logprobs", "top_logprobs must be between 0 and 20")
		}
		req.TopLogprobs = t
	}
	req.Extensions = wirejson.Extensions(c.unknown)
	if c.options == nil {
		return nil
	}
	rest, err := decodeOptions(req, c.options)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		if req.Extensions == nil {
			req.Extensions = llm.Extensions{}
		}
		req.Extensions["options"] = rest
	}
	return nil
}

// decodeOptions sets the sampling parameters from the options and returns
// the options left over (as a JSON object, nil when none): the unknown ones,
// and num_predict, seed and top_k when they hold Ollama's "unset" values
// (num_predict -1 or -2, a negative seed, top_k 0), which mean nothing to
// other protocols.
func decodeOptions(req *llm.Request, o *options) ([]byte, error) {
	req.Temperature, req.TopP = o.Temperature, o.TopP
	req.FrequencyPenalty, req.PresencePenalty = o.FrequencyPenalty, o.PresencePenalty
	req.Stop = o.Stop
	var kept []rawjson.Edit // appended after the unknown options, in this order
	keep := func(name string, v intOpt) {
		kept = append(kept, rawjson.Edit{Key: name, Value: strconv.AppendInt(nil, int64(v), 10)})
	}
	if n := o.NumPredict; n != nil {
		if *n > 0 {
			v := int(*n)
			req.MaxTokens = &v
		} else {
			keep("num_predict", *n)
		}
	}
	if s := o.Seed; s != nil {
		if *s >= 0 {
			v := int64(*s)
			req.Seed = &v
		} else {
			keep("seed", *s)
		}
	}
	if k := o.TopK; k != nil {
		if *k > 0 {
			v := int(*k)
			req.TopK = &v
		} else {
			keep("top_k", *k)
		}
	}
	if len(o.Unknown) == 0 && len(kept) == 0 {
		return nil, nil
	}
	base := []byte(o.Unknown)
	if len(base) == 0 {
		base = []byte("{}")
	}
	ms, err := rawjson.Members(base, nil)
	if err != nil {
		return nil, llm.InvalidParam("options", "options must be an object")
	}
	return compactObject(rawjson.Apply(nil, base, ms, kept)), nil
}

// compactObject returns a raw object without insignificant white space.
func compactObject(v jsontext.Value) []byte {
	c := v.Clone()
	if err := c.Compact(); err != nil {
		return v
	}
	return c
}

// decodeFormat reads "format": "json", a JSON schema object, or nothing.
func decodeFormat(v jsontext.Value) (*llm.ResponseFormat, error) {
	switch v.Kind() {
	case 0, 'n':
		return nil, nil
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, llm.InvalidParam("format", "format: %v", err)
		}
		switch s {
		case "":
			return nil, nil
		case "json":
			return &llm.ResponseFormat{Type: llm.FormatJSONObject}, nil
		}
		return nil, llm.InvalidParam("format", `format must be "json" or a JSON schema object, got %q`, s)
	case '{':
		return &llm.ResponseFormat{Type: llm.FormatJSONSchema, Schema: compactObject(v)}, nil
	}
	return nil, llm.InvalidParam("format", `format must be "json" or a JSON schema object`)
}

func decodeTools(tools []tool) ([]llm.Tool, error) {
	if len(tools) == 0 {
		return nil, nil
	}
	out := make([]llm.Tool, 0, len(tools))
	for i := range tools {
		t := &tools[i]
		p := wirejson.Index("tools", i)
		if t.Type != "function" && t.Type != "" {
			return nil, llm.InvalidParam(p+".type", "%s.type: unsupported tool type %q (Ollama tools are functions)", p, t.Type)
		}
		if t.Function == nil || t.Function.Name == "" {
			return nil, llm.InvalidParam(p+".function.name", "%s.function.name is required", p)
		}
		out = append(out, llm.Tool{Type: llm.ToolFunction, Name: t.Function.Name,
			Description: t.Function.Description, Parameters: parameters(t.Function.Parameters),
			Extensions: wirejson.Extensions(t.Unknown)})
	}
	return out, nil
}

// parameters returns a tool's parameter schema, or nil for a tool without
// parameters: an empty object schema, or the Go client's
// {"type":"","properties":null}, which other protocols reject.
func parameters(v jsontext.Value) []byte {
	if v.Kind() != '{' {
		return nil
	}
	var s map[string]jsontext.Value
	if json.Unmarshal(v, &s) != nil {
		return compactObject(v)
	}
	for k, x := range s {
		x = compactObject(x)
		switch {
		case k == "type" && (string(x) == `""` || string(x) == "null" || string(x) == `"object"`):
		case k == "properties" && (string(x) == "null" || string(x) == "{}"):
		case (k == "required" || k == "$defs" || k == "items") && (string(x) == "null" || string(x) == "[]"):
		default:
			return compactObject(v)
		}
	}
	return nil
}

// pendingCall is an assistant tool call a later tool message may answer.
type pendingCall struct {
	id, name string
}

func decodeMessages(wms []message) ([]llm.Message, error) {
	msgs := make([]llm.Message, 0, len(wms))
	var pending []pendingCall // the calls of the last assistant turn not yet answered
	names := map[string]string{}
	for i := range wms {
		wm := &wms[i]
		p := wirejson.Index("messages", i)
		m := llm.Message{Extensions: wirejson.Extensions(wm.Unknown)}
		images, err := decodeImages(wm.Images, p+".images")
		if err != nil {
			return nil, err
		}
		switch role := strings.ToLower(wm.Role); role {
		case "system", "developer", "user":
			m.Role = llm.Role(role)
			if wm.Content != "" {
				m.Parts = append(m.Parts, llm.TextPart(wm.Content))
			}
			m.Parts = append(m.Parts, images...)
		case "assistant":
			m.Role = llm.RoleAssistant
			if wm.Thinking != "" {
				m.Parts = append(m.Parts, llm.Part{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{Text: wm.Thinking, Origin: ID}})
			}
			if wm.Content != "" {
				m.Parts = append(m.Parts, llm.TextPart(wm.Content))
			}
			m.Parts = append(m.Parts, images...)
			if len(wm.ToolCalls) > 0 {
				pending = pending[:0]
			}
			for j := range wm.ToolCalls {
				tc := &wm.ToolCalls[j]
				tp := wirejson.Index(p+".tool_calls", j)
				if tc.Function.Name == "" {
					return nil, llm.InvalidParam(tp+".function.name", "%s.function.name is required", tp)
				}
				args := tc.Function.Arguments.text()
				id := tc.ID
				if id == "" {
					id = syntheticID(p, j, tc.Function.Name, args)
				}
				names[id] = tc.Function.Name
				pending = append(pending, pendingCall{id: id, name: tc.Function.Name})
				m.Parts = append(m.Parts, llm.Part{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{
					ID: id, Type: llm.CallFunction, Name: tc.Function.Name, Arguments: args}})
			}
		case "tool":
			m.Role = llm.RoleTool
			r := &llm.ToolResult{CallID: wm.ToolCallID, Name: wm.ToolName}
			pending, r.CallID = matchCall(pending, wm.ToolCallID, wm.ToolName)
			if r.CallID == "" {
				r.CallID = syntheticID(p, 0, wm.ToolName, "")
			}
			if r.Name == "" {
				r.Name = names[r.CallID]
			}
			if wm.Content != "" {
				r.Content = append(r.Content, llm.TextPart(wm.Content))
			}
			r.Content = append(r.Content, images...)
			m.Parts = []llm.Part{{Type: llm.PartToolResult, ToolResult: r}}
		case "":
			return nil, llm.InvalidParam(p+".role", "%s.role is required", p)
		default:
			return nil, llm.InvalidParam(p+".role", "%s.role must be system, user, assistant or tool, got %q", p, wm.Role)
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// matchCall finds the call a tool result answers: the one with its
// tool_call_id, else the first unanswered call of its tool_name, else the
// first unanswered call. It returns the calls still unanswered and the id
// ("" when nothing matched and the result named no id).
func matchCall(pending []pendingCall, id, name string) ([]pendingCall, string) {
	at := -1
	for k, c := range pending {
		if id != "" && c.id == id || id == "" && name != "" && c.name == name {
			at = k
			break
		}
	}
	if at < 0 && id == "" && name == "" && len(pending) > 0 {
		at = 0
	}
	if at < 0 {
		return pending, id
	}
	found := pending[at].id
	return append(pending[:at], pending[at+1:]...), found
}

// decodeImages turns a message's base64 images into image parts. A data URL
// is accepted too; otherwise the MIME type is sniffed from the bytes.
func decodeImages(images []string, p string) ([]llm.Part, error) {
	if len(images) == 0 {
		return nil, nil
	}
	parts := make([]llm.Part, 0, len(images))
	for j, img := range images {
		ip := wirejson.Index(p, j)
		m := &llm.Media{Data: img}
		if mt, data, ok := llm.ParseDataURL(img); ok {
			m.MIMEType, m.Data = mt, data
		}
		if m.Data == "" {
			return nil, llm.InvalidParam(ip, "%s: the image holds no data", ip)
		}
		if m.MIMEType == "" {
			mt, ok := sniffImage(m.Data)
			if !ok {
				return nil, llm.InvalidParam(ip, "%s: the image is not valid base64", ip)
			}
			m.MIMEType = mt
		}
		parts = append(parts, llm.Part{Type: llm.PartImage, Media: m})
	}
	return parts, nil
}

// sniffImage returns the MIME type of base64 image data from its first
// bytes: PNG, JPEG, GIF or WebP, else application/octet-stream. It reports
// false when the data does not start as valid base64.
func sniffImage(data string) (string, bool) {
	head := data
	if len(head) > 16 {
		head = head[:16] // 12 bytes: enough for every signature below
	} else if n := len(head) &^ 3; n != len(head) {
		head = head[:n]
	}
	var buf [12]byte
	n, err := base64.StdEncoding.Decode(buf[:], []byte(head))
	if err != nil {
		return "", false
	}
	b := string(buf[:n])
	switch {
	case strings.HasPrefix(b, "\x89PNG\r\n\x1a\n"):
		return "image/png", true
	case strings.HasPrefix(b, "\xff\xd8\xff"):
		return "image/jpeg", true
	case strings.HasPrefix(b, "GIF87a"), strings.HasPrefix(b, "GIF89a"):
		return "image/gif", true
	case len(b) >= 12 && b[:4] == "RIFF" && b[8:12] == "WEBP":
		return "image/webp", true
	}
	return "application/octet-stream", true
}
