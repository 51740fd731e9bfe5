package openai

import (
	"strings"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// tapReflect is TapResponse as it was before usage got a hand-written
// reader: the reference the fast path must agree with.
func tapReflect(body []byte) (llm.Usage, bool) {
	v, found, err := rawjson.Find(body, "usage")
	if err != nil || !found || rawjson.Kind(v) != "object" {
		return llm.Usage{}, false
	}
	var u usage
	if json.Unmarshal(v, &u) != nil {
		return llm.Usage{}, false
	}
	return decodeUsage(&u), true
}

// usageSeeds are usage objects that upstreams send, and the ones on which
// a hand-written reader and the decoder could part ways.
var usageSeeds = []string{
	`{"prompt_tokens":412,"completion_tokens":100,"total_tokens":512,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},` +
		`"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`,
	`{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12,"prompt_cache_hit_tokens":8,"prompt_cache_miss_tokens":2}`,
	`{"prompt_tokens":10,"total_tokens":15}`,
	`{"prompt_tokens":10,"prompt_tokens_details":{"cached_tokens":4,"cache_write_tokens":3},"completion_tokens_details":{"reasoning_tokens":7}}`,
	`{"prompt_tokens":null,"prompt_tokens_details":null,"completion_tokens_details":null,"prompt_cache_hit_tokens":null}`,
	`{}`,
	`{"prompt_tokens":1.0}`,
	`{"prompt_tokens":1e2}`,
	`{"prompt_tokens":-0,"completion_tokens":-5}`,
	`{"prompt_tokens":9223372036854775807,"completion_tokens":-9223372036854775808}`,
	`{"prompt_tokens":9223372036854775808}`,
	`{"prompt_tokens":"10"}`,
	`{"prompt_tokens":true}`,
	`{"prompt_tokens":[1]}`,
	`{"prompt_tokens_details":[]}`,
	`{"prompt_tokens_details":5}`,
	`{"prompt_tokens_details":{"cached_tokens":"x"}}`,
	`{"prompt_tokens":1,"prompt_tokens":2}`,
	`{"x":1,"x":2,"prompt_tokens":3}`,
	`{"x":{"a":1,"a":2},"prompt_tokens":3}`,
	`{"x":[{"a":1,"a":2}],"prompt_tokens":3}`,
	`{"prompt_tokens_details":{"cached_tokens":1,"cached_tokens":2}}`,
	`{"prompt\u005ftokens":7}`,
	`{"x":"\ud800","prompt_tokens":3}`,
	"{\"x\":\"\xff\",\"prompt_tokens\":3}",
	"{\"\xff\":1,\"prompt_tokens\":3}",
	`{"Prompt_Tokens":7,"PROMPT_TOKENS":8}`,
	`{"prompt_tokens" : 7 , "x" : { "y" : [ 1 , "z" , null , true ] } }`,
	`{"promptTokens":7,"prompt-tokens":8}`,
}

// FuzzUsageOf: TapResponse reads the same usage as the reflective decode
// of the usage object, on any usage object.
func FuzzUsageOf(f *testing.F) {
	for _, s := range usageSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		body := append(append([]byte(`{"id":"x","usage":`), v...), '}')
		got, ok := Protocol{}.TapResponse(body)
		want, wantOK := tapReflect(body)
		if got != want || ok != wantOK {
			t.Fatalf("TapResponse(%s) = %+v, %v; the decoder says %+v, %v", body, got, ok, want, wantOK)
		}
	})
}

// TestReadUsageTakesCommonShapes: the usage objects upstreams send are
// read without the decoder; a change that sends them down the slow path
// would pass every other test.
func TestReadUsageTakesCommonShapes(t *testing.T) {
	for _, s := range usageSeeds[:6] {
		if _, ok := readUsage([]byte(s)); !ok {
			t.Errorf("readUsage(%s) left it to the decoder", s)
		}
	}
}

var benchResponse = []byte(`{"id":"chatcmpl-bench7fK2mQ9xV4","object":"chat.completion","created":1767225600,"model":"gpt-4o-mini-2024-07-18",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"` + strings.Repeat("Your order left the hub on Thursday. ", 20) +
	`","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":` + usageSeeds[0] +
	`,"service_tier":"default","system_fingerprint":"fp_bench01"}`)

// BenchmarkTapResponse compares TapResponse with its reflective reference
// on a typical 1 KB chat.completion.
func BenchmarkTapResponse(b *testing.B) {
	for _, bm := range []struct {
		name string
		tap  func([]byte) (llm.Usage, bool)
	}{{"reflect", tapReflect}, {"fast", Protocol{}.TapResponse}} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			defer testkit.ReportCPU(b)()
			for b.Loop() {
				if _, ok := bm.tap(benchResponse); !ok {
					b.Fatal("no usage")
				}
			}
		})
	}
}
