package usage

import (
	"context"
	"errors"
	"time"

	"github.com/llmux/llmux/internal/store"
)

// run is the background loop: it writes a batch when one is full, when
// FlushInterval has passed or when Flush asks, and retries a failed batch
// with backoff before anything newer. It returns when Close closes stop,
// leaving any batch it holds in w.cur for Close to write.
func (w *Writer) run(ctx context.Context) {
	defer close(w.done)
	tick := time.NewTicker(w.opt.FlushInterval)
	defer tick.Stop()
	var reported int64 // drops logged so far
	onTick := func() {
		w.mu.Lock()
		w.flushTo = max(w.flushTo, w.qSeq+int64(w.queued)) // all that waits now is due
		w.mu.Unlock()
		reported = w.reportDrops(reported)
	}
	backoff, failures := w.opt.RetryBackoff, 0
	for {
		if w.cur != nil || w.take(false) {
			err := w.writeBatch(ctx)
			if err == nil {
				if failures > 0 {
					w.log.Info("usage: the store accepts records again", "failed_attempts", failures)
					backoff, failures = w.opt.RetryBackoff, 0
				}
				continue
			}
			failures++
			w.log.Warn("usage: writing records failed; retrying", "attempt", failures,
				"pending", w.Stats().Pending, "retry_in", backoff, "err", err)
			t := time.NewTimer(backoff)
		wait:
			for {
				select {
				case <-w.stop:
					t.Stop()
					return
				case <-tick.C:
					onTick()
				case <-t.C:
					break wait
				}
			}
			backoff = min(2*backoff, w.opt.MaxRetryBackoff)
			continue
		}
		select {
		case <-w.stop:
			return
		case <-w.wake:
		case <-tick.C:
			onTick()
		}
	}
}

// take moves the first chunk of the queue to w.cur, if it is due: full,
// holding records that Flush or the interval asked for, or with force
// anything queued. Records failing Validate are dropped here. It reports
// whether it took a chunk.
func (w *Writer) take(force bool) bool {
	w.mu.Lock()
	if w.queued == 0 {
		w.mu.Unlock()
		return false
	}
	c := w.chunks[w.ch]
	if !force && w.qSeq >= w.flushTo && len(c.recs) < w.opt.BatchSize {
		w.mu.Unlock()
		return false
	}
	w.popLocked()
	k := len(c.recs) - c.off
	w.flightSeq = w.qSeq
	w.qSeq += int64(k)
	w.queued -= k
	w.held = k
	w.mu.Unlock()

	// The chunk is the caller's now: check it outside the lock.
	live := c.recs[c.off:]
	kept := 0
	var firstErr error
	var firstID string
	for i := range live {
		if err := live[i].Validate(); err != nil {
			if firstErr == nil {
				firstErr, firstID = err, live[i].RequestID
			}
			continue
		}
		if kept != i {
			live[kept] = live[i]
		}
		kept++
	}
	if invalid := len(live) - kept; invalid > 0 {
		clear(live[kept:])
		c.recs = c.recs[:c.off+kept]
		w.invalid.Add(int64(invalid))
		w.log.Error("usage: invalid records dropped", "records", invalid, "first_request_id", firstID, "err", firstErr)
		w.mu.Lock()
		w.held -= invalid
		w.notifyLocked()
		w.mu.Unlock()
	}
	w.cur = c
	return true
}

// writeBatch writes w.cur, keeping what could not be written (a transient
// failure) for the next attempt.
func (w *Writer) writeBatch(ctx context.Context) error {
	c := w.cur
	if c == nil {
		return nil
	}
	var err error
	if live := c.recs[c.off:]; len(live) > 0 {
		var n int
		n, err = w.insert(ctx, live)
		clear(live[:n])
		c.off += n
	}
	left := len(c.recs) - c.off
	if left == 0 {
		w.cur = nil
	}
	w.mu.Lock()
	w.held = left
	if left == 0 {
		w.recycleLocked(c)
	}
	w.notifyLocked()
	w.mu.Unlock()
	return err
}

// insert writes recs in order and returns how many leading records are
// done with (written, or dropped as invalid) and the error that stopped it.
// A batch the store refuses as invalid is split in halves until the invalid
// records stand alone, so that one bad record costs only itself.
func (w *Writer) insert(ctx context.Context, recs []store.UsageRecord) (int, error) {
	cctx, cancel := context.WithTimeout(ctx, w.opt.WriteTimeout)
	err := w.st.InsertUsage(cctx, recs)
	cancel()
	switch {
	case err == nil:
		w.batches.Add(1)
		w.written.Add(int64(len(recs)))
		return len(recs), nil
	case !errors.Is(err, store.ErrInvalid):
		w.failed.Add(1)
		return 0, err
	case len(recs) == 1:
		w.invalid.Add(1)
		w.log.Error("usage: the store refused a record as invalid; it is dropped",
			"request_id", recs[0].RequestID, "err", err)
		return 1, nil
	}
	mid := len(recs) / 2
	n, err := w.insert(ctx, recs[:mid])
	if err != nil {
		return n, err
	}
	m, err := w.insert(ctx, recs[mid:])
	return mid + m, err
}

// reportDrops logs the records dropped since the last report (reported
// of them) and returns the new total.
func (w *Writer) reportDrops(reported int64) int64 {
	d := w.dropped.Load()
	if d > reported {
		w.log.Error("usage: records dropped: too many waiting for the store",
			"dropped", d-reported, "dropped_total", d, "max_pending", w.opt.MaxPending, "pending", w.Stats().Pending)
	}
	return d
}
