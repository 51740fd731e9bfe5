package ollama_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// wireLine is what the tests read from a recorded line, independently of
// the package's own wire structs.
type wireLine struct {
	Message struct {
		Content   string `json:"content"`
		Thinking  string `json:"thinking"`
		ToolCalls []struct {
			Function struct {
				Name      string          `json:"name"`
				Arguments json.RawMessage `json:"arguments"`
			} `json:"function"`
		} `json:"tool_calls"`
	} `json:"message"`
	Done            bool   `json:"done"`
	DoneReason      string `json:"done_reason"`
	PromptEvalCount *int   `json:"prompt_eval_count"`
	EvalCount       *int   `json:"eval_count"`
}

func wireLines(t *testing.T, body []byte) []wireLine {
	t.Helper()
	var out []wireLine
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var l wireLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("fixture line %s: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

func (l *wireLine) usage() *llm.Usage {
	if l.PromptEvalCount == nil && l.EvalCount == nil {
		return nil
	}
	u := llm.Usage{}
	if l.PromptEvalCount != nil {
		u.InputTokens = *l.PromptEvalCount
	}
	if l.EvalCount != nil {
		u.OutputTokens = *l.EvalCount
	}
	return &u
}

// TestFixtureResponses checks every recorded 200 body against the numbers
// and text in the file.
func TestFixtureResponses(t *testing.T) {
	for _, file := range chatFixtures(t, false, true) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			body := testkit.ReadFile(t, file)
			want := wireLines(t, body)[0]
			resp, err := proto.DecodeResponse(body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Text() != want.Message.Content {
				t.Errorf("text = %q, want %q", resp.Text(), want.Message.Content)
			}
			if u := want.usage(); u == nil || resp.Usage != *u {
				t.Errorf("usage = %+v, want %+v", resp.Usage, u)
			}
			if got, ok := proto.TapResponse(body); !ok || got != resp.Usage {
				t.Errorf("TapResponse = %+v, %v, want %+v", got, ok, resp.Usage)
			}
			calls := resp.Choices[0].Message.ToolCalls()
			if len(calls) != len(want.Message.ToolCalls) {
				t.Fatalf("%d calls, want %d", len(calls), len(want.Message.ToolCalls))
			}
			for i, c := range calls {
				w := want.Message.ToolCalls[i].Function
				if c.Name != w.Name || !testkit.JSONEqual([]byte(c.Arguments), w.Arguments) || c.ID == "" {
					t.Errorf("call %d = %+v, want %s %s", i, c, w.Name, w.Arguments)
				}
			}
			wantFinish := llm.FinishStop
			if len(calls) > 0 {
				wantFinish = llm.FinishToolCalls // Ollama said "stop"
			}
			if resp.Choices[0].FinishReason != wantFinish || resp.Origin != "ollama" || resp.Created == 0 || resp.Model == "" {
				t.Errorf("finish %q origin %q created %d model %q", resp.Choices[0].FinishReason, resp.Origin, resp.Created, resp.Model)
			}
		})
	}
}

// TestFixtureStreams checks the text, thinking, calls and usage decoded
// from every recorded stream against the lines of the file, and that
// folding the events gives the same answer.
func TestFixtureStreams(t *testing.T) {
	for _, file := range chatFixtures(t, true, true) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			body := testkit.ReadFile(t, file)
			var text, thinking strings.Builder
			var names []string
			var usage *llm.Usage
			for _, l := range wireLines(t, body) {
				text.WriteString(l.Message.Content)
				thinking.WriteString(l.Message.Thinking)
				for _, c := range l.Message.ToolCalls {
					names = append(names, c.Function.Name)
				}
				if l.Done {
					usage = l.usage()
				}
			}
			resp, err := llm.Collect(proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(body))))
			if err != nil {
				t.Fatal(err)
			}
			msg := resp.Choices[0].Message
			var gotThinking strings.Builder
			for _, p := range msg.Parts {
				if p.Type == llm.PartReasoning {
					gotThinking.WriteString(p.Reasoning.Text)
				}
			}
			if msg.Text() != text.String() || gotThinking.String() != thinking.String() {
				t.Errorf("text %q thinking %q, want %q %q", msg.Text(), gotThinking.String(), text.String(), thinking.String())
			}
			var gotNames []string
			for _, c := range msg.ToolCalls() {
				gotNames = append(gotNames, c.Name)
			}
			if strings.Join(gotNames, ",") != strings.Join(names, ",") {
				t.Errorf("calls %v, want %v", gotNames, names)
			}
			if usage != nil && resp.Usage != *usage || usage == nil && !resp.Usage.IsZero() {
				t.Errorf("usage %+v, want %+v", resp.Usage, usage)
			}
		})
	}
}

func TestFixtureChatText(t *testing.T) {
	resp, err := llm.Collect(proto.NewStreamDecoder(io.NopCloser(bytes.NewReader(
		testkit.ReadFile(t, filepath.Join(fixtureDir, "chat-text.stream.body.ndjson"))))))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text() != "Cześć! W czym mogę Ci dzisiaj pomóc?" || resp.Model != "gemma4:26b" {
		t.Errorf("text %q model %q", resp.Text(), resp.Model)
	}
	if r := resp.Choices[0].Message.Parts[0]; r.Type != llm.PartReasoning || r.Reasoning.Text != `*   Input: "cześć` {
		t.Errorf("first part = %+v", r)
	}
}

func TestFixtureToolStream(t *testing.T) {
	evs, err := decodeStream(t, testkit.ReadFile(t, filepath.Join(fixtureDir, "chat-tool.stream.body.ndjson")))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, ev := range evs {
		lines = append(lines, formatEvent(ev))
	}
	want := []string{
		`start id="" model="llama3.2" created=1751919739`,
		`tool_call choice=0 index=0 id="call_llmux_bb9191bd99810e23" name="get_weather" args=""`,
		`tool_args choice=0 index=0 "{\"city\":\"Tokyo\"}"`,
		`usage input=169 output=15`,
		`finish choice=0 reason=tool_calls`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestFixtureErrors decodes every recorded error body.
func TestFixtureErrors(t *testing.T) {
	for _, file := range chatFixtures(t, false, false) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			body := testkit.ReadFile(t, file)
			var wire struct {
				Error string `json:"error"`
			}
			if err := json.Unmarshal(body, &wire); err != nil {
				t.Fatal(err)
			}
			e := proto.DecodeError(404, body)
			if e.Kind != llm.KindNotFound || e.Code != "model_not_found" || e.Message != wire.Error || e.Status != 404 || e.Origin != "ollama" {
				t.Errorf("DecodeError = %#v", e)
			}
			st, out := proto.EncodeError(e)
			if st != 404 || string(out) != string(body) {
				t.Errorf("EncodeError = %d %s, want 404 %s", st, out, body)
			}
		})
	}
}
