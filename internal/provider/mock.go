package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/llm"
)

// Mock is the built-in upstream: deterministic, free and always present, for
// first-run demos, tests and benchmarks. Its models:
//
//   - echo answers with the last user message (or, after a tool result, with
//     that result).
//   - error-NNN fails with HTTP status NNN, as an upstream would.
//   - any other name generates text of OutputTokens words, or, when the
//     request offers tools (and tool_choice allows), calls one: the forced
//     tool, or the first allowed; a model name containing "parallel" calls
//     each allowed tool, up to four. Arguments are built from each tool's JSON schema. JSON modes get
//     JSON that matches the schema.
//
// Latency delays the first token; TokensPerSecond paces the rest of a stream
// (and the total time of a non-streamed answer).
type Mock struct {
	id           string
	latency      time.Duration
	interval     time.Duration
	outputTokens int
}

// NewMock returns a mock provider; opts may be nil.
func NewMock(id string, opts *config.Mock) *Mock {
	m := &Mock{id: id, outputTokens: 16}
	if opts != nil {
		m.latency = opts.Latency.Std()
		if opts.TokensPerSecond > 0 {
			m.interval = time.Duration(float64(time.Second) / opts.TokensPerSecond)
		}
		if opts.OutputTokens > 0 {
			m.outputTokens = opts.OutputTokens
		}
	}
	return m
}

// ID returns the provider id.
func (m *Mock) ID() string { return m.id }

// Do answers after the configured latency and generation time.
func (m *Mock) Do(ctx context.Context, c *Call) (*llm.Response, error) {
	evs, err := m.plan(c)
	if err != nil {
		return nil, err
	}
	content := 0
	for _, ev := range evs {
		if isContent(ev.Type) {
			content++
		}
	}
	delay := m.latency
	if content > 1 {
		delay += time.Duration(content-1) * m.interval
	}
	if err := sleep(ctx, delay); err != nil {
		return nil, err
	}
	s := llm.NewSliceStream(evs)
	return llm.Collect(s)
}

// Stream returns the answer as paced events.
func (m *Mock) Stream(ctx context.Context, c *Call) (llm.Stream, error) {
	evs, err := m.plan(c)
	if err != nil {
		return nil, err
	}
	return &mockStream{ctx: ctx, events: evs, first: m.latency, interval: m.interval}, nil
}

// ListModels returns the mock's advertised models.
func (m *Mock) ListModels(context.Context) ([]llm.Model, error) {
	return []llm.Model{{ID: "echo", OwnedBy: m.id}, {ID: "chat", OwnedBy: m.id}}, nil
}

// Embed returns deterministic unit vectors derived from each input.
func (m *Mock) Embed(ctx context.Context, req *llm.EmbeddingRequest, model string) (*llm.EmbeddingResponse, error) {
	dims := 16
	if req.Dimensions != nil {
		dims = *req.Dimensions
	}
	if dims < 1 || dims > 4096 {
		return nil, llm.InvalidParam("dimensions", "dimensions: the mock supports 1 to 4096")
	}
	resp := &llm.EmbeddingResponse{Model: model}
	for _, in := range req.Inputs {
		text := in.Text
		if in.Tokens != nil {
			text = fmt.Sprint(in.Tokens)
		}
		seed := float64(hash(text) % 1000003)
		v := make([]float32, dims)
		var norm float64
		for i := range v {
			x := math.Sin(seed + float64(i)*1.618)
			v[i], norm = float32(x), norm+x*x
		}
		for i := range v {
			v[i] = float32(float64(v[i]) / math.Sqrt(norm))
		}
		resp.Vectors = append(resp.Vectors, v)
		resp.Usage.InputTokens += estimateTokens(text)
	}
	return resp, nil
}

// plan computes the whole answer as events.
func (m *Mock) plan(c *Call) ([]llm.Event, error) {
	req := c.Request
	if code, ok := strings.CutPrefix(c.Model, "error-"); ok {
		return nil, mockError(m.id, code)
	}
	input := 0
	for i := range req.Messages {
		input += estimateTokens(messageText(&req.Messages[i]))
	}
	evs := []llm.Event{{Type: llm.EventStart, ID: "mock-" + strconv.FormatUint(hash(req.LastUserText()+c.Model), 36),
		Model: c.Model, Created: time.Now().Unix()}}
	output := 0
	finish := llm.FinishStop
	lastIsResult := len(req.Messages) > 0 && req.Messages[len(req.Messages)-1].Role == llm.RoleTool
	switch {
	case c.Model == "echo":
		text := req.LastUserText()
		if lastIsResult {
			text = resultText(&req.Messages[len(req.Messages)-1])
		}
		for _, piece := range splitKeepingSpaces(text) {
			evs = append(evs, llm.Event{Type: llm.EventText, Text: piece})
		}
		output = estimateTokens(text)
	case len(req.Tools) > 0 && !lastIsResult && (req.ToolChoice == nil || req.ToolChoice.Mode != llm.ToolChoiceNone):
		tools, err := m.pickTools(req, c.Model)
		if err != nil {
			return nil, err
		}
		for i, t := range tools {
			args := exampleJSON(t.Parameters)
			id := "call_mock" + strconv.FormatUint(hash(req.LastUserText()+t.Name), 36) + strconv.Itoa(i)
			evs = append(evs, llm.Event{Type: llm.EventToolCall, ToolIndex: i, ID: id, Name: t.Name})
			half := len(args) / 2
			for half > 0 && !utf8.RuneStart(args[half]) {
				half-- // split between characters, never inside one
			}
			evs = append(evs, llm.Event{Type: llm.EventToolArgs, ToolIndex: i, Text: args[:half]},
				llm.Event{Type: llm.EventToolArgs, ToolIndex: i, Text: args[half:]})
			output += estimateTokens(args) + 2
		}
		finish = llm.FinishToolCalls
	default:
		n := m.outputTokens
		if req.MaxTokens != nil && *req.MaxTokens < n {
			n, finish = max(*req.MaxTokens, 0), llm.FinishLength
		}
		words := generate(req.LastUserText()+c.Model, n)
		structured := false // words are JSON pieces that keep their own spaces
		if rf := req.ResponseFormat; rf != nil && rf.Type != llm.FormatText {
			text := `{"answer":"` + strings.Join(words, " ") + `"}`
			if rf.Type == llm.FormatJSONSchema {
				text = exampleJSON(rf.Schema)
			}
			words, finish, structured = splitKeepingSpaces(text), llm.FinishStop, true
		}
		for i, w := range words {
			if i > 0 && !structured {
				w = " " + w
			}
			evs = append(evs, llm.Event{Type: llm.EventText, Text: w})
		}
		output = len(words)
	}
	evs = append(evs,
		llm.Event{Type: llm.EventFinish, FinishReason: finish},
		llm.Event{Type: llm.EventUsage, Usage: &llm.Usage{InputTokens: input, OutputTokens: output}})
	return evs, nil
}

func (m *Mock) pickTools(req *llm.Request, model string) ([]llm.Tool, error) {
	if tc := req.ToolChoice; tc != nil && tc.Mode == llm.ToolChoiceTool {
		for _, t := range req.Tools {
			if t.Name == tc.Name {
				return []llm.Tool{t}, nil
			}
		}
		return nil, llm.InvalidParam("tool_choice", "tool_choice names %q, which is not among the tools", tc.Name)
	}
	tools := req.Tools
	if tc := req.ToolChoice; tc != nil && len(tc.Allowed) > 0 {
		tools = nil
		for _, t := range req.Tools {
			if slices.Contains(tc.Allowed, t.Name) {
				tools = append(tools, t)
			}
		}
		if len(tools) == 0 {
			return nil, llm.InvalidParam("tool_choice", "tool_choice allows no tool among the tools")
		}
	}
	if strings.Contains(model, "parallel") {
		return tools[:min(len(tools), 4)], nil
	}
	return tools[:1], nil
}

// mockError fails the way an upstream answering status code would.
func mockError(id, code string) error {
	status, err := strconv.Atoi(code)
	if err != nil || status < 400 || status > 599 {
		return llm.InvalidParam("model", "mock error models are error-400 … error-599")
	}
	if status == 401 || status == 403 {
		return credentialsRefused(id, status)
	}
	e := &llm.Error{Kind: llm.KindForStatus(status), Status: status, Message: fmt.Sprintf("mock upstream error %d", status)}
	if status == 429 {
		e.RetryAfter = time.Second
	}
	return e
}

type mockStream struct {
	ctx      context.Context
	events   []llm.Event
	next     int
	first    time.Duration
	interval time.Duration
	started  bool
	timer    *time.Timer
}

func (s *mockStream) Next() (llm.Event, error) {
	if s.next >= len(s.events) {
		return llm.Event{}, io.EOF
	}
	ev := s.events[s.next]
	if isContent(ev.Type) {
		delay := s.interval
		if !s.started {
			delay, s.started = s.first, true
		}
		if err := s.wait(delay); err != nil {
			return llm.Event{}, err
		}
	}
	s.next++
	return ev, nil
}

func (s *mockStream) wait(d time.Duration) error {
	if d <= 0 {
		if err := s.ctx.Err(); err != nil {
			return llm.AsError(err)
		}
		return nil
	}
	if s.timer == nil {
		s.timer = time.NewTimer(d)
	} else {
		s.timer.Reset(d)
	}
	select {
	case <-s.timer.C:
		return nil
	case <-s.ctx.Done():
		return llm.AsError(s.ctx.Err())
	}
}

func (s *mockStream) Close() error {
	s.next = len(s.events)
	if s.timer != nil {
		s.timer.Stop()
	}
	return nil
}

func isContent(t llm.EventType) bool {
	switch t {
	case llm.EventText, llm.EventRefusal, llm.EventReasoning, llm.EventToolCall, llm.EventToolArgs:
		return true
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		if err := ctx.Err(); err != nil {
			return llm.AsError(err)
		}
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return llm.AsError(ctx.Err())
	}
}

var mockWords = strings.Fields(`the quick brown fox jumps over a lazy dog while gentle rain
falls on quiet hills and rivers carry light toward distant towns where people share bread
stories music and plans for tomorrow under clear evening skies full of stars`)

// generate returns n words chosen deterministically from seed.
func generate(seed string, n int) []string {
	h := hash(seed)
	out := make([]string, n)
	for i := range out {
		h = h*6364136223846793005 + 1442695040888963407
		out[i] = mockWords[(h>>33)%uint64(len(mockWords))]
	}
	return out
}

func hash(s string) uint64 {
	f := fnv.New64a()
	f.Write([]byte(s))
	return f.Sum64()
}

// splitKeepingSpaces cuts s after each run of spaces, so that the pieces
// concatenate back to s exactly.
func splitKeepingSpaces(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && (i+1 == len(s) || s[i+1] != ' ') {
			out = append(out, s[start:i+1])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// estimateTokens approximates a token count as one per four bytes.
func estimateTokens(s string) int { return (len(s) + 3) / 4 }

func messageText(m *llm.Message) string {
	var b strings.Builder
	for _, p := range m.Parts {
		switch p.Type {
		case llm.PartText, llm.PartRefusal:
			b.WriteString(p.Text)
		case llm.PartToolCall:
			b.WriteString(p.ToolCall.Name + p.ToolCall.Arguments)
		case llm.PartToolResult:
			b.WriteString(p.ToolResult.Text())
		case llm.PartReasoning:
			b.WriteString(p.Reasoning.Text)
		}
	}
	return b.String()
}

func resultText(m *llm.Message) string {
	var parts []string
	for _, p := range m.Parts {
		if p.Type == llm.PartToolResult {
			parts = append(parts, p.ToolResult.Text())
		}
	}
	return strings.Join(parts, "\n")
}

// exampleJSON returns a JSON value matching a JSON schema: the first enum
// value, or a typical value per type, recursing into object properties (in
// name order) and array items.
func exampleJSON(schema []byte) string {
	var s map[string]any
	if len(schema) == 0 || json.Unmarshal(schema, &s) != nil {
		return "{}"
	}
	b, err := json.Marshal(example(s, 0))
	if err != nil {
		return "{}"
	}
	return string(b)
}

func example(s map[string]any, depth int) any {
	if enum, ok := s["enum"].([]any); ok && len(enum) > 0 {
		return enum[0]
	}
	if c, ok := s["const"]; ok {
		return c
	}
	typ, _ := s["type"].(string)
	if list, ok := s["type"].([]any); ok && len(list) > 0 {
		typ, _ = list[0].(string)
	}
	props, hasProps := s["properties"].(map[string]any)
	if typ == "" && hasProps {
		typ = "object"
	}
	switch strings.ToLower(typ) {
	case "string":
		return "example"
	case "integer":
		return 1
	case "number":
		return 1.5
	case "boolean":
		return true
	case "null":
		return nil
	case "array":
		if items, ok := s["items"].(map[string]any); ok && depth < 8 {
			return []any{example(items, depth+1)}
		}
		return []any{}
	}
	out := map[string]any{}
	if depth >= 8 {
		return out
	}
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if ps, ok := props[k].(map[string]any); ok {
			out[k] = example(ps, depth+1)
		}
	}
	return out
}

var (
	_ Provider    = (*Mock)(nil)
	_ Embedder    = (*Mock)(nil)
	_ ModelLister = (*Mock)(nil)
)
