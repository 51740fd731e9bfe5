package anthropic

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
	return decodeUsage(llm.Usage{}, &u), true
}

// usageSeeds are usage objects that upstreams send (the first 5), and
// the ones on which a hand-written reader and the decoder could part ways.
var usageSeeds = []string{
	`{"input_tokens":412,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":100,"service_tier":"standard"}`,
	`{"input_tokens":12,"cache_creation_input_tokens":100,"cache_read_input_tokens":300,"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":0},"output_tokens":50,"server_tool_use":{"web_search_requests":1},"service_tier":"standard"}`,
	`{"output_tokens":7}`,
	`{"input_tokens":null,"cache_creation_input_tokens":null,"cache_read_input_tokens":null,"output_tokens":null,"output_tokens_details":null}`,
	`{"input_tokens":3,"output_tokens":9,"output_tokens_details":{"thinking_tokens":6}}`,
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
	`{"output_tokens_details":[]}`,
	`{"output_tokens_details":{"thinking_tokens":1,"thinking_tokens":2}}`,
	`{"output_tokens_details":{"thinking_tokens":"1"}}`,
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
	for _, s := range usageSeeds[:5] {
		if _, ok := readUsage([]byte(s)); !ok {
			t.Errorf("the hand-written reader left %s to the decoder", s)
		}
	}
}

var benchResponse = []byte(`{"id":"msg_bench01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"` + strings.Repeat("Your order left the hub on Thursday. ", 20) + `"}],"stop_reason":"end_turn","stop_sequence":null,"usage":` + usageSeeds[0] + `}`)

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
