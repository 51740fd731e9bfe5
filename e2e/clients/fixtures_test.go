//go:build unix

package clients

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureDir holds the recorded real provider answers.
const fixtureDir = "../../testdata/fixtures"

// Endpoints of the recorded answers, as the fixtures' meta files name them.
const (
	epChat      = "openai.chat"
	epResponses = "openai.responses"
	epMessages  = "anthropic.messages"
	epGemini    = "gemini.generateContent"
	epOllama    = "ollama.chat"
)

// fixture is one recorded answer that the fake upstreams replay.
type fixture struct {
	ID          string
	Endpoint    string
	Stream      bool
	Model       string // the model of the recorded request
	Status      int
	ContentType string
	Body        []byte
	// Text is the answer's text: what a client must print.
	Text string
}

type fixtureKey struct {
	endpoint string
	stream   bool
}

// fixtureSet holds the default text answer of every endpoint, streamed and
// not. Tool-call answers are left out on purpose: a replayed tool call
// would send the agents off running tools against a canned conversation.
type fixtureSet map[fixtureKey]*fixture

func (fs fixtureSet) get(endpoint string, stream bool) *fixture {
	return fs[fixtureKey{endpoint, stream}]
}

type fixtureMeta struct {
	ID       string `json:"id"`
	Endpoint string `json:"endpoint"`
	Select   struct {
		Stream      bool `json:"stream"`
		Tools       bool `json:"tools"`
		Default     bool `json:"default"`
		ByModelOnly bool `json:"by_model_only"`
	} `json:"select"`
	Request struct {
		Model string `json:"model"`
	} `json:"request"`
	Status   int               `json:"status"`
	Headers  map[string]string `json:"headers"`
	BodyFile string            `json:"body_file"`
}

// loadFixtures reads every default text answer under fixtureDir and
// extracts its text.
func loadFixtures(t testing.TB) fixtureSet {
	t.Helper()
	metas, err := filepath.Glob(filepath.Join(fixtureDir, "*", "*.meta.json"))
	if err != nil || len(metas) == 0 {
		t.Fatalf("no fixtures under %s: %v", fixtureDir, err)
	}
	fs := fixtureSet{}
	for _, path := range metas {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var m fixtureMeta
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if !m.Select.Default || m.Select.Tools || m.Select.ByModelOnly || m.Status != 200 {
			continue
		}
		extract := textExtractors[m.Endpoint]
		if extract == nil {
			continue
		}
		body, err := os.ReadFile(filepath.Join(filepath.Dir(path), m.BodyFile))
		if err != nil {
			t.Fatal(err)
		}
		text, err := extract(body, m.Select.Stream)
		if err != nil || strings.TrimSpace(text) == "" {
			t.Fatalf("%s: no answer text in %s: %v", path, m.BodyFile, err)
		}
		key := fixtureKey{m.Endpoint, m.Select.Stream}
		if old := fs[key]; old != nil {
			t.Fatalf("two default text fixtures for %v: %s and %s", key, old.ID, m.ID)
		}
		fs[key] = &fixture{ID: m.ID, Endpoint: m.Endpoint, Stream: m.Select.Stream, Model: m.Request.Model,
			Status: m.Status, ContentType: m.Headers["content-type"], Body: body, Text: text}
	}
	for ep := range textExtractors {
		for _, stream := range []bool{false, true} {
			if fs.get(ep, stream) == nil {
				t.Fatalf("no default text fixture for %s (stream=%v) under %s", ep, stream, fixtureDir)
			}
		}
	}
	return fs
}

// textExtractors pull the answer text out of a recorded body, per endpoint.
var textExtractors = map[string]func(body []byte, stream bool) (string, error){
	epChat:      chatText,
	epResponses: responsesText,
	epMessages:  messagesText,
	epGemini:    geminiText,
	epOllama:    ollamaText,
}

func chatText(body []byte, stream bool) (string, error) {
	type choice struct {
		Index   int `json:"index"`
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
	}
	var sb strings.Builder
	err := eachJSON(body, stream, func(raw []byte) error {
		var v struct{ Choices []choice }
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		for _, c := range v.Choices {
			if c.Index == 0 {
				sb.WriteString(c.Message.Content + c.Delta.Content)
			}
		}
		return nil
	})
	return sb.String(), err
}

func responsesText(body []byte, stream bool) (string, error) {
	var sb strings.Builder
	err := eachJSON(body, stream, func(raw []byte) error {
		var v struct {
			Type   string `json:"type"`
			Delta  string `json:"delta"`
			Output []struct {
				Type    string `json:"type"`
				Content []struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"content"`
			} `json:"output"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		if stream {
			if v.Type == "response.output_text.delta" {
				sb.WriteString(v.Delta)
			}
			return nil
		}
		for _, o := range v.Output {
			for _, c := range o.Content {
				if o.Type == "message" && c.Type == "output_text" {
					sb.WriteString(c.Text)
				}
			}
		}
		return nil
	})
	return sb.String(), err
}

func messagesText(body []byte, stream bool) (string, error) {
	var sb strings.Builder
	err := eachJSON(body, stream, func(raw []byte) error {
		var v struct {
			Type    string `json:"type"`
			Content []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
			Delta struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"delta"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		if v.Type == "content_block_delta" && v.Delta.Type == "text_delta" {
			sb.WriteString(v.Delta.Text)
		}
		for _, c := range v.Content {
			if c.Type == "text" {
				sb.WriteString(c.Text)
			}
		}
		return nil
	})
	return sb.String(), err
}

func geminiText(body []byte, stream bool) (string, error) {
	var sb strings.Builder
	err := eachJSON(body, stream, func(raw []byte) error {
		var v struct {
			Candidates []struct {
				Content struct {
					Parts []struct {
						Text    string `json:"text"`
						Thought bool   `json:"thought"`
					} `json:"parts"`
				} `json:"content"`
			} `json:"candidates"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		if len(v.Candidates) > 0 {
			for _, p := range v.Candidates[0].Content.Parts {
				if !p.Thought {
					sb.WriteString(p.Text)
				}
			}
		}
		return nil
	})
	return sb.String(), err
}

func ollamaText(body []byte, stream bool) (string, error) {
	var sb strings.Builder
	err := eachJSON(body, stream, func(raw []byte) error {
		var v struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		sb.WriteString(v.Message.Content)
		return nil
	})
	return sb.String(), err
}

// eachJSON calls fn with the JSON document of a non-streamed body, or with
// each event of a streamed one: the data of an SSE stream, the lines of
// NDJSON.
func eachJSON(body []byte, stream bool, fn func([]byte) error) error {
	if !stream {
		return fn(body)
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if d, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			line = bytes.TrimSpace(d)
		} else if len(line) == 0 || line[0] != '{' {
			continue // SSE event names, comments, blank lines
		}
		if len(line) == 0 || string(line) == "[DONE]" {
			continue
		}
		if err := fn(line); err != nil {
			return fmt.Errorf("%.80s: %w", line, err)
		}
	}
	return sc.Err()
}

// sseData returns the data of each SSE event (or NDJSON line) in body.
func sseData(body []byte) [][]byte {
	var out [][]byte
	_ = eachJSON(body, true, func(b []byte) error {
		out = append(out, b)
		return nil
	})
	return out
}
