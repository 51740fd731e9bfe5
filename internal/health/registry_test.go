package health

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestRegistrySameKeysSameProvider(t *testing.T) {
	r := NewRegistry(Policy{})
	a := r.Provider("openai", []string{"fp1", "fp2"})
	if b := r.Provider("openai", []string{"fp1", "fp2"}); b != a {
		t.Fatal("same fingerprints gave a new Provider")
	}
	if got, ok := r.Get("openai"); !ok || got != a {
		t.Fatal("Get does not find it")
	}
	if _, ok := r.Get("claude"); ok {
		t.Fatal("Get finds an unknown provider")
	}
	if a.ID != "openai" || a.Pool.Len() != 2 || !slices.Equal(a.Fingerprints(), []string{"fp1", "fp2"}) {
		t.Fatalf("%+v", a)
	}
}

// TestRegistryReload: after a reload the breaker and the state of the keys
// that stayed are kept (whatever their new position), new keys start fresh,
// and removed keys are forgotten.
func TestRegistryReload(t *testing.T) {
	r := NewRegistry(Policy{FailureThreshold: 1})
	old := r.Provider("openai", []string{"fpA", "fpB", "fpC"})
	old.Breaker.Report(t0, Failure, false)
	old.Pool.Report(0, t0, AuthFailed, 0)
	old.Pool.Report(1, t0, RateLimited, 30*time.Second)
	old.Pool.Report(2, t0, Success, 0)

	p := r.Provider("openai", []string{"fpB", "fpD", "fpA"})
	if p == old || p.Breaker != old.Breaker {
		t.Fatal("reload: want a new Provider sharing the breaker")
	}
	if s := p.Breaker.Snapshot(t0); s.State != "open" {
		t.Fatalf("breaker lost its state: %+v", s)
	}
	keys := p.Pool.Snapshot(t0)
	want := []struct {
		fp, state string
	}{{"fpB", "cooling_down"}, {"fpD", "ok"}, {"fpA", "disabled"}}
	for i, w := range want {
		if keys[i].Fingerprint != w.fp || keys[i].State != w.state || keys[i].Index != i {
			t.Errorf("key %d: %+v, want %s %s", i, keys[i], w.fp, w.state)
		}
	}
	if !keys[0].Until.Equal(at(30*time.Second)) || keys[0].RateLimits != 1 || keys[1].LastOutcome != "" {
		t.Errorf("state not carried exactly: %+v", keys)
	}
	if got := picks(p.Pool, at(time.Second), 2); !slices.Equal(got, []int{1, 1}) {
		t.Errorf("picks %v: only the new key is available", got)
	}

	// fpC was removed: coming back, it starts fresh.
	q := r.Provider("openai", []string{"fpA", "fpC"})
	if s := q.Pool.Snapshot(t0); s[0].State != "disabled" || s[1].Successes != 0 || s[1].LastOutcome != "" {
		t.Fatalf("%+v", s)
	}
}

func TestRegistryDuplicateFingerprints(t *testing.T) {
	r := NewRegistry(Policy{})
	p := r.Provider("x", []string{"fp", "fp"})
	p.Pool.Report(1, t0, AuthFailed, 0)
	q := r.Provider("x", []string{"fp", "fp", "fp"})
	s := q.Pool.Snapshot(t0)
	if s[0].State != "ok" || s[1].State != "disabled" || s[2].State != "ok" {
		t.Fatalf("%+v", s)
	}
}

func TestRegistryRetain(t *testing.T) {
	r := NewRegistry(Policy{FailureThreshold: 1})
	for _, id := range []string{"a", "b", "c"} {
		r.Provider(id, []string{"k"}).Breaker.Report(t0, Failure, false)
	}
	r.Retain([]string{"c", "a", "z"})
	var ids []string
	for _, s := range r.Snapshot(t0) {
		ids = append(ids, s.ID)
	}
	if !slices.Equal(ids, []string{"a", "c"}) {
		t.Fatalf("after Retain: %v", ids)
	}
	if s := r.Provider("b", []string{"k"}).Breaker.Snapshot(t0); s.State != "closed" || s.Opens != 0 {
		t.Fatalf("a forgotten provider came back with state: %+v", s)
	}
}

// TestRegistrySnapshotJSON pins the body of GET /admin/api/health.
func TestRegistrySnapshotJSON(t *testing.T) {
	r := NewRegistry(Policy{FailureThreshold: 1})
	openai := r.Provider("openai", []string{"sha256:1f2e3d4c", "sha256:aabbccdd"})
	openai.Pool.Report(0, t0, Success, 0)
	openai.Pool.Report(1, t0, RateLimited, 20*time.Second)
	claude := r.Provider("claude", []string{"sha256:99887766"})
	claude.Breaker.Report(t0, Failure, false)
	claude.Pool.Report(0, t0, AuthFailed, 0)

	got, err := json.MarshalIndent(r.Snapshot(at(time.Second)), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	const want = `[
  {
    "id": "claude",
    "breaker": {
      "state": "open",
      "consecutive_failures": 1,
      "open_until": "2025-08-21T12:41:30Z",
      "opens": 1
    },
    "keys": [
      {
        "index": 0,
        "fingerprint": "sha256:99887766",
        "state": "disabled",
        "until": "2025-08-21T12:42:00Z",
        "last_outcome": "auth_failed",
        "consecutive_limits": 0,
        "consecutive_auth_failures": 1,
        "successes": 0,
        "rate_limits": 0,
        "auth_failures": 1,
        "failures": 0
      }
    ]
  },
  {
    "id": "openai",
    "breaker": {
      "state": "closed",
      "consecutive_failures": 0,
      "opens": 0
    },
    "keys": [
      {
        "index": 0,
        "fingerprint": "sha256:1f2e3d4c",
        "state": "ok",
        "last_outcome": "success",
        "consecutive_limits": 0,
        "consecutive_auth_failures": 0,
        "successes": 1,
        "rate_limits": 0,
        "auth_failures": 0,
        "failures": 0
      },
      {
        "index": 1,
        "fingerprint": "sha256:aabbccdd",
        "state": "cooling_down",
        "until": "2025-08-21T12:41:20Z",
        "last_outcome": "rate_limited",
        "last_limited": "2025-08-21T12:41:00Z",
        "consecutive_limits": 1,
        "consecutive_auth_failures": 0,
        "successes": 0,
        "rate_limits": 1,
        "auth_failures": 0,
        "failures": 0
      }
    ]
  }
]`
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}
