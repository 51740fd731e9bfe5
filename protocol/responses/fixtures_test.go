package responses_test

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// wireUsage is what the tests read of a recorded usage object,
// independently of the package's own wire structs.
type wireUsage struct {
	InputTokens        int `json:"input_tokens"`
	OutputTokens       int `json:"output_tokens"`
	InputTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
}

func (u *wireUsage) canonical() llm.Usage {
	return llm.Usage{InputTokens: u.InputTokens, OutputTokens: u.OutputTokens,
		CachedTokens: u.InputTokensDetails.CachedTokens, ReasoningTokens: u.OutputTokensDetails.ReasoningTokens}
}

func TestFixtureResponses(t *testing.T) {
	t.Run("text", func(t *testing.T) {
		resp, err := proto.DecodeResponse(testkit.ReadFile(t, filepath.Join(fixtureDir, "responses-text.body.json")))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Text() != "The capital of France is Paris." || resp.Choices[0].FinishReason != llm.FinishStop {
			t.Errorf("text %q finish %q", resp.Text(), resp.Choices[0].FinishReason)
		}
		if resp.ID != "resp_68c2e8c147ac819491bcd667055eadbc02e845978fbbb592" || resp.Model != "gpt-4o-2024-08-06" ||
			resp.Created != 1757604033 || resp.ServiceTier != "default" || resp.Origin != "responses" {
			t.Errorf("response = %s", testkit.Dump(resp))
		}
	})
	t.Run("tool", func(t *testing.T) {
		resp, err := proto.DecodeResponse(testkit.ReadFile(t, filepath.Join(fixtureDir, "responses-tool.body.json")))
		if err != nil {
			t.Fatal(err)
		}
		checkToolCall(t, resp, "call_aTJhYjzmixZaVGqwl5gn2Ncr", "get_user_country", "{}")
	})
}

func checkToolCall(t *testing.T, resp *llm.Response, id, name, args string) {
	t.Helper()
	if len(resp.Choices) != 1 {
		t.Fatalf("%d choices, want 1", len(resp.Choices))
	}
	c := resp.Choices[0]
	if c.FinishReason != llm.FinishToolCalls {
		t.Errorf("finish = %q, want %q", c.FinishReason, llm.FinishToolCalls)
	}
	calls := c.Message.ToolCalls()
	if len(calls) != 1 {
		t.Fatalf("%d tool calls, want 1", len(calls))
	}
	if tc := calls[0]; tc.ID != id || tc.Name != name || tc.Arguments != args {
		t.Errorf("tool call = %+v, want id %q name %q arguments %s", tc, id, name, args)
	}
}

// TestFixtureUsage checks the usage read from every recorded 200 body and
// stream against the numbers in the file.
func TestFixtureUsage(t *testing.T) {
	for _, file := range fixtures(t, false, true) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			body := testkit.ReadFile(t, file)
			var wire struct{ Usage wireUsage }
			if err := json.Unmarshal(body, &wire); err != nil {
				t.Fatal(err)
			}
			want := wire.Usage.canonical()
			if want.InputTokens == 0 || want.OutputTokens == 0 {
				t.Fatalf("fixture has no usage: %+v", want)
			}
			resp, err := proto.DecodeResponse(body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Usage != want {
				t.Errorf("DecodeResponse usage = %+v, want %+v", resp.Usage, want)
			}
			if got, ok := proto.TapResponse(body); !ok || got != want {
				t.Errorf("TapResponse = %+v, %v, want %+v", got, ok, want)
			}
		})
	}
	for _, file := range fixtures(t, true, true) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			body := testkit.ReadFile(t, file)
			want := completedUsage(t, body)
			if want == nil {
				t.Fatal("fixture has no response.completed usage")
			}
			resp, err := llm.Collect(proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(body))))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Usage != *want {
				t.Errorf("stream usage = %+v, want %+v", resp.Usage, *want)
			}
		})
	}
}

// completedUsage reads the usage of the last response object in a stream,
// independently of the package's decoder.
func completedUsage(t *testing.T, body []byte) *llm.Usage {
	var last *llm.Usage
	for _, d := range sseData(t, body) {
		r, _ := d["response"].(map[string]any)
		if r == nil || r["usage"] == nil {
			continue
		}
		raw, _ := json.Marshal(r["usage"])
		var u wireUsage
		if json.Unmarshal(raw, &u) == nil {
			c := u.canonical()
			last = &c
		}
	}
	return last
}

// TestStreamFixtureText checks that the text decoded from every recorded
// stream is what the stream's output_text.done events say, and that folding
// the events gives the same answer.
func TestStreamFixtureText(t *testing.T) {
	for _, file := range fixtures(t, true, true) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			body := testkit.ReadFile(t, file)
			var want strings.Builder
			for _, d := range sseData(t, body) {
				if d["type"] == "response.output_text.done" {
					want.WriteString(d["text"].(string))
				}
			}
			evs, err := decodeStream(t, body)
			if err != nil {
				t.Fatalf("stream error: %v", err)
			}
			var got strings.Builder
			for _, ev := range evs {
				if ev.Type == llm.EventText {
					got.WriteString(ev.Text)
				}
			}
			if got.String() != want.String() {
				t.Errorf("text = %q\nwant   %q", got.String(), want.String())
			}
			resp, err := llm.Collect(proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(body))))
			if err != nil {
				t.Fatalf("Collect: %v", err)
			}
			if resp.Text() != want.String() {
				t.Errorf("collected text = %q\nwant %q", resp.Text(), want.String())
			}
		})
	}
}

func TestStreamFixtureTool(t *testing.T) {
	body := testkit.ReadFile(t, filepath.Join(fixtureDir, "responses-tool.stream.body.sse"))
	var args strings.Builder
	for _, d := range sseData(t, body) {
		if d["type"] == "response.function_call_arguments.delta" {
			args.WriteString(d["delta"].(string))
		}
	}
	if args.String() != `{"country":"France"}` {
		t.Fatalf("fixture arguments = %q", args.String())
	}
	resp, err := llm.Collect(proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(body))))
	if err != nil {
		t.Fatal(err)
	}
	checkToolCall(t, resp, "call_kL0PCQV7M2WMoVX8V8OtYSAL", "get_capital", args.String())
}

func TestFixtureError(t *testing.T) {
	for _, file := range fixtures(t, false, false) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			e := proto.DecodeError(400, testkit.ReadFile(t, file))
			if e.Kind != llm.KindInvalidRequest || e.HTTPStatus() != 400 || e.Param != "temperature" ||
				e.Code != "decimal_below_min_value" || e.Type != "invalid_request_error" || e.Origin != "responses" ||
				!strings.HasPrefix(e.Message, "Invalid 'temperature'") {
				t.Errorf("DecodeError = %#v", e)
			}
			status, out := proto.EncodeError(e)
			if status != 400 || !testkit.JSONEqual(out, testkit.ReadFile(t, file)) {
				t.Errorf("EncodeError = %d %s, want the upstream's body again", status, out)
			}
		})
	}
}
