package multi

import (
	"context"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/store"
	_ "github.com/llmux/llmux/internal/store/testdb" // registers postgres:// with store.Open
)

// TestSIGTERMLosesNoUsageRecord: instances stopped with SIGTERM finish the
// requests they took and write a usage record for every one before they
// exit. Instance 1 is stopped while a quarter of its requests are still in
// flight (they finish during the drain); instances 2 and 3 the moment their
// last answer has arrived, when the records of the last requests are as
// fresh as they get. A third of the requests are streamed.
//
// Redis is 25 ms away each way: with Redis configured, an instance settles
// a request with the limiter after its response is complete and only then
// queues its record, so the last records come well after the last answers.
// (Settlements that nothing waited for lost those records before cd85a43.)
func TestSIGTERMLosesNoUsageRecord(t *testing.T) {
	fx := loadFixtures(t)
	up := newUpstream(t, fx)
	up.setDelay(50*time.Millisecond, 400*time.Millisecond)
	c := startCluster(t, up, options{redisLatency: 25 * time.Millisecond})
	k := c.createKey(t, map[string]any{"name": "sigterm"})

	const perNode = 100
	stopAt := [instances]int64{perNode * 3 / 4, perNode, perNode}
	var (
		ended   [instances]atomic.Int64
		termAt  [instances]time.Time // written once, by the goroutine that signals
		termErr [instances]error
	)
	streamed := func(i int) bool { return (i/instances)%3 == 0 }
	outs := c.burst(k.secret, perNode*instances, "sigterm", streamed, func(o outcome) {
		if ended[o.node].Add(1) == stopAt[o.node] {
			termAt[o.node] = time.Now()
			termErr[o.node] = c.nodes[o.node].terminate()
		}
	})
	for i, n := range c.nodes {
		if termErr[i] != nil {
			t.Fatalf("SIGTERM to instance %d: %v", i+1, termErr[i])
		}
		code := n.wait(60 * time.Second)
		if code == -1 {
			t.Fatalf("instance %d still runs 60s after SIGTERM", i+1)
		}
		t.Logf("instance %d exited %s after SIGTERM with code %d", i+1, n.exit.Sub(termAt[i]).Round(time.Millisecond), code)
		if code != 0 {
			t.Errorf("instance %d exited with code %d after SIGTERM, want 0", i+1, code)
		}
		for _, says := range []string{"added after the writer closed", "records lost", "records may be lost"} {
			if strings.Contains(n.log.String(), says) {
				t.Errorf("instance %d says it lost usage records at shutdown (%q)", i+1, says)
			}
		}
	}

	completed := map[string]outcome{}
	drained := 0
	for _, o := range outs {
		switch {
		case o.ok():
			completed[o.id] = o
			if o.end.After(termAt[o.node]) {
				drained++
			}
		case o.node == 0 && o.status == 0:
			// Sent after instance 1 closed its listener: refused, never served.
		default:
			t.Errorf("%s: want a complete 200", o)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.ListUsage(ctx, store.ListQuery{Filter: store.UsageFilter{KeyID: k.id}, Limit: store.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d requests: %d completed (%d of them on instance 1 during its drain); %d usage records",
		len(outs), len(completed), drained, len(recs))

	seen := map[string]int{}
	for _, r := range recs {
		seen[r.RequestID]++
		o, ok := completed[r.RequestID]
		if !ok {
			t.Errorf("a record for request %q, which did not complete: %+v", r.RequestID, r)
			continue
		}
		want := fx.plainUsage
		if o.stream {
			want = fx.streamUsage
		}
		if r.KeyID != k.id || r.Provider != provider || r.UpstreamModel != model || r.RequestedModel != qualified ||
			r.InputTokens != want.In || r.OutputTokens != want.Out || r.Estimated || r.Status != http.StatusOK ||
			r.ErrorType != "" || r.Attempts != 1 || math.Abs(r.CostUSD-cost(want)) > 1e-9 {
			t.Errorf("record of %s: %+v; want key %s, %s, %d+%d tokens, $%g, status 200, one attempt",
				o, r, k.id, qualified, want.In, want.Out, cost(want))
		}
	}
	var lost []string
	for id := range completed {
		switch seen[id] {
		case 0:
			lost = append(lost, id)
		case 1:
		default:
			t.Errorf("request %s has %d records", id, seen[id])
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d completed requests have no usage record: %v", len(lost), slices.Sorted(slices.Values(lost)))
	}
	if len(recs) != len(completed) {
		t.Errorf("%d usage records for %d completed requests", len(recs), len(completed))
	}
}
