package usage_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/store"
	"github.com/llmux/llmux/internal/usage"
)

// TestRunRetention: records older than keep go, newer ones stay, the run
// is logged, and cancelling the context stops it.
func TestRunRetention(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		now := time.Now()
		var recs []store.UsageRecord
		for i := range 30 {
			at := now.Add(-time.Hour)
			if i%3 == 0 {
				at = now.Add(-48 * time.Hour)
			}
			recs = append(recs, rec(i, at))
		}
		if err := st.InsertUsage(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
		logs := &logBuffer{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			usage.RunRetention(ctx, st, 24*time.Hour, 20*time.Millisecond, newLogger(logs))
		}()
		eventually(t, "old records deleted", func() bool { return len(stored(t, st)) == 20 })
		eventually(t, "the deletion logged", func() bool { return strings.Contains(logs.String(), "deleted=10") })
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("RunRetention did not return after its context ended")
		}
		for _, r := range stored(t, st) {
			if r.Time.Before(now.Add(-24 * time.Hour)) {
				t.Errorf("record %s of %v survived", r.RequestID, r.Time)
			}
		}
	})
}

// TestRunRetentionKeepForever: keep <= 0 returns at once (without touching
// the store, here nil).
func TestRunRetentionKeepForever(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		usage.RunRetention(context.Background(), nil, 0, time.Millisecond, nil)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RunRetention with keep 0 did not return")
	}
}
