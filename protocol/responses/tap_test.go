package responses

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

// usageSeeds are usage objects that upstreams send (the first 4), and
// the ones on which a hand-written reader and the decoder could part ways.
var usageSeeds = []string{
	`{"input_tokens":412,"input_tokens_details":{"cached_tokens":0},"output_tokens":100,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":512}`,
	`{"input_tokens":10,"input_tokens_details":{"cached_tokens":4,"cache_write_tokens":2},"output_tokens":20,"output_tokens_details":{"reasoning_tokens":8},"total_tokens":30}`,
	`{"input_tokens":10,"total_tokens":25}`,
	`{"input_tokens":null,"input_tokens_details":null,"output_tokens":null,"output_tokens_details":null,"total_tokens":null}`,
	`{}`,
	`{"input_tokens":1.0}`,
	`{"input_tokens":1e2}`,
	`{"input_tokens":-0,"output_tokens":-5}`,
	`{"input_tokens":9223372036854775807,"output_tokens":-9223372036854775808}`,
	`{"input_tokens":9223372036854775808}`,
	`{"input_tokens":"10"}`,
	`{"input_tokens":true}`,
	`{"input_tokens":[1]}`,
	`{"input_tokens":1,"input_tokens":2}`,
	`{"x":1,"x":2,"input_tokens":3}`,
	`{"x":{"a":1,"a":2},"input_tokens":3}`,
	`{"x":[{"a":1,"a":2}],"input_tokens":3}`,
	`{"x":"\ud800","input_tokens":3}`,
	"{\"x\":\"\xff\",\"input_tokens\":3}",
	"{\"\xff\":1,\"input_tokens\":3}",
	`{"Input_Tokens":7}`,
	`{"input_tokens" : 7 , "x" : { "y" : [ 1 , "z" , null , true ] } }`,
	`{"input_tokens_details":[]}`,
	`{"input_tokens_details":5}`,
	`{"output_tokens_details":{"reasoning_tokens":1,"reasoning_tokens":2}}`,
	`{"input_tokens_details":{"cached_tokens":"x"}}`,
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
	for _, s := range usageSeeds[:4] {
		if _, ok := readUsage([]byte(s)); !ok {
			t.Errorf("the hand-written reader left %s to the decoder", s)
		}
	}
}

var benchResponse = []byte(`{"id":"resp_bench01","object":"response","created_at":1767225600,"status":"completed","model":"gpt-4.1","output":[{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"` + strings.Repeat("Your order left the hub on Thursday. ", 20) + `","annotations":[]}]}],"usage":` + usageSeeds[0] + `}`)

// BenchmarkTapResponse compares TapResponse with its reflective reference
// on a typical 1 KB answer.
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
