package anthropic

import (
	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/llm"
)

// usageOf decodes a raw usage object as json.Unmarshal into a usage and
// then decodeUsage would. The plain objects upstreams send are read by
// hand, at a fraction of the reflective decode's cost; anything else
// (escapes, repeated names, unexpected types) is left to json.Unmarshal,
// so that both always agree (FuzzUsageOf checks it).
func usageOf(v []byte) (llm.Usage, bool) {
	if u, ok := readUsage(v); ok {
		return u, true
	}
	var u usage
	if json.Unmarshal(v, &u) != nil {
		return llm.Usage{}, false
	}
	return decodeUsage(llm.Usage{}, &u), true
}

// readUsage is usageOf's hand-written reader; false means "left to the
// decoder", not "invalid".
func readUsage(v []byte) (llm.Usage, bool) {
	if rawjson.Kind(v) != "object" || !rawjson.Plain(v) {
		return llm.Usage{}, false
	}
	var buf [16]rawjson.Member
	ms, err := rawjson.Members(v, buf[:0])
	if err != nil {
		return llm.Usage{}, false
	}
	var (
		u                    usage
		in, write, read, out int
		od                   outputDetails
	)
	for i := range ms {
		val := ms[i].Value(v)
		ok := true
		switch string(ms[i].Key) {
		case "input_tokens":
			u.InputTokens, ok = optionalInt(val, &in)
		case "cache_creation_input_tokens":
			u.CacheCreationInputTokens, ok = optionalInt(val, &write)
		case "cache_read_input_tokens":
			u.CacheReadInputTokens, ok = optionalInt(val, &read)
		case "output_tokens":
			u.OutputTokens, ok = optionalInt(val, &out)
		case "output_tokens_details":
			u.OutputTokensDetails = nil
			if string(val) != "null" {
				u.OutputTokensDetails = &od
				ok = rawjson.Ints(val, rawjson.IntMember{Name: "thinking_tokens", Dst: &od.ThinkingTokens})
			}
		}
		if !ok {
			return llm.Usage{}, false
		}
	}
	return decodeUsage(llm.Usage{}, &u), true
}

// optionalInt reads a raw value for a *int member as the decoder does:
// null is nil, an integer is n holding it.
func optionalInt(v []byte, n *int) (*int, bool) {
	if string(v) == "null" {
		return nil, true
	}
	return n, rawjson.DecodeInt(v, n)
}
