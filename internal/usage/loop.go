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
// leaving any batch it holds in w.batch for Close to write.
func (w *Writer) run(ctx context.Context) {
	defer close(w.done)
	tick := time.NewTicker(w.opt.FlushInterval)
	defer tick.Stop()
	var reported int64 // drops logged so far
	onTick := func() {
		w.mu.Lock()
		w.flushTo = max(w.flushTo, w.qSeq+int64(len(w.q)-w.head)) // all that waits now is due
		w.mu.Unlock()
		reported = w.reportDrops(reported)
	}
	backoff, failures := w.opt.RetryBackoff, 0
	for {
		if len(w.batch) > 0 || w.take(false) {
			err := w.writeBatch(ctx)
			if err == nil {
				if failures > 0 {
					w.log.Info("usage: the store accepts records again", "failed_attempts", failures)
					backoff, failures = w.opt.RetryBackoff, 0
				}
				continue
			}
			failures++
			w.log.Warn("usage: writing records failed; retrying", "records", len(w.batch), "attempt", failures,
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

// take moves the next batch from the queue to w.batch, if one is due: a
// full batch, records that Flush or the interval asked for, or with force
// anything queued. Records failing Validate are dropped here. It reports
// whether it took any record.
func (w *Writer) take(force bool) bool {
	var invalid int
	var firstErr error
	var firstID string
	w.mu.Lock()
	queued := len(w.q) - w.head
	if queued == 0 || !(force || queued >= w.opt.BatchSize || w.qSeq < w.flushTo) {
		w.mu.Unlock()
		return false
	}
	n := min(queued, w.opt.BatchSize)
	taken := w.q[w.head : w.head+n]
	for i := range taken {
		if err := taken[i].Validate(); err != nil {
			if invalid == 0 {
				firstErr, firstID = err, taken[i].RequestID
			}
			invalid++
			continue
		}
		w.batch = append(w.batch, taken[i])
	}
	clear(taken)
	w.flightSeq = w.qSeq
	w.head += n
	w.qSeq += int64(n)
	w.held = len(w.batch)
	w.compactLocked()
	if w.held == 0 {
		w.notifyLocked()
	}
	w.mu.Unlock()
	if invalid > 0 {
		w.invalid.Add(int64(invalid))
		w.log.Error("usage: invalid records dropped", "records", invalid, "first_request_id", firstID, "err", firstErr)
	}
	return true
}

// writeBatch writes w.batch, keeping what could not be written (a
// transient failure) for the next attempt.
func (w *Writer) writeBatch(ctx context.Context) error {
	if len(w.batch) == 0 {
		return nil
	}
	n, err := w.insert(ctx, w.batch)
	left := copy(w.batch, w.batch[n:])
	clear(w.batch[left:])
	w.batch = w.batch[:left]
	w.mu.Lock()
	w.held = left
	if left == 0 {
		w.notifyLocked()
	}
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
