package responses

import (
	"strconv"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/llmux/llmux/internal/rawjson"
	"github.com/llmux/llmux/llm"
)

// The response object and its output items, as this package writes them
// for a client: the same code serves complete responses and the events of
// a stream, so that both agree byte for byte on every item.

type itemKind uint8

const (
	kindMessage itemKind = iota + 1
	kindReasoning
	kindFunction
	kindCustom
)

// outItem is one output item being built.
type outItem struct {
	kind itemKind
	id   string
	// kindMessage: the content parts.
	parts []outPart
	// kindReasoning: summary and content (reasoning_text) entries, and the
	// encrypted reasoning.
	summary   []string
	content   []string
	encrypted string
	// kindFunction, kindCustom.
	callID, name, namespace string
	args                    []byte
}

// outPart is one content part of a message item.
type outPart struct {
	refusal     bool
	text        []byte
	annotations jsontext.Value
	logprobs    []llm.TokenLogprob
}

// appendItem appends the item's JSON. An item that was just added shows
// its empty initial state; status is the message's or call's status.
func appendItem(b []byte, it *outItem, status string, added bool) []byte {
	b = append(b, `{"id":`...)
	b = rawjson.AppendString(b, it.id)
	switch it.kind {
	case kindMessage:
		b = append(b, `,"type":"message","status":"`...)
		b = append(b, status...)
		b = append(b, `","content":[`...)
		if !added {
			for i := range it.parts {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendPart(b, &it.parts[i])
			}
		}
		b = append(b, `],"role":"assistant"}`...)
	case kindReasoning:
		b = append(b, `,"type":"reasoning","summary":[`...)
		if !added {
			for i, s := range it.summary {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendTextPart(b, "summary_text", s)
			}
		}
		b = append(b, ']')
		if !added && len(it.content) > 0 {
			b = append(b, `,"content":[`...)
			for i, s := range it.content {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendTextPart(b, "reasoning_text", s)
			}
			b = append(b, ']')
		}
		if !added && it.encrypted != "" {
			b = append(b, `,"encrypted_content":`...)
			b = rawjson.AppendString(b, it.encrypted)
		}
		b = append(b, '}')
	case kindFunction, kindCustom:
		if it.kind == kindFunction {
			b = append(b, `,"type":"function_call","status":"`...)
		} else {
			b = append(b, `,"type":"custom_tool_call","status":"`...)
		}
		b = append(b, status...)
		if it.kind == kindFunction {
			b = append(b, `","arguments":`...)
		} else {
			b = append(b, `","input":`...)
		}
		if added {
			b = append(b, `""`...)
		} else {
			b = appendStringBytes(b, it.args)
		}
		b = append(b, `,"call_id":`...)
		b = rawjson.AppendString(b, it.callID)
		b = append(b, `,"name":`...)
		b = rawjson.AppendString(b, it.name)
		if it.namespace != "" {
			b = append(b, `,"namespace":`...)
			b = rawjson.AppendString(b, it.namespace)
		}
		b = append(b, '}')
	}
	return b
}

// appendPart appends a message content part.
func appendPart(b []byte, p *outPart) []byte {
	if p.refusal {
		b = append(b, `{"type":"refusal","refusal":`...)
		b = appendStringBytes(b, p.text)
		return append(b, '}')
	}
	b = append(b, `{"type":"output_text","annotations":`...)
	if len(p.annotations) > 0 {
		b = append(b, p.annotations...)
	} else {
		b = append(b, `[]`...)
	}
	b = append(b, `,"logprobs":`...)
	b = appendLogprobs(b, p.logprobs)
	b = append(b, `,"text":`...)
	b = appendStringBytes(b, p.text)
	return append(b, '}')
}

// appendEmptyPart appends a content part as content_part.added shows it.
func appendEmptyPart(b []byte, refusal bool) []byte {
	if refusal {
		return append(b, `{"type":"refusal","refusal":""}`...)
	}
	return append(b, `{"type":"output_text","annotations":[],"logprobs":[],"text":""}`...)
}

func appendTextPart(b []byte, typ, text string) []byte {
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","text":`...)
	b = rawjson.AppendString(b, text)
	return append(b, '}')
}

// appendStringBytes appends s as a JSON string.
func appendStringBytes(b, s []byte) []byte {
	// rawjson.AppendString takes a string; the conversion does not escape
	// to the heap when the compiler can see it is only read.
	return rawjson.AppendString(b, string(s))
}

func appendLogprobs(b []byte, lps []llm.TokenLogprob) []byte {
	if len(lps) == 0 {
		return append(b, `[]`...)
	}
	out := make([]logprob, len(lps))
	for i, lp := range lps {
		out[i] = logprob{Token: lp.Token, Logprob: lp.Logprob, Bytes: bytesToInts(lp.Bytes), TopLogprobs: []topLogprob{}}
		for _, t := range lp.Top {
			out[i].TopLogprobs = append(out[i].TopLogprobs, topLogprob{Token: t.Token, Logprob: t.Logprob, Bytes: bytesToInts(t.Bytes)})
		}
	}
	raw, err := json.Marshal(out)
	if err != nil {
		return append(b, `[]`...)
	}
	return append(b, raw...)
}

func bytesToInts(b []byte) []int {
	out := make([]int, len(b))
	for i, c := range b {
		out[i] = int(c)
	}
	return out
}

func intsToBytes(in []int) []byte {
	if in == nil {
		return nil
	}
	out := make([]byte, len(in))
	for i, v := range in {
		out[i] = byte(v)
	}
	return out
}

func decodeLogprobs(lps []logprob) []llm.TokenLogprob {
	if len(lps) == 0 {
		return nil
	}
	out := make([]llm.TokenLogprob, len(lps))
	for i, lp := range lps {
		out[i] = llm.TokenLogprob{Token: lp.Token, Logprob: lp.Logprob, Bytes: intsToBytes(lp.Bytes)}
		for _, t := range lp.TopLogprobs {
			out[i].Top = append(out[i].Top, llm.TopLogprob{Token: t.Token, Logprob: t.Logprob, Bytes: intsToBytes(t.Bytes)})
		}
	}
	return out
}

// responseObject is the response object a client sees: the outcome, and
// the request's settings echoed the way the API echoes them.
type responseObject struct {
	ID                 string             `json:"id"`
	Object             string             `json:"object"`
	CreatedAt          int64              `json:"created_at"`
	Status             string             `json:"status"`
	Background         bool               `json:"background"`
	CompletedAt        *int64             `json:"completed_at"`
	Error              *responseError     `json:"error"`
	IncompleteDetails  *incompleteDetails `json:"incomplete_details"`
	Instructions       *string            `json:"instructions"`
	MaxOutputTokens    *int               `json:"max_output_tokens"`
	MaxToolCalls       jsontext.Value     `json:"max_tool_calls"`
	Model              string             `json:"model"`
	Output             []jsontext.Value   `json:"output"`
	ParallelToolCalls  bool               `json:"parallel_tool_calls"`
	PreviousResponseID *string            `json:"previous_response_id"`
	PromptCacheKey     jsontext.Value     `json:"prompt_cache_key"`
	Reasoning          echoReasoning      `json:"reasoning"`
	SafetyIdentifier   jsontext.Value     `json:"safety_identifier"`
	ServiceTier        *string            `json:"service_tier"`
	Store              bool               `json:"store"`
	Temperature        *float64           `json:"temperature"`
	Text               jsontext.Value     `json:"text"`
	ToolChoice         jsontext.Value     `json:"tool_choice"`
	Tools              []jsontext.Value   `json:"tools"`
	TopLogprobs        *int               `json:"top_logprobs"`
	TopP               *float64           `json:"top_p"`
	Truncation         jsontext.Value     `json:"truncation"`
	Usage              *usage             `json:"usage"`
	User               *string            `json:"user"`
	Metadata           map[string]string  `json:"metadata"`
}

type echoReasoning struct {
	Effort  *string `json:"effort"`
	Summary *string `json:"summary"`
}

var (
	jsonNull     = jsontext.Value("null")
	textDefault  = jsontext.Value(`{"format":{"type":"text"}}`)
	autoChoice   = jsontext.Value(`"auto"`)
	truncDefault = jsontext.Value(`"disabled"`)
)

// newResponseObject returns the skeleton of the response to req (which may
// be nil): in progress, no output, the settings echoed.
func newResponseObject(req *llm.Request, id string, created int64) *responseObject {
	if id == "" {
		id = newID("resp_")
	}
	if created == 0 {
		created = now()
	}
	o := &responseObject{
		ID: id, Object: "response", CreatedAt: created, Status: "in_progress",
		MaxToolCalls: jsonNull, Output: []jsontext.Value{}, ParallelToolCalls: true,
		PromptCacheKey: jsonNull, SafetyIdentifier: jsonNull, Text: textDefault, ToolChoice: autoChoice,
		Tools: []jsontext.Value{}, Truncation: truncDefault, Metadata: map[string]string{},
	}
	if req == nil {
		return o
	}
	ext := req.Origin == ID
	o.Model = req.Model
	if len(req.Messages) > 0 && req.Messages[0].Role == llm.RoleSystem {
		s := req.Messages[0].Text()
		o.Instructions = &s
	}
	o.MaxOutputTokens, o.Temperature, o.TopP, o.TopLogprobs = req.MaxTokens, req.Temperature, req.TopP, req.TopLogprobs
	if req.ParallelToolCalls != nil {
		o.ParallelToolCalls = *req.ParallelToolCalls
	}
	if req.Store != nil {
		o.Store = *req.Store
	}
	if req.Metadata != nil {
		o.Metadata = req.Metadata
	}
	if req.User != "" {
		u := req.User
		o.User = &u
	}
	if req.ServiceTier != "" {
		st := req.ServiceTier
		o.ServiceTier = &st
	}
	if r := req.Reasoning; r != nil {
		if r.Effort != "" {
			e := r.Effort
			o.Reasoning.Effort = &e
		}
		if r.Summary != "" {
			s := r.Summary
			o.Reasoning.Summary = &s
		}
	}
	if tc := encodeText(req, ext); tc != nil {
		if tc.Format == nil {
			tc.Format = &textFormat{Type: "text"}
		}
		if raw, err := json.Marshal(tc); err == nil {
			o.Text = raw
		}
	}
	if tools, err := encodeTools(req.Tools, ext); err == nil && tools != nil {
		o.Tools = tools
	}
	if tc := encodeToolChoice(req, newToolIndex(req), ext); len(tc) > 0 {
		o.ToolChoice = tc
	}
	if ext {
		for key, dst := range map[string]*jsontext.Value{
			"max_tool_calls": &o.MaxToolCalls, "prompt_cache_key": &o.PromptCacheKey,
			extSafetyIdentifier: &o.SafetyIdentifier, "truncation": &o.Truncation,
		} {
			if v := req.Extensions[key]; len(v) > 0 {
				*dst = jsontext.Value(v)
			}
		}
	}
	return o
}

// finish sets the outcome: status and incomplete details from the finish
// reason, output, usage.
func (o *responseObject) finish(reason llm.FinishReason, output []jsontext.Value, u *llm.Usage) {
	o.Status = "completed"
	switch reason {
	case llm.FinishLength:
		o.Status, o.IncompleteDetails = "incomplete", &incompleteDetails{Reason: "max_output_tokens"}
	case llm.FinishContentFilter:
		o.Status, o.IncompleteDetails = "incomplete", &incompleteDetails{Reason: "content_filter"}
	}
	if o.Status == "completed" {
		t := now()
		if t < o.CreatedAt {
			t = o.CreatedAt
		}
		o.CompletedAt = &t
	}
	o.Output = output
	o.Usage = encodeUsage(u)
}

func encodeUsage(u *llm.Usage) *usage {
	if u == nil {
		u = &llm.Usage{}
	}
	return &usage{
		InputTokens:         u.InputTokens,
		InputTokensDetails:  &inputDetails{CachedTokens: u.CachedTokens, CacheWriteTokens: u.CacheWriteTokens},
		OutputTokens:        u.OutputTokens,
		OutputTokensDetails: &outputDetails{ReasoningTokens: u.ReasoningTokens},
		TotalTokens:         u.Total(),
	}
}

func decodeUsage(u *usage) llm.Usage {
	out := llm.Usage{InputTokens: u.InputTokens, OutputTokens: u.OutputTokens}
	if d := u.InputTokensDetails; d != nil {
		out.CachedTokens, out.CacheWriteTokens = d.CachedTokens, d.CacheWriteTokens
	}
	if d := u.OutputTokensDetails; d != nil {
		out.ReasoningTokens = d.ReasoningTokens
	}
	if out.OutputTokens == 0 && u.TotalTokens > u.InputTokens {
		out.OutputTokens = u.TotalTokens - u.InputTokens
	}
	return out
}

// itemID returns the id of a new output item of kind k.
func itemID(k itemKind) string {
	switch k {
	case kindMessage:
		return newID("msg_")
	case kindReasoning:
		return newID("rs_")
	case kindCustom:
		return newID("ctc_")
	}
	return newID("fc_")
}

// appendInt appends n in decimal.
func appendInt(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) }
