package gemini_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// wireChunk is what the tests read from a recorded chunk, independently of
// the package's own wire structs.
type wireChunk struct {
	Candidates []struct {
		Content struct {
			Parts []struct {
				Text         *string         `json:"text"`
				Thought      bool            `json:"thought"`
				FunctionCall json.RawMessage `json:"functionCall"`
			} `json:"parts"`
		} `json:"content"`
		FinishReason string `json:"finishReason"`
	} `json:"candidates"`
	UsageMetadata *wireUsage `json:"usageMetadata"`
}

type wireUsage struct {
	PromptTokenCount        int `json:"promptTokenCount"`
	CandidatesTokenCount    int `json:"candidatesTokenCount"`
	ThoughtsTokenCount      int `json:"thoughtsTokenCount"`
	CachedContentTokenCount int `json:"cachedContentTokenCount"`
}

func (u *wireUsage) canonical() llm.Usage {
	return llm.Usage{InputTokens: u.PromptTokenCount, OutputTokens: u.CandidatesTokenCount + u.ThoughtsTokenCount,
		CachedTokens: u.CachedContentTokenCount, ReasoningTokens: u.ThoughtsTokenCount}
}

// wireChunks parses the data lines of a recorded stream.
func wireChunks(t testing.TB, body []byte) []wireChunk {
	t.Helper()
	var out []wireChunk
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(strings.TrimSuffix(sc.Text(), "\r"), "data: ")
		if !ok {
			continue
		}
		var c wireChunk
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatalf("fixture chunk %s: %v", data, err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// lastWireUsage returns the canonical form of the last usageMetadata in a
// stream, read independently of the package's decoder.
func lastWireUsage(t testing.TB, body []byte) *llm.Usage {
	t.Helper()
	var last *llm.Usage
	for _, c := range wireChunks(t, body) {
		if c.UsageMetadata != nil {
			u := c.UsageMetadata.canonical()
			last = &u
		}
	}
	return last
}

// TestStreamFixtures checks every recorded stream against the file read
// independently: the text is the concatenation of its non-thought text
// parts, there is one call per functionCall part, the usage is the last
// usageMetadata, and folding the events gives the same answer.
func TestStreamFixtures(t *testing.T) {
	for _, file := range fixtures(t, true, true) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			body := testkit.ReadFile(t, file)
			var text strings.Builder
			calls := 0
			for _, c := range wireChunks(t, body) {
				for _, cand := range c.Candidates {
					for _, p := range cand.Content.Parts {
						if p.Text != nil && !p.Thought {
							text.WriteString(*p.Text)
						}
						if p.FunctionCall != nil {
							calls++
						}
					}
				}
			}
			resp, err := llm.Collect(proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(body))))
			if err != nil {
				t.Fatalf("Collect: %v", err)
			}
			if resp.Text() != text.String() {
				t.Errorf("text = %q, want %q", resp.Text(), text.String())
			}
			if got := len(resp.Choices[0].Message.ToolCalls()); got != calls {
				t.Errorf("%d tool calls, want %d", got, calls)
			}
			if want := lastWireUsage(t, body); want == nil || resp.Usage != *want {
				t.Errorf("usage = %+v, want %+v", resp.Usage, want)
			}
			wantFinish := llm.FinishStop
			if calls > 0 {
				wantFinish = llm.FinishToolCalls
			}
			if resp.Choices[0].FinishReason != wantFinish {
				t.Errorf("finish = %q, want %q", resp.Choices[0].FinishReason, wantFinish)
			}
		})
	}
}

// TestThoughtSignatureFixture: the Gemini 3 call's signature survives the
// stream, a round trip through a non-Gemini client (the id marks the call
// as Gemini's), and is sent back on the functionCall part.
func TestThoughtSignatureFixture(t *testing.T) {
	body := testkit.ReadFile(t, filepath.Join(fixtureDir, "generate-tool-thought-signature.stream.body.sse"))
	resp, err := llm.Collect(proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(body))))
	if err != nil {
		t.Fatal(err)
	}
	calls := resp.Choices[0].Message.ToolCalls()
	if len(calls) != 1 || calls[0].Name != "get_country" || calls[0].Arguments != "{}" ||
		!strings.HasPrefix(calls[0].Signature, "EpwICpkIAXLI2nxl") || !strings.HasPrefix(calls[0].ID, "call_gemini_") {
		t.Fatalf("calls = %s", testkit.Dump(calls))
	}
	if resp.Usage.ReasoningTokens != 202 || resp.Usage.OutputTokens != 212 || resp.Usage.InputTokens != 29 {
		t.Errorf("usage = %+v", resp.Usage)
	}
	// An OpenAI client sends the call back (no signature field there, so
	// the canonical call keeps what the gateway's accumulator gave it).
	req := &llm.Request{Origin: "openai", Messages: []llm.Message{
		userMsg("Which country?"),
		resp.Choices[0].Message,
		{Role: llm.RoleTool, Parts: []llm.Part{result(calls[0].ID, "France")}},
	}}
	out, err := proto.EncodeRequest(req, "gemini-3-pro-preview")
	if err != nil {
		t.Fatal(err)
	}
	var wire struct {
		Contents []struct {
			Parts []map[string]json.RawMessage `json:"parts"`
		} `json:"contents"`
	}
	if err := json.Unmarshal(out, &wire); err != nil {
		t.Fatal(err)
	}
	fc := wire.Contents[1].Parts[0]
	var sig string
	_ = json.Unmarshal(fc["thoughtSignature"], &sig)
	if sig != calls[0].Signature {
		t.Errorf("signature sent back = %q", abbrev(sig))
	}
	if bytes.Contains(fc["functionCall"], []byte(`"id"`)) {
		t.Errorf("a made-up id went upstream: %s", fc["functionCall"])
	}
	if !bytes.Contains(out, []byte(`"functionResponse":{"name":"get_country","response":{"result":"France"}}`)) {
		t.Errorf("function response: %s", out)
	}
}

// TestStreamAndResponseIDsAgree: a call gets the same made-up id whether
// the answer was streamed or not.
func TestStreamAndResponseIDsAgree(t *testing.T) {
	stream := testkit.ReadFile(t, filepath.Join(fixtureDir, "generate-tool.stream.body.sse"))
	data := wireChunks(t, stream)
	if len(data) != 1 {
		t.Fatalf("%d chunks", len(data))
	}
	line, _ := strings.CutPrefix(strings.TrimSpace(string(stream)), "data: ")
	resp, err := proto.DecodeResponse([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	streamed, err := llm.Collect(proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(stream))))
	if err != nil {
		t.Fatal(err)
	}
	a, b := resp.Choices[0].Message.ToolCalls(), streamed.Choices[0].Message.ToolCalls()
	if len(a) != 1 || len(b) != 1 || a[0].ID != b[0].ID {
		t.Errorf("ids differ: %s vs %s", testkit.Dump(a), testkit.Dump(b))
	}
}

func TestResponseFixtures(t *testing.T) {
	t.Run("text", func(t *testing.T) {
		resp, err := proto.DecodeResponse(testkit.ReadFile(t, filepath.Join(fixtureDir, "generate-text.body.json")))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Text() != "The capital of France is **Paris**." || resp.ID != "mI37aJyZEsGtz7IPjumZ8AM" ||
			resp.Model != "gemini-2.5-flash-lite" || resp.Origin != "gemini" {
			t.Errorf("response = %s", testkit.Dump(resp))
		}
		if want := (llm.Usage{InputTokens: 8, OutputTokens: 8}); resp.Usage != want {
			t.Errorf("usage = %+v", resp.Usage)
		}
		if resp.Choices[0].FinishReason != llm.FinishStop {
			t.Errorf("finish = %q", resp.Choices[0].FinishReason)
		}
	})
	t.Run("tool", func(t *testing.T) {
		resp, err := proto.DecodeResponse(testkit.ReadFile(t, filepath.Join(fixtureDir, "generate-tool.body.json")))
		if err != nil {
			t.Fatal(err)
		}
		calls := resp.Choices[0].Message.ToolCalls()
		if len(calls) != 1 || calls[0].Name != "get_user_country" || calls[0].Arguments != "{}" || !strings.HasPrefix(calls[0].ID, "call_gemini_") {
			t.Errorf("calls = %s", testkit.Dump(calls))
		}
		if resp.Choices[0].FinishReason != llm.FinishToolCalls {
			t.Errorf("finish = %q (Gemini says STOP; calls make it tool_calls)", resp.Choices[0].FinishReason)
		}
		// avgLogprobs has no canonical slot: it stays with the message for a
		// Gemini client.
		if string(resp.Choices[0].Message.Extensions["avgLogprobs"]) != "5.670217797160149e-06" {
			t.Errorf("extensions = %s", testkit.Dump(resp.Choices[0].Message.Extensions))
		}
	})
}

func TestErrorFixtures(t *testing.T) {
	t.Run("400 API_KEY_INVALID is an auth error", func(t *testing.T) {
		e := proto.DecodeError(400, testkit.ReadFile(t, filepath.Join(fixtureDir, "error-400-api-key-invalid.body.json")))
		if e.Kind != llm.KindAuth || e.Code != "invalid_api_key" || e.HTTPStatus() != 400 ||
			e.Message != "API key not valid. Please pass a valid API key." || e.Type != "INVALID_ARGUMENT" || e.Origin != "gemini" {
			t.Errorf("error = %#v", e)
		}
	})
	t.Run("429 with RetryInfo", func(t *testing.T) {
		e := proto.DecodeError(429, testkit.ReadFile(t, filepath.Join(fixtureDir, "error-429-resource-exhausted.body.json")))
		if e.Kind != llm.KindRateLimited || e.RetryAfter != 34400*time.Millisecond || e.Type != "RESOURCE_EXHAUSTED" ||
			!strings.Contains(e.Message, "exceeded your current quota") {
			t.Errorf("error = %#v", e)
		}
	})
}
