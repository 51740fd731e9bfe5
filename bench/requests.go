package bench

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/llmux/llmux/bench/load"
	"github.com/llmux/llmux/bench/mock"
)

// The client key every target is called with; llmux is configured with it,
// the others ignore it.
const clientKey = "bench-key"

// Upstream models, one per mock protocol, as llmux is configured to serve
// them: a bare name served by exactly one provider.
const (
	modelOpenAI    = "gpt-4o-mini"
	modelAnthropic = "claude-sonnet-4-5"
	modelGemini    = "gemini-2.5-flash"
)

// A typical agent turn: a system prompt, a question, a tool call with its
// result, a follow-up question, and two tools. The same conversation in
// each protocol, about 1.7 KB in OpenAI's.
var (
	system      = strings.Repeat("You are a careful assistant for an online store. Answer briefly and cite order numbers. ", 7)
	question    = "Where is my order 48213? It was supposed to arrive on Monday and the tracking page has not changed since last week."
	toolResult  = `{\"status\":\"in_transit\",\"carrier\":\"DHL\",\"eta\":\"2026-11-24\",\"last_scan\":\"Leipzig hub\"}`
	followUp    = "Can you also check whether I can still change the delivery address to my office?"
	orderSchema = `{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}`
	addrSchema  = `{"type":"object","properties":{"order_id":{"type":"string"},"address":{"type":"string"}},"required":["order_id","address"]}`
)

const (
	orderDesc = "Look up the shipping status of an order"
	addrDesc  = "Change the delivery address of an order in transit"
)

// call is one kind of request: a path on the target and what is sent.
type call struct {
	path   string
	header http.Header
	body   []byte
	stream bool
}

// request returns the load request of c against base ("http://host:port"),
// expecting at least chunks data events from a stream.
func (c call) request(base string, chunks int) *load.Request {
	r := &load.Request{URL: base + c.path, Header: c.header, Body: c.body, Stream: c.stream}
	if c.stream {
		r.MinEvents = chunks
	}
	return r
}

func streamMember(stream bool) string {
	if stream {
		return `"stream":true,`
	}
	return ""
}

// openaiChat is an OpenAI Chat Completions request for model.
func openaiChat(model string, stream bool) call {
	body := `{"model":"` + model + `",` + streamMember(stream) + `"temperature":0.3,"max_completion_tokens":512,"messages":[` +
		`{"role":"system","content":"` + system + `"},` +
		`{"role":"user","content":"` + question + `"},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"call_a1","type":"function","function":{"name":"order_status","arguments":"{\"order_id\":\"48213\"}"}}]},` +
		`{"role":"tool","tool_call_id":"call_a1","content":"` + toolResult + `"},` +
		`{"role":"user","content":"` + followUp + `"}],` +
		`"tools":[{"type":"function","function":{"name":"order_status","description":"` + orderDesc + `","parameters":` + orderSchema + `}},` +
		`{"type":"function","function":{"name":"change_address","description":"` + addrDesc + `","parameters":` + addrSchema + `}}]}`
	return call{path: mock.PathOpenAI, body: []byte(body), stream: stream, header: http.Header{
		"Content-Type":  {"application/json"},
		"Authorization": {"Bearer " + clientKey},
	}}
}

// anthropicMessages is the same conversation as an Anthropic Messages
// request.
func anthropicMessages(model string, stream bool) call {
	body := `{"model":"` + model + `",` + streamMember(stream) + `"max_tokens":512,"temperature":0.3,` +
		`"system":"` + system + `","messages":[` +
		`{"role":"user","content":"` + question + `"},` +
		`{"role":"assistant","content":[{"type":"tool_use","id":"toolu_a1","name":"order_status","input":{"order_id":"48213"}}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_a1","content":"` + toolResult + `"},` +
		`{"type":"text","text":"` + followUp + `"}]}],` +
		`"tools":[{"name":"order_status","description":"` + orderDesc + `","input_schema":` + orderSchema + `},` +
		`{"name":"change_address","description":"` + addrDesc + `","input_schema":` + addrSchema + `}]}`
	return call{path: mock.PathAnthropic, body: []byte(body), stream: stream, header: http.Header{
		"Content-Type":      {"application/json"},
		"X-Api-Key":         {clientKey},
		"Anthropic-Version": {"2023-06-01"},
	}}
}

// geminiGenerate is the same conversation as a Gemini generateContent
// request.
func geminiGenerate(model string, stream bool) call {
	method := ":generateContent"
	if stream {
		method = ":streamGenerateContent?alt=sse"
	}
	body := `{"systemInstruction":{"parts":[{"text":"` + system + `"}]},"contents":[` +
		`{"role":"user","parts":[{"text":"` + question + `"}]},` +
		`{"role":"model","parts":[{"functionCall":{"name":"order_status","args":{"order_id":"48213"}}}]},` +
		`{"role":"user","parts":[{"functionResponse":{"name":"order_status","response":` + strings.ReplaceAll(toolResult, `\"`, `"`) + `}},` +
		`{"text":"` + followUp + `"}]}],` +
		`"tools":[{"functionDeclarations":[{"name":"order_status","description":"` + orderDesc + `","parameters":` + orderSchema + `},` +
		`{"name":"change_address","description":"` + addrDesc + `","parameters":` + addrSchema + `}]}],` +
		`"generationConfig":{"temperature":0.3,"maxOutputTokens":512}}`
	return call{path: fmt.Sprintf("%s%s%s", mock.PathGemini, model, method), body: []byte(body), stream: stream, header: http.Header{
		"Content-Type":   {"application/json"},
		"X-Goog-Api-Key": {clientKey},
	}}
}
