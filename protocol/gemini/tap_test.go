package gemini

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
	v, found, err := rawjson.Find(body, "usageMetadata")
	if err != nil || !found || rawjson.Kind(v) != "object" {
		return llm.Usage{}, false
	}
	var u usageMetadata
	if json.Unmarshal(v, &u) != nil {
		return llm.Usage{}, false
	}
	return decodeUsage(&u), true
}

// usageSeeds are usage objects that upstreams send (the first 4), and
// the ones on which a hand-written reader and the decoder could part ways.
var usageSeeds = []string{
	`{"promptTokenCount":412,"candidatesTokenCount":100,"totalTokenCount":512,"promptTokensDetails":[{"modality":"TEXT","tokenCount":412}]}`,
	`{"promptTokenCount":10,"candidatesTokenCount":5,"thoughtsTokenCount":7,"cachedContentTokenCount":4,"toolUsePromptTokenCount":2,"totalTokenCount":24,"cacheTokensDetails":[{"modality":"TEXT","tokenCount":4}],"trafficType":"ON_DEMAND"}`,
	`{"promptTokenCount":10}`,
	`{"promptTokenCount":null,"candidatesTokenCount":null,"thoughtsTokenCount":null,"totalTokenCount":null}`,
	`{}`,
	`{"promptTokenCount":1.0}`,
	`{"promptTokenCount":1e2}`,
	`{"promptTokenCount":-0,"candidatesTokenCount":-5}`,
	`{"promptTokenCount":9223372036854775807,"candidatesTokenCount":-9223372036854775808}`,
	`{"promptTokenCount":9223372036854775808}`,
	`{"promptTokenCount":"10"}`,
	`{"promptTokenCount":true}`,
	`{"promptTokenCount":[1]}`,
	`{"promptTokenCount":1,"promptTokenCount":2}`,
	`{"x":1,"x":2,"promptTokenCount":3}`,
	`{"x":{"a":1,"a":2},"promptTokenCount":3}`,
	`{"x":[{"a":1,"a":2}],"promptTokenCount":3}`,
	`{"x":"\ud800","promptTokenCount":3}`,
	"{\"x\":\"\xff\",\"promptTokenCount\":3}",
	"{\"\xff\":1,\"promptTokenCount\":3}",
	`{"PromptTokenCount":7}`,
	`{"promptTokenCount" : 7 , "x" : { "y" : [ 1 , "z" , null , true ] } }`,
}

// FuzzUsageOf: TapResponse reads the same usage as the reflective decode
// of the usage object, on any usage object.
func FuzzUsageOf(f *testing.F) {
	for _, s := range usageSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		body := append(append([]byte(`{"id":"x","usageMetadata":`), v...), '}')
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

var benchResponse = []byte(`{"candidates":[{"content":{"role":"model","parts":[{"text":"` + strings.Repeat("Your order left the hub on Thursday. ", 20) + `"}]},"finishReason":"STOP","index":0}],"usageMetadata":` + usageSeeds[0] + `,"modelVersion":"gemini-2.5-flash","responseId":"bench01"}`)

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
