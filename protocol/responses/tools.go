package responses

import (
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// flatName is the canonical name of tool name in namespace ns.
func flatName(ns, name string) string {
	switch {
	case ns == "":
		return name
	case strings.HasSuffix(ns, "__"):
		return ns + name
	}
	return ns + "__" + name
}

// namespaceInfo is the Extensions[extNamespace] value of a tool declared
// inside a namespace.
type namespaceInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// decodeTools decodes the tools array. Namespaces are expanded into their
// tools; hosted tools keep their raw definition.
func decodeTools(raws []jsontext.Value) ([]llm.Tool, error) {
	var out []llm.Tool
	for i, raw := range raws {
		p := wirejson.Index("tools", i)
		var td toolDef
		if err := unmarshalAt(raw, &td, p); err != nil {
			return nil, err
		}
		switch td.Type {
		case "function", "custom":
			t, err := decodeTool(&td, raw, p)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		case "namespace":
			if td.Name == "" {
				return nil, llm.InvalidParam(p+".name", "%s.name: required", p)
			}
			ns := namespaceInfo{Name: td.Name}
			if td.Description != nil {
				ns.Description = *td.Description
			}
			nsRaw, _ := json.Marshal(ns)
			for j, nraw := range td.Tools {
				np := wirejson.Index(p+".tools", j)
				var nt toolDef
				if err := unmarshalAt(nraw, &nt, np); err != nil {
					return nil, err
				}
				if nt.Type != "function" && nt.Type != "custom" {
					return nil, llm.InvalidParam(np+".type", "%s.type: a namespace holds function and custom tools, got %q", np, nt.Type)
				}
				t, err := decodeTool(&nt, nraw, np)
				if err != nil {
					return nil, err
				}
				t.Name = flatName(td.Name, t.Name)
				if t.Extensions == nil {
					t.Extensions = llm.Extensions{}
				}
				t.Extensions[extNamespace] = nsRaw
				out = append(out, t)
			}
		case "":
			return nil, llm.InvalidParam(p+".type", "%s.type: required", p)
		default:
			out = append(out, llm.Tool{Type: td.Type, Name: td.Name, Raw: wirejson.Compact(raw)})
		}
	}
	return out, nil
}

// decodeTool decodes a function or custom tool definition.
func decodeTool(td *toolDef, raw jsontext.Value, p string) (llm.Tool, error) {
	if td.Name == "" {
		return llm.Tool{}, llm.InvalidParam(p+".name", "%s.name: required", p)
	}
	t := llm.Tool{Type: llm.ToolFunction, Name: td.Name, Extensions: wirejson.Extensions(td.Unknown)}
	if td.Description != nil {
		t.Description = *td.Description
	}
	if td.Type == "custom" {
		t.Type, t.Raw, t.Extensions = llm.ToolCustom, wirejson.Compact(raw), nil
		return t, nil
	}
	if s := string(td.Parameters); s != "" && s != "null" {
		t.Parameters = []byte(td.Parameters)
	}
	t.Strict = td.Strict
	return t, nil
}

// unmarshalAt decodes raw, a value found at path p, naming fields from p in
// errors.
func unmarshalAt(raw jsontext.Value, v any, p string) error {
	err := wirejson.Unmarshal(raw, v)
	if err == nil {
		return nil
	}
	e := llm.AsError(err)
	out := *e
	if out.Param == "" {
		out.Param, out.Message = p, p+": "+out.Message
	} else {
		full := wirejson.Join(p, out.Param)
		out.Message = full + strings.TrimPrefix(out.Message, out.Param)
		out.Param = full
	}
	return &out
}

// decodeToolChoice sets req.ToolChoice from tool_choice; a choice of hosted
// tools goes to Extensions.
func decodeToolChoice(raw jsontext.Value, req *llm.Request) error {
	switch rawKind(raw) {
	case "", "null":
		return nil
	case "string":
		var s string
		_ = json.Unmarshal(raw, &s)
		switch s {
		case "auto":
			req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceAuto}
		case "none":
			req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceNone}
		case "required":
			req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceRequired}
		default:
			return llm.InvalidParam("tool_choice", "tool_choice: must be none, auto, required or an object, got %q", s)
		}
		return nil
	case "object":
	default:
		return llm.InvalidParam("tool_choice", "tool_choice: expected a string or an object, got %s", rawKind(raw))
	}
	var o toolChoiceObject
	if err := unmarshalAt(raw, &o, "tool_choice"); err != nil {
		return err
	}
	switch o.Type {
	case "function", "custom":
		if o.Name == "" {
			return llm.InvalidParam("tool_choice.name", "tool_choice.name: required")
		}
		req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: o.Name}
	case "allowed_tools":
		tc := &llm.ToolChoice{Mode: llm.ToolChoiceAuto}
		switch o.Mode {
		case "auto", "":
		case "required":
			tc.Mode = llm.ToolChoiceRequired
		default:
			return llm.InvalidParam("tool_choice.mode", "tool_choice.mode: must be auto or required, got %q", o.Mode)
		}
		hosted := false
		for _, t := range o.Tools {
			if (t.Type == "function" || t.Type == "custom") && t.Name != "" {
				tc.Allowed = append(tc.Allowed, t.Name)
			} else {
				hosted = true
			}
		}
		req.ToolChoice = tc
		if hosted {
			setExt(req, extToolChoice, wirejson.Compact(raw))
		}
	case "":
		return llm.InvalidParam("tool_choice.type", "tool_choice.type: required")
	default:
		// A hosted tool: only a Responses upstream can honour it.
		setExt(req, extToolChoice, wirejson.Compact(raw))
	}
	return nil
}

// rawKind returns the JSON type of a raw value, "" when absent.
func rawKind(v []byte) string {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t' || v[0] == '\n' || v[0] == '\r') {
		v = v[1:]
	}
	if len(v) == 0 {
		return ""
	}
	switch v[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// toolIndex answers what a response or a history item needs to know about a
// canonical tool name: whether it is a custom tool, and the namespace it
// was declared in.
type toolIndex struct {
	tools []llm.Tool
	// namespaces says whether the tools' Extensions are this protocol's, so
	// that extNamespace means what this package put there.
	namespaces bool
}

// newToolIndex indexes the tools of req (nil for none).
func newToolIndex(req *llm.Request) toolIndex {
	if req == nil {
		return toolIndex{}
	}
	return toolIndex{tools: req.Tools, namespaces: req.Origin == ID}
}

// lookup returns the tool named name, or nil.
func (x toolIndex) lookup(name string) *llm.Tool {
	for i := range x.tools {
		if x.tools[i].Name == name {
			return &x.tools[i]
		}
	}
	return nil
}

// split returns the namespace and the name within it of a canonical tool
// name: ("", name) unless a tool of that name was declared in a namespace.
func (x toolIndex) split(name string) (ns, short string) {
	t := x.lookup(name)
	if t == nil || !x.namespaces {
		return "", name
	}
	info, ok := toolNamespace(t)
	if !ok {
		return "", name
	}
	prefix := flatName(info.Name, "")
	if short, ok := strings.CutPrefix(name, prefix); ok && short != "" {
		return info.Name, short
	}
	return "", name
}

// custom reports whether the tool named name is a custom tool.
func (x toolIndex) custom(name string) bool {
	t := x.lookup(name)
	return t != nil && t.Type == llm.ToolCustom
}

// toolNamespace returns the namespace a tool was declared in.
func toolNamespace(t *llm.Tool) (namespaceInfo, bool) {
	raw, ok := t.Extensions[extNamespace]
	if !ok {
		return namespaceInfo{}, false
	}
	var info namespaceInfo
	if json.Unmarshal(raw, &info) != nil || info.Name == "" {
		return namespaceInfo{}, false
	}
	return info, true
}

// toolFields are the members toolDef names.
var toolFields = map[string]bool{"type": true, "name": true, "description": true, "parameters": true,
	"strict": true, "format": true, "tools": true, extNamespace: true}

// encodeTools encodes the tools: function and custom tools flat, tools
// declared in a namespace regrouped into it, hosted tools only when ours.
func encodeTools(tools []llm.Tool, ext bool) ([]jsontext.Value, error) {
	var out []jsontext.Value
	type group struct {
		at   int // index in out
		def  toolDef
		info namespaceInfo
	}
	var groups []*group
	for i := range tools {
		t := &tools[i]
		name := t.Name
		var g *group
		if ext {
			if info, ok := toolNamespace(t); ok {
				for _, og := range groups {
					if og.info.Name == info.Name {
						g = og
					}
				}
				if g == nil {
					desc := info.Description
					g = &group{at: len(out), info: info, def: toolDef{Type: "namespace", Name: info.Name, Description: &desc}}
					groups = append(groups, g)
					out = append(out, nil)
				}
				if short, ok := strings.CutPrefix(name, flatName(info.Name, "")); ok && short != "" {
					name = short
				}
			}
		}
		var raw jsontext.Value
		switch t.Type {
		case llm.ToolFunction, "":
			raw = encodeFunctionTool(t, name, ext)
		case llm.ToolCustom:
			raw = encodeCustomTool(t, name, ext)
		default:
			if !ext || len(t.Raw) == 0 {
				continue // another protocol's hosted tool
			}
			raw = jsontext.Value(t.Raw)
		}
		if g != nil {
			g.def.Tools = append(g.def.Tools, raw)
			continue
		}
		out = append(out, raw)
	}
	for _, g := range groups {
		raw, err := json.Marshal(&g.def)
		if err != nil {
			return nil, llm.InvalidParam("tools", "tools: namespace %q cannot be encoded: %v", g.info.Name, err)
		}
		out[g.at] = raw
	}
	return out, nil
}

// emptySchema stands in for a tool without parameters: the API requires a
// schema.
var emptySchema = jsontext.Value(`{"type":"object","properties":{}}`)

func encodeFunctionTool(t *llm.Tool, name string, ext bool) jsontext.Value {
	td := toolDef{Type: "function", Name: name, Parameters: jsontext.Value(t.Parameters), Strict: t.Strict}
	if len(td.Parameters) == 0 {
		td.Parameters = emptySchema
	}
	if t.Description != "" {
		d := t.Description
		td.Description = &d
	}
	if ext {
		td.Unknown = unknownWithout(t.Extensions, toolFields)
	} else if td.Strict == nil {
		// The API's default is strict, which schemas written for other
		// protocols rarely satisfy.
		f := false
		td.Strict = &f
	}
	raw, err := json.Marshal(&td)
	if err != nil { // invalid parameters JSON: send what the API rejects clearly
		td.Parameters, td.Unknown = emptySchema, nil
		raw, _ = json.Marshal(&td)
	}
	return raw
}

func encodeCustomTool(t *llm.Tool, name string, ext bool) jsontext.Value {
	if ext && rawKind(t.Raw) == "object" {
		return jsontext.Value(t.Raw)
	}
	td := toolDef{Type: "custom", Name: name}
	if t.Description != "" {
		d := t.Description
		td.Description = &d
	}
	// Custom tools exist only in OpenAI's protocols: Chat Completions keeps
	// their format in Raw too, with a grammar nested one level deeper.
	if rawKind(t.Raw) == "object" {
		var f struct {
			Format jsontext.Value `json:"format"`
		}
		if json.Unmarshal(t.Raw, &f) == nil && rawKind(f.Format) == "object" {
			td.Format = flatGrammar(f.Format)
		}
	}
	raw, _ := json.Marshal(&td)
	return raw
}

// flatGrammar turns Chat Completions' {"type":"grammar","grammar":{…}}
// into the Responses form {"type":"grammar","syntax":…,"definition":…}.
func flatGrammar(format jsontext.Value) jsontext.Value {
	var m map[string]jsontext.Value
	if json.Unmarshal(format, &m) != nil || string(m["type"]) != `"grammar"` || rawKind(m["grammar"]) != "object" {
		return format
	}
	var g map[string]jsontext.Value
	if json.Unmarshal(m["grammar"], &g) != nil {
		return format
	}
	delete(m, "grammar")
	for k, v := range g {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	out, err := json.Marshal(m, json.Deterministic(true))
	if err != nil {
		return format
	}
	return out
}

func encodeToolChoice(req *llm.Request, idx toolIndex, ext bool) jsontext.Value {
	if raw, ok := req.Extensions[extToolChoice]; ext && ok && rawKind(raw) == "object" {
		return jsontext.Value(raw)
	}
	tc := req.ToolChoice
	if tc == nil {
		return nil
	}
	typeOf := func(name string) string {
		if idx.custom(name) {
			return "custom"
		}
		return "function"
	}
	var v any
	switch {
	case len(tc.Allowed) > 0:
		mode := "auto"
		if tc.Mode == llm.ToolChoiceRequired || tc.Mode == llm.ToolChoiceTool {
			mode = "required"
		}
		type ref struct {
			Type string `json:"type"`
			Name string `json:"name"`
		}
		refs := make([]ref, len(tc.Allowed))
		for i, n := range tc.Allowed {
			refs[i] = ref{Type: typeOf(n), Name: n}
		}
		v = map[string]any{"type": "allowed_tools", "mode": mode, "tools": refs}
	case tc.Mode == llm.ToolChoiceTool:
		v = map[string]string{"type": typeOf(tc.Name), "name": tc.Name}
	case tc.Mode == "":
		return nil
	default:
		v = string(tc.Mode)
	}
	raw, _ := json.Marshal(v, json.Deterministic(true))
	return raw
}
