package responses

import (
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// Extension keys this package fills itself, besides the request's unknown
// members.
const (
	// extText holds the members of text other than format (verbosity, …).
	extText = "text"
	// extInclude holds include, as sent.
	extInclude = "include"
	// extToolChoice holds a tool_choice the canonical model cannot express
	// (a hosted tool, or allowed_tools listing hosted tools).
	extToolChoice = "tool_choice"
	// extNamespace, in a tool's Extensions, holds the namespace it was
	// declared in: {"name":…,"description":…}.
	extNamespace = "namespace"
	// extSafetyIdentifier is the request member whose value fills User when
	// user is absent.
	extSafetyIdentifier = "safety_identifier"
	// extAnnotations, in a text part's Extensions, holds its annotations.
	extAnnotations = "annotations"
)

// logprobsInclude is the include value that asks for output logprobs.
const logprobsInclude = "message.output_text.logprobs"

// noState is the explanation of every refusal of server-side state.
const noState = "this gateway does not store responses; send the full input"

// DecodeRequest decodes a Responses request body into the canonical model.
// Type errors and missing required fields yield a 400 naming the field;
// fields the model has no slot for are kept in Extensions.
func (Protocol) DecodeRequest(body []byte) (*llm.Request, error) {
	var wr request
	if err := wirejson.Unmarshal(body, &wr); err != nil {
		return nil, err
	}
	return decodeRequest(&wr)
}

func decodeRequest(wr *request) (*llm.Request, error) {
	if wr.Model == "" {
		return nil, llm.InvalidParam("model", "model: you must provide a model parameter")
	}
	if err := refuseState(wr); err != nil {
		return nil, err
	}
	if err := validateSampling(wr); err != nil {
		return nil, err
	}
	req := &llm.Request{
		Model:             wr.Model,
		MaxTokens:         wr.MaxOutputTokens,
		Temperature:       wr.Temperature,
		TopP:              wr.TopP,
		TopLogprobs:       wr.TopLogprobs,
		ParallelToolCalls: wr.ParallelToolCalls,
		User:              wr.User,
		Metadata:          wr.Metadata,
		ServiceTier:       wr.ServiceTier,
		Store:             wr.Store,
		Origin:            ID,
		Extensions:        wirejson.Extensions(wr.Unknown),
	}
	if wr.Stream != nil {
		// A Responses stream always ends with usage.
		req.Stream, req.StreamUsage = *wr.Stream, *wr.Stream
	}
	if req.User == "" {
		if v, ok := req.Extensions[extSafetyIdentifier]; ok {
			_ = json.Unmarshal(v, &req.User) // a non-string is not ours to judge
		}
	}
	if len(wr.Include) > 0 {
		raw, _ := json.Marshal(wr.Include)
		setExt(req, extInclude, raw)
		for _, inc := range wr.Include {
			if inc == logprobsInclude {
				req.Logprobs = true
			}
		}
	}
	req.Reasoning = decodeReasoning(wr.Reasoning)
	if t := wr.Text; t != nil {
		rf, err := decodeFormat(t.Format)
		if err != nil {
			return nil, err
		}
		req.ResponseFormat = rf
		if len(t.Unknown) > 0 {
			setExt(req, extText, t.Unknown)
		}
	}
	var err error
	if req.Tools, err = decodeTools(wr.Tools); err != nil {
		return nil, err
	}
	if err := decodeToolChoice(wr.ToolChoice, req); err != nil {
		return nil, err
	}
	if req.Messages, err = decodeInput(wr); err != nil {
		return nil, err
	}
	return req, nil
}

// setExt sets one extension of r, allocating the map when needed.
func setExt(r *llm.Request, key string, raw []byte) {
	if r.Extensions == nil {
		r.Extensions = make(llm.Extensions, 2)
	}
	r.Extensions[key] = raw
}

// refuseState refuses the members that need responses stored on the
// gateway.
func refuseState(wr *request) error {
	for _, m := range []struct {
		name string
		v    jsontext.Value
	}{{"previous_response_id", wr.PreviousResponseID}, {"conversation", wr.Conversation}, {"prompt", wr.Prompt}} {
		if set(m.v) {
			return llm.InvalidParam(m.name, "%s: %s", m.name, noState)
		}
	}
	if wr.Background != nil && *wr.Background {
		return llm.InvalidParam("background", "background: background responses are not supported by this gateway")
	}
	return nil
}

// set reports whether a raw member holds something other than null or "".
func set(v jsontext.Value) bool {
	s := string(v)
	return s != "" && s != "null" && s != `""`
}

func validateSampling(wr *request) error {
	if t := wr.Temperature; t != nil && (*t < 0 || *t > 2) {
		return llm.InvalidParam("temperature", "temperature: must be between 0 and 2")
	}
	if p := wr.TopP; p != nil && (*p < 0 || *p > 1) {
		return llm.InvalidParam("top_p", "top_p: must be between 0 and 1")
	}
	if m := wr.MaxOutputTokens; m != nil && *m < 1 {
		return llm.InvalidParam("max_output_tokens", "max_output_tokens: must be at least 1")
	}
	if t := wr.TopLogprobs; t != nil && (*t < 0 || *t > 20) {
		return llm.InvalidParam("top_logprobs", "top_logprobs: must be between 0 and 20")
	}
	return nil
}

func decodeReasoning(r *reasoningConfig) *llm.ReasoningConfig {
	if r == nil {
		return nil
	}
	rc := &llm.ReasoningConfig{}
	if r.Effort != nil {
		rc.Effort = *r.Effort
	}
	switch {
	case r.Summary != nil:
		rc.Summary = *r.Summary
	case r.GenerateSummary != nil:
		rc.Summary = *r.GenerateSummary
	}
	if rc.Effort == "" && rc.Summary == "" {
		return nil
	}
	if rc.Effort == "none" {
		rc.Mode = llm.ReasoningDisabled
	}
	return rc
}

func decodeFormat(f *textFormat) (*llm.ResponseFormat, error) {
	if f == nil {
		return nil, nil
	}
	switch f.Type {
	case "text":
		return &llm.ResponseFormat{Type: llm.FormatText}, nil
	case "json_object":
		return &llm.ResponseFormat{Type: llm.FormatJSONObject}, nil
	case "json_schema":
		if f.Name == "" {
			return nil, llm.InvalidParam("text.format.name", "text.format.name: required when type is json_schema")
		}
		return &llm.ResponseFormat{Type: llm.FormatJSONSchema, Name: f.Name, Description: f.Description,
			Schema: []byte(f.Schema), Strict: f.Strict}, nil
	}
	return nil, llm.InvalidParam("text.format.type", "text.format.type: must be text, json_object or json_schema, got %q", f.Type)
}

// decodeInput turns instructions and the input into messages.
func decodeInput(wr *request) ([]llm.Message, error) {
	var msgs []llm.Message
	if in := wr.Instructions; in != nil && *in != "" {
		msgs = append(msgs, llm.Message{Role: llm.RoleSystem, Parts: []llm.Part{llm.TextPart(*in)}})
	}
	switch {
	case wr.Input.Text != nil:
		m := llm.Message{Role: llm.RoleUser}
		if *wr.Input.Text != "" {
			m.Parts = []llm.Part{llm.TextPart(*wr.Input.Text)}
		}
		return append(msgs, m), nil
	case !wr.Input.IsItems:
		return nil, llm.InvalidParam("input", "input: required (%s)", noState)
	case len(wr.Input.Items) == 0:
		return nil, llm.InvalidParam("input", "input: at least one item is required")
	}
	d := itemDecoder{msgs: msgs, asst: -1, calls: map[string]*llm.ToolCall{}}
	for i := range wr.Input.Items {
		if err := d.item(&wr.Input.Items[i], wirejson.Index("input", i)); err != nil {
			return nil, err
		}
	}
	if len(d.msgs) == 0 {
		return nil, llm.InvalidParam("input", "input: holds only hosted-tool items, which cannot be sent on; at least one message is required")
	}
	return d.msgs, nil
}

// itemDecoder folds input items into messages: consecutive assistant-side
// items (messages, reasoning, calls) make one assistant message.
type itemDecoder struct {
	msgs  []llm.Message
	asst  int                      // index of the open assistant message, or -1
	calls map[string]*llm.ToolCall // call id → call, for naming results
}

func (d *itemDecoder) assistant() *llm.Message {
	if d.asst < 0 {
		d.msgs = append(d.msgs, llm.Message{Role: llm.RoleAssistant})
		d.asst = len(d.msgs) - 1
	}
	return &d.msgs[d.asst]
}

func (d *itemDecoder) add(m llm.Message) {
	d.msgs = append(d.msgs, m)
	d.asst = -1
}

func (d *itemDecoder) item(it *item, p string) error {
	switch it.Type {
	case "message", "":
		return d.message(it, p)
	case "function_call", "custom_tool_call":
		if it.CallID == "" {
			return llm.InvalidParam(p+".call_id", "%s.call_id: required", p)
		}
		if it.Name == "" {
			return llm.InvalidParam(p+".name", "%s.name: required", p)
		}
		call := &llm.ToolCall{ID: it.CallID, Type: llm.CallFunction, Name: flatName(it.Namespace, it.Name)}
		if it.Type == "custom_tool_call" {
			call.Type = llm.CallCustom
			if it.Input != nil {
				call.Arguments = *it.Input
			}
		} else if it.Arguments != nil {
			call.Arguments = string(*it.Arguments)
		}
		d.calls[call.ID] = call
		m := d.assistant()
		m.Parts = append(m.Parts, llm.Part{Type: llm.PartToolCall, ToolCall: call})
	case "function_call_output", "custom_tool_call_output":
		if it.CallID == "" {
			return llm.InvalidParam(p+".call_id", "%s.call_id: required", p)
		}
		parts, err := decodeContent(&it.Output, p+".output", roleTool)
		if err != nil {
			return err
		}
		res := &llm.ToolResult{CallID: it.CallID, Content: parts}
		if call := d.calls[it.CallID]; call != nil {
			res.Name = call.Name
		} else if it.Name != "" {
			res.Name = flatName(it.Namespace, it.Name)
		}
		d.add(llm.Message{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: res}}})
	case "reasoning":
		m := d.assistant()
		m.Parts = append(m.Parts, decodeReasoningItem(it)...)
	case "item_reference":
		return llm.InvalidParam(p+".type", "%s.type: item_reference items need stored responses; %s", p, noState)
	default:
		if droppedItem(it.Type) {
			return nil
		}
		return llm.InvalidParam(p+".type", "%s.type: unsupported input item type %q", p, it.Type)
	}
	return nil
}

// droppedItem reports whether an input item of type t is history of a
// hosted tool (web_search_call, local_shell_call_output, tool_search_call,
// mcp_list_tools, …) or of server-side compaction: items no other protocol
// can express, which are left out of the canonical conversation.
func droppedItem(t string) bool {
	switch t {
	case "compaction", "compaction_summary", "mcp_list_tools", "mcp_approval_request", "mcp_approval_response":
		return true
	}
	return strings.HasSuffix(t, "_call") || strings.HasSuffix(t, "_output")
}

// decodeReasoningItem turns a reasoning item into parts: one per summary
// entry and one per content entry, all carrying the item's id; the first
// carries encrypted_content.
func decodeReasoningItem(it *item) []llm.Part {
	var parts []llm.Part
	add := func(text string, summary bool) {
		parts = append(parts, llm.Part{Type: llm.PartReasoning, Reasoning: &llm.Reasoning{
			ID: it.ID, Text: text, Summary: summary, Origin: ID}})
	}
	for _, s := range it.Summary {
		add(s.Text, true)
	}
	for _, c := range it.Content.Parts {
		if c.Text != nil {
			add(*c.Text, false)
		}
	}
	if len(parts) == 0 {
		add("", true)
	}
	if it.EncryptedContent != nil {
		parts[0].Reasoning.Data = *it.EncryptedContent
	}
	return parts
}

func (d *itemDecoder) message(it *item, p string) error {
	var role llm.Role
	switch it.Role {
	case "user", "system", "developer":
		role = llm.Role(it.Role)
	case "assistant":
		parts, err := decodeContent(&it.Content, p+".content", roleAssistant)
		if err != nil {
			return err
		}
		m := d.assistant()
		m.Parts = append(m.Parts, parts...)
		return nil
	case "":
		if it.Type == "" {
			return llm.InvalidParam(p+".type", "%s.type: required", p)
		}
		return llm.InvalidParam(p+".role", "%s.role: required", p)
	default:
		return llm.InvalidParam(p+".role", "%s.role: must be user, assistant, system or developer, got %q", p, it.Role)
	}
	parts, err := decodeContent(&it.Content, p+".content", roleInput)
	if err != nil {
		return err
	}
	d.add(llm.Message{Role: role, Parts: parts})
	return nil
}

// contentRole says which parts a content may hold.
type contentRole int

const (
	roleInput     contentRole = iota // user, system, developer: text and media
	roleAssistant                    // text and refusals
	roleTool                         // a tool's output: text and media
)

// decodeContent turns a string or an array of parts into parts. Empty text
// says nothing and is left out.
func decodeContent(c *content, p string, role contentRole) ([]llm.Part, error) {
	if !c.IsParts {
		if c.Text == nil || *c.Text == "" {
			return nil, nil
		}
		return []llm.Part{llm.TextPart(*c.Text)}, nil
	}
	parts := make([]llm.Part, 0, len(c.Parts))
	for j := range c.Parts {
		cp := &c.Parts[j]
		pp := wirejson.Index(p, j)
		part, err := decodePart(cp, pp, role)
		if err != nil {
			return nil, err
		}
		if part.Media == nil && part.Text == "" && len(part.Extensions) == 0 {
			continue
		}
		parts = append(parts, part)
	}
	return parts, nil
}

func decodePart(cp *contentPart, p string, role contentRole) (llm.Part, error) {
	ext := wirejson.Extensions(cp.Unknown)
	media := func() error {
		if role == roleAssistant {
			return llm.InvalidParam(p+".type", "%s.type: %s parts are not allowed in assistant messages", p, cp.Type)
		}
		return nil
	}
	switch cp.Type {
	case "input_text", "output_text", "text":
		if cp.Text == nil {
			return llm.Part{}, llm.InvalidParam(p+".text", "%s.text: required for a %s part", p, cp.Type)
		}
		if a := cp.Annotations; nonEmptyArray(a) {
			if ext == nil {
				ext = llm.Extensions{}
			}
			ext[extAnnotations] = []byte(a)
		}
		return llm.Part{Type: llm.PartText, Text: *cp.Text, Extensions: ext}, nil
	case "refusal":
		if role != roleAssistant {
			return llm.Part{}, llm.InvalidParam(p+".type", "%s.type: refusal parts are only allowed in assistant messages", p)
		}
		if cp.Refusal == nil {
			return llm.Part{}, llm.InvalidParam(p+".refusal", "%s.refusal: required for a refusal part", p)
		}
		return llm.Part{Type: llm.PartRefusal, Text: *cp.Refusal}, nil
	case "input_image":
		if err := media(); err != nil {
			return llm.Part{}, err
		}
		m := &llm.Media{Detail: cp.Detail, FileID: cp.FileID}
		if u := cp.ImageURL; u != nil && *u != "" {
			if mt, data, ok := llm.ParseDataURL(*u); ok && data != "" {
				m.MIMEType, m.Data = mt, data
			} else if strings.HasPrefix(*u, "data:") {
				return llm.Part{}, llm.InvalidParam(p+".image_url", "%s.image_url: a data URL must hold base64-encoded data", p)
			} else {
				m.URL = *u
			}
		} else if m.FileID == "" {
			return llm.Part{}, llm.InvalidParam(p+".image_url", "%s.image_url: image_url or file_id is required", p)
		}
		return llm.Part{Type: llm.PartImage, Media: m, Extensions: ext}, nil
	case "input_file":
		if err := media(); err != nil {
			return llm.Part{}, err
		}
		m := &llm.Media{FileID: cp.FileID, URL: cp.FileURL, Filename: cp.Filename}
		if cp.FileData != "" {
			if mt, data, ok := llm.ParseDataURL(cp.FileData); ok {
				if data == "" {
					return llm.Part{}, llm.InvalidParam(p+".file_data", "%s.file_data: the data URL holds no data", p)
				}
				m.MIMEType, m.Data = mt, data
			} else {
				m.Data, m.MIMEType = cp.FileData, mimeFromFilename(cp.Filename)
			}
		}
		if m.Data == "" && m.FileID == "" && m.URL == "" {
			return llm.Part{}, llm.InvalidParam(p+".file_data", "%s.file_data: file_data, file_id or file_url is required", p)
		}
		return llm.Part{Type: llm.PartFile, Media: m, Extensions: ext}, nil
	case "input_audio":
		if err := media(); err != nil {
			return llm.Part{}, err
		}
		if cp.InputAudio == nil || cp.InputAudio.Data == "" {
			return llm.Part{}, llm.InvalidParam(p+".input_audio.data", "%s.input_audio.data: required for an audio part", p)
		}
		return llm.Part{Type: llm.PartAudio, Media: &llm.Media{
			Data: cp.InputAudio.Data, MIMEType: audioMIME(cp.InputAudio.Format)}, Extensions: ext}, nil
	case "":
		return llm.Part{}, llm.InvalidParam(p+".type", "%s.type: required", p)
	}
	return llm.Part{}, llm.InvalidParam(p+".type", "%s.type: unsupported content part type %q", p, cp.Type)
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
	if f, ok := strings.CutPrefix(mime, "audio/"); ok && f != "" {
		return f
	}
	return "wav"
}

func mimeFromFilename(name string) string {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".txt"):
		return "text/plain"
	case strings.HasSuffix(lower, ".md"):
		return "text/markdown"
	case strings.HasSuffix(lower, ".csv"):
		return "text/csv"
	case strings.HasSuffix(lower, ".json"):
		return "application/json"
	}
	return "application/pdf"
}

// nonEmptyArray reports whether v is a JSON array with elements.
func nonEmptyArray(v []byte) bool {
	t := strings.TrimSpace(string(v))
	return len(t) >= 2 && t[0] == '[' && strings.TrimSpace(t[1:len(t)-1]) != ""
}
