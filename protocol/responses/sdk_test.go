package responses_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// The OpenAI Go SDK is the judge of what this package writes for clients:
// these tests run it against an in-process server that decodes its request
// with DecodeRequest and answers with EncodeResponse or the stream encoder,
// from a fixed canonical answer. (Test-only dependency; the package itself
// imports no SDK.)

// sdkAnswer is the canonical answer the test server sends: reasoning, text
// and a tool call of a namespaced tool, with usage.
var sdkAnswer = []llm.Event{
	{Type: llm.EventStart, ID: "chatcmpl-x", Model: "upstream-model", Created: 1767225000},
	{Type: llm.EventReasoning, Text: "Thinking about "},
	{Type: llm.EventReasoning, Text: "the weather."},
	{Type: llm.EventText, Text: "Let me "},
	{Type: llm.EventText, Text: "check."},
	{Type: llm.EventToolCall, ToolIndex: 0, ID: "call_1", Name: "get_weather"},
	{Type: llm.EventToolArgs, ToolIndex: 0, Text: `{"city":`},
	{Type: llm.EventToolArgs, ToolIndex: 0, Text: `"Paris"}`},
	{Type: llm.EventToolCall, ToolIndex: 1, ID: "call_2", Name: "crm__lookup", Text: `{"id":7}`},
	{Type: llm.EventFinish, FinishReason: llm.FinishToolCalls},
	{Type: llm.EventUsage, Usage: &llm.Usage{InputTokens: 50, CachedTokens: 10, OutputTokens: 30, ReasoningTokens: 12}},
}

// sdkServer answers with sdkAnswer; fail, when set, ends streams with it.
func sdkServer(t *testing.T, fail *llm.Error) (*httptest.Server, *[]*llm.Request) {
	var seen []*llm.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := proto.DecodeRequest(body)
		if err != nil {
			status, eb := proto.EncodeError(llm.AsError(err))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write(eb)
			return
		}
		seen = append(seen, req)
		if !req.Stream {
			resp, err := llm.Collect(llm.NewSliceStream(sdkAnswer))
			if err != nil {
				t.Error(err)
			}
			w.Header().Set("Content-Type", "application/json")
			if err := proto.EncodeResponse(w, req, resp); err != nil {
				t.Error(err)
			}
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		enc := proto.NewStreamEncoder(w, req)
		for _, ev := range sdkAnswer {
			if err := enc.Encode(ev); err != nil {
				t.Error(err)
			}
		}
		if fail != nil {
			enc.Fail(fail)
		} else {
			enc.Close()
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

func sdkClient(srv *httptest.Server) openai.Client {
	return openai.NewClient(option.WithBaseURL(srv.URL+"/v1"), option.WithAPIKey("k"), option.WithMaxRetries(0))
}

func sdkParams() responses.ResponseNewParams {
	return responses.ResponseNewParams{
		Model:        "client-model",
		Instructions: openai.String("Be brief."),
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
			responses.ResponseInputItemParamOfMessage("Weather in Paris?", responses.EasyInputMessageRoleUser),
		}},
		Tools: []responses.ToolUnionParam{
			responses.ToolParamOfFunction("get_weather", map[string]any{
				"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}},
			}, false),
			{OfNamespace: &responses.NamespaceToolParam{Name: "crm", Description: "CRM tools.",
				Tools: []responses.NamespaceToolToolUnionParam{{OfFunction: &responses.NamespaceToolToolFunctionParam{
					Name: "lookup", Parameters: map[string]any{"type": "object"}}}}}},
		},
		Reasoning:       shared.ReasoningParam{Effort: shared.ReasoningEffortLow, Summary: shared.ReasoningSummaryAuto},
		MaxOutputTokens: openai.Int(256),
		Store:           openai.Bool(false),
		Include:         []responses.ResponseIncludable{responses.ResponseIncludableReasoningEncryptedContent},
	}
}

func TestSDKResponse(t *testing.T) {
	srv, seen := sdkServer(t, nil)
	client := sdkClient(srv)
	resp, err := client.Responses.New(context.Background(), sdkParams())
	if err != nil {
		t.Fatal(err)
	}
	if len(*seen) != 1 || len((*seen)[0].Tools) != 2 || (*seen)[0].Tools[1].Name != "crm__lookup" {
		t.Fatalf("decoded SDK request: %s", testkit.Dump(*seen))
	}
	checkSDKResponse(t, resp)
}

func checkSDKResponse(t *testing.T, resp *responses.Response) {
	t.Helper()
	if resp.Model != "client-model" || resp.Status != "completed" || resp.Object != "response" {
		t.Errorf("model, status, object = %q, %q, %q", resp.Model, resp.Status, resp.Object)
	}
	if got := resp.OutputText(); got != "Let me check." {
		t.Errorf("OutputText() = %q", got)
	}
	u := resp.Usage
	if u.InputTokens != 50 || u.InputTokensDetails.CachedTokens != 10 || u.OutputTokens != 30 ||
		u.OutputTokensDetails.ReasoningTokens != 12 || u.TotalTokens != 80 {
		t.Errorf("usage = %+v", u)
	}
	if resp.MaxOutputTokens != 256 || resp.Instructions.OfString != "Be brief." || len(resp.Tools) != 2 {
		t.Errorf("echoed settings: max_output_tokens %d, instructions %q, %d tools", resp.MaxOutputTokens,
			resp.Instructions.OfString, len(resp.Tools))
	}
	var kinds []string
	for _, item := range resp.Output {
		kinds = append(kinds, item.Type)
		switch v := item.AsAny().(type) {
		case responses.ResponseReasoningItem:
			if len(v.Summary) != 1 || v.Summary[0].Text != "Thinking about the weather." {
				t.Errorf("reasoning summary = %+v", v.Summary)
			}
		case responses.ResponseFunctionToolCall:
			switch v.CallID {
			case "call_1":
				if v.Name != "get_weather" || v.Arguments != `{"city":"Paris"}` || v.Namespace != "" {
					t.Errorf("call_1 = %+v", v)
				}
			case "call_2":
				if v.Name != "lookup" || v.Namespace != "crm" || v.Arguments != `{"id":7}` {
					t.Errorf("call_2 = %+v", v)
				}
			default:
				t.Errorf("unexpected call %+v", v)
			}
		}
	}
	if want := "reasoning message function_call function_call"; join(kinds) != want {
		t.Errorf("output items %q, want %q", join(kinds), want)
	}
}

func join(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(x)
	}
	return b.String()
}

func TestSDKStream(t *testing.T) {
	srv, _ := sdkServer(t, nil)
	client := sdkClient(srv)
	stream := client.Responses.NewStreaming(context.Background(), sdkParams())
	defer stream.Close()
	var text, args, summary string
	var completed *responses.Response
	n := 0
	for stream.Next() {
		ev := stream.Current()
		if ev.SequenceNumber != int64(n) {
			t.Errorf("event %d (%s) has sequence_number %d", n, ev.Type, ev.SequenceNumber)
		}
		n++
		switch v := ev.AsAny().(type) {
		case responses.ResponseTextDeltaEvent:
			text += v.Delta
		case responses.ResponseFunctionCallArgumentsDeltaEvent:
			args += v.Delta
		case responses.ResponseReasoningSummaryTextDeltaEvent:
			summary += v.Delta
		case responses.ResponseCompletedEvent:
			r := v.Response
			completed = &r
		case nil:
			t.Errorf("the SDK does not know event %s: %s", ev.Type, ev.RawJSON())
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if text != "Let me check." || args != `{"city":"Paris"}{"id":7}` || summary != "Thinking about the weather." {
		t.Errorf("text %q, args %q, summary %q", text, args, summary)
	}
	if completed == nil {
		t.Fatal("no response.completed")
	}
	checkSDKResponse(t, completed)
}

func TestSDKStreamFailure(t *testing.T) {
	srv, _ := sdkServer(t, &llm.Error{Kind: llm.KindRateLimited, Message: "slow down"})
	client := sdkClient(srv)
	stream := client.Responses.NewStreaming(context.Background(), sdkParams())
	defer stream.Close()
	var errEv *responses.ResponseErrorEvent
	var failed *responses.ResponseFailedEvent
	for stream.Next() {
		switch v := stream.Current().AsAny().(type) {
		case responses.ResponseErrorEvent:
			errEv = &v
		case responses.ResponseFailedEvent:
			failed = &v
		case responses.ResponseCompletedEvent:
			t.Error("a failed stream completed")
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if errEv == nil || errEv.Code != "rate_limit_exceeded" || errEv.Message != "slow down" {
		t.Errorf("error event = %+v", errEv)
	}
	if failed == nil || failed.Response.Status != "failed" || failed.Response.Error.Code != "rate_limit_exceeded" {
		t.Errorf("response.failed = %+v", failed)
	}
}

func TestSDKError(t *testing.T) {
	srv, _ := sdkServer(t, nil)
	client := sdkClient(srv)
	params := sdkParams()
	params.PreviousResponseID = openai.String("resp_123")
	_, err := client.Responses.New(context.Background(), params)
	var apiErr *openai.Error
	if !asSDKError(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "previous_response_id" || apiErr.Type != "invalid_request_error" {
		t.Fatalf("error = %v", err)
	}
}

func asSDKError(err error, target **openai.Error) bool {
	e, ok := err.(*openai.Error)
	if ok {
		*target = e
	}
	return ok
}
