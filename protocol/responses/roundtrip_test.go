package responses_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// TestRoundTrip decodes a request, encodes it for a Responses upstream and
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
			compactExtensions(want)
			compactExtensions(second)
			if !reflect.DeepEqual(second, want) {
				t.Errorf("round trip changed the request:\ngot  %s\nwant %s\nwire %s", testkit.Dump(second), testkit.Dump(want), wire)
			}
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

// encodeNormalized applies to a decoded request what encoding it for a
// Responses upstream is documented to change:
//   - store is sent as false when unset;
//   - content made only of text parts is sent as one string, so the parts
//     merge into one;
//   - a function tool without parameters gets an empty object schema;
//   - an input image without detail gets "auto", inline file data without
//     a name gets one;
//   - empty reasoning summaries say nothing and are left out;
//   - a tool result names its tool only through the call it answers.
func encodeNormalized(r *llm.Request) *llm.Request {
	out := *r
	if out.Store == nil {
		f := false
		out.Store = &f
	}
	out.Tools = append([]llm.Tool(nil), r.Tools...)
	for i := range out.Tools {
		if out.Tools[i].Type == llm.ToolFunction && out.Tools[i].Parameters == nil {
			out.Tools[i].Parameters = json.RawMessage(`{"type":"object","properties":{}}`)
		}
	}
	calls := map[string]bool{}
	out.Messages = make([]llm.Message, len(r.Messages))
	for i, m := range r.Messages {
		m.Parts = normalizeParts(m.Parts, m.Role != llm.RoleAssistant, false)
		for j, p := range m.Parts {
			switch p.Type {
			case llm.PartToolCall:
				calls[p.ToolCall.ID] = true
			case llm.PartToolResult:
				res := *p.ToolResult
				res.Content = normalizeParts(res.Content, true, true)
				if !calls[res.CallID] {
					res.Name = ""
				}
				m.Parts[j].ToolResult = &res
			}
		}
		out.Messages[i] = m
	}
	return &out
}

func normalizeParts(parts []llm.Part, merge, output bool) []llm.Part {
	if len(parts) == 0 {
		return parts
	}
	plain := true
	for _, p := range parts {
		if p.Type != llm.PartText || len(p.Extensions) > 0 {
			plain = false
		}
	}
	if merge && plain {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		if b.Len() == 0 {
			return nil
		}
		return []llm.Part{llm.TextPart(b.String())}
	}
	out := make([]llm.Part, 0, len(parts))
	for _, p := range parts {
		if p.Media != nil {
			m := *p.Media
			if p.Type == llm.PartImage && m.Detail == "" && !output {
				m.Detail = "auto"
			}
			if p.Type == llm.PartFile && m.Data != "" && m.Filename == "" && m.MIMEType == "application/pdf" {
				m.Filename = "file.pdf"
			}
			p.Media = &m
		}
		if p.Type == llm.PartReasoning && p.Reasoning.Text == "" && p.Reasoning.Data == "" {
			continue
		}
		out = append(out, p)
	}
	return out
}
