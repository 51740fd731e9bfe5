package matrix

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	ollama "github.com/ollama/ollama/api"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"
	"google.golang.org/genai"

	"github.com/llmux/llmux/llm"
)

const (
	systemPrompt = "Answer in one short sentence."
	userPrompt   = "What is the weather in Paris?"
	toolName     = "get_weather"
	toolDesc     = "Current weather of a city"
)

func toolSchema() map[string]any {
	return map[string]any{
		"type":       "object",
		"properties": map[string]any{"city": map[string]any{"type": "string", "description": "City name"}},
		"required":   []any{"city"},
	}
}

// got is what a client SDK parsed from the gateway's answer.
type got struct {
	text     string
	toolName string
	toolArgs string
	finish   string
	in, out  int
}

// clientKind is one client protocol of the matrix, spoken by its official
// SDK.
type clientKind struct {
	name string
	run  func(t *testing.T, base, key, model string, c *matrixCase) got
	// finish is how this protocol says the canonical finish reason.
	finish func(f llm.FinishReason) string
	// usage is how this protocol reports the canonical usage.
	usage func(u llm.Usage) (in, out int)
}

var clients = []*clientKind{
	{name: "openai-chat", run: runChat,
		finish: func(f llm.FinishReason) string { return string(f) },
		usage:  func(u llm.Usage) (int, int) { return u.InputTokens, u.OutputTokens }},
	{name: "openai-responses", run: runResponses,
		finish: func(f llm.FinishReason) string {
			if f == llm.FinishLength || f == llm.FinishContentFilter {
				return "incomplete"
			}
			return "completed"
		},
		usage: func(u llm.Usage) (int, int) { return u.InputTokens, u.OutputTokens }},
	{name: "anthropic", run: runAnthropic,
		finish: func(f llm.FinishReason) string {
			switch f {
			case llm.FinishToolCalls:
				return "tool_use"
			case llm.FinishLength:
				return "max_tokens"
			}
			return "end_turn"
		},
		usage: func(u llm.Usage) (int, int) { return u.InputTokens, u.OutputTokens }},
	{name: "gemini", run: runGemini,
		finish: func(f llm.FinishReason) string {
			if f == llm.FinishLength {
				return "MAX_TOKENS"
			}
			return "STOP"
		},
		usage: func(u llm.Usage) (int, int) { return u.InputTokens, u.OutputTokens }},
	{name: "ollama", run: runOllama,
		finish: func(f llm.FinishReason) string {
			if f == llm.FinishLength {
				return "length"
			}
			return "stop"
		},
		usage: func(u llm.Usage) (int, int) { return u.InputTokens, u.OutputTokens }},
}

func runChat(t *testing.T, base, key, model string, c *matrixCase) got {
	client := openai.NewClient(option.WithBaseURL(base+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0))
	params := openai.ChatCompletionNewParams{
		Model:    model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(systemPrompt), openai.UserMessage(userPrompt)},
	}
	if c.tool {
		params.Tools = []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name: toolName, Description: openai.String(toolDesc), Parameters: shared.FunctionParameters(toolSchema())})}
	}
	var cc openai.ChatCompletion
	if c.stream {
		params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		s := client.Chat.Completions.NewStreaming(context.Background(), params)
		var acc openai.ChatCompletionAccumulator
		for s.Next() {
			acc.AddChunk(s.Current())
		}
		if err := s.Err(); err != nil {
			t.Fatalf("stream: %v", err)
		}
		cc = acc.ChatCompletion
	} else {
		resp, err := client.Chat.Completions.New(context.Background(), params)
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		cc = *resp
	}
	if len(cc.Choices) == 0 {
		t.Fatalf("no choices: %s", cc.RawJSON())
	}
	ch := cc.Choices[0]
	g := got{text: ch.Message.Content, finish: ch.FinishReason, in: int(cc.Usage.PromptTokens), out: int(cc.Usage.CompletionTokens)}
	if len(ch.Message.ToolCalls) > 0 {
		g.toolName, g.toolArgs = ch.Message.ToolCalls[0].Function.Name, ch.Message.ToolCalls[0].Function.Arguments
	}
	return g
}

func runResponses(t *testing.T, base, key, model string, c *matrixCase) got {
	client := openai.NewClient(option.WithBaseURL(base+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0))
	params := responses.ResponseNewParams{
		Model:        model,
		Instructions: openai.String(systemPrompt),
		Input:        responses.ResponseNewParamsInputUnion{OfString: openai.String(userPrompt)},
	}
	if c.tool {
		params.Tools = []responses.ToolUnionParam{{OfFunction: &responses.FunctionToolParam{
			Name: toolName, Description: openai.String(toolDesc), Parameters: toolSchema(), Strict: openai.Bool(false)}}}
	}
	var resp responses.Response
	if c.stream {
		s := client.Responses.NewStreaming(context.Background(), params)
		text := ""
		done := false
		for s.Next() {
			ev := s.Current()
			switch ev.Type {
			case "response.output_text.delta":
				text += ev.Delta
			case "response.completed", "response.incomplete":
				resp, done = ev.Response, true
			}
		}
		if err := s.Err(); err != nil {
			t.Fatalf("stream: %v", err)
		}
		if !done {
			t.Fatal("the stream had no response.completed event")
		}
		if text != resp.OutputText() {
			t.Errorf("streamed deltas %q differ from the completed response's text %q", text, resp.OutputText())
		}
	} else {
		r, err := client.Responses.New(context.Background(), params)
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		resp = *r
	}
	g := got{text: resp.OutputText(), finish: string(resp.Status), in: int(resp.Usage.InputTokens), out: int(resp.Usage.OutputTokens)}
	for _, it := range resp.Output {
		if it.Type == "function_call" && g.toolName == "" {
			fc := it.AsFunctionCall()
			g.toolName, g.toolArgs = fc.Name, fc.Arguments
		}
	}
	return g
}

func runAnthropic(t *testing.T, base, key, model string, c *matrixCase) got {
	client := anthropic.NewClient(aoption.WithBaseURL(base), aoption.WithAPIKey(key), aoption.WithMaxRetries(0))
	params := anthropic.MessageNewParams{
		Model:     anthropic.Model(model),
		MaxTokens: 1024,
		System:    []anthropic.TextBlockParam{{Text: systemPrompt}},
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(userPrompt))},
	}
	if c.tool {
		schema := toolSchema()
		params.Tools = []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{
			Name: toolName, Description: anthropic.String(toolDesc),
			InputSchema: anthropic.ToolInputSchemaParam{Properties: schema["properties"], Required: []string{"city"}}}}}
	}
	var msg anthropic.Message
	if c.stream {
		s := client.Messages.NewStreaming(context.Background(), params)
		for s.Next() {
			if err := msg.Accumulate(s.Current()); err != nil {
				t.Fatalf("accumulate: %v", err)
			}
		}
		if err := s.Err(); err != nil {
			t.Fatalf("stream: %v", err)
		}
	} else {
		m, err := client.Messages.New(context.Background(), params)
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		msg = *m
	}
	u := msg.Usage
	g := got{finish: string(msg.StopReason), in: int(u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens), out: int(u.OutputTokens)}
	for _, b := range msg.Content {
		switch b.Type {
		case "text":
			g.text += b.Text
		case "tool_use":
			if g.toolName == "" {
				g.toolName, g.toolArgs = b.Name, string(b.Input)
			}
		}
	}
	return g
}

func runGemini(t *testing.T, base, key, model string, c *matrixCase) got {
	ctx := context.Background()
	client, err := genai.NewClient(ctx, &genai.ClientConfig{APIKey: key, Backend: genai.BackendGeminiAPI,
		HTTPOptions: genai.HTTPOptions{BaseURL: base + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &genai.GenerateContentConfig{SystemInstruction: genai.NewContentFromText(systemPrompt, genai.RoleUser)}
	if c.tool {
		cfg.Tools = []*genai.Tool{{FunctionDeclarations: []*genai.FunctionDeclaration{{
			Name: toolName, Description: toolDesc, ParametersJsonSchema: toolSchema()}}}}
	}
	contents := genai.Text(userPrompt)
	var g got
	add := func(r *genai.GenerateContentResponse) {
		if len(r.Candidates) > 0 {
			cand := r.Candidates[0]
			if cand.Content != nil {
				for _, p := range cand.Content.Parts {
					if p.Text != "" && !p.Thought {
						g.text += p.Text
					}
					if p.FunctionCall != nil && g.toolName == "" {
						args, _ := json.Marshal(p.FunctionCall.Args)
						g.toolName, g.toolArgs = p.FunctionCall.Name, string(args)
					}
				}
			}
			if cand.FinishReason != "" {
				g.finish = string(cand.FinishReason)
			}
		}
		if u := r.UsageMetadata; u != nil {
			g.in, g.out = int(u.PromptTokenCount), int(u.CandidatesTokenCount+u.ThoughtsTokenCount)
		}
	}
	if c.stream {
		for r, err := range client.Models.GenerateContentStream(ctx, model, contents, cfg) {
			if err != nil {
				t.Fatalf("stream: %v", err)
			}
			add(r)
		}
	} else {
		r, err := client.Models.GenerateContent(ctx, model, contents, cfg)
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		add(r)
	}
	return g
}

func runOllama(t *testing.T, base, key, model string, c *matrixCase) got {
	u, _ := url.Parse(base + "/ollama/" + key)
	client := ollama.NewClient(u, http.DefaultClient)
	stream := c.stream
	req := &ollama.ChatRequest{
		Model:    model,
		Messages: []ollama.Message{{Role: "system", Content: systemPrompt}, {Role: "user", Content: userPrompt}},
		Stream:   &stream,
	}
	if c.tool {
		var tool ollama.Tool
		def, _ := json.Marshal(map[string]any{"type": "function", "function": map[string]any{
			"name": toolName, "description": toolDesc, "parameters": toolSchema()}})
		if err := json.Unmarshal(def, &tool); err != nil {
			t.Fatal(err)
		}
		req.Tools = ollama.Tools{tool}
	}
	var g got
	chunks := 0
	err := client.Chat(context.Background(), req, func(r ollama.ChatResponse) error {
		chunks++
		g.text += r.Message.Content
		for _, tc := range r.Message.ToolCalls {
			if g.toolName == "" {
				g.toolName, g.toolArgs = tc.Function.Name, tc.Function.Arguments.String()
			}
		}
		if r.Done {
			g.finish = r.DoneReason
			g.in, g.out = r.PromptEvalCount, r.EvalCount
		}
		return nil
	})
	if err != nil {
		t.Fatalf("chat: %v", err)
	}
	if !c.stream && chunks != 1 {
		t.Errorf("a non-streaming chat came in %d parts", chunks)
	}
	return g
}
