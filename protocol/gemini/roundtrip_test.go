package gemini_test

import (
	"testing"

	"github.com/llmux/llmux/internal/testkit"
	"github.com/llmux/llmux/llm"
)

// TestRoundTrip decodes a request, encodes it for a Gemini upstream and
// decodes the result again: the canonical request must survive, apart from
// what encoding is documented to change (see normalizeRoundTrip).
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
			wire, err := proto.EncodeRequest(first, "gemini-2.5-flash")
			if err != nil {
				t.Fatalf("EncodeRequest: %v", err)
			}
			second, err := proto.DecodeRequest(wire)
			if err != nil {
				t.Fatalf("DecodeRequest(EncodeRequest(req)): %v\n%s", err, wire)
			}
			normalizeRoundTrip(first)
			normalizeRoundTrip(second)
			if testkit.Dump(second) != testkit.Dump(first) {
				t.Errorf("round trip changed the request:\ngot  %s\nwant %s\nwire %s", testkit.Dump(second), testkit.Dump(first), wire)
			}
			again, err := proto.EncodeRequest(second, "gemini-2.5-flash")
			if err != nil {
				t.Fatal(err)
			}
			if !testkit.JSONEqual(again, wire) {
				t.Errorf("second encoding differs:\n%s\n%s", again, wire)
			}
		})
	}
}

// normalizeRoundTrip applies what a Gemini round trip is documented to
// change: made-up call ids are made again from positions that merging
// turns may shift, adjacent turns of one role merge, and a candidateCount
// of 1 (the default) is left out.
func normalizeRoundTrip(req *llm.Request) {
	canonicalIDs(req)
	if req.N == 1 {
		req.N = 0
	}
	var msgs []llm.Message
	for _, m := range req.Messages {
		if n := len(msgs); n > 0 && msgs[n-1].Role == m.Role && m.Role != llm.RoleSystem {
			msgs[n-1].Parts = append(msgs[n-1].Parts, m.Parts...)
			continue
		}
		msgs = append(msgs, m)
	}
	req.Messages = msgs
	normalize(req)
}
