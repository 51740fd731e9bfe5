package multi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// pollEvery is how often the tests below ask whether a change has arrived.
const pollEvery = 20 * time.Millisecond

// untilAll asks every instance in nodes, each on its own goroutine, until
// done(outcome) says the change has arrived or limit has passed, and returns
// per instance how long that took after since (-1 if it never did) and the
// last outcome.
func (c *cluster) untilAll(nodes []int, since time.Time, limit time.Duration, ask func(node, try int) outcome,
	done func(outcome) bool) ([]time.Duration, []outcome) {
	took := make([]time.Duration, len(nodes))
	last := make([]outcome, len(nodes))
	var wg sync.WaitGroup
	for i, node := range nodes {
		wg.Go(func() {
			took[i] = -1
			for try := 0; ; try++ {
				last[i] = ask(node, try)
				if done(last[i]) {
					took[i] = time.Since(since)
					return
				}
				if time.Since(since) > limit {
					return
				}
				time.Sleep(pollEvery)
			}
		})
	}
	wg.Wait()
	return took, last
}

// TestRevocationReachesEveryInstance: a key revoked through one instance
// is refused by every instance within a second, and the other keys keep
// working.
func TestRevocationReachesEveryInstance(t *testing.T) {
	fx := loadFixtures(t)
	c := startCluster(t, newUpstream(t, fx), options{})
	victim := c.createKey(t, map[string]any{"name": "victim"})
	bystander := c.createKey(t, map[string]any{"name": "bystander"})
	all := []int{0, 1, 2}
	ctx := context.Background()
	// Used on every instance first, so that each has the key cached.
	for _, node := range all {
		for _, k := range []vkey{victim, bystander} {
			if o := c.chat(ctx, node, k.secret, qualified, false, fmt.Sprintf("before-%s-%d", k.id, node)); !o.ok() {
				t.Fatalf("%s: want 200 before the revocation", o)
			}
		}
	}

	status, b := c.admin(t, 0, http.MethodDelete, "/admin/api/keys/"+victim.id, nil)
	revoked := time.Now()
	var view struct {
		RevokedAt *time.Time `json:"revoked_at"`
	}
	if err := json.Unmarshal(b, &view); status != http.StatusOK || err != nil || view.RevokedAt == nil {
		t.Fatalf("DELETE /admin/api/keys/%s: %d %s (%v)", victim.id, status, b, err)
	}
	const limit = time.Second
	took, last := c.untilAll(all, revoked, 5*time.Second, func(node, try int) outcome {
		return c.chat(ctx, node, victim.secret, qualified, false, fmt.Sprintf("after-%d-%d", node, try))
	}, func(o outcome) bool { return o.status == http.StatusUnauthorized })
	t.Logf("after the revocation on instance 1, the key was refused after %v (instances 1, 2, 3)", took)
	for i, d := range took {
		o := last[i]
		switch {
		case d < 0:
			t.Errorf("instance %d still accepts the revoked key after 5s: %s", i+1, o)
		case d > limit:
			t.Errorf("instance %d refused the revoked key only after %s, want within %s", i+1, d, limit)
		case o.apiErr == nil || o.apiErr.Code != "invalid_api_key":
			t.Errorf("%s: want the code invalid_api_key", o)
		}
	}
	// For good, and only that key.
	for _, node := range all {
		if o := c.chat(ctx, node, victim.secret, qualified, false, fmt.Sprintf("later-%d", node)); o.status != http.StatusUnauthorized {
			t.Errorf("%s: want 401 once revoked", o)
		}
		if o := c.chat(ctx, node, bystander.secret, qualified, false, fmt.Sprintf("bystander-%d", node)); !o.ok() {
			t.Errorf("%s: the other key must keep working", o)
		}
	}
}

// TestRouteChangeReachesEveryInstance: a route set through the admin API
// of one instance is served by the others within two seconds.
func TestRouteChangeReachesEveryInstance(t *testing.T) {
	fx := loadFixtures(t)
	c := startCluster(t, newUpstream(t, fx), options{})
	k := c.createKey(t, map[string]any{"name": "routes"})
	ctx := context.Background()
	const route = "fast"
	ask := func(node, try int) outcome {
		return c.chat(ctx, node, k.secret, route, false, fmt.Sprintf("route-%d-%d", node, try))
	}
	for node := range instances {
		if o := ask(node, -1); o.status != http.StatusNotFound {
			t.Fatalf("%s: want 404 for the model %q before the route exists", o, route)
		}
	}

	status, b := c.admin(t, 1, http.MethodPut, "/admin/api/routes/"+route,
		map[string]any{"targets": []map[string]any{{"model": qualified}}})
	changed := time.Now()
	if status != http.StatusOK {
		t.Fatalf("PUT /admin/api/routes/%s on instance 2: %d %s", route, status, b)
	}
	if o := ask(1, 0); !o.ok() {
		t.Fatalf("%s: the instance that took the change must serve the route at once", o)
	}
	const limit = 2 * time.Second
	others := []int{0, 2}
	took, last := c.untilAll(others, changed, 10*time.Second, ask, outcome.ok)
	t.Logf("after the change on instance 2, instances 1 and 3 served the route after %v", took)
	for i, d := range took {
		node, o := others[i], last[i]
		switch {
		case d < 0:
			t.Errorf("instance %d does not serve the route 10s after it was set on instance 2: %s", node+1, o)
		case d > limit:
			t.Errorf("instance %d served the route only after %s, want within %s", node+1, d, limit)
		case o.header.Get("X-Llmux-Provider") != provider || o.header.Get("X-Llmux-Model") != model:
			t.Errorf("%s: served by %q/%q, want %s", o, o.header.Get("X-Llmux-Provider"), o.header.Get("X-Llmux-Model"), qualified)
		}
		status, b := c.admin(t, node, http.MethodGet, "/admin/api/routes/"+route, nil)
		var obj struct{ Source string }
		if err := json.Unmarshal(b, &obj); status != http.StatusOK || err != nil || obj.Source != "admin_api" {
			t.Errorf("GET /admin/api/routes/%s on instance %d: %d %s, want it from the admin API", route, node+1, status, b)
		}
	}
}
