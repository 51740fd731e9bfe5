package responses

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
	return decodeUsage(&u), true
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
		u  usage
		id inputDetails
		od outputDetails
	)
	for i := range ms {
		val := ms[i].Value(v)
		ok := true
		switch string(ms[i].Key) {
		case "input_tokens":
			ok = rawjson.DecodeInt(val, &u.InputTokens)
		case "output_tokens":
			ok = rawjson.DecodeInt(val, &u.OutputTokens)
		case "total_tokens":
			ok = rawjson.DecodeInt(val, &u.TotalTokens)
		case "input_tokens_details":
			u.InputTokensDetails = nil
			if string(val) != "null" {
				u.InputTokensDetails = &id
				ok = rawjson.Ints(val, rawjson.IntMember{Name: "cached_tokens", Dst: &id.CachedTokens},
					rawjson.IntMember{Name: "cache_write_tokens", Dst: &id.CacheWriteTokens})
			}
		case "output_tokens_details":
			u.OutputTokensDetails = nil
			if string(val) != "null" {
				u.OutputTokensDetails = &od
				ok = rawjson.Ints(val, rawjson.IntMember{Name: "reasoning_tokens", Dst: &od.ReasoningTokens})
			}
		}
		if !ok {
			return llm.Usage{}, false
		}
	}
	return decodeUsage(&u), true
}
