package anthropic_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
	"github.com/llmux/llmux/protocol/all"
	"github.com/llmux/llmux/protocol/anthropic"
)

// The hand-written request encoder must write what json.Marshal writes,
// byte for byte, and fail where Marshal fails; where it leaves a value to
// Marshal (wirejson.ErrUnhandled), EncodeRequest calls Marshal.

// checkEncodeJSON encodes req both ways, plain and as a count request, and
// fails the test where the two part ways. It reports whether the body was
// encoded (encodeRequest did not refuse it).
func checkEncodeJSON(t *testing.T, req *llm.Request, model string) bool {
	t.Helper()
	encoded := false
	for _, count := range []bool{false, true} {
		fast, slow, fastErr, slowErr, refused := anthropic.EncodeBoth(req, model, count)
		if refused != nil {
			continue
		}
		encoded = true
		switch {
		case errors.Is(fastErr, wirejson.ErrUnhandled):
		case fastErr != nil && slowErr == nil:
			t.Errorf("count=%v: the appender fails (%v) where Marshal writes\n%s", count, fastErr, slow)
		case fastErr == nil && slowErr != nil:
			t.Errorf("count=%v: the appender writes\n%s\nwhere Marshal fails (%v)", count, fast, slowErr)
		case fastErr == nil && !bytes.Equal(fast, slow):
			t.Errorf("count=%v: the appender writes\n%s\nMarshal writes\n%s", count, fast, slow)
		}
		encode := proto.EncodeRequest
		if count {
			encode = proto.EncodeCountRequest
		}
		// What Marshal refuses is the client's 400, without a body.
		out, err := encode(req, model)
		switch {
		case slowErr != nil && (out != nil || llm.AsError(err).Kind != llm.KindInvalidRequest):
			t.Errorf("count=%v: EncodeRequest = %s, %v where Marshal fails (%v); want no body and a 400", count, out, err, slowErr)
		case slowErr == nil && (err != nil || !bytes.Equal(out, slow)):
			t.Errorf("count=%v: EncodeRequest = %s, %v; Marshal %s", count, out, err, slow)
		}
	}
	return encoded
}

// ingresses returns the registered protocols' client sides, in ID order.
func ingresses(t testing.TB) []protocol.Ingress {
	t.Helper()
	reg := all.Registry()
	var out []protocol.Ingress
	for _, id := range reg.IDs() {
		if in, ok := reg.Ingress(id); ok {
			out = append(out, in)
		}
	}
	if len(out) < 2 {
		t.Fatalf("%d ingress protocols registered", len(out))
	}
	return out
}

// siblingBodies returns the request bodies of every protocol package's
// corpora (this one's too): testdata/requests and the decoders' fuzz seeds.
func siblingBodies(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	files, err := filepath.Glob("../*/testdata/requests/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no request corpora: %v", err)
	}
	for _, f := range files {
		out[f] = testkit.ReadFile(t, f)
	}
	seeds, err := filepath.Glob("../*/testdata/fuzz/*DecodeRequest/*")
	if err != nil || len(seeds) == 0 {
		t.Fatalf("no fuzz seeds: %v", err)
	}
	for _, f := range seeds {
		if b, ok := fuzzBytes(testkit.ReadFile(t, f)); ok {
			out[f] = b
		}
	}
	return out
}

// fuzzBytes reads a seed file of a fuzz target with one []byte argument.
func fuzzBytes(file []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(file, []byte("go test fuzz v1\n[]byte("))
	if !ok {
		return nil, false
	}
	rest, ok = bytes.CutSuffix(bytes.TrimSpace(rest), []byte(")"))
	if !ok {
		return nil, false
	}
	s, err := strconv.Unquote(string(rest))
	return []byte(s), err == nil
}

// trickyStrings, trickyRaw and trickyFloats are where the appender and
// Marshal could part ways: escapes, invalid UTF-8, raw values to compact
// or refuse, float formats.
var (
	trickyStrings = []string{
		"plain", "<b>a && b</b>", "line\u2028para\u2029", "emoji 😀 é 日本語", "\x00\x01\x1f\x7f",
		"\"q\" \\b\\ /s/", "\b\f\n\r\t", "invalid \xff", "cut \xe2\x82", "\ufffd", "\xed\xa0\x80", "model",
	}
	trickyRaw = []string{
		`{"a":1}`, " { \"a\" : [ 1 , 2.5e-3 , -0 , true , null ] ,\n\"b\":\"\\u0041\\/\\ud83d\\ude00\\u2028\" } ",
		`{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `"\ud800"`, "{\"a\":\"\xff\"}", ``, ` `, `[1,]`, `{"a":01}`,
		`{"model":"x"}`, `{"type":"t","name":"n"}`, `{"effort":"high"}`, `[]`, `"s"`, `{"x":"<&>"}`, `1E400`,
		strings.Repeat("[", 600) + strings.Repeat("]", 600),
	}
	trickyFloats = []float64{0.1, 0, math.Copysign(0, -1), 1e21, 1e-7, 0.95, 123456789012345678, 5e-324, math.NaN(), math.Inf(1), 2}
)

// variants returns req as given and altered by s, raw and f: a new user
// turn, user, stop sequence and tool of s; raw as tool schema, call
// arguments, a hosted tool, an extension and output_config members (with
// Origin "anthropic", where extensions travel); f as temperature and
// top_p.
func variants(req *llm.Request, s string, raw []byte, f float64) []*llm.Request {
	out := []*llm.Request{req}
	own := *req
	own.Origin = anthropic.ID
	out = append(out, &own)

	v := *req
	v.Messages = append(append([]llm.Message(nil), req.Messages...),
		llm.Message{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(s)}},
		llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartToolCall,
			ToolCall: &llm.ToolCall{ID: s, Name: s, Arguments: string(raw)}}}},
		llm.Message{Role: llm.RoleTool, Parts: []llm.Part{{Type: llm.PartToolResult,
			ToolResult: &llm.ToolResult{CallID: s, Content: []llm.Part{llm.TextPart(s), llm.TextPart(s)}}}}})
	v.Tools = append(append([]llm.Tool(nil), req.Tools...),
		llm.Tool{Type: llm.ToolFunction, Name: "t" + s, Description: s, Parameters: raw},
		llm.Tool{Type: "web_search_20250305", Name: "web_search", Raw: raw})
	v.User, v.Stop = s, []string{s, ""}
	v.Temperature, v.TopP = &f, &f
	out = append(out, &v)

	ext := v
	ext.Origin = anthropic.ID
	ext.Extensions = llm.Extensions{"container": raw, s: json.RawMessage(`1`), "output_config": raw}
	if len(raw) == 0 {
		ext.Extensions["output_config"] = json.RawMessage(`{"task_budget":1}`)
	}
	ext.ResponseFormat = &llm.ResponseFormat{Type: llm.FormatJSONSchema, Schema: raw}
	out = append(out, &ext)
	return out
}

// decoded returns the requests that the registered ingress protocols
// decode from the corpora.
func decoded(t *testing.T) map[string]*llm.Request {
	t.Helper()
	out := map[string]*llm.Request{}
	for name, req := range canonicalCorpus(t) {
		out["canonical/"+name] = req
	}
	bodies := siblingBodies(t)
	for _, tt := range decodeRequestTests {
		bodies["table/"+tt.name] = []byte(tt.body)
	}
	for _, in := range ingresses(t) {
		for name, body := range bodies {
			if req, err := in.DecodeRequest(body); err == nil {
				out[in.ID()+":"+name] = req
			}
		}
	}
	return out
}

// TestEncodeJSONMatchesMarshal holds the appender to json.Marshal over
// every request the corpora decode to, as is and altered by the tricky
// values.
func TestEncodeJSONMatchesMarshal(t *testing.T) {
	reqs := decoded(t)
	if len(reqs) < 50 {
		t.Fatalf("only %d requests decoded from the corpora", len(reqs))
	}
	encoded := 0
	i := 0
	for name, req := range reqs {
		t.Run(name, func(t *testing.T) {
			for _, v := range variants(req, trickyStrings[i%len(trickyStrings)], []byte(trickyRaw[i%len(trickyRaw)]),
				trickyFloats[i%len(trickyFloats)]) {
				for _, model := range []string{"claude-sonnet-4-5", "upstream-model"} {
					if checkEncodeJSON(t, v, model) {
						encoded++
					}
				}
			}
		})
		i++
	}
	// Every tricky value, on a small request.
	hi := &llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("hi")}}}}
	for _, s := range trickyStrings {
		for _, raw := range trickyRaw {
			for _, f := range trickyFloats {
				for _, v := range variants(hi, s, []byte(raw), f) {
					checkEncodeJSON(t, v, "claude-opus-4-1")
				}
			}
		}
	}
	if encoded < len(reqs) {
		t.Errorf("only %d encodings of %d requests", encoded, len(reqs))
	}
}

// FuzzEncodeJSON: whatever a registered ingress protocol decodes, and
// whatever strings, raw values and floats a request carries, the appender
// writes what json.Marshal writes, or both fail.
func FuzzEncodeJSON(f *testing.F) {
	ins := ingresses(f)
	i := 0
	for _, body := range siblingBodies(f) {
		for k, in := range ins {
			if _, err := in.DecodeRequest(body); err == nil {
				f.Add(body, uint8(k), trickyStrings[i%len(trickyStrings)], []byte(trickyRaw[i%len(trickyRaw)]), trickyFloats[i%len(trickyFloats)])
				i++
			}
		}
	}
	own := slices.IndexFunc(ins, func(in protocol.Ingress) bool { return in.ID() == anthropic.ID })
	for _, tt := range decodeRequestTests {
		f.Add([]byte(tt.body), uint8(own), trickyStrings[i%len(trickyStrings)], []byte(trickyRaw[i%len(trickyRaw)]), trickyFloats[i%len(trickyFloats)])
		i++
	}
	f.Fuzz(func(t *testing.T, body []byte, which uint8, s string, raw []byte, num float64) {
		if len(body)+len(s)+len(raw) > maxFuzzInput {
			return
		}
		in := ins[int(which)%len(ins)]
		req, err := in.DecodeRequest(body)
		if err != nil {
			req = &llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("hi")}}}}
		}
		for _, v := range variants(req, s, raw, num) {
			checkEncodeJSON(t, v, "claude-sonnet-4-5")
		}
	})
}
