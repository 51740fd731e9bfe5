// Package matrix runs every client protocol, spoken by its official SDK,
// against every upstream protocol, through a real llmux server, with the
// upstreams replaying recorded real provider answers.
package matrix

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/gateway"
)

const clientKey = "sk-matrix-client"

type matrixCase struct {
	client       *clientKind
	up           *upstreamKind
	tool, stream bool
}

func (c *matrixCase) name() string {
	kind := "text"
	if c.tool {
		kind = "tool"
	}
	mode := "sync"
	if c.stream {
		mode = "stream"
	}
	return fmt.Sprintf("%s/%s/%s/%s", c.client.name, c.up.typ, kind, mode)
}

// startGateway runs llmux with one provider per upstream protocol.
func startGateway(t *testing.T) (string, map[string]*fakeUpstream) {
	ups := map[string]*fakeUpstream{}
	var b strings.Builder
	fmt.Fprintf(&b, "keys: [%q]\nlog_requests: false\nproviders:\n", clientKey)
	for _, k := range upstreams {
		u := newFakeUpstream(t, k)
		ups[k.id] = u
		fmt.Fprintf(&b, "  %s:\n    type: %s\n    base_url: %s\n    api_key: up-key-%s\n", k.id, k.typ, k.baseURL(u.URL), k.id)
	}
	cfg, err := config.Parse("matrix.yaml", []byte(b.String()), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	srv, err := gateway.New(cfg, gateway.Options{Registry: registry()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL, ups
}

// TestMatrix: 5 client SDKs × 5 upstream protocols × {text, tool call} ×
// {stream, non-stream}.
func TestMatrix(t *testing.T) {
	base, ups := startGateway(t)
	for _, cl := range clients {
		for _, up := range upstreams {
			for _, tool := range []bool{false, true} {
				for _, stream := range []bool{false, true} {
					c := &matrixCase{client: cl, up: up, tool: tool, stream: stream}
					t.Run(c.name(), func(t *testing.T) { runCase(t, base, ups[up.id], c) })
				}
			}
		}
	}
}

func runCase(t *testing.T, base string, u *fakeUpstream, c *matrixCase) {
	u.take()
	fx := c.up.text
	switch {
	case c.tool && c.stream:
		fx = c.up.toolStream
	case c.tool:
		fx = c.up.tool
	case c.stream:
		fx = c.up.textStream
	}
	want := expect(t, c.up, fx, c.stream)
	if c.tool && want.toolName == "" || !c.tool && want.text == "" {
		t.Fatalf("fixture %s decoded to nothing: %+v", fx, want)
	}
	g := c.client.run(t, base, clientKey, c.up.id+"/"+c.up.model, c)

	reqs := u.take()
	if len(reqs) != 1 {
		t.Fatalf("the upstream got %d requests, want 1", len(reqs))
	}
	c.up.validate(t, reqs[0], c)

	if g.text != want.text {
		t.Errorf("text = %q, want %q", g.text, want.text)
	}
	if g.toolName != want.toolName {
		t.Errorf("tool call = %q, want %q", g.toolName, want.toolName)
	}
	if want.toolName != "" && !sameJSON(g.toolArgs, want.toolArgs) {
		t.Errorf("tool arguments = %s, want %s", g.toolArgs, want.toolArgs)
	}
	if f := c.client.finish(want.finish); g.finish != f {
		t.Errorf("finish = %q, want %q (upstream's %q)", g.finish, f, want.finish)
	}
	in, out := c.client.usage(want.usage)
	if g.in != in || g.out != out {
		t.Errorf("usage in/out = %d/%d, want %d/%d (upstream's %+v)", g.in, g.out, in, out, want.usage)
	}
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return a == b
	}
	return reflect.DeepEqual(x, y)
}
