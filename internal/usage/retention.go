package usage

import (
	"context"
	"log/slog"
	"time"

	"github.com/llmux/llmux/internal/store"
)

// RetentionFirstRun is how long after start RunRetention first deletes, at
// most (sooner when every is shorter): soon enough that a restarted instance
// catches up, late enough not to compete with startup.
const RetentionFirstRun = 30 * time.Second

// RunRetention deletes the usage records older than keep, first shortly
// after it starts and then every every (1h when every <= 0), until ctx
// ends; it returns at once when keep <= 0 (keep forever). Each run logs how
// many records it deleted; a failed run is logged and retried at the next.
// Run it on a goroutine the server owns and cancels at shutdown.
func RunRetention(ctx context.Context, st store.UsageStore, keep, every time.Duration, log *slog.Logger) {
	if keep <= 0 {
		return
	}
	if every <= 0 {
		every = time.Hour
	}
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTimer(min(every, RetentionFirstRun))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		before := time.Now().Add(-keep)
		start := time.Now()
		n, err := st.DeleteUsageBefore(ctx, before)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			log.Error("usage: retention: deleting old records failed", "before", before.UTC(), "deleted", n, "err", err)
		default:
			log.Info("usage: retention: old records deleted", "before", before.UTC(), "deleted", n,
				"took", time.Since(start).Round(time.Millisecond))
		}
		t.Reset(every)
	}
}
