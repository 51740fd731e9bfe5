package anthropic

import (
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// encodeTools encodes function tools, re-sends Anthropic server tools to an
// Anthropic upstream, and drops other protocols' hosted tools. A choice
// restricted to some tools (OpenAI allowed_tools) sends only those.
func encodeTools(req *llm.Request, ext bool) ([]tool, error) {
	if len(req.Tools) == 0 {
		return nil, nil
	}
	var allowed map[string]bool
	if tc := req.ToolChoice; tc != nil && len(tc.Allowed) > 0 {
		allowed = make(map[string]bool, len(tc.Allowed))
		for _, n := range tc.Allowed {
			allowed[n] = true
		}
	}
	out := make([]tool, 0, len(req.Tools)+1)
	for i := range req.Tools {
		t := &req.Tools[i]
		p := func() string { return wirejson.Index("tools", i) } // for errors only
		if allowed != nil && !allowed[t.Name] {
			continue
		}
		if t.Name == JSONToolName {
			return nil, llm.InvalidParam(p()+".name", "%s.name: %q is reserved by the gateway", p(), JSONToolName)
		}
		switch t.Type {
		case llm.ToolFunction, "":
			schema := jsontext.Value(t.Parameters)
			if len(schema) == 0 {
				schema = jsontext.Value(`{"type":"object","properties":{}}`)
			}
			wt := tool{Name: t.Name, Description: t.Description, InputSchema: schema,
				CacheControl: encodeCache(t.CacheControl)}
			if ext {
				wt.Strict, wt.Unknown = t.Strict, wirejson.Unknown(t.Extensions)
			}
			out = append(out, wt)
		case llm.ToolCustom:
			return nil, llm.InvalidParam(p()+".type", "%s.type: custom (free-form) tools cannot be sent to an Anthropic upstream", p())
		default:
			if !ext || len(t.Raw) == 0 {
				continue // another protocol's hosted tool: no equivalent here
			}
			var wt tool
			if err := json.Unmarshal(t.Raw, &wt); err != nil {
				return nil, llm.InvalidParam(p(), "%s: invalid server tool definition", p())
			}
			out = append(out, wt)
		}
	}
	return out, nil
}

func encodeToolChoice(req *llm.Request, tools bool) *toolChoice {
	if !tools {
		return nil
	}
	var tc *toolChoice
	if c := req.ToolChoice; c != nil {
		switch c.Mode {
		case llm.ToolChoiceAuto:
			tc = &toolChoice{Type: "auto"}
		case llm.ToolChoiceNone:
			return &toolChoice{Type: "none"}
		case llm.ToolChoiceRequired:
			tc = &toolChoice{Type: "any"}
		case llm.ToolChoiceTool:
			tc = &toolChoice{Type: "tool", Name: c.Name}
		}
	}
	if p := req.ParallelToolCalls; p != nil && !*p {
		if tc == nil {
			tc = &toolChoice{Type: "auto"}
		}
		t := true
		tc.DisableParallelToolUse = &t
	}
	return tc
}

func forcesTool(tc *toolChoice) bool {
	return tc != nil && (tc.Type == "any" || tc.Type == "tool")
}

// encodeReasoning returns the thinking config and output_config.effort for
// a reasoning config.
func encodeReasoning(rc *llm.ReasoningConfig, ext bool) (*thinking, string) {
	if rc == nil {
		return nil, ""
	}
	if ext {
		var th *thinking
		switch rc.Mode {
		case llm.ReasoningEnabled:
			b := minBudget
			if rc.BudgetTokens != nil {
				b = max(*rc.BudgetTokens, minBudget)
			}
			th = &thinking{Type: "enabled", BudgetTokens: &b, Display: rc.Display}
		case llm.ReasoningAdaptive:
			th = &thinking{Type: "adaptive", Display: rc.Display}
		case llm.ReasoningDisabled:
			th = &thinking{Type: "disabled"}
		}
		return th, rc.Effort
	}
	mode := rc.Mode
	if mode == "" && (rc.Effort != "" || rc.BudgetTokens != nil) {
		mode = llm.ReasoningEnabled
	}
	budget := EffortBudget("medium")
	switch {
	case rc.Effort == "none":
		mode = llm.ReasoningDisabled
	case rc.BudgetTokens != nil && *rc.BudgetTokens == 0:
		mode = llm.ReasoningDisabled
	case rc.BudgetTokens != nil && *rc.BudgetTokens > 0:
		budget = max(*rc.BudgetTokens, minBudget)
	case rc.Effort != "" && EffortBudget(rc.Effort) > 0:
		budget = EffortBudget(rc.Effort)
	}
	switch mode {
	case llm.ReasoningDisabled:
		return &thinking{Type: "disabled"}, ""
	case llm.ReasoningEnabled, llm.ReasoningAdaptive:
		return &thinking{Type: "enabled", BudgetTokens: &budget, Display: rc.Display}, ""
	}
	return nil, ""
}

// encodeResponseFormat asks for JSON output: an Anthropic client's
// output_config.format as such, otherwise the forced JSONToolName tool, or
// output_config.format when thinking forbids forcing a tool.
func encodeResponseFormat(wr *messagesRequest, req *llm.Request, ext, thinkingOn bool) error {
	rf := req.ResponseFormat
	if rf == nil || rf.Type == llm.FormatText || rf.Type == "" {
		return nil
	}
	schema := jsontext.Value(rf.Schema)
	switch rf.Type {
	case llm.FormatJSONSchema:
		if len(schema) == 0 {
			return llm.InvalidParam("response_format.json_schema.schema", "response_format.json_schema.schema: required for Anthropic upstreams")
		}
		if ext || thinkingOn {
			if wr.OutputConfig == nil {
				wr.OutputConfig = &outputConfig{}
			}
			wr.OutputConfig.Format = &outputFormat{Type: "json_schema", Schema: schema}
			return nil
		}
		if typ, found, err := rawjson.Find(schema, "type"); err != nil || found && string(typ) != `"object"` {
			return llm.InvalidParam("response_format.json_schema.schema",
				"response_format.json_schema.schema: Anthropic upstreams need an object at the root of the schema")
		}
	case llm.FormatJSONObject:
		if thinkingOn {
			return llm.InvalidParam("response_format", "response_format: JSON mode cannot be combined with thinking for Anthropic upstreams; use a json_schema")
		}
		schema = jsontext.Value(`{"type":"object"}`)
	default:
		return llm.InvalidParam("response_format.type", "response_format.type: %q is not supported by Anthropic upstreams", rf.Type)
	}
	desc := rf.Description
	if desc == "" {
		desc = "Give your answer by calling this tool: its input is the answer, as a JSON object."
	}
	clientTools := len(wr.Tools) > 0
	wr.Tools = append(wr.Tools, tool{Name: JSONToolName, Description: desc, InputSchema: schema})
	tc := wr.ToolChoice
	switch {
	case tc != nil && tc.Type == "tool":
		// The client forces one of its own tools: the answer is that call.
	case clientTools && (tc == nil || tc.Type != "none"):
		// Either a call of a client tool or the answer through ours.
		wr.ToolChoice = &toolChoice{Type: "any"}
		if tc != nil {
			wr.ToolChoice.DisableParallelToolUse = tc.DisableParallelToolUse
		}
	default:
		wr.ToolChoice = &toolChoice{Type: "tool", Name: JSONToolName}
	}
	return nil
}
