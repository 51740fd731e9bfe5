package usage_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/goleak"

	"github.com/llmux/llmux/internal/store"
	"github.com/llmux/llmux/internal/usage"
)

// TestWriterBatches: many Adds become few InsertUsage calls of BatchSize,
// written as soon as a batch is full (no Flush, no interval).
func TestWriterBatches(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		cs := &countingStore{UsageStore: st}
		w := usage.NewWriter(cs, usage.WriterOptions{BatchSize: 100, FlushInterval: time.Hour, Logger: quietLogger})
		t0 := time.Now()
		for i := range 1000 {
			w.Add(rec(i, t0))
		}
		eventually(t, "ten full batches", func() bool { return w.Stats().Written == 1000 })
		if got := cs.calls.Load(); got != 10 {
			t.Errorf("InsertUsage calls = %d (sizes %v), want 10 batches of 100", got, cs.sizes)
		}
		if err := w.Close(ctxTimeout(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
		if n := len(stored(t, st)); n != 1000 {
			t.Fatalf("stored %d records, want 1000", n)
		}
		if s := w.Stats(); s.Batches != 10 || s.Pending != 0 || s.FailedBatches != 0 {
			t.Errorf("stats = %+v", s)
		}
	})
}

// TestWriterFlushesOnInterval: a record that never fills a batch is written
// within FlushInterval, without Flush or Close.
func TestWriterFlushesOnInterval(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		w := usage.NewWriter(st, usage.WriterOptions{BatchSize: 500, FlushInterval: 50 * time.Millisecond, Logger: quietLogger})
		defer w.Close(ctxTimeout(t, 10*time.Second))
		start := time.Now()
		for i := range 3 {
			w.Add(rec(i, start))
		}
		eventually(t, "the interval flush", func() bool { return len(stored(t, st)) == 3 })
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("records took %v to be written with a 50ms interval", d)
		}
	})
}

// TestWriterKeepsOrder: records are stored in the order they were added,
// across batches and Flush calls.
func TestWriterKeepsOrder(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		w := usage.NewWriter(st, usage.WriterOptions{BatchSize: 37, FlushInterval: 5 * time.Millisecond, Logger: quietLogger})
		t0 := time.Now()
		for i := range 1000 {
			w.Add(rec(i, t0.Add(time.Duration(i)*time.Microsecond)))
			if i%250 == 0 {
				if err := w.Flush(ctxTimeout(t, 10*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.Flush(ctxTimeout(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
		got := stored(t, st)
		if len(got) != 1000 {
			t.Fatalf("after Flush %d records stored, want 1000", len(got))
		}
		checkOrdered(t, got)
		if err := w.Close(ctxTimeout(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
	})
}

// TestWriterCloseRacingAdds: Close writes everything added before it, while
// adders race it; what comes after Close is rejected and counted, never
// lost silently and never a panic.
func TestWriterCloseRacingAdds(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		w := usage.NewWriter(st, usage.WriterOptions{BatchSize: 64, FlushInterval: 20 * time.Millisecond, Logger: quietLogger})
		const adders, most = 8, 5000
		var (
			wg      sync.WaitGroup
			added   atomic.Int64
			closed  atomic.Bool
			started = make(chan struct{}, adders)
		)
		t0 := time.Now()
		for a := range adders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Add until Close has returned: before, during and after it.
				for i := 0; i < most && !closed.Load(); i++ {
					w.Add(rec(a*most+i, t0))
					added.Add(1)
					if i == 100 {
						started <- struct{}{}
					}
					if i%4 == 0 {
						time.Sleep(time.Microsecond) // a request rate, not a tight loop
					}
				}
			}()
		}
		for range adders {
			<-started
		}
		err := w.Close(ctxTimeout(t, 60*time.Second))
		closed.Store(true)
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		s := w.Stats()
		rows := int64(len(stored(t, st)))
		if rows+s.Rejected != added.Load() || rows != s.Written {
			t.Fatalf("stored %d + rejected %d != added %d (stats %+v)", rows, s.Rejected, added.Load(), s)
		}
		if s.Pending != 0 || s.Dropped != 0 || rows == 0 {
			t.Fatalf("stats after Close = %+v", s)
		}
		t.Logf("stored %d, rejected after Close %d", rows, s.Rejected)
	})
}

// TestWriterStoreRecovers: a store that fails several times and then
// recovers loses nothing, and the order holds.
func TestWriterStoreRecovers(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		fs := &flakyStore{UsageStore: st, failFirst: 6}
		logs := &logBuffer{}
		w := usage.NewWriter(fs, usage.WriterOptions{BatchSize: 50, FlushInterval: 5 * time.Millisecond,
			RetryBackoff: time.Millisecond, MaxRetryBackoff: 4 * time.Millisecond, Logger: newLogger(logs)})
		t0 := time.Now()
		for i := range 600 {
			w.Add(rec(i, t0))
		}
		if err := w.Close(ctxTimeout(t, 30*time.Second)); err != nil {
			t.Fatal(err)
		}
		got := stored(t, st)
		if len(got) != 600 {
			t.Fatalf("stored %d records, want 600", len(got))
		}
		checkOrdered(t, got)
		if s := w.Stats(); s.FailedBatches != 6 || s.Written != 600 {
			t.Errorf("stats = %+v, want 6 failed batches and 600 written", s)
		}
		if !strings.Contains(logs.String(), "retrying") {
			t.Errorf("no retry logged:\n%s", logs)
		}
	})
}

// TestWriterCloseGivesUp: with the store down, Close retries until its
// context ends and says how many records it could not write.
func TestWriterCloseGivesUp(t *testing.T) {
	st := openSQLite(t)
	fs := &flakyStore{UsageStore: st}
	fs.down.Store(true)
	w := usage.NewWriter(fs, usage.WriterOptions{BatchSize: 10, RetryBackoff: time.Millisecond, Logger: quietLogger})
	for i := range 25 {
		w.Add(rec(i, time.Now()))
	}
	err := w.Close(ctxTimeout(t, 200*time.Millisecond))
	if err == nil || !strings.Contains(err.Error(), "25 records could not be written") || !errors.Is(err, errUnreachable) {
		t.Fatalf("Close = %v, want 25 records not written, wrapping the store's error", err)
	}
	if s := w.Stats(); s.Pending != 25 || s.FailedBatches < 2 {
		t.Fatalf("stats = %+v", s)
	}
	// A later Close, with the database back, writes them.
	fs.down.Store(false)
	if err := w.Close(ctxTimeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := len(stored(t, st)); n != 25 {
		t.Fatalf("stored %d, want 25", n)
	}
}

// TestWriterFlushWaitsForStore: Flush returns only once records are
// stored; while the store is down it returns the context's error.
func TestWriterFlushWaitsForStore(t *testing.T) {
	st := openSQLite(t)
	fs := &flakyStore{UsageStore: st}
	fs.down.Store(true)
	w := usage.NewWriter(fs, usage.WriterOptions{RetryBackoff: time.Millisecond, MaxRetryBackoff: 2 * time.Millisecond,
		Logger: quietLogger})
	defer w.Close(ctxTimeout(t, 10*time.Second))
	w.Add(rec(1, time.Now()))
	err := w.Flush(ctxTimeout(t, 100*time.Millisecond))
	if err == nil || !strings.Contains(err.Error(), "1 records not yet written") {
		t.Fatalf("Flush with the store down = %v", err)
	}
	fs.down.Store(false)
	if err := w.Flush(ctxTimeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := len(stored(t, st)); n != 1 {
		t.Fatalf("stored %d after Flush, want 1", n)
	}
}

// TestWriterInvalidRecordsDroppedAlone: a record failing Validate, or one
// the store refuses as invalid, is dropped and counted; the rest of its
// batch is written, in order, and the queue moves on.
func TestWriterInvalidRecordsDroppedAlone(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		ps := &poisonStore{UsageStore: st}
		logs := &logBuffer{}
		w := usage.NewWriter(ps, usage.WriterOptions{BatchSize: 40, FlushInterval: 5 * time.Millisecond, Logger: newLogger(logs)})
		t0 := time.Now()
		var want []string
		for i := range 200 {
			r := rec(i, t0)
			switch {
			case i%50 == 7:
				r.Time = time.Time{} // fails Validate
			case i%50 == 23:
				r.KeyID = "poison" // refused by the store
			default:
				want = append(want, r.RequestID)
			}
			w.Add(r)
		}
		if err := w.Close(ctxTimeout(t, 30*time.Second)); err != nil {
			t.Fatal(err)
		}
		got := requestIDs(stored(t, st))
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("stored %d records, want the %d valid ones in order", len(got), len(want))
		}
		if s := w.Stats(); s.Invalid != 8 || s.Written != int64(len(want)) || s.FailedBatches != 0 {
			t.Errorf("stats = %+v, want 8 invalid", s)
		}
		if l := logs.String(); !strings.Contains(l, "req-000023") || !strings.Contains(l, "req-000007") {
			t.Errorf("dropped records not named in the log:\n%s", l)
		}
	})
}

// TestWriterMaxPendingDropsOldest: while the store is down, at most
// MaxPending records wait; the oldest queued are dropped, counted and
// logged, and the newest are written once the store is back.
func TestWriterMaxPendingDropsOldest(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		fs := &flakyStore{UsageStore: st}
		fs.down.Store(true)
		logs := &logBuffer{}
		w := usage.NewWriter(fs, usage.WriterOptions{BatchSize: 10, MaxPending: 100, FlushInterval: 5 * time.Millisecond,
			RetryBackoff: time.Millisecond, MaxRetryBackoff: 2 * time.Millisecond, Logger: newLogger(logs)})
		t0 := time.Now()
		for i := range 1000 {
			w.Add(rec(i, t0))
			if i == 50 { // let the loop take a batch and fail on it
				eventually(t, "a failed write", func() bool { return fs.calls.Load() > 0 })
			}
		}
		if s := w.Stats(); s.Pending != 100 || s.Dropped != 900 {
			t.Fatalf("stats with the store down = %+v, want 100 pending and 900 dropped", s)
		}
		eventually(t, "the drop logged", func() bool { return strings.Contains(logs.String(), "level=ERROR msg=\"usage: records dropped") })
		fs.down.Store(false)
		if err := w.Close(ctxTimeout(t, 30*time.Second)); err != nil {
			t.Fatal(err)
		}
		got := stored(t, st)
		if len(got) != 100 {
			t.Fatalf("stored %d, want 100", len(got))
		}
		checkOrdered(t, got)
		// The newest 90 are there; the batch that was being written when the
		// queue overflowed (the oldest records, at most 10) is kept too.
		ids := requestIDs(got)
		for i := 910; i < 1000; i++ {
			if id := fmt.Sprintf("req-%06d", i); !strings.Contains(strings.Join(ids, ","), id) {
				t.Fatalf("newest record %s was dropped", id)
			}
		}
	})
}

// TestWriterContent: without LogContent, prompts and completions never reach
// the store; with it, they are capped at a UTF-8 boundary with a marker.
func TestWriterContent(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		r := rec(1, time.Now())
		r.Prompt, r.Completion = "secret prompt", "secret completion"
		off := usage.NewWriter(st, usage.WriterOptions{Logger: quietLogger})
		off.Add(r)
		if err := off.Close(ctxTimeout(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}

		huge := strings.Repeat("é", 600_000) // 1.2 MB, two bytes a rune
		r = rec(2, time.Now())
		r.Prompt, r.Completion = huge, "short answer"
		on := usage.NewWriter(st, usage.WriterOptions{LogContent: true, Logger: quietLogger}) // 64 KiB each
		on.Add(r)
		if err := on.Close(ctxTimeout(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}

		got := stored(t, st)
		if len(got) != 2 {
			t.Fatalf("stored %d, want 2", len(got))
		}
		if got[0].Prompt != "" || got[0].Completion != "" {
			t.Errorf("LogContent off stored %q / %q", got[0].Prompt, got[0].Completion)
		}
		p := got[1].Prompt
		if len(p) > 64<<10 || len(p) < 60<<10 {
			t.Errorf("capped prompt is %d bytes, want just under 64 KiB", len(p))
		}
		if !utf8.ValidString(p) || strings.ContainsRune(p, utf8.RuneError) {
			t.Errorf("capped prompt was cut inside a rune")
		}
		if !strings.HasPrefix(p, "éé") || !strings.HasSuffix(p, "[… truncated by llmux: 1200000 bytes in all]") {
			t.Errorf("capped prompt ends %q", p[max(len(p)-60, 0):])
		}
		if got[1].Completion != "short answer" {
			t.Errorf("completion = %q", got[1].Completion)
		}
	})
}

// TestWriterAfterClose: Add after Close does not panic or block; the record
// is counted as rejected and logged once. Flush after Close reports what is
// left.
func TestWriterAfterClose(t *testing.T) {
	ns := &nullStore{}
	logs := &logBuffer{}
	w := usage.NewWriter(ns, usage.WriterOptions{Logger: newLogger(logs)})
	w.Add(rec(1, time.Now()))
	if err := w.Close(ctxTimeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		w.Add(rec(i, time.Now()))
	}
	if s := w.Stats(); s.Rejected != 3 || s.Written != 1 || s.Pending != 0 {
		t.Fatalf("stats = %+v", s)
	}
	if n := strings.Count(logs.String(), "after the writer closed"); n != 1 {
		t.Errorf("rejection logged %d times, want once:\n%s", n, logs)
	}
	if err := w.Flush(ctxTimeout(t, time.Second)); err != nil {
		t.Errorf("Flush after a clean Close = %v", err)
	}
	if err := w.Close(ctxTimeout(t, time.Second)); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

// TestWriterCloseStopsLoop: the writer's goroutine ends with Close.
func TestWriterCloseStopsLoop(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	w := usage.NewWriter(&nullStore{}, usage.WriterOptions{FlushInterval: time.Millisecond, Logger: quietLogger})
	w.Add(rec(1, time.Now()))
	if err := w.Close(ctxTimeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
}
