package anthropic

import (
	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/llm"
)

// EncodeBoth builds the Messages body of req for model (a count_tokens body
// when count is set) and encodes it twice: with the hand-written encoder
// (fast, fastErr) and with json.Marshal (slow, slowErr). refused is
// encodeRequest's own refusal, before either runs.
func EncodeBoth(req *llm.Request, model string, count bool) (fast, slow []byte, fastErr, slowErr, refused error) {
	wr, err := encodeRequest(req, model, count)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	fast, fastErr = wr.appendJSON(nil)
	slow, slowErr = json.Marshal(wr)
	return fast, slow, fastErr, slowErr, nil
}
