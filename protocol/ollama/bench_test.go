package ollama_test

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// The benchmarks share their payloads, so that the translated and the
// passthrough paths can be compared: benchRequest is a canonical request of
// the shape an OpenAI client sends (about 2 KB once encoded), benchBody its
// Ollama encoding, and benchStream a 100-line NDJSON answer.

func benchRequest() *llm.Request {
	params := []byte(`{"type":"object","properties":{"city":{"type":"string","description":"City name, e.g. Paris"},` +
		`"unit":{"type":"string","enum":["celsius","fahrenheit"]},"days":{"type":"integer","minimum":1,"maximum":14}},"required":["city"]}`)
	return &llm.Request{
		Model: "gpt-4.1-mini", Stream: true, StreamUsage: true, Origin: "openai",
		Messages: []llm.Message{
			textMsg(llm.RoleSystem, "You are a helpful travel assistant. Answer briefly, use metric units, and call tools when you need live data."),
			userMsg("I am planning a trip to Paris and Rome next week. What will the weather be like, and what should I pack?"),
			{Role: llm.RoleAssistant, Parts: []llm.Part{llm.TextPart("Let me check the forecasts."),
				call("call_9fJ2kLmN3pQ4rS5t", "get_forecast", `{"city":"Paris","unit":"celsius","days":7}`),
				call("call_Ab3Cd4Ef5Gh6Ij7K", "get_forecast", `{"city":"Rome","unit":"celsius","days":7}`)}},
			result("call_9fJ2kLmN3pQ4rS5t", "", `{"city":"Paris","days":[{"high":19,"low":11,"sky":"cloudy"},{"high":21,"low":12,"sky":"sun"},{"high":17,"low":10,"sky":"rain"}]}`),
			result("call_Ab3Cd4Ef5Gh6Ij7K", "", `{"city":"Rome","days":[{"high":26,"low":17,"sky":"sun"},{"high":27,"low":18,"sky":"sun"},{"high":25,"low":16,"sky":"clouds"}]}`),
			textMsg(llm.RoleAssistant, "Paris will be mild with some rain; Rome will be warm and sunny. Pack layers, a light rain jacket and sunglasses."),
			userMsg("Great. Can you also suggest three indoor activities in Paris for the rainy day?"),
		},
		Tools: []llm.Tool{
			{Type: llm.ToolFunction, Name: "get_forecast", Description: "Get the daily weather forecast for a city.", Parameters: params},
			{Type: llm.ToolFunction, Name: "search_places", Description: "Search for places of a kind in a city.",
				Parameters: []byte(`{"type":"object","properties":{"city":{"type":"string"},"kind":{"type":"string","description":"museum, cafe, park, ..."}},"required":["city","kind"]}`)},
		},
		ToolChoice:  &llm.ToolChoice{Mode: llm.ToolChoiceAuto},
		MaxTokens:   ptr(512),
		Temperature: ptr(0.4),
		TopP:        ptr(0.95),
		Stop:        []string{"\n\nUser:"},
		User:        "user-1234",
	}
}

func benchBody(b *testing.B) []byte {
	body, err := proto.EncodeRequest(benchRequest(), "llama3.1:8b")
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func benchStream() []byte {
	var s strings.Builder
	words := strings.Fields("Here are three indoor ideas for a rainy day in Paris: the Louvre, the Musée d'Orsay and a covered passage walk")
	for i := range 99 {
		s.WriteString(`{"model":"llama3.1:8b","created_at":"2026-08-20T10:00:00.` + strconv.Itoa(100000+i) + `Z","message":{"role":"assistant","content":"`)
		s.WriteString(words[i%len(words)] + " ")
		s.WriteString(`"},"done":false}` + "\n")
	}
	s.WriteString(`{"model":"llama3.1:8b","created_at":"2026-08-20T10:00:01Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop",` +
		`"total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":412,"prompt_eval_duration":342546000,"eval_count":99,"eval_duration":4535599000}` + "\n")
	return []byte(s.String())
}

func BenchmarkEncodeRequest(b *testing.B) {
	req := benchRequest()
	b.SetBytes(int64(len(benchBody(b))))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := proto.EncodeRequest(req, "llama3.1:8b"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeRequest(b *testing.B) {
	body := benchBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := proto.DecodeRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPassthroughPeekRewrite(b *testing.B) {
	body := benchBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	dst := make([]byte, 0, 2*len(body))
	for b.Loop() {
		p, err := proto.PeekRequest(body)
		if err != nil {
			b.Fatal(err)
		}
		if dst, err = proto.RewriteRequest(dst[:0], body, protocol.Rewrite{Model: "llama3.1:70b", Scan: p.Scan}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStreamDecode(b *testing.B) {
	body := benchStream()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	r := bytes.NewReader(body)
	for b.Loop() {
		r.Reset(body)
		s := proto.NewStreamDecoder(io.NopCloser(r))
		n := 0
		for {
			_, err := s.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 102 { // start, 99 texts, usage, finish
			b.Fatalf("%d events", n)
		}
	}
}

func BenchmarkStreamEncode(b *testing.B) {
	evs, err := decodeStream(b, benchStream())
	if err != nil {
		b.Fatal(err)
	}
	req := &llm.Request{Model: "gpt-4.1-mini", Stream: true}
	b.ReportAllocs()
	for b.Loop() {
		enc := proto.NewStreamEncoder(io.Discard, req)
		for _, ev := range evs {
			if err := enc.Encode(ev); err != nil {
				b.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRelay(b *testing.B) {
	body := benchStream()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	r := bytes.NewReader(body)
	flush := func() error { return nil }
	for b.Loop() {
		r.Reset(body)
		relay := proto.NewRelay(protocol.Peek{Model: "m", Stream: true})
		if err := relay.Copy(io.Discard, flush, r); err != nil {
			b.Fatal(err)
		}
		if _, ok := relay.Usage(); !ok {
			b.Fatal("no usage")
		}
	}
}
