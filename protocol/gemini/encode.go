package gemini

import (
	"bytes"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// EncodeRequest encodes req as a generateContent body for model (which
// goes in the URL, see Endpoint). Features Gemini cannot express are
// refused with a 400 naming them; see the package comment for what is
// dropped.
func (Protocol) EncodeRequest(req *llm.Request, model string) ([]byte, error) {
	wr, err := encodeRequest(req, model)
	if err != nil {
		return nil, err
	}
	return json.Marshal(wr)
}

// skipSignature is Google's documented placeholder for a function call
// whose thoughtSignature is unknown (a history from another model or
// protocol); Gemini 3 refuses such calls without one.
const skipSignature = "skip_thought_signature_validator"

func encodeRequest(req *llm.Request, model string) (*generateRequest, error) {
	// Vendor fields travel on only to the protocol they came from.
	ext := req.Origin == ID
	wr := &generateRequest{}
	var extGen, extTools jsontext.Value
	if ext && len(req.Extensions) > 0 {
		rest := req.Extensions.Clone()
		extGen, extTools = jsontext.Value(rest["generationConfig"]), jsontext.Value(rest["toolConfig"])
		for _, k := range []string{"generationConfig", "toolConfig", "contents", "systemInstruction", "tools", "model"} {
			delete(rest, k)
		}
		wr.Unknown = wirejson.Unknown(rest)
	}
	gc, err := encodeGeneration(req, model, ext)
	if err != nil {
		return nil, err
	}
	if len(extGen) > 0 && extGen.Kind() == '{' {
		gc.Unknown = extGen
	}
	if !isZeroGeneration(gc) {
		wr.GenerationConfig = gc
	}
	if wr.Tools, err = encodeTools(req.Tools, ext); err != nil {
		return nil, err
	}
	switch {
	case len(extTools) > 0 && extTools.Kind() == '{':
		var tc toolConfig
		if json.Unmarshal(extTools, &tc) == nil {
			wr.ToolConfig = &tc
		}
	case req.ToolChoice != nil:
		wr.ToolConfig = encodeToolChoice(req.ToolChoice)
	}
	if err := encodeMessages(wr, req, ext); err != nil {
		return nil, err
	}
	if isGemini3(model) {
		signCalls(wr.Contents)
	}
	return wr, nil
}

// isGemini3 reports whether model is a Gemini 3 (or later 3.x) model, which
// wants thinkingLevel and signed function calls.
func isGemini3(model string) bool {
	return strings.HasPrefix(strings.TrimPrefix(model, "models/"), "gemini-3")
}

// signCalls gives the first function call of each model turn that lacks a
// signature the documented placeholder.
func signCalls(contents []content) {
	for i := range contents {
		if contents[i].Role != "model" {
			continue
		}
		for j := range contents[i].Parts {
			if wp := &contents[i].Parts[j]; wp.FunctionCall != nil {
				if wp.ThoughtSignature == "" {
					wp.ThoughtSignature = skipSignature
				}
				break
			}
		}
	}
}

func encodeGeneration(req *llm.Request, model string, ext bool) (*generationConfig, error) {
	gc := &generationConfig{
		Temperature:      req.Temperature,
		TopP:             req.TopP,
		MaxOutputTokens:  req.MaxTokens,
		StopSequences:    req.Stop,
		Seed:             req.Seed,
		PresencePenalty:  req.PresencePenalty,
		FrequencyPenalty: req.FrequencyPenalty,
		Logprobs:         req.TopLogprobs,
	}
	if req.TopK != nil {
		k := float64(*req.TopK)
		gc.TopK = &k
	}
	if req.N > 1 {
		n := req.N
		gc.CandidateCount = &n
	}
	if req.Logprobs {
		t := true
		gc.ResponseLogprobs = &t
	}
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case llm.FormatJSONObject:
			gc.ResponseMIMEType = "application/json"
		case llm.FormatJSONSchema:
			gc.ResponseMIMEType = "application/json"
			if s := schemaOf(jsontext.Value(rf.Schema)); s != nil {
				gc.ResponseJSONSchema = s
			}
		case llm.FormatText:
			if ext {
				gc.ResponseMIMEType = "text/plain"
			}
		}
	}
	if r := req.Reasoning; r != nil {
		gc.ThinkingConfig = encodeThinking(r, ext || isGemini3(model))
	}
	return gc, nil
}

func isZeroGeneration(gc *generationConfig) bool {
	return gc.Temperature == nil && gc.TopP == nil && gc.TopK == nil && gc.CandidateCount == nil &&
		gc.MaxOutputTokens == nil && len(gc.StopSequences) == 0 && gc.Seed == nil &&
		gc.PresencePenalty == nil && gc.FrequencyPenalty == nil && gc.ResponseLogprobs == nil &&
		gc.Logprobs == nil && gc.ResponseMIMEType == "" && len(gc.ResponseSchema) == 0 &&
		len(gc.ResponseJSONSchema) == 0 && gc.ThinkingConfig == nil && len(gc.Unknown) == 0
}

// effortBudgets is the thinkingBudget sent for an effort to models that
// take no thinkingLevel (Gemini 2.5): within every 2.5 model's range.
var effortBudgets = map[string]int{
	"minimal": 512, "low": 1024, "medium": 8192, "high": 24576, "xhigh": 24576, "max": 24576,
}

// encodeThinking maps a reasoning config to thinkingConfig; level says
// whether an effort goes as thinkingLevel (Gemini 3, or a Gemini client
// that sent one) or as a thinkingBudget.
func encodeThinking(r *llm.ReasoningConfig, level bool) *thinkingConfig {
	tc := &thinkingConfig{}
	budget := func(n int) { tc.ThinkingBudget = &n }
	switch {
	case r.Mode == llm.ReasoningDisabled || r.Effort == "none":
		budget(0)
	case r.BudgetTokens != nil:
		budget(*r.BudgetTokens)
	case r.Effort != "":
		if b, known := effortBudgets[r.Effort]; !level && known {
			budget(b)
		} else if level && known {
			lvl := strings.ToUpper(r.Effort)
			if lvl == "XHIGH" || lvl == "MAX" {
				lvl = "HIGH"
			}
			tc.ThinkingLevel = lvl
		} else {
			budget(-1)
		}
	case r.Mode == llm.ReasoningAdaptive || r.Mode == llm.ReasoningEnabled:
		budget(-1)
	}
	disabled := tc.ThinkingBudget != nil && *tc.ThinkingBudget == 0
	if !disabled && (r.IncludeThoughts || (r.Summary != "" && r.Summary != "none") || r.Display == "summarized") {
		t := true
		tc.IncludeThoughts = &t
	}
	if tc.ThinkingBudget == nil && tc.ThinkingLevel == "" && tc.IncludeThoughts == nil {
		return nil
	}
	return tc
}

// encodeTools sends function tools as one functionDeclarations entry with
// their JSON Schema as parametersJsonSchema (at the place of the first
// one), and Gemini's own hosted tools (from a Gemini client) as they came.
// Other protocols' hosted tools are dropped.
func encodeTools(tools []llm.Tool, ext bool) ([]tool, error) {
	var out []tool
	decls := -1 // index of the functionDeclarations entry in out
	for i := range tools {
		t := &tools[i]
		switch t.Type {
		case llm.ToolFunction, "":
			fd := functionDeclaration{Name: t.Name, Description: t.Description,
				ParametersJSONSchema: schemaOf(jsontext.Value(t.Parameters))}
			if ext {
				fd.Unknown = wirejson.Unknown(t.Extensions)
			}
			if decls < 0 {
				decls = len(out)
				out = append(out, tool{})
			}
			out[decls].FunctionDeclarations = append(out[decls].FunctionDeclarations, fd)
		case llm.ToolCustom:
			p := wirejson.Index("tools", i)
			return nil, llm.InvalidParam(p, "%s: custom tool %q cannot be sent to a Gemini upstream, which has only function tools", p, t.Name)
		default:
			if ext && len(t.Raw) > 0 && jsontext.Value(t.Raw).Kind() == '{' {
				out = append(out, tool{Unknown: jsontext.Value(t.Raw)})
			}
		}
	}
	return out, nil
}

func encodeToolChoice(tc *llm.ToolChoice) *toolConfig {
	fc := &functionCallingConfig{AllowedFunctionNames: tc.Allowed}
	switch tc.Mode {
	case llm.ToolChoiceNone:
		fc.Mode, fc.AllowedFunctionNames = "NONE", nil
	case llm.ToolChoiceRequired:
		fc.Mode = "ANY"
	case llm.ToolChoiceTool:
		fc.Mode, fc.AllowedFunctionNames = "ANY", []string{tc.Name}
	case llm.ToolChoiceAuto:
		fc.Mode = "AUTO"
	default:
		if len(tc.Allowed) == 0 {
			return nil
		}
		fc.Mode = "AUTO"
	}
	return &toolConfig{FunctionCallingConfig: fc}
}

// messagesAt is the root of the canonical request's message paths, which
// errors name in OpenAI's notation: messages[i].content[j].
var messagesAt = at{name: "messages"}

// contentAt returns the path of part j of the message at p.
func contentAt(p *at, j int) string { return wirejson.Index(wirejson.Join(p.String(), "content"), j) }

// encodeMessages fills systemInstruction and contents.
func encodeMessages(wr *generateRequest, req *llm.Request, ext bool) error {
	var names map[string]string // call id → function name, built when needed
	nameOf := func(id string) string {
		if names == nil {
			names = make(map[string]string)
			for i := range req.Messages {
				for _, lp := range req.Messages[i].Parts {
					if lp.Type == llm.PartToolCall && lp.ToolCall != nil {
						names[lp.ToolCall.ID] = lp.ToolCall.Name
					}
				}
			}
		}
		return names[id]
	}
	var system []part
	contents := make([]content, 0, len(req.Messages))
	add := func(role string, parts []part) {
		if len(parts) == 0 {
			return
		}
		if n := len(contents); n > 0 && contents[n-1].Role == role {
			contents[n-1].Parts = append(contents[n-1].Parts, parts...)
			return
		}
		contents = append(contents, content{Role: role, Parts: parts})
	}
	for i := range req.Messages {
		m := &req.Messages[i]
		p := messagesAt.index(i)
		switch m.Role {
		case llm.RoleSystem, llm.RoleDeveloper:
			for j, lp := range m.Parts {
				switch lp.Type {
				case llm.PartText:
					if lp.Text != "" {
						t := lp.Text
						system = append(system, part{Text: someText(t)})
					}
				case llm.PartReasoning:
				default:
					pp := contentAt(&p, j)
					return llm.InvalidParam(pp, "%s: a Gemini system instruction holds only text", pp)
				}
			}
		case llm.RoleAssistant:
			parts, err := encodeModelParts(m.Parts, &p, ext)
			if err != nil {
				return err
			}
			add("model", parts)
		default: // user and tool messages
			parts, err := encodeUserParts(m.Parts, &p, ext, nameOf)
			if err != nil {
				return err
			}
			add("user", parts)
		}
	}
	if len(contents) == 0 {
		return llm.InvalidParam("messages", "messages: a Gemini request needs at least one user or assistant message besides the instructions")
	}
	wr.Contents = contents
	if len(system) > 0 {
		wr.SystemInstruction = &instruction{Parts: system}
	}
	return nil
}

// encodeModelParts encodes an assistant message as the parts of a model
// turn.
func encodeModelParts(parts []llm.Part, p *at, ext bool) ([]part, error) {
	out := make([]part, 0, len(parts))
	calls := 0
	for j := range parts {
		lp := &parts[j]
		switch lp.Type {
		case llm.PartText, llm.PartRefusal:
			if wp, ok := textPart(lp, ext); ok {
				out = append(out, wp)
			}
		case llm.PartReasoning:
			r := lp.Reasoning
			if r == nil || r.Origin != ID || r.Redacted {
				continue // other protocols' thinking means nothing to Gemini
			}
			t := r.Text
			switch {
			case t != "":
				out = append(out, part{Text: someText(t), Thought: true, ThoughtSignature: r.Signature})
			case r.Signature != "":
				out = append(out, part{Text: someText(t), ThoughtSignature: r.Signature})
			}
		case llm.PartToolCall:
			tc := lp.ToolCall
			if tc == nil {
				continue
			}
			callsAt := p.key("tool_calls")
			cp := callsAt.index(calls)
			calls++
			wp, err := encodeCall(tc, &cp, ext)
			if err != nil {
				return nil, err
			}
			out = append(out, wp)
		case llm.PartImage, llm.PartAudio, llm.PartFile:
			wp, err := mediaPart(lp, p, j, ext)
			if err != nil {
				return nil, err
			}
			out = append(out, wp)
		case llm.PartToolResult:
			pp := contentAt(p, j)
			return nil, llm.InvalidParam(pp, "%s: a tool result cannot be part of an assistant message", pp)
		}
	}
	return out, nil
}

// textPart encodes a text or refusal part; ok is false for empty text.
// A Gemini client's part keeps its extensions: its thoughtSignature, and
// an executableCode or codeExecutionResult part is sent as the original.
func textPart(lp *llm.Part, ext bool) (part, bool) {
	if ext && len(lp.Extensions) > 0 {
		x := lp.Extensions.Clone()
		var wp part
		if v := jsontext.Value(x["executableCode"]); v.Kind() == '{' {
			wp.ExecutableCode = v
		} else if v := jsontext.Value(x["codeExecutionResult"]); v.Kind() == '{' {
			wp.CodeExecutionResult = v
		} else {
			t := lp.Text
			wp.Text = someText(t)
		}
		if s, err := rawjson.String(x["thoughtSignature"]); err == nil {
			wp.ThoughtSignature = s
		}
		for _, k := range knownPartMembers {
			delete(x, k)
		}
		wp.Unknown = wirejson.Unknown(x)
		return wp, true
	}
	if lp.Text == "" {
		return part{}, false
	}
	t := lp.Text
	return part{Text: someText(t)}, true
}

// knownPartMembers are the part members the wire struct has fields for;
// extensions never repeat them.
var knownPartMembers = []string{"text", "thought", "thoughtSignature", "inlineData", "fileData",
	"functionCall", "functionResponse", "executableCode", "codeExecutionResult"}

// encodeCall encodes a tool call. A made-up id stays here; a signature is
// sent only when it is Gemini's (see the package comment).
func encodeCall(tc *llm.ToolCall, p *at, ext bool) (part, error) {
	if tc.Type == llm.CallCustom {
		return part{}, llm.InvalidParam(p.String(), "%s: custom tool calls cannot be sent to a Gemini upstream", p.String())
	}
	args, err := argsObject(tc.Arguments, p)
	if err != nil {
		return part{}, err
	}
	fc := &functionCall{Name: tc.Name, Args: args}
	made := generatedID(tc.ID)
	if !made {
		fc.ID = tc.ID
	}
	wp := part{FunctionCall: fc}
	if ext || made {
		wp.ThoughtSignature = tc.Signature
	}
	return wp, nil
}

// argsObject returns tool-call arguments as the JSON object Gemini takes:
// "" is {}, anything but an object is refused.
func argsObject(args string, p *at) (jsontext.Value, error) {
	a := bytes.TrimSpace([]byte(args))
	if len(a) == 0 {
		return jsontext.Value("{}"), nil
	}
	if a[0] != '{' || rawjson.Valid(a) != nil {
		ap := wirejson.Join(p.String(), "function.arguments")
		return nil, llm.InvalidParam(ap, "%s: the arguments must be a JSON object for a Gemini upstream", ap)
	}
	return jsontext.Value(a), nil
}

// encodeUserParts encodes a user or tool message as the parts of a user
// turn: tool results as functionResponse parts (with any media of a result
// after it), other content as text and media parts.
func encodeUserParts(parts []llm.Part, p *at, ext bool, nameOf func(string) string) ([]part, error) {
	out := make([]part, 0, len(parts))
	for j := range parts {
		lp := &parts[j]
		switch lp.Type {
		case llm.PartText, llm.PartRefusal:
			if wp, ok := textPart(lp, ext); ok {
				out = append(out, wp)
			}
		case llm.PartImage, llm.PartAudio, llm.PartFile:
			wp, err := mediaPart(lp, p, j, ext)
			if err != nil {
				return nil, err
			}
			out = append(out, wp)
		case llm.PartToolResult:
			r := lp.ToolResult
			if r == nil {
				continue
			}
			var err error
			if out, err = appendResult(out, r, p, j, ext, nameOf); err != nil {
				return nil, err
			}
		case llm.PartToolCall:
			pp := contentAt(p, j)
			return nil, llm.InvalidParam(pp, "%s: a tool call can only be part of an assistant message", pp)
		}
	}
	return out, nil
}

// appendResult appends a functionResponse for r, and its media.
func appendResult(out []part, r *llm.ToolResult, p *at, j int, ext bool, nameOf func(string) string) ([]part, error) {
	name := r.Name
	if name == "" {
		name = nameOf(r.CallID)
	}
	if name == "" {
		pp := contentAt(p, j)
		return nil, llm.InvalidParam(pp, "%s: the tool result for call %q answers no earlier tool call, and Gemini needs the function's name", pp, r.CallID)
	}
	var text strings.Builder
	var media []part
	for k := range r.Content {
		c := &r.Content[k]
		switch c.Type {
		case llm.PartText, llm.PartRefusal:
			text.WriteString(c.Text)
		case llm.PartImage, llm.PartAudio, llm.PartFile:
			resAt := p.key("content")
			resAt = resAt.index(j)
			wp, err := mediaPart(c, &resAt, k, ext)
			if err != nil {
				return nil, err
			}
			media = append(media, wp)
		}
	}
	fr := &functionResponse{Name: name, Response: resultObject(text.String(), r.IsError)}
	if !generatedID(r.CallID) {
		fr.ID = r.CallID
	}
	out = append(out, part{FunctionResponse: fr})
	return append(out, media...), nil
}

// resultObject wraps a tool result as the object Gemini takes: a JSON
// object as is, an error as {"error": text}, other text as {"result": text}.
func resultObject(text string, isError bool) jsontext.Value {
	switch {
	case isError:
		return jsontext.Value(append(rawjson.AppendString([]byte(`{"error":`), text), '}'))
	case isJSONObject(text):
		return jsontext.Value(strings.TrimSpace(text))
	}
	return jsontext.Value(append(rawjson.AppendString([]byte(`{"result":`), text), '}'))
}

// mediaPart encodes an image, audio or file part: inline data, or a
// Gemini Files API or gs:// URI. Anything else by URL is refused (the
// provider has already downloaded what it could).
func mediaPart(lp *llm.Part, p *at, j int, ext bool) (part, error) {
	m := lp.Media
	if m == nil {
		pp := contentAt(p, j)
		return part{}, llm.InvalidParam(pp, "%s: the %s part has no content", pp, lp.Type)
	}
	var wp part
	if ext {
		x := lp.Extensions.Clone()
		for _, k := range knownPartMembers {
			delete(x, k)
		}
		wp.Unknown = wirejson.Unknown(x)
	}
	data, mime := m.Data, m.MIMEType
	if data == "" && strings.HasPrefix(m.URL, "data:") {
		if mt, d, ok := llm.ParseDataURL(m.URL); ok && d != "" {
			data, mime = d, mt
		}
	}
	switch {
	case data != "":
		if mime == "" {
			mime = sniffMIME(data, lp.Type)
		}
		wp.InlineData = &blob{MIMEType: mime, Data: data}
	case fileURI(m.URL) || ext && m.URL != "" && !strings.HasPrefix(m.URL, "data:"):
		// A Gemini client's fileData goes on as it came: the upstream
		// decides which URIs it reads.
		wp.FileData = &fileData{MIMEType: mime, FileURI: m.URL}
	case m.FileID != "":
		pp := contentAt(p, j)
		return part{}, llm.InvalidParam(pp, "%s: a file by id cannot be sent to a Gemini upstream; send its content", pp)
	default:
		pp := contentAt(p, j)
		return part{}, llm.InvalidParam(pp, "%s: the %s could not be sent to the Gemini upstream: Gemini takes inline data, gs:// or Files API URIs, not other URLs", pp, lp.Type)
	}
	return wp, nil
}

// fileURI reports whether u is a URI Gemini reads itself: Cloud Storage or
// its own Files API.
func fileURI(u string) bool {
	return strings.HasPrefix(u, "gs://") || strings.HasPrefix(u, "https://generativelanguage.googleapis.com/")
}

// sniffMIME guesses the type of base64 data from its first bytes, for
// media whose type the client did not say; Gemini requires one.
func sniffMIME(b64 string, t llm.PartType) string {
	switch {
	case strings.HasPrefix(b64, "iVBORw0KGgo"):
		return "image/png"
	case strings.HasPrefix(b64, "/9j/"):
		return "image/jpeg"
	case strings.HasPrefix(b64, "R0lGOD"):
		return "image/gif"
	case strings.HasPrefix(b64, "UklGR") && len(b64) >= 16 && b64[12:16] == "RUJQ":
		return "image/webp"
	case strings.HasPrefix(b64, "UklGR") && len(b64) >= 16 && b64[12:16] == "QVZF":
		return "audio/wav"
	case strings.HasPrefix(b64, "JVBERi0"):
		return "application/pdf"
	case strings.HasPrefix(b64, "SUQz") || strings.HasPrefix(b64, "//s") || strings.HasPrefix(b64, "//u"):
		return "audio/mpeg"
	}
	switch t {
	case llm.PartImage:
		return "image/jpeg"
	case llm.PartAudio:
		return "audio/wav"
	}
	return "application/pdf"
}
