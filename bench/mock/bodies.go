package mock

import (
	"fmt"
	"strings"
)

// text is what the mock "generates": complete bodies carry its first
// answerWords words, stream chunks one word each, cycling.
const text = `Your order 48213 left the Leipzig hub on Thursday and is now with DHL for the last leg. ` +
	`The carrier's estimate is Monday the 24th, between nine and one. Because the parcel is already ` +
	`in transit, the delivery address can no longer be changed from your account page, but DHL lets ` +
	`you redirect it to a parcel shop or to a neighbour once it reaches your local depot: follow the ` +
	`link in the tracking e-mail and choose a new drop-off point. If you would rather have it delivered ` +
	`to your office, reply here with the address and I will ask the carrier to intercept it; that ` +
	`usually adds one working day. Is there anything else I can help you with today?`

var words = strings.Fields(text)

// answerWords makes complete bodies about 1 KB.
const answerWords = 100

// Usage figures reported by every answer.
const (
	promptTokens = 412
	outputTokens = answerWords
)

func answerText() string { return strings.Join(words[:min(answerWords, len(words))], " ") }

func word(i int) string { return words[i%len(words)] + " " }

// quote returns s as a JSON string; the text has no characters that need
// escaping beyond what %q escapes the same way in Go and JSON.
func quote(s string) string { return fmt.Sprintf("%q", s) }

func openaiAnswer(n int) answer {
	const id, model, created = "chatcmpl-bench7fK2mQ9xV4", "gpt-4o-mini-2024-07-18", 1767225600
	a := answer{body: []byte(fmt.Sprintf(`{"id":%q,"object":"chat.completion","created":%d,"model":%q,`+
		`"choices":[{"index":0,"message":{"role":"assistant","content":%s,"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],`+
		`"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,`+
		`"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},`+
		`"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},`+
		`"service_tier":"default","system_fingerprint":"fp_bench01"}`,
		id, created, model, quote(answerText()), promptTokens, outputTokens, promptTokens+outputTokens))}
	chunk := func(delta, finish string) []byte {
		return []byte(fmt.Sprintf(`data: {"id":%q,"object":"chat.completion.chunk","created":%d,"model":%q,"service_tier":"default","system_fingerprint":"fp_bench01",`+
			`"choices":[{"index":0,"delta":%s,"logprobs":null,"finish_reason":%s}]}`+"\n\n", id, created, model, delta, finish))
	}
	for i := range n {
		role := ""
		if i == 0 {
			role = `"role":"assistant",`
		}
		a.chunks = append(a.chunks, chunk(`{`+role+`"content":`+quote(word(i))+`}`, "null"))
	}
	a.usage = []byte(fmt.Sprintf(`data: {"id":%q,"object":"chat.completion.chunk","created":%d,"model":%q,"service_tier":"default","system_fingerprint":"fp_bench01",`+
		`"choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`+"\n\n",
		id, created, model, promptTokens, n, promptTokens+n))
	a.tail = append(chunk(`{}`, `"stop"`), "data: [DONE]\n\n"...)
	return a
}

func anthropicAnswer(n int) answer {
	const id, model = "msg_01Bench4kQd7ZpX2mVt9wLs", "claude-sonnet-4-5-20250929"
	a := answer{body: []byte(fmt.Sprintf(`{"id":%q,"type":"message","role":"assistant","model":%q,`+
		`"content":[{"type":"text","text":%s}],"stop_reason":"end_turn","stop_sequence":null,`+
		`"usage":{"input_tokens":%d,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":%d,"service_tier":"standard"}}`,
		id, model, quote(answerText()), promptTokens, outputTokens))}
	event := func(name, data string) string { return "event: " + name + "\ndata: " + data + "\n\n" }
	a.head = []byte(event("message_start", fmt.Sprintf(`{"type":"message_start","message":{"id":%q,"type":"message","role":"assistant","model":%q,`+
		`"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":%d,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1,"service_tier":"standard"}}}`,
		id, model, promptTokens)) +
		event("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`) +
		event("ping", `{"type":"ping"}`))
	for i := range n {
		a.chunks = append(a.chunks, []byte(event("content_block_delta",
			`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`+quote(word(i))+`}}`)))
	}
	a.tail = []byte(event("content_block_stop", `{"type":"content_block_stop","index":0}`) +
		event("message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":%d}}`, n)) +
		event("message_stop", `{"type":"message_stop"}`))
	return a
}

func geminiAnswer(n int) answer {
	const model, id = "gemini-2.5-flash", "bench8Qm2ZkT5pWx"
	usage := func(out int) string {
		if out == 0 {
			return fmt.Sprintf(`{"promptTokenCount":%d,"totalTokenCount":%d}`, promptTokens, promptTokens)
		}
		return fmt.Sprintf(`{"promptTokenCount":%d,"candidatesTokenCount":%d,"totalTokenCount":%d,"promptTokensDetails":[{"modality":"TEXT","tokenCount":%d}]}`,
			promptTokens, out, promptTokens+out, promptTokens)
	}
	a := answer{body: []byte(fmt.Sprintf(`{"candidates":[{"content":{"parts":[{"text":%s}],"role":"model"},"finishReason":"STOP","index":0}],`+
		`"usageMetadata":%s,"modelVersion":%q,"responseId":%q}`, quote(answerText()), usage(outputTokens), model, id))}
	for i := range n {
		finish, u := "", usage(0)
		if i == n-1 {
			finish, u = `,"finishReason":"STOP"`, usage(n)
		}
		a.chunks = append(a.chunks, []byte(fmt.Sprintf(`data: {"candidates":[{"content":{"parts":[{"text":%s}],"role":"model"}%s,"index":0}],`+
			`"usageMetadata":%s,"modelVersion":%q,"responseId":%q}`+"\n\n", quote(word(i)), finish, u, model, id)))
	}
	return a
}
