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
	// q[head:] are the queued records, oldest first; qSeq is the sequence
	// number (count of records added before it) of q[head].
	q    []store.UsageRecord
	head int
	qSeq int64
	// held counts the records taken from the queue and not yet resolved
	// (written or dropped as invalid); flightSeq is the sequence number of
	// the first of them.
	held      int
	flightSeq int64
	// flushTo asks for every record numbered below it to be written now.
	flushTo int64
	closing bool
	// progress is closed (and cleared) when records are resolved, to wake
	// Flush; nil while nobody waits.
	progress chan struct{}

	// batch holds the records taken from the queue and not yet resolved,
	// oldest first. The loop owns it while it runs, Close (under drainMu)
	// afterwards.
	batch   []store.UsageRecord
	drainMu sync.Mutex

	written, batches, failed, dropped, invalid, rejected atomic.Int64
	rejectLogged                                         atomic.Bool
}

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
		batch:  make([]store.UsageRecord, 0, o.BatchSize),
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
	queued := len(w.q) - w.head
	if queued+w.held >= w.opt.MaxPending {
		w.dropped.Add(1)
		if queued == 0 { // everything waiting is being written: the new record is the oldest droppable
			w.mu.Unlock()
			return
		}
		w.q[w.head] = store.UsageRecord{}
		w.head++
		w.qSeq++
		queued--
		w.compactLocked()
		w.notifyLocked()
	}
	w.q = append(w.q, r)
	full := queued+1 == w.opt.BatchSize
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
		pending := len(w.q) - w.head + w.held
		w.mu.Unlock()
		if pending > 0 {
			return fmt.Errorf("%w with %d records not written", ErrClosed, pending)
		}
		return nil
	}
	target := w.qSeq + int64(len(w.q)-w.head)
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
			w.progress = make(chan struct{})
		}
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
// retries what is left.
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
		w.cancel() // abort the write in progress; its records stay in batch
		<-w.done
	}
	w.cancel()
	w.drainMu.Lock()
	defer w.drainMu.Unlock()
	backoff := w.opt.RetryBackoff
	var lastErr error
	for {
		if len(w.batch) == 0 && !w.take(true) {
			return nil
		}
		err := w.writeBatch(ctx)
		if err == nil {
			backoff = w.opt.RetryBackoff
			continue
		}
		lastErr = err
		if ctx.Err() == nil {
			w.log.Warn("usage: writing records on close failed; retrying", "records", len(w.batch),
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
	pending := len(w.q) - w.head + w.held
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

// notifyLocked wakes the Flush calls waiting for progress.
func (w *Writer) notifyLocked() {
	if w.progress != nil {
		close(w.progress)
		w.progress = nil
	}
}

// compactLocked reclaims the space before head once it is half the queue,
// so that a queue that drops at its head while it grows at its tail (the
// store down for long) does not grow without bound.
func (w *Writer) compactLocked() {
	if w.head == len(w.q) {
		w.q, w.head = w.q[:0], 0
		if cap(w.q) > 64*w.opt.BatchSize { // release the memory of a past backlog
			w.q = nil
		}
		return
	}
	if w.head >= 1024 && 2*w.head >= len(w.q) {
		n := copy(w.q, w.q[w.head:])
		clear(w.q[n:])
		w.q, w.head = w.q[:n], 0
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
