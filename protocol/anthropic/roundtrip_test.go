package anthropic_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
	"github.com/llmux/llmux/protocol"
)

// TestRoundTrip decodes a client request, encodes it for an Anthropic
// upstream and decodes the result again: for a request from an Anthropic
// client the canonical request must survive unchanged (content strings
// become blocks and back, server-tool history is gone after the first
// decode), and a second encoding is identical.
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
			normalize(first)
			normalize(second)
			if testkit.Dump(second) != testkit.Dump(first) {
				t.Errorf("round trip changed the request:\ngot  %s\nwant %s\nwire %s", testkit.Dump(second), testkit.Dump(first), wire)
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

func TestModels(t *testing.T) {
	body := []byte(`{"data":[{"type":"model","id":"claude-sonnet-4-5-20250929","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z","max_tokens":64000},
		{"type":"model","id":"","display_name":"nameless"},{"type":"model","id":"claude-x","created_at":"not a time"}],"has_more":false,"first_id":"a","last_id":"b"}`)
	models, err := proto.DecodeModels(body)
	if err != nil {
		t.Fatal(err)
	}
	want := []llm.Model{{ID: "claude-sonnet-4-5-20250929", DisplayName: "Claude Sonnet 4.5", Created: time.Date(2025, 9, 29, 0, 0, 0, 0, time.UTC).Unix()},
		{ID: "claude-x"}}
	if testkit.Dump(models) != testkit.Dump(want) {
		t.Errorf("DecodeModels = %s", testkit.Dump(models))
	}
	var out bytes.Buffer
	if err := proto.EncodeModels(&out, models); err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"data":[{"type":"model","id":"claude-sonnet-4-5-20250929","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"},
		{"type":"model","id":"claude-x","display_name":"claude-x","created_at":"1970-01-01T00:00:00Z"}],
		"has_more":false,"first_id":"claude-sonnet-4-5-20250929","last_id":"claude-x"}`
	if !testkit.JSONEqual(out.Bytes(), []byte(wantJSON)) {
		t.Errorf("EncodeModels = %s", out.Bytes())
	}
	out.Reset()
	if err := proto.EncodeModels(&out, nil); err != nil || !testkit.JSONEqual(out.Bytes(), []byte(`{"data":[],"has_more":false,"first_id":null,"last_id":null}`)) {
		t.Errorf("EncodeModels(nil) = %s, %v", out.Bytes(), err)
	}
	if _, err := proto.DecodeModels([]byte(`{"data":{}}`)); err == nil {
		t.Error("DecodeModels accepted a malformed list")
	}
	if proto.ModelsEndpoint() != "/v1/models" {
		t.Errorf("ModelsEndpoint = %q", proto.ModelsEndpoint())
	}
}

func TestCount(t *testing.T) {
	var out bytes.Buffer
	if err := proto.EncodeCount(&out, 2095); err != nil || out.String() != `{"input_tokens":2095}` {
		t.Errorf("EncodeCount = %s, %v", out.String(), err)
	}
	n, err := proto.DecodeCount([]byte(`{"input_tokens":2095}`))
	if err != nil || n != 2095 {
		t.Errorf("DecodeCount = %d, %v", n, err)
	}
	for _, bad := range []string{`{"input_tokens":"x"}`, `{"input_tokens":-1}`, `[]`} {
		if _, err := proto.DecodeCount([]byte(bad)); err == nil || llm.AsError(err).Kind != llm.KindUpstream {
			t.Errorf("DecodeCount(%s) = %v, want an upstream error", bad, err)
		}
	}
	if proto.CountEndpoint("m") != "/v1/messages/count_tokens" || proto.Endpoint("m", true) != "/v1/messages" {
		t.Error("endpoints")
	}
}

func TestRoutes(t *testing.T) {
	got := testkit.Dump(proto.Routes()) + testkit.Dump(proto.Prefixes()) + testkit.Dump(proto.ForwardHeaders())
	want := testkit.Dump([]protocol.Route{{Method: "POST", Path: "/v1/messages", Op: protocol.OpChat},
		{Method: "POST", Path: "/v1/messages/count_tokens", Op: protocol.OpCountTokens},
		{Method: "GET", Path: "/v1/models", Op: protocol.OpModels}}) +
		testkit.Dump([]string{"/anthropic", "/claude"}) + testkit.Dump([]string{"Anthropic-Version", "Anthropic-Beta"})
	if got != want {
		t.Errorf("routes, prefixes, headers = %s\nwant %s", got, want)
	}
	if proto.ID() != "anthropic" {
		t.Errorf("ID = %q", proto.ID())
	}
}
