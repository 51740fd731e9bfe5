package tokens

import (
	"strings"
	"testing"

	"github.com/llmux/llmux/llm"
)

// The reference counts are o200k_base's, as OpenAI's own tokenizer gives
// them: "hello world" is two tokens, and a run of one repeated word costs
// about one token per word.
func TestText(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"hello world", 2},
		{"Hello, world!", 4},
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
	long := strings.Repeat("dog ", 1000)
	if n := Text(long); n < 900 || n > 1100 {
		t.Errorf("1000 words counted as %d tokens", n)
	}
}

func TestRequestCountsEveryPart(t *testing.T) {
	base := &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "hello world"}}}}}
	if got, want := Request(base), perReply+perMessage+2; got != want {
		t.Fatalf("Request = %d, want %d", got, want)
	}
	more := *base
	more.Messages = append(append([]llm.Message(nil), base.Messages...),
		llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{Name: "get_weather", Arguments: `{"city":"Paris"}`}}}},
		llm.Message{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{Content: []llm.Part{{Type: llm.PartText, Text: "sunny"}}}}}},
		llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartImage, Media: &llm.Media{URL: "https://example.com/a.png"}}}})
	more.Tools = []llm.Tool{{Type: llm.ToolFunction, Name: "get_weather", Description: "Weather of a city", Parameters: []byte(`{"type":"object"}`)}}
	got := Request(&more)
	min := Request(base) + 3*perMessage + perImage + Text("get_weather")*2 + Text(`{"city":"Paris"}`) + Text("sunny")
	if got <= min {
		t.Fatalf("Request with calls, results, an image and a tool = %d, want more than %d", got, min)
	}
}

func BenchmarkText2KB(b *testing.B) {
	s := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 45)
	Text(s)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		Text(s)
	}
}

// TestQuickLeansHigh: on English prose and on code, the quick estimate is at
// least the tokenizer's count and not wildly above it; on images it charges
// the same flat cost.
func TestQuickLeansHigh(t *testing.T) {
	texts := []string{
		strings.Repeat("The quick brown fox jumps over the lazy dog. ", 40),
		strings.Repeat("func main() { fmt.Println(\"hello\", 42) }\n", 30),
		"Where is my order 48213? It was supposed to arrive on Monday.",
	}
	for _, s := range texts {
		req := &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: s}}}}}
		exact, quick := Request(req), Quick(req)
		if quick < exact || quick > 3*exact {
			t.Errorf("Quick = %d, Request = %d for %.30q…", quick, exact, s)
		}
	}
	img := &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartImage}}}}}
	if Quick(img) != Request(img) {
		t.Errorf("images: Quick %d, Request %d", Quick(img), Request(img))
	}
}

func BenchmarkEstimate(b *testing.B) {
	req := &llm.Request{Messages: []llm.Message{
		{Role: llm.RoleSystem, Parts: []llm.Part{{Type: llm.PartText, Text: strings.Repeat("You are a careful assistant for an online store. ", 8)}}},
		{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "Where is my order 48213? It was supposed to arrive on Monday and the tracking page has not changed."}}},
	}}
	Request(req) // load the vocabulary
	b.Run("tokenizer", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			Request(req)
		}
	})
	b.Run("quick", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			Quick(req)
		}
	})
}
