package gemini

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/internal/wirejson"
	"github.com/llmux/llmux/llm"
)

// partDecoder turns Gemini parts into canonical parts. It serves both a
// client's request (ingress: problems are 400s naming the field) and an
// upstream's answer (egress: problems are upstream errors, and parts of
// kinds it does not know are skipped).
type partDecoder struct {
	upstream bool
	// scope is hashed into the ids made up for calls without one: the
	// response id for answers, a constant for requests.
	scope   string
	matcher callMatcher
}

// fail reports a malformed part; the parameter is p with member appended.
func (d *partDecoder) fail(p *at, member, format string, args ...any) *llm.Error {
	msg := fmt.Sprintf(format, args...)
	if d.upstream {
		return &llm.Error{Kind: llm.KindUpstream, Message: "the upstream returned a malformed response: " + msg}
	}
	param := wirejson.Join(p.String(), member)
	return &llm.Error{Kind: llm.KindInvalidRequest, Param: param, Message: param + ": " + msg}
}

// at is a parameter path, built into a string only when an error names
// it: decoding a request walks it without allocating.
type at struct {
	up   *at
	name string // a member name, or "" for an index
	i    int
}

// key and index return the path of a member or element below a.
func (a *at) key(name string) at { return at{up: a, name: name} }
func (a *at) index(i int) at     { return at{up: a, i: i} }

func (a *at) String() string {
	if a == nil {
		return ""
	}
	if a.name == "" {
		return wirejson.Index(a.up.String(), a.i)
	}
	return wirejson.Join(a.up.String(), a.name)
}

// partKind is which data member a part holds.
type partKind uint8

const (
	kindNone partKind = iota
	kindText
	kindInline
	kindFile
	kindCall
	kindResponse
	kindCode
	kindCodeResult
	kindSignature // no data, only a thoughtSignature
)

// kindOf returns the part's kind. A client's part must hold exactly one
// data member; an upstream's is read leniently.
func (d *partDecoder) kindOf(wp *part, p *at) (partKind, error) {
	kind, n := kindNone, 0
	set := func(ok bool, k partKind) {
		if ok {
			if n == 0 {
				kind = k
			}
			n++
		}
	}
	set(wp.FunctionCall != nil, kindCall)
	set(wp.FunctionResponse != nil, kindResponse)
	set(wp.Text.Set, kindText)
	set(wp.InlineData != nil, kindInline)
	set(wp.FileData != nil, kindFile)
	set(len(wp.ExecutableCode) > 0, kindCode)
	set(len(wp.CodeExecutionResult) > 0, kindCodeResult)
	switch {
	case n == 0 && wp.ThoughtSignature != "":
		return kindSignature, nil
	case d.upstream:
		return kind, nil
	case n == 0:
		return kindNone, d.fail(p, "", "a part must hold text, inlineData, fileData, functionCall, functionResponse, executableCode or codeExecutionResult")
	case n > 1:
		return kindNone, d.fail(p, "", "a part holds exactly one of text, inlineData, fileData, functionCall, functionResponse, executableCode and codeExecutionResult")
	}
	return kind, nil
}

// modelParts appends to out the parts of a model turn or an answer
// candidate. group numbers the turn or candidate, for the ids of calls
// without one.
func (d *partDecoder) modelParts(out []llm.Part, parts []part, p *at, group int) ([]llm.Part, error) {
	calls := 0
	for j := range parts {
		wp := &parts[j]
		ap := p.index(j)
		pp := &ap
		kind, err := d.kindOf(wp, pp)
		if err != nil {
			return nil, err
		}
		ext := wirejson.Extensions(wp.Unknown)
		switch kind {
		case kindText:
			text, sig := wp.Text.S, wp.ThoughtSignature
			switch {
			case wp.Thought:
				if text != "" || sig != "" {
					out = append(out, llm.Part{Type: llm.PartReasoning, Extensions: ext, Reasoning: &llm.Reasoning{
						Text: text, Summary: true, Signature: sig, Origin: ID}})
				}
			case text == "":
				if sig != "" {
					out = append(out, signaturePart(sig, ext))
				}
			default:
				if sig != "" {
					ext = withExtension(ext, "thoughtSignature", rawjson.AppendString(nil, sig))
				}
				out = append(out, llm.Part{Type: llm.PartText, Text: text, Extensions: ext})
			}
		case kindSignature:
			out = append(out, signaturePart(wp.ThoughtSignature, ext))
		case kindInline, kindFile:
			mp, err := d.mediaPart(wp, pp)
			if err != nil {
				return nil, err
			}
			mp.Extensions = ext
			out = append(out, mp)
		case kindCall:
			call, err := d.call(wp, pp, group, calls)
			if err != nil {
				return nil, err
			}
			calls++
			out = append(out, llm.Part{Type: llm.PartToolCall, ToolCall: call, Extensions: ext})
		case kindCode, kindCodeResult:
			out = append(out, codePart(wp, ext))
		case kindResponse:
			if d.upstream {
				continue
			}
			return nil, d.fail(pp, "functionResponse", "function responses belong in a user turn")
		}
	}
	return out, nil
}

// signaturePart is a thoughtSignature that came without thinking text: a
// reasoning part holding only the signature.
func signaturePart(sig string, ext llm.Extensions) llm.Part {
	return llm.Part{Type: llm.PartReasoning, Extensions: ext, Reasoning: &llm.Reasoning{Signature: sig, Origin: ID}}
}

// withExtension returns ext with name set to the raw value v.
func withExtension(ext llm.Extensions, name string, v []byte) llm.Extensions {
	if ext == nil {
		ext = make(llm.Extensions, 1)
	}
	ext[name] = v
	return ext
}

// call decodes a functionCall part; a call without id gets a stable one.
func (d *partDecoder) call(wp *part, p *at, group, pos int) (*llm.ToolCall, error) {
	fc := wp.FunctionCall
	if fc.Name == "" {
		return nil, d.fail(p, "functionCall.name", "required")
	}
	args := jsontext.Value(bytes.TrimSpace(fc.Args))
	switch {
	case len(args) == 0 || string(args) == "null":
		args = jsontext.Value("{}")
	case args[0] != '{':
		return nil, d.fail(p, "functionCall.args", "expected an object")
	default:
		_ = args.Compact() // the decoder has validated it
	}
	id := fc.ID
	if id == "" {
		id = callID(d.scope, group, pos, fc.Name, args)
	}
	d.matcher.call(id, fc.Name)
	return &llm.ToolCall{ID: id, Type: llm.CallFunction, Name: fc.Name, Arguments: string(args),
		Signature: wp.ThoughtSignature}, nil
}

// mediaPart decodes inlineData or fileData into an image, audio or file
// part by MIME type.
func (d *partDecoder) mediaPart(wp *part, p *at) (llm.Part, error) {
	m := &llm.Media{}
	if b := wp.InlineData; b != nil {
		if b.Data == "" {
			return llm.Part{}, d.fail(p, "inlineData.data", "required")
		}
		if b.MIMEType == "" {
			return llm.Part{}, d.fail(p, "inlineData.mimeType", "required")
		}
		m.MIMEType, m.Data = b.MIMEType, b.Data
	} else {
		f := wp.FileData
		if f.FileURI == "" {
			return llm.Part{}, d.fail(p, "fileData.fileUri", "required")
		}
		m.MIMEType, m.URL = f.MIMEType, f.FileURI
	}
	return llm.Part{Type: mediaType(m.MIMEType), Media: m}, nil
}

func mediaType(mime string) llm.PartType {
	switch {
	case strings.HasPrefix(mime, "image/"):
		return llm.PartImage
	case strings.HasPrefix(mime, "audio/"):
		return llm.PartAudio
	}
	return llm.PartFile
}

// codePart renders executableCode or codeExecutionResult as Markdown text
// for other protocols, keeping the original part in the extensions for
// Gemini.
func codePart(wp *part, ext llm.Extensions) llm.Part {
	var text string
	if len(wp.ExecutableCode) > 0 {
		var c struct {
			Language string `json:"language"`
			Code     string `json:"code"`
		}
		_ = json.Unmarshal(wp.ExecutableCode, &c, decodeOptions)
		lang := strings.ToLower(c.Language)
		if lang == "language_unspecified" {
			lang = ""
		}
		text = "```" + lang + "\n" + c.Code + "\n```\n"
		ext = withExtension(ext, "executableCode", wp.ExecutableCode)
	} else {
		var r struct {
			Outcome string `json:"outcome"`
			Output  string `json:"output"`
		}
		_ = json.Unmarshal(wp.CodeExecutionResult, &r, decodeOptions)
		text = "```\n" + r.Output + "\n```\n"
		if r.Outcome != "" && r.Outcome != "OUTCOME_OK" {
			text = r.Outcome + ":\n" + text
		}
		ext = withExtension(ext, "codeExecutionResult", wp.CodeExecutionResult)
	}
	return llm.Part{Type: llm.PartText, Text: text, Extensions: ext}
}

// userParts decodes the parts of a user turn into messages: runs of
// function responses become tool messages, runs of other parts user
// messages, in order.
func (d *partDecoder) userParts(parts []part, p *at, group int) ([]llm.Message, error) {
	var msgs []llm.Message
	add := func(role llm.Role, part llm.Part) {
		if n := len(msgs); n > 0 && msgs[n-1].Role == role {
			msgs[n-1].Parts = append(msgs[n-1].Parts, part)
			return
		}
		msgs = append(msgs, llm.Message{Role: role, Parts: []llm.Part{part}})
	}
	for j := range parts {
		wp := &parts[j]
		ap := p.index(j)
		pp := &ap
		kind, err := d.kindOf(wp, pp)
		if err != nil {
			return nil, err
		}
		ext := wirejson.Extensions(wp.Unknown)
		switch kind {
		case kindText:
			if wp.Text.S != "" {
				add(llm.RoleUser, llm.Part{Type: llm.PartText, Text: wp.Text.S, Extensions: ext})
			}
		case kindInline, kindFile:
			mp, err := d.mediaPart(wp, pp)
			if err != nil {
				return nil, err
			}
			mp.Extensions = ext
			add(llm.RoleUser, mp)
		case kindResponse:
			fp := pp.key("functionResponse")
			r, err := d.result(wp.FunctionResponse, &fp, group, j)
			if err != nil {
				return nil, err
			}
			add(llm.RoleTool, llm.Part{Type: llm.PartToolResult, ToolResult: r})
		case kindCode, kindCodeResult:
			add(llm.RoleUser, codePart(wp, ext))
		case kindCall:
			return nil, d.fail(pp, "functionCall", "function calls belong in a model turn")
		case kindSignature:
			// A signature means nothing in a user turn.
		}
	}
	return msgs, nil
}

// result decodes a functionResponse. Without an id it answers the oldest
// unanswered call of its name, as Gemini matches them.
func (d *partDecoder) result(fr *functionResponse, p *at, group, pos int) (*llm.ToolResult, error) {
	if fr.Name == "" {
		return nil, d.fail(p, "name", "required")
	}
	id := d.matcher.answer(fr.ID, fr.Name)
	if id == "" {
		id = callID(d.scope+"/orphan", group, pos, fr.Name, nil)
	}
	r := &llm.ToolResult{CallID: id, Name: fr.Name}
	resp := bytes.TrimSpace(fr.Response)
	switch {
	case len(resp) == 0 || string(resp) == "null":
	case resp[0] != '{':
		return nil, d.fail(p, "response", "expected an object")
	default:
		rv := jsontext.Value(resp)
		_ = rv.Compact() // the decoder has validated it
		text, isErr := unwrapResult(rv)
		r.IsError = isErr
		if text != "" {
			r.Content = []llm.Part{llm.TextPart(text)}
		}
	}
	for k := range fr.Parts {
		wp := &fr.Parts[k]
		partsAt := p.key("parts")
		ap := partsAt.index(k)
		pp := &ap
		kind, err := d.kindOf(wp, pp)
		if err != nil {
			return nil, err
		}
		switch kind {
		case kindInline, kindFile:
			mp, err := d.mediaPart(wp, pp)
			if err != nil {
				return nil, err
			}
			r.Content = append(r.Content, mp)
		case kindText:
			if wp.Text.S != "" {
				r.Content = append(r.Content, llm.TextPart(wp.Text.S))
			}
		default:
			return nil, d.fail(pp, "", "a function response part holds inlineData, fileData or text")
		}
	}
	return r, nil
}

// unwrapResult returns the text of a function response object: the string
// of a lone "result" or "output" member (the keys Google's SDK and docs
// use for a function's output; "error" marks a failure), else the object's
// JSON text.
func unwrapResult(obj []byte) (text string, isError bool) {
	var buf [2]rawjson.Member
	ms, err := rawjson.Members(obj, buf[:0])
	if err == nil && len(ms) == 1 {
		m := &ms[0]
		v := m.Value(obj)
		if rawjson.Kind(v) == "string" && (m.KeyIs("result") || m.KeyIs("output") || m.KeyIs("error")) {
			if s, err := rawjson.String(v); err == nil && !isJSONObject(s) {
				return s, m.KeyIs("error")
			}
		}
	}
	return string(obj), false
}

// isJSONObject reports whether s is one JSON object (white space aside).
func isJSONObject(s string) bool {
	t := strings.TrimSpace(s)
	if len(t) < 2 || t[0] != '{' {
		return false
	}
	return rawjson.Valid([]byte(t)) == nil
}
