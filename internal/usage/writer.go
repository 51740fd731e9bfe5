package usage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/llmux/llmux/internal/store"
)

// WriterOptions configure a Writer. Zero fields take the defaults below.
type WriterOptions struct {
	// BatchSize is the most records one InsertUsage call carries; a batch
	// is written as soon as this many are waiting. Default 500.
	BatchSize int
	// FlushInterval is the longest a record waits before its batch is
	// written. Default 1s.
	FlushInterval time.Duration
	// MaxPending is how many records are kept in memory while the store
	// fails. Beyond it the oldest waiting records are dropped (those already
	// handed to the store stay), counted in WriterStats.Dropped and logged
	// at error level once per FlushInterval. Default 1,000,000.
	MaxPending int
	// RetryBackoff is the wait after the first failed write; it doubles
	// with every further failure up to MaxRetryBackoff. Defaults 100ms and 5s.
	RetryBackoff, MaxRetryBackoff time.Duration
	// WriteTimeout bounds one InsertUsage call. Default 30s.
	WriteTimeout time.Duration
	// Logger receives failures, drops and recoveries. Default slog.Default().
	Logger *slog.Logger
	// LogContent keeps Prompt and Completion. When false, Add clears them
	// before queuing, whatever the caller filled in.
	LogContent bool
	// MaxContentBytes caps Prompt and Completion each, when LogContent is
	// on: longer text is cut at a UTF-8 boundary and ends in a marker giving
	// the original length. Default 64 KiB; at least 1 KiB.
	MaxContentBytes int
}

// Defaults of WriterOptions.
const (
	DefaultBatchSize       = 500
	DefaultFlushInterval   = time.Second
	DefaultMaxPending      = 1_000_000
	DefaultRetryBackoff    = 100 * time.Millisecond
	DefaultMaxRetryBackoff = 5 * time.Second
	DefaultWriteTimeout    = 30 * time.Second
	DefaultMaxContentBytes = 64 << 10
)

func (o WriterOptions) withDefaults() WriterOptions {
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = DefaultRetryBackoff
	}
	if o.MaxRetryBackoff <= 0 {
		o.MaxRetryBackoff = DefaultMaxRetryBackoff
	}
	o.MaxRetryBackoff = max(o.MaxRetryBackoff, o.RetryBackoff)
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxContentBytes <= 0 {
		o.MaxContentBytes = DefaultMaxContentBytes
	}
	o.MaxContentBytes = max(o.MaxContentBytes, 1<<10)
	return o
}

// WriterStats are a Writer's counters, for metrics and tests.
type WriterStats struct {
	// Written counts records stored.
	Written int64
	// Pending counts records in memory: queued, being written, or waiting
	// for a retry.
	Pending int
	// Batches counts successful InsertUsage calls.
	Batches int64
	// FailedBatches counts failed InsertUsage calls, each retry included
	// (not those refused as invalid, which are split instead).
	FailedBatches int64
	// Dropped counts records dropped because MaxPending was reached.
	Dropped int64
	// Invalid counts records dropped because they failed Validate or the
	// store refused them with store.ErrInvalid.
	Invalid int64
	// Rejected counts records given to Add after Close, which are not
	// written.
	Rejected int64
}

// ErrClosed is returned by Flush after Close while records are left.
var ErrClosed = errors.New("usage: writer closed")

// Writer writes usage records to a store in batches, off the request path.
// Build it with NewWriter, give it records with Add, and stop it with Close,
// which writes what is left. All methods are safe for concurrent use.
type Writer struct {
	st     store.UsageStore
	opt    WriterOptions
	log    *slog.Logger
	wake   chan struct{}      // capacity 1: a batch is full or a flush is asked for
	stop   chan struct{}      // closed by the first Close
	done   chan struct{}      // closed when the loop has returned
	cancel context.CancelFunc // aborts the loop's write when Close's context ends

	mu sync.Mutex
	// chunks[ch:] is the queue, oldest first: queued records in arrays of
	// BatchSize. Add appends to the last; the loop takes the first whole.
	chunks []*chunk
	ch     int
	queued int
	// qSeq is the sequence number (the count of records added before it) of
	// the oldest queued record.
	qSeq int64
	// held counts the records taken from the queue and not yet resolved
	// (written, or dropped as invalid); flightSeq numbers the first of the
	// batch they came in, until all of it is resolved.
	held      int
	flightSeq int64
	// flushTo asks for every record numbered below it to be written now.
	flushTo int64
	closing bool
	// progress is closed (and cleared) once every record numbered below
	// progressAt is resolved, to wake Flush; nil while nobody waits.
	progress   chan struct{}
	progressAt int64
	// free keeps a few emptied chunks for reuse.
	free []*chunk

	// cur is the chunk taken from the queue and not yet resolved. The loop
	// owns it while it runs, Close (under drainMu) afterwards.
	cur     *chunk
	drainMu sync.Mutex

	written, batches, failed, dropped, invalid, rejected atomic.Int64
	rejectLogged                                         atomic.Bool
}

// chunk is a run of up to BatchSize queued records in one array, so that
// queuing never copies a long slice and taking a batch is popping a
// pointer.
type chunk struct {
	recs []store.UsageRecord
	off  int // recs[:off] are gone (dropped or written) and cleared
}

const (
	// keepFree is how many emptied chunks are kept for reuse.
	keepFree = 4
	// maxChunkAlloc bounds a new chunk's capacity: a large BatchSize grows
	// its chunks as records come instead of allocating them whole.
	maxChunkAlloc = 1024
)

// NewWriter starts a Writer on st. Its background loop runs until Close.
func NewWriter(st store.UsageStore, o WriterOptions) *Writer {
	o = o.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	w := &Writer{
		st:     st,
		opt:    o,
		log:    o.Logger,
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		cancel: cancel,
	}
	go w.run(ctx)
	return w
}

// Add queues r to be written. It never waits for the database: it takes a
// mutex, appends, and at most signals the loop. Without LogContent it
// clears Prompt and Completion; with it, it caps them. When MaxPending
// records are waiting, the oldest queued one is dropped to make room. After
// Close the record is not written: it is counted in WriterStats.Rejected
// and the first one is logged.
func (w *Writer) Add(r store.UsageRecord) {
	if w.opt.LogContent {
		r.Prompt = capContent(r.Prompt, w.opt.MaxContentBytes)
		r.Completion = capContent(r.Completion, w.opt.MaxContentBytes)
	} else {
		r.Prompt, r.Completion = "", ""
	}
	w.mu.Lock()
	if w.closing {
		w.mu.Unlock()
		w.rejected.Add(1)
		if !w.rejectLogged.Swap(true) {
			w.log.Error("usage: a record was added after the writer closed and is not written; later ones are only counted",
				"request_id", r.RequestID)
		}
		return
	}
	if w.queued+w.held >= w.opt.MaxPending {
		w.dropped.Add(1)
		if w.queued == 0 { // all that waits is being written: the new record is the oldest droppable
			w.mu.Unlock()
			return
		}
		w.dropOldestLocked()
	}
	c := w.tailLocked()
	c.recs = append(c.recs, r)
	w.queued++
	full := len(c.recs) == w.opt.BatchSize
	w.mu.Unlock()
	if full {
		w.signal()
	}
}

// Flush writes every record added before it and returns once they are
// stored (or dropped as invalid or for room), or with an error when ctx ends
// first; the records then stay queued. After Close it returns ErrClosed if
// records are left.
func (w *Writer) Flush(ctx context.Context) error {
	w.mu.Lock()
	if w.closing {
		pending := w.queued + w.held
		w.mu.Unlock()
		if pending > 0 {
			return fmt.Errorf("%w with %d records not written", ErrClosed, pending)
		}
		return nil
	}
	target := w.qSeq + int64(w.queued)
	w.flushTo = max(w.flushTo, target)
	w.mu.Unlock()
	w.signal()
	for {
		w.mu.Lock()
		if w.oldestLocked() >= target {
			w.mu.Unlock()
			return nil
		}
		if w.progress == nil {
			w.progress, w.progressAt = make(chan struct{}), target
		}
		w.progressAt = min(w.progressAt, target)
		ch := w.progress
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("usage: flush: %d records not yet written: %w", w.Stats().Pending, ctx.Err())
		}
	}
}

// Close stops the background loop and writes every record still queued,
// retrying failed batches with backoff until ctx ends. It returns nil when
// everything was written, else an error saying how many records were not.
// Records added after Close are not written (see Add). Calling Close again
// retries what is left; a write that ctx cut short may have been committed
// all the same, so such a retry can store its batch twice.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closing {
		w.closing = true
		close(w.stop)
	}
	w.mu.Unlock()
	select {
	case <-w.done:
	case <-ctx.Done():
		w.cancel() // abort the write in progress; its records stay in cur
		<-w.done
	}
	w.cancel()
	w.drainMu.Lock()
	defer w.drainMu.Unlock()
	backoff := w.opt.RetryBackoff
	var lastErr error
	for {
		if w.cur == nil && !w.take(true) {
			return nil
		}
		err := w.writeBatch(ctx)
		if err == nil {
			backoff = w.opt.RetryBackoff
			continue
		}
		lastErr = err
		if ctx.Err() == nil {
			w.log.Warn("usage: writing records on close failed; retrying",
				"pending", w.Stats().Pending, "retry_in", backoff, "err", err)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			n := w.Stats().Pending
			w.log.Error("usage: records lost on close", "records", n, "err", lastErr)
			return fmt.Errorf("usage: %d records could not be written: %w", n, errors.Join(ctx.Err(), lastErr))
		case <-t.C:
		}
		backoff = min(2*backoff, w.opt.MaxRetryBackoff)
	}
}

// Stats returns the counters.
func (w *Writer) Stats() WriterStats {
	w.mu.Lock()
	pending := w.queued + w.held
	w.mu.Unlock()
	return WriterStats{
		Written:       w.written.Load(),
		Pending:       pending,
		Batches:       w.batches.Load(),
		FailedBatches: w.failed.Load(),
		Dropped:       w.dropped.Load(),
		Invalid:       w.invalid.Load(),
		Rejected:      w.rejected.Load(),
	}
}

// signal wakes the loop without blocking.
func (w *Writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// oldestLocked returns the sequence number of the oldest unresolved record
// (the count of records added so far when none is).
func (w *Writer) oldestLocked() int64 {
	if w.held > 0 {
		return w.flightSeq
	}
	return w.qSeq
}

// notifyLocked wakes the Flush calls waiting for progress, once the
// earliest of them can return.
func (w *Writer) notifyLocked() {
	if w.progress != nil && w.oldestLocked() >= w.progressAt {
		close(w.progress)
		w.progress = nil
	}
}

// tailLocked returns the chunk that takes the next record: the last one,
// or a new (reused) one when that is full.
func (w *Writer) tailLocked() *chunk {
	if n := len(w.chunks); n > w.ch {
		if c := w.chunks[n-1]; len(c.recs) < w.opt.BatchSize {
			return c
		}
	}
	var c *chunk
	if n := len(w.free); n > 0 {
		c = w.free[n-1]
		w.free[n-1] = nil
		w.free = w.free[:n-1]
	} else {
		c = &chunk{recs: make([]store.UsageRecord, 0, min(w.opt.BatchSize, maxChunkAlloc))}
	}
	w.chunks = append(w.chunks, c)
	return c
}

// popLocked removes the first chunk of the queue.
func (w *Writer) popLocked() {
	w.chunks[w.ch] = nil
	w.ch++
	switch {
	case w.ch == len(w.chunks):
		w.chunks, w.ch = w.chunks[:0], 0
	case w.ch >= 64 && 2*w.ch >= len(w.chunks): // reclaim the front of a long queue
		n := copy(w.chunks, w.chunks[w.ch:])
		clear(w.chunks[n:])
		w.chunks, w.ch = w.chunks[:n], 0
	}
}

// dropOldestLocked drops the oldest queued record (w.queued > 0).
func (w *Writer) dropOldestLocked() {
	c := w.chunks[w.ch]
	c.recs[c.off] = store.UsageRecord{}
	c.off++
	w.queued--
	w.qSeq++
	if c.off == w.opt.BatchSize { // spent: all of it dropped, and it takes no more
		w.popLocked()
		w.recycleLocked(c)
	}
	w.notifyLocked()
}

// recycleLocked keeps an emptied chunk (its records already cleared) for
// reuse, or lets it go.
func (w *Writer) recycleLocked(c *chunk) {
	c.recs, c.off = c.recs[:0], 0
	if len(w.free) < keepFree {
		w.free = append(w.free, c)
	}
}

// capContent returns s if it fits in limit bytes, else a copy of its start,
// cut at a UTF-8 boundary, followed by a marker with the original length,
// limit bytes in all. The copy lets the original be collected.
func capContent(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	marker := "\n[… truncated by llmux: " + strconv.Itoa(len(s)) + " bytes in all]"
	cut := max(limit-len(marker), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + marker
}
