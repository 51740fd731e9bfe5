package gemini

import (
	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/llm"
)

// usageOf decodes a raw usageMetadata object as json.Unmarshal into a
// usageMetadata and then decodeUsage would. The plain objects upstreams
// send are read by hand, at a fraction of the reflective decode's cost;
// anything else (escapes, repeated names, unexpected types) is left to
// json.Unmarshal, so that both always agree (FuzzUsageOf checks it).
func usageOf(v []byte) (llm.Usage, bool) {
	if u, ok := readUsage(v); ok {
		return u, true
	}
	var u usageMetadata
	if json.Unmarshal(v, &u) != nil {
		return llm.Usage{}, false
	}
	return decodeUsage(&u), true
}

// readUsage is usageOf's hand-written reader; false means "left to the
// decoder", not "invalid".
func readUsage(v []byte) (llm.Usage, bool) {
	var u usageMetadata
	if rawjson.Kind(v) != "object" || !rawjson.Plain(v) || !rawjson.Ints(v,
		rawjson.IntMember{Name: "promptTokenCount", Dst: &u.PromptTokenCount},
		rawjson.IntMember{Name: "candidatesTokenCount", Dst: &u.CandidatesTokenCount},
		rawjson.IntMember{Name: "thoughtsTokenCount", Dst: &u.ThoughtsTokenCount},
		rawjson.IntMember{Name: "cachedContentTokenCount", Dst: &u.CachedContentTokenCount},
		rawjson.IntMember{Name: "toolUsePromptTokenCount", Dst: &u.ToolUsePromptTokenCount},
		rawjson.IntMember{Name: "totalTokenCount", Dst: &u.TotalTokenCount}) {
		return llm.Usage{}, false
	}
	return decodeUsage(&u), true
}
