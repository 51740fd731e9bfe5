package openai_test

import (
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// TestRoundTrip decodes a request, encodes it for an OpenAI upstream and
// decodes the result again: the canonical request must survive, apart from
// the normalisations EncodeRequest documents (see encodeNormalized).
func TestRoundTrip(t *testing.T) {
	bodies := map[string]string{}
	for name, body := range requestCorpus(t) {
		bodies["corpus/"+name] = string(body)
	}
	for _, tt := range decodeRequestTests {
		bodies["table/"+tt.name] = tt.body
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			first, err := proto.DecodeRequest([]byte(body))
			if err != nil {
				t.Fatalf("DecodeRequest: %v", err)
			}
			wire, err := proto.EncodeRequest(first, first.Model)
			if err != nil {
				t.Fatalf("EncodeRequest: %v", err)
			}
			second, err := proto.DecodeRequest(wire)
			if err != nil {
				t.Fatalf("DecodeRequest(EncodeRequest(req)): %v\n%s", err, wire)
			}
			want := encodeNormalized(first)
			normalize(want)
			normalize(second)
			if testkit.Dump(second) != testkit.Dump(want) {
				t.Errorf("round trip changed the request:\ngot  %s\nwant %s\nwire %s", testkit.Dump(second), testkit.Dump(want), wire)
			}
			// A second round changes nothing at all.
			again, err := proto.EncodeRequest(second, second.Model)
			if err != nil {
				t.Fatal(err)
			}
			if !testkit.JSONEqual(again, wire) {
				t.Errorf("second encoding differs:\n%s\n%s", again, wire)
			}
		})
	}
}

// encodeNormalized applies to a decoded request what encoding it for an
// OpenAI upstream is documented to change:
//   - n of 1 is the default and is left out;
//   - a stream always asks for usage;
//   - content made only of text parts (without extensions) is sent as one
//     string, so the parts merge into one;
//   - assistant reasoning has no Chat Completions field and is dropped;
//   - an assistant's refusal is sent in the refusal field, after the content;
//   - a tool message has no name.
func encodeNormalized(in *llm.Request) *llm.Request {
	r := *in
	if r.N == 1 {
		r.N = 0
	}
	if r.Stream {
		r.StreamUsage = true
	}
	r.Messages = make([]llm.Message, len(in.Messages))
	for i, m := range in.Messages {
		if m.Role == llm.RoleTool {
			m.Name = ""
			for j, p := range m.Parts {
				if p.Type == llm.PartToolResult {
					tr := *p.ToolResult
					tr.Content = mergeText(tr.Content)
					m.Parts = append([]llm.Part(nil), m.Parts...)
					m.Parts[j].ToolResult = &tr
				}
			}
		}
		if m.Role == llm.RoleAssistant {
			var content, refusal, calls []llm.Part
			for _, p := range m.Parts {
				switch p.Type {
				case llm.PartReasoning:
				case llm.PartRefusal:
					if len(refusal) == 0 {
						refusal = append(refusal, p)
					} else {
						refusal[0].Text += p.Text
					}
				case llm.PartToolCall:
					calls = append(calls, p)
				default:
					content = append(content, p)
				}
			}
			m.Parts = append(append(mergeText(content), refusal...), calls...)
		} else {
			m.Parts = mergeText(m.Parts)
		}
		r.Messages[i] = m
	}
	return &r
}

// mergeText merges parts that are all text, and carry no extensions, into
// one; an empty result means no parts.
func mergeText(parts []llm.Part) []llm.Part {
	var b strings.Builder
	for _, p := range parts {
		if p.Type != llm.PartText || len(p.Extensions) > 0 {
			return parts
		}
		b.WriteString(p.Text)
	}
	if b.Len() == 0 {
		return nil
	}
	return []llm.Part{llm.TextPart(b.String())}
}
