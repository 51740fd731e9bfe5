package responses_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// encodeEvents runs events through a stream encoder for req and returns
// the data objects written, checking the stream's framing rules.
func encodeEvents(t *testing.T, req *llm.Request, evs []llm.Event, fail *llm.Error) []map[string]any {
	t.Helper()
	var out bytes.Buffer
	enc := proto.NewStreamEncoder(&out, req)
	for _, ev := range evs {
		if err := enc.Encode(ev); err != nil {
			t.Fatalf("Encode(%s): %v", formatEvent(ev), err)
		}
	}
	var err error
	if fail != nil {
		err = enc.Fail(fail)
	} else {
		err = enc.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	checkSequence(t, out.Bytes())
	return sseData(t, out.Bytes())
}

func types(data []map[string]any) string {
	var ts []string
	for _, d := range data {
		ts = append(ts, strings.TrimPrefix(d["type"].(string), "response."))
	}
	return strings.Join(ts, " ")
}

// final returns the response object of the last event.
func final(t *testing.T, data []map[string]any) map[string]any {
	t.Helper()
	r, ok := data[len(data)-1]["response"].(map[string]any)
	if !ok {
		t.Fatalf("last event has no response: %v", data[len(data)-1])
	}
	return r
}

func TestStreamEncoderEmpty(t *testing.T) {
	data := encodeEvents(t, &llm.Request{Model: "m"}, nil, nil)
	if got := types(data); got != "created in_progress completed" {
		t.Errorf("events %q", got)
	}
	r := final(t, data)
	if r["status"] != "completed" || len(r["output"].([]any)) != 0 || r["usage"] == nil || r["model"] != "m" {
		t.Errorf("response %v", r)
	}
}

// TestStreamEncoderInterleavedCalls: Chat Completions upstreams interleave
// the arguments of parallel calls; both calls stay open until the answer
// moves on, and each gets its own arguments.
func TestStreamEncoderInterleavedCalls(t *testing.T) {
	evs := []llm.Event{
		{Type: llm.EventStart},
		{Type: llm.EventToolCall, ToolIndex: 0, ID: "call_A", Name: "a"},
		{Type: llm.EventToolCall, ToolIndex: 1, ID: "call_B", Name: "b"},
		{Type: llm.EventToolArgs, ToolIndex: 0, Text: `{"x":`},
		{Type: llm.EventToolArgs, ToolIndex: 1, Text: `{"y":2}`},
		{Type: llm.EventToolArgs, ToolIndex: 0, Text: `1}`},
		{Type: llm.EventFinish, FinishReason: llm.FinishToolCalls},
	}
	data := encodeEvents(t, &llm.Request{Model: "m"}, evs, nil)
	want := "created in_progress output_item.added output_item.added function_call_arguments.delta function_call_arguments.delta " +
		"function_call_arguments.delta function_call_arguments.done output_item.done function_call_arguments.done output_item.done completed"
	if got := types(data); got != want {
		t.Errorf("events\n%s\nwant\n%s", got, want)
	}
	out := final(t, data)["output"].([]any)
	if len(out) != 2 || out[0].(map[string]any)["arguments"] != `{"x":1}` || out[1].(map[string]any)["arguments"] != `{"y":2}` {
		t.Errorf("output %v", out)
	}
}

// TestStreamEncoderForeignReasoning: another protocol's thinking shows as
// a summary; its signatures and redacted data never reach the client.
func TestStreamEncoderForeignReasoning(t *testing.T) {
	evs := []llm.Event{
		{Type: llm.EventReasoning, Text: "Let me think."},
		{Type: llm.EventReasoning, Signature: "anthropic-sig"},
		{Type: llm.EventReasoning, Data: "redacted-blob", Redacted: true},
		{Type: llm.EventText, Text: "Done."},
		{Type: llm.EventFinish, FinishReason: llm.FinishStop},
	}
	data := encodeEvents(t, &llm.Request{Model: "m"}, evs, nil)
	raw := testkit.Dump(data)
	if strings.Contains(raw, "anthropic-sig") || strings.Contains(raw, "redacted-blob") || strings.Contains(raw, "encrypted_content") {
		t.Errorf("foreign reasoning leaked:\n%s", raw)
	}
	out := final(t, data)["output"].([]any)
	rs := out[0].(map[string]any)
	if rs["type"] != "reasoning" || !strings.HasPrefix(rs["id"].(string), "rs_") || testkit.Dump(rs["summary"]) != testkit.Dump([]any{map[string]any{"type": "summary_text", "text": "Let me think."}}) {
		t.Errorf("reasoning item %v", rs)
	}
}

// TestStreamEncoderCustomAndNamespacedCalls: a call of a custom tool is a
// custom_tool_call, a call of a namespaced tool is split back.
func TestStreamEncoderCustomAndNamespacedCalls(t *testing.T) {
	req, err := proto.DecodeRequest(testkit.ReadFile(t, "testdata/requests/codex.json"))
	if err != nil {
		t.Fatal(err)
	}
	evs := []llm.Event{
		{Type: llm.EventToolCall, ToolIndex: 0, ID: "call_1", Name: "apply_patch", Text: "*** Begin Patch\n"},
		{Type: llm.EventToolArgs, ToolIndex: 0, Text: "*** End Patch\n"},
		{Type: llm.EventToolCall, ToolIndex: 1, ID: "call_2", Name: "mcp__docs__search", Text: `{"query":"x"}`},
	}
	data := encodeEvents(t, req, evs, nil)
	want := "created in_progress output_item.added custom_tool_call_input.delta custom_tool_call_input.delta output_item.added " +
		"function_call_arguments.delta custom_tool_call_input.done output_item.done function_call_arguments.done output_item.done completed"
	if got := types(data); got != want {
		t.Errorf("events\n%s\nwant\n%s", got, want)
	}
	out := final(t, data)["output"].([]any)
	custom, fn := out[0].(map[string]any), out[1].(map[string]any)
	if custom["type"] != "custom_tool_call" || custom["input"] != "*** Begin Patch\n*** End Patch\n" || custom["name"] != "apply_patch" {
		t.Errorf("custom call %v", custom)
	}
	if fn["type"] != "function_call" || fn["name"] != "search" || fn["namespace"] != "mcp__docs" || fn["arguments"] != `{"query":"x"}` {
		t.Errorf("namespaced call %v", fn)
	}
	if r := final(t, data); r["instructions"] == nil || len(r["tools"].([]any)) != 4 {
		t.Errorf("echoed request: instructions %v, tools %v", r["instructions"], r["tools"])
	}
}

func TestStreamEncoderIncomplete(t *testing.T) {
	for reason, want := range map[llm.FinishReason]string{llm.FinishLength: "max_output_tokens", llm.FinishContentFilter: "content_filter"} {
		evs := []llm.Event{{Type: llm.EventText, Text: "cut"}, {Type: llm.EventFinish, FinishReason: reason},
			{Type: llm.EventUsage, Usage: &llm.Usage{InputTokens: 1, OutputTokens: 2}}}
		data := encodeEvents(t, &llm.Request{Model: "m"}, evs, nil)
		r := final(t, data)
		if data[len(data)-1]["type"] != "response.incomplete" || r["status"] != "incomplete" ||
			r["incomplete_details"].(map[string]any)["reason"] != want || r["usage"].(map[string]any)["total_tokens"] != 3.0 {
			t.Errorf("%s: last event %v", reason, data[len(data)-1])
		}
	}
}

// TestStreamEncoderRefusalThenText: switching between a refusal and text
// closes one content part and opens the next in the same message.
func TestStreamEncoderRefusalThenText(t *testing.T) {
	evs := []llm.Event{{Type: llm.EventRefusal, Text: "No."}, {Type: llm.EventText, Text: "But"}, {Type: llm.EventText, Text: " this."}}
	data := encodeEvents(t, &llm.Request{Model: "m"}, evs, nil)
	want := "created in_progress output_item.added content_part.added refusal.delta refusal.done content_part.done " +
		"content_part.added output_text.delta output_text.delta output_text.done content_part.done output_item.done completed"
	if got := types(data); got != want {
		t.Errorf("events\n%s\nwant\n%s", got, want)
	}
	msg := final(t, data)["output"].([]any)[0].(map[string]any)
	if testkit.Dump(msg["content"]) != testkit.Dump([]any{
		map[string]any{"type": "refusal", "refusal": "No."},
		map[string]any{"type": "output_text", "text": "But this.", "annotations": []any{}, "logprobs": []any{}},
	}) {
		t.Errorf("content %v", msg["content"])
	}
}

// TestStreamEncoderFailBeforeStart: a failure before anything was written
// (the passthrough path, where the upstream sent response.created) is an
// error event and response.failed only.
func TestStreamEncoderFailBeforeStart(t *testing.T) {
	data := encodeEvents(t, &llm.Request{Model: "m"}, nil, &llm.Error{Kind: llm.KindOverloaded, Message: "busy", Param: "x"})
	if got := types(data); got != "error failed" {
		t.Errorf("events %q", got)
	}
	if data[0]["code"] != "server_error" || data[0]["message"] != "busy" || data[0]["param"] != "x" {
		t.Errorf("error event %v", data[0])
	}
	r := final(t, data)
	if r["status"] != "failed" || r["error"].(map[string]any)["code"] != "server_error" {
		t.Errorf("response %v", r)
	}
}

func TestStreamEncoderAfterEnd(t *testing.T) {
	var out bytes.Buffer
	enc := proto.NewStreamEncoder(&out, nil)
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	n := out.Len()
	for _, ev := range []llm.Event{{Type: llm.EventText, Text: "late"}, {Type: llm.EventFinish}} {
		if err := enc.Encode(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := enc.Fail(&llm.Error{Kind: llm.KindUpstream, Message: "x"}); err != nil {
		t.Fatal(err)
	}
	if out.Len() != n {
		t.Errorf("wrote after the end:\n%s", out.Bytes()[n:])
	}
}

// TestStreamEncoderTextAllocs: relaying a text delta allocates nothing.
func TestStreamEncoderTextAllocs(t *testing.T) {
	enc := proto.NewStreamEncoder(io.Discard, &llm.Request{Model: "m"})
	enc.Encode(llm.Event{Type: llm.EventText, Text: "warm up"})
	ev := llm.Event{Type: llm.EventText, Text: "a token"}
	if n := testing.AllocsPerRun(1000, func() { enc.Encode(ev) }); n != 0 {
		t.Errorf("%v allocations per text delta", n)
	}
}

func TestStreamDecoderFinish(t *testing.T) {
	tests := []struct {
		name  string
		final string // the last event's data
		call  bool
		want  llm.FinishReason
	}{
		{"completed", `{"type":"response.completed","response":{"status":"completed"}}`, false, llm.FinishStop},
		{"completed with a call", `{"type":"response.completed","response":{"status":"completed"}}`, true, llm.FinishToolCalls},
		{"incomplete length", `{"type":"response.incomplete","response":{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}}}`, false, llm.FinishLength},
		{"incomplete length with a call", `{"type":"response.incomplete","response":{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}}}`, true, llm.FinishLength},
		{"incomplete filter", `{"type":"response.incomplete","response":{"status":"incomplete","incomplete_details":{"reason":"content_filter"}}}`, false, llm.FinishContentFilter},
		{"completed event, incomplete status", `{"type":"response.completed","response":{"status":"incomplete"}}`, false, llm.FinishLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := "data: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\"}}\n\n"
			if tt.call {
				body += `data: {"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","id":"fc_1","call_id":"c","name":"f","arguments":""}}` + "\n\n"
			}
			body += "data: " + tt.final + "\n\n"
			evs, err := decodeStream(t, []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			last := evs[len(evs)-1]
			if last.Type != llm.EventFinish || last.FinishReason != tt.want {
				t.Errorf("last event %s, want finish %s", formatEvent(last), tt.want)
			}
		})
	}
}

func TestStreamDecoderEnds(t *testing.T) {
	tests := []struct {
		name string
		body string
		kind llm.ErrorKind // "" for a clean end
	}{
		{"nothing", "", llm.KindUpstream},
		{"only keep-alives", ": ping\n\n: ping\n\n", llm.KindUpstream},
		{"done sentinel before completion", "data: [DONE]\n\n", llm.KindUpstream},
		{"malformed event", "event: response.output_text.delta\ndata: {\"type\":\n\n", llm.KindUpstream},
		{"trailing data after completion", "data: {\"type\":\"response.completed\",\"response\":{}}\n\ndata: {garbage\n\n", ""},
		{"unknown events skipped", "event: response.web_search_call.searching\ndata: {not even json\n\ndata: {\"type\":\"response.completed\",\"response\":{}}\n\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeStream(t, []byte(tt.body))
			if tt.kind == "" {
				if err != nil {
					t.Fatalf("stream error: %v", err)
				}
				return
			}
			if e := asError(t, err); e.Kind != tt.kind {
				t.Errorf("error kind %q, want %q (%v)", e.Kind, tt.kind, e)
			}
		})
	}
}

// TestStreamDecoderClose: Close ends the stream at once and closes the
// body.
func TestStreamDecoderClose(t *testing.T) {
	body := &closeRecorder{Reader: strings.NewReader("data: {\"type\":\"response.created\",\"response\":{}}\n\n")}
	s := proto.NewStreamDecoder(body)
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil || !body.closed {
		t.Fatalf("Close = %v, body closed %v", err, body.closed)
	}
	if _, err := s.Next(); err != io.EOF {
		t.Errorf("Next after Close = %v, want io.EOF", err)
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

// TestStreamDecoderUnknownEvents: events of types the decoder does not
// read are skipped whatever their shape, named or not.
func TestStreamDecoderUnknownEvents(t *testing.T) {
	body := `data: {"type":"response.created","response":{"id":"resp_1"}}` + "\n\n" +
		`data: {"type":"response.web_search_call.searching","delta":5,"item_id":{}}` + "\n\n" +
		`event: response.mcp_call.failed` + "\n" + `data: [1,2]` + "\n\n" +
		`data: {"type":"response.output_text.delta","item_id":"m","delta":"ok"}` + "\n\n" +
		`data: {"type":"response.completed","response":{}}` + "\n\n"
	evs, err := decodeStream(t, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || evs[1].Text != "ok" {
		t.Errorf("events %v", evs)
	}
	_, err = decodeStream(t, []byte(`data: {"type":"response.output_text.delta","delta":5}`+"\n\n"))
	if e := asError(t, err); e.Kind != llm.KindUpstream || !strings.Contains(e.Message, "malformed") {
		t.Errorf("malformed delta: %v", e)
	}
}
