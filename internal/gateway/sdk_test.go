package gateway

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"
)

const mockConfig = `
keys: [ test-key ]
providers:
  mock:
    type: mock
    mock: { output_tokens: 12 }
`

var weatherTool = openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
	Name:        "get_weather",
	Description: openai.String("Current weather in a city"),
	Parameters: shared.FunctionParameters{
		"type": "object",
		"properties": map[string]any{
			"city":  map[string]any{"type": "string"},
			"units": map[string]any{"type": "string", "enum": []string{"celsius", "fahrenheit"}},
			"days":  map[string]any{"type": "integer"},
		},
		"required": []string{"city"},
	},
})

// accumulate reads a whole SDK stream.
func accumulate(t *testing.T, client openai.Client, params openai.ChatCompletionNewParams) (openai.ChatCompletionAccumulator, int) {
	t.Helper()
	stream := client.Chat.Completions.NewStreaming(context.Background(), params)
	defer stream.Close()
	var acc openai.ChatCompletionAccumulator
	chunks := 0
	for stream.Next() {
		if !acc.AddChunk(stream.Current()) {
			t.Fatalf("the SDK rejected chunk %d", chunks)
		}
		chunks++
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	return acc, chunks
}

func TestSDKMockEcho(t *testing.T) {
	ts, _ := newGateway(t, mockConfig, "")
	client := sdk(ts, "test-key")
	resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "mock/echo",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("be brief"), openai.UserMessage("Hello, llmux!")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; got != "Hello, llmux!" {
		t.Fatalf("content = %q", got)
	}
	if resp.Choices[0].FinishReason != "stop" || resp.Usage.PromptTokens == 0 || resp.Usage.CompletionTokens == 0 {
		t.Fatalf("finish/usage = %q %+v", resp.Choices[0].FinishReason, resp.Usage)
	}
}

func TestSDKMockStream(t *testing.T) {
	ts, _ := newGateway(t, mockConfig, "")
	client := sdk(ts, "test-key")
	params := openai.ChatCompletionNewParams{
		Model:         "mock/chat",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("tell me something")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	acc, chunks := accumulate(t, client, params)
	text := acc.Choices[0].Message.Content
	if words := strings.Fields(text); len(words) != 12 || chunks < 12 {
		t.Fatalf("text %q in %d chunks, want 12 words, one per chunk", text, chunks)
	}
	if acc.Usage.CompletionTokens != 12 || acc.Choices[0].FinishReason != "stop" {
		t.Fatalf("usage/finish = %+v %q", acc.Usage, acc.Choices[0].FinishReason)
	}
	// The same request without streaming gives the same deterministic text.
	resp, err := client.Chat.Completions.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != text {
		t.Fatalf("non-streamed %q != streamed %q", resp.Choices[0].Message.Content, text)
	}
}

func TestSDKMockToolCall(t *testing.T) {
	ts, _ := newGateway(t, mockConfig, "")
	client := sdk(ts, "test-key")
	params := openai.ChatCompletionNewParams{
		Model:    "mock/assistant",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("weather in Paris?")},
		Tools:    []openai.ChatCompletionToolUnionParam{weatherTool},
	}
	check := func(name, args, finish string) {
		t.Helper()
		if name != "get_weather" || finish != "tool_calls" {
			t.Fatalf("call %q finish %q", name, finish)
		}
		var a struct {
			City  string `json:"city"`
			Units string `json:"units"`
			Days  int    `json:"days"`
		}
		if err := json.Unmarshal([]byte(args), &a); err != nil || a.City == "" || a.Units != "celsius" || a.Days != 1 {
			t.Fatalf("arguments %s do not match the schema (%v)", args, err)
		}
	}
	resp, err := client.Chat.Completions.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	tc := resp.Choices[0].Message.ToolCalls
	if len(tc) != 1 {
		t.Fatalf("tool calls = %d", len(tc))
	}
	check(tc[0].Function.Name, tc[0].Function.Arguments, resp.Choices[0].FinishReason)

	acc, _ := accumulate(t, client, params)
	stc := acc.Choices[0].Message.ToolCalls
	if len(stc) != 1 {
		t.Fatalf("streamed tool calls = %d", len(stc))
	}
	check(stc[0].Function.Name, stc[0].Function.Arguments, acc.Choices[0].FinishReason)
	if stc[0].ID != tc[0].ID {
		t.Errorf("streamed call id %q != %q: the mock must be deterministic", stc[0].ID, tc[0].ID)
	}

	// Send the result back: the conversation continues with text.
	params.Messages = append(params.Messages, resp.Choices[0].Message.ToParam(),
		openai.ToolMessage(`{"temp_c": 18}`, tc[0].ID))
	next, err := client.Chat.Completions.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	if next.Choices[0].Message.Content == "" || len(next.Choices[0].Message.ToolCalls) != 0 {
		t.Fatalf("after the tool result: %+v", next.Choices[0].Message)
	}
}

const openaiConfig = `
keys: [ test-key ]
providers:
  openai:
    type: openai
    base_url: ${UPSTREAM}/v1
    api_key: sk-upstream-secret-0123456789
    models: { fast: gpt-4o-mini }
`

// TestSDKRecordedOpenAI runs the SDK through llmux against an upstream that
// replays recorded real OpenAI answers: the SDK must parse every reply, and
// what it parsed must be what the recording says.
func TestSDKRecordedOpenAI(t *testing.T) {
	up := newUpstream(t)
	ts, _ := newGateway(t, openaiConfig, up.URL)
	client := sdk(ts, "test-key")
	ctx := context.Background()

	t.Run("text", func(t *testing.T) {
		var want struct {
			Choices []struct {
				Message struct{ Content string }
			}
			Usage struct{ PromptTokens, CompletionTokens int }
		}
		json.Unmarshal(fixture(t, "openai/chat-text.body.json"), &want)
		resp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "openai/fast", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
		})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Choices[0].Message.Content != want.Choices[0].Message.Content || resp.Usage.PromptTokens != 8 {
			t.Fatalf("got %q %+v, want %q", resp.Choices[0].Message.Content, resp.Usage, want.Choices[0].Message.Content)
		}
		if got := up.last(t); !strings.Contains(string(got.Body), `"model":"gpt-4o-mini"`) || got.Header.Get("Authorization") != "Bearer sk-upstream-secret-0123456789" {
			t.Fatalf("upstream got %s with auth %q", got.Body, got.Header.Get("Authorization"))
		}
	})

	t.Run("text stream", func(t *testing.T) {
		wantText, _, _ := streamText(t, fixture(t, "openai/chat-text.stream.body.sse"))
		acc, _ := accumulate(t, client, openai.ChatCompletionNewParams{
			Model: "fast", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
		})
		if acc.Choices[0].Message.Content != wantText {
			t.Fatalf("streamed text = %q, want %q", acc.Choices[0].Message.Content, wantText)
		}
	})

	t.Run("tool", func(t *testing.T) {
		resp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "openai.fast", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("capital of England?")},
			Tools: []openai.ChatCompletionToolUnionParam{weatherTool},
		})
		if err != nil {
			t.Fatal(err)
		}
		tc := resp.Choices[0].Message.ToolCalls
		if len(tc) != 1 || tc[0].Function.Name != "get_capital" || tc[0].Function.Arguments != `{"country":"England"}` ||
			tc[0].ID != "call_SkEQ3ZGSJC8m6AvaIGNuuKdm" || resp.Choices[0].FinishReason != "tool_calls" {
			t.Fatalf("tool calls = %+v finish %q", tc, resp.Choices[0].FinishReason)
		}
	})

	t.Run("tool stream", func(t *testing.T) {
		_, wantName, wantArgs := streamText(t, fixture(t, "openai/chat-tool.stream.body.sse"))
		acc, _ := accumulate(t, client, openai.ChatCompletionNewParams{
			Model: "openai/fast", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("capital?")},
			Tools: []openai.ChatCompletionToolUnionParam{weatherTool},
		})
		tc := acc.Choices[0].Message.ToolCalls
		if len(tc) != 1 || tc[0].Function.Name != wantName || tc[0].Function.Arguments != wantArgs || acc.Choices[0].FinishReason != "tool_calls" {
			t.Fatalf("tool calls = %+v, want %s(%s)", tc, wantName, wantArgs)
		}
	})
}
