package gemini

import (
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// DecodeRequest decodes a generateContent request body into the canonical
// model. The model and the stream mode are in the URL (see Address): the
// request's Model and Stream are left for the gateway to set. Type errors
// and missing required fields yield a 400 naming the field; fields the
// model has no slot for are kept in Extensions.
func (Protocol) DecodeRequest(body []byte) (*llm.Request, error) {
	var wr generateRequest
	if err := unmarshalClient(body, &wr); err != nil {
		return nil, err
	}
	return decodeRequest(&wr, "")
}

// unmarshalClient decodes a client's body in camelCase or snake_case.
func unmarshalClient(body []byte, v any) error {
	if err := json.Unmarshal(body, v, decodeOptions); err != nil {
		return wirejson.AsInvalid(err)
	}
	return nil
}

// requestScope is the scope of the ids made up for calls in a request.
const requestScope = "request"

// decodeRequest maps a decoded request; prefix is the path of the request
// within the body ("" or "generateContentRequest").
func decodeRequest(wr *generateRequest, prefix string) (*llm.Request, error) {
	if len(wr.Contents) == 0 {
		p := wirejson.Join(prefix, "contents")
		return nil, llm.InvalidParam(p, "%s: at least one content is required", p)
	}
	req := &llm.Request{Origin: ID, Extensions: wirejson.Extensions(wr.Unknown)}
	if si := wr.SystemInstruction; si != nil {
		m, err := decodeInstruction(si, wirejson.Join(prefix, "systemInstruction"))
		if err != nil {
			return nil, err
		}
		if len(m.Parts) > 0 {
			req.Messages = append(req.Messages, m)
		}
	}
	if gc := wr.GenerationConfig; gc != nil {
		if err := decodeGeneration(req, gc, wirejson.Join(prefix, "generationConfig")); err != nil {
			return nil, err
		}
	}
	var err error
	if req.Tools, err = decodeTools(wr.Tools, wirejson.Join(prefix, "tools")); err != nil {
		return nil, err
	}
	if tc := wr.ToolConfig; tc != nil {
		if err := decodeToolConfig(req, tc, wirejson.Join(prefix, "toolConfig")); err != nil {
			return nil, err
		}
	}
	d := partDecoder{scope: requestScope}
	p := wirejson.Join(prefix, "contents")
	contentsAt := at{name: p}
	for i := range wr.Contents {
		c := &wr.Contents[i]
		cAt := contentsAt.index(i)
		partsAt := cAt.key("parts")
		if len(c.Parts) == 0 {
			pp := partsAt.String()
			return nil, llm.InvalidParam(pp, "%s: at least one part is required", pp)
		}
		switch c.Role {
		case "model":
			parts, err := d.modelParts(nil, c.Parts, &partsAt, i)
			if err != nil {
				return nil, err
			}
			if len(parts) > 0 {
				req.Messages = append(req.Messages, llm.Message{Role: llm.RoleAssistant, Parts: parts})
			}
		case "user", "", "function":
			msgs, err := d.userParts(c.Parts, &partsAt, i)
			if err != nil {
				return nil, err
			}
			req.Messages = append(req.Messages, msgs...)
		default:
			rp := cAt.key("role")
			return nil, llm.InvalidParam(rp.String(), "%s: must be user or model, got %q", rp.String(), c.Role)
		}
	}
	if len(req.Messages) == 0 || req.Messages[len(req.Messages)-1].Role == llm.RoleSystem {
		return nil, llm.InvalidParam(p, "%s: the contents hold no text or data", p)
	}
	return req, nil
}

// decodeInstruction turns systemInstruction into a system message of its
// text parts.
func decodeInstruction(si *instruction, p string) (llm.Message, error) {
	m := llm.Message{Role: llm.RoleSystem}
	for j := range si.Parts {
		wp := &si.Parts[j]
		if !wp.Text.Set {
			pp := wirejson.Index(p+".parts", j)
			return m, llm.InvalidParam(pp, "%s: a system instruction holds only text parts", pp)
		}
		if wp.Text.S != "" {
			m.Parts = append(m.Parts, llm.TextPart(wp.Text.S))
		}
	}
	return m, nil
}

// decodeGeneration maps generationConfig. Members the model has no slot for
// are kept, as an object, in Extensions["generationConfig"].
func decodeGeneration(req *llm.Request, gc *generationConfig, p string) error {
	if t := gc.Temperature; t != nil && *t < 0 {
		return llm.InvalidParam(p+".temperature", "%s.temperature: must not be negative", p)
	}
	if tp := gc.TopP; tp != nil && (*tp < 0 || *tp > 1) {
		return llm.InvalidParam(p+".topP", "%s.topP: must be between 0 and 1", p)
	}
	if n := gc.CandidateCount; n != nil && (*n < 1 || *n > llm.MaxChoices) {
		return llm.InvalidParam(p+".candidateCount", "%s.candidateCount: must be between 1 and %d", p, llm.MaxChoices)
	}
	if m := gc.MaxOutputTokens; m != nil && *m < 1 {
		return llm.InvalidParam(p+".maxOutputTokens", "%s.maxOutputTokens: must be at least 1", p)
	}
	if k := gc.TopK; k != nil && (*k < 0 || *k > 1e9) {
		return llm.InvalidParam(p+".topK", "%s.topK: must be a positive integer", p)
	}
	if l := gc.Logprobs; l != nil && (*l < 0 || *l > 20) {
		return llm.InvalidParam(p+".logprobs", "%s.logprobs: must be between 0 and 20", p)
	}
	req.Temperature, req.TopP = gc.Temperature, gc.TopP
	req.PresencePenalty, req.FrequencyPenalty = gc.PresencePenalty, gc.FrequencyPenalty
	req.Seed, req.MaxTokens, req.Stop = gc.Seed, gc.MaxOutputTokens, gc.StopSequences
	req.TopLogprobs = gc.Logprobs
	if gc.TopK != nil {
		k := int(*gc.TopK)
		req.TopK = &k
	}
	if gc.CandidateCount != nil {
		req.N = *gc.CandidateCount
	}
	if gc.ResponseLogprobs != nil {
		req.Logprobs = *gc.ResponseLogprobs
	}
	rest := map[string]jsontext.Value{}
	switch mt := strings.ToLower(gc.ResponseMIMEType); mt {
	case "":
		if len(gc.ResponseSchema) > 0 || len(gc.ResponseJSONSchema) > 0 {
			return llm.InvalidParam(p+".responseMimeType", "%s.responseMimeType: a response schema needs responseMimeType application/json", p)
		}
	case "text/plain":
		req.ResponseFormat = &llm.ResponseFormat{Type: llm.FormatText}
	case "application/json":
		schema := gc.ResponseJSONSchema
		if len(schema) == 0 {
			schema = normalizeSchema(gc.ResponseSchema)
		}
		req.ResponseFormat = &llm.ResponseFormat{Type: llm.FormatJSONObject}
		if len(schema) > 0 && string(schema) != "null" {
			req.ResponseFormat = &llm.ResponseFormat{Type: llm.FormatJSONSchema, Schema: []byte(schema)}
		}
	default:
		// text/x.enum and other types: no canonical form; Gemini only.
		rest["responseMimeType"] = jsontext.Value(rawjson.AppendString(nil, gc.ResponseMIMEType))
		if len(gc.ResponseSchema) > 0 {
			rest["responseSchema"] = gc.ResponseSchema
		}
		if len(gc.ResponseJSONSchema) > 0 {
			rest["responseJsonSchema"] = gc.ResponseJSONSchema
		}
	}
	if tc := gc.ThinkingConfig; tc != nil {
		rc, err := decodeThinking(tc, p+".thinkingConfig")
		if err != nil {
			return err
		}
		req.Reasoning = rc
	}
	if len(gc.Unknown) > 0 || len(rest) > 0 {
		if len(gc.Unknown) > 0 {
			var unknown map[string]jsontext.Value
			if err := json.Unmarshal(gc.Unknown, &unknown); err == nil {
				for k, v := range unknown {
					rest[k] = v
				}
			}
		}
		if raw, err := json.Marshal(rest, json.Deterministic(true)); err == nil && len(rest) > 0 {
			req.Extensions = withExtension(req.Extensions, "generationConfig", raw)
		}
	}
	return nil
}

// decodeThinking maps thinkingConfig: a budget of 0 disables thinking, -1
// lets the model decide (adaptive), a positive budget enables it; the
// thinking level is the effort.
func decodeThinking(tc *thinkingConfig, p string) (*llm.ReasoningConfig, error) {
	rc := &llm.ReasoningConfig{}
	if tc.IncludeThoughts != nil {
		rc.IncludeThoughts = *tc.IncludeThoughts
	}
	if b := tc.ThinkingBudget; b != nil {
		switch {
		case *b == 0:
			rc.Mode = llm.ReasoningDisabled
		case *b == -1:
			rc.Mode = llm.ReasoningAdaptive
		case *b > 0:
			n := *b
			rc.Mode, rc.BudgetTokens = llm.ReasoningEnabled, &n
		default:
			return nil, llm.InvalidParam(p+".thinkingBudget", "%s.thinkingBudget: must be -1 (dynamic), 0 (off) or positive", p)
		}
	}
	switch lvl := strings.ToLower(tc.ThinkingLevel); lvl {
	case "", "thinking_level_unspecified":
	case "minimal", "low", "medium", "high":
		if tc.ThinkingBudget != nil {
			return nil, llm.InvalidParam(p+".thinkingLevel", "%s.thinkingLevel: cannot be combined with thinkingBudget", p)
		}
		rc.Effort = lvl
	default:
		return nil, llm.InvalidParam(p+".thinkingLevel", "%s.thinkingLevel: must be MINIMAL, LOW, MEDIUM or HIGH, got %q", p, tc.ThinkingLevel)
	}
	return rc, nil
}

// decodeTools maps tools[]: each function declaration becomes a function
// tool, each other member of an entry (googleSearch, codeExecution, …) a
// hosted tool whose Raw is {"<member>": value}.
func decodeTools(tools []tool, p string) ([]llm.Tool, error) {
	var out []llm.Tool
	for i := range tools {
		t := &tools[i]
		for j := range t.FunctionDeclarations {
			fd := &t.FunctionDeclarations[j]
			if fd.Name == "" {
				fp := wirejson.Index(wirejson.Index(p, i)+".functionDeclarations", j)
				return nil, llm.InvalidParam(fp+".name", "%s.name: required", fp)
			}
			lt := llm.Tool{Type: llm.ToolFunction, Name: fd.Name, Description: fd.Description,
				Extensions: wirejson.Extensions(fd.Unknown)}
			switch params := schemaOf(fd.ParametersJSONSchema); {
			case params != nil:
				lt.Parameters = []byte(params)
			case schemaOf(fd.Parameters) != nil:
				lt.Parameters = []byte(normalizeSchema(fd.Parameters))
			}
			out = append(out, lt)
		}
		if len(t.Unknown) == 0 {
			continue
		}
		ms, err := rawjson.Members(t.Unknown, nil)
		if err != nil {
			tp := wirejson.Index(p, i)
			return nil, llm.InvalidParam(tp, "%s: malformed tool", tp)
		}
		for _, m := range ms {
			name := string(m.Key)
			if name == "" || name == llm.ToolFunction || name == llm.ToolCustom {
				tp := wirejson.Index(p, i)
				return nil, llm.InvalidParam(tp, "%s: a tool is functionDeclarations or a named tool such as googleSearch", tp)
			}
			raw := append([]byte{'{'}, t.Unknown[m.Start:m.ValueEnd]...)
			out = append(out, llm.Tool{Type: name, Raw: append(raw, '}')})
		}
	}
	return out, nil
}

// schemaOf returns a schema value, or nil when it is absent or null.
func schemaOf(v jsontext.Value) jsontext.Value {
	if len(v) == 0 || string(v) == "null" {
		return nil
	}
	return v
}

// decodeToolConfig maps functionCallingConfig to a tool choice. A
// toolConfig the choice cannot express (mode VALIDATED, other members) is
// also kept whole in Extensions["toolConfig"], which a Gemini upstream
// receives instead.
func decodeToolConfig(req *llm.Request, tc *toolConfig, p string) error {
	keep := len(tc.Unknown) > 0
	if fc := tc.FunctionCallingConfig; fc != nil {
		names := fc.AllowedFunctionNames
		keep = keep || len(fc.Unknown) > 0
		switch mode := strings.ToUpper(fc.Mode); mode {
		case "", "MODE_UNSPECIFIED":
			if len(names) > 0 {
				req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceAuto, Allowed: names}
			}
		case "AUTO", "VALIDATED":
			req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceAuto, Allowed: names}
			keep = keep || mode == "VALIDATED"
		case "NONE":
			req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceNone}
		case "ANY":
			switch len(names) {
			case 0:
				req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceRequired}
			case 1:
				req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: names[0]}
			default:
				req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceRequired, Allowed: names}
			}
		default:
			mp := p + ".functionCallingConfig.mode"
			return llm.InvalidParam(mp, "%s: must be AUTO, ANY, NONE or VALIDATED, got %q", mp, fc.Mode)
		}
	}
	if keep {
		if raw, err := json.Marshal(tc); err == nil {
			req.Extensions = withExtension(req.Extensions, "toolConfig", raw)
		}
	}
	return nil
}
