package load

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Closed is a closed loop: Concurrency workers, each sending its next call
// as soon as the last one is answered, for Duration.
type Closed struct {
	// Client sends the calls; it should keep Concurrency idle connections.
	Client *http.Client
	// Concurrency is the number of workers, hence of calls in flight.
	Concurrency int
	// Duration is how long workers start new calls; calls in flight at
	// the end are finished and counted.
	Duration time.Duration
}

// Run runs the loop until Duration has passed or ctx is done.
func (c Closed) Run(ctx context.Context, req *Request) *Result {
	start := time.Now()
	deadline := start.Add(c.Duration)
	recs := make([]recorder, max(c.Concurrency, 1))
	var wg sync.WaitGroup
	for i := range recs {
		rec := &recs[i]
		wg.Go(func() {
			for ctx.Err() == nil {
				t := time.Now()
				if !t.Before(deadline) {
					return
				}
				call(ctx, c.Client, req, t, rec, nil)
			}
		})
	}
	wg.Wait()
	var all recorder
	for i := range recs {
		all.merge(&recs[i].r)
	}
	return all.result(start)
}

// Open is an open loop: calls start at Rate per second for Duration,
// however long earlier calls take. A slow answer delays no later call, so
// each call is timed from its actual start; calls the generator itself
// started late are counted in Result.Late.
type Open struct {
	// Client sends the calls.
	Client *http.Client
	// Rate is the number of calls started per second.
	Rate float64
	// Duration is how long calls are started.
	Duration time.Duration
	// MaxInFlight bounds the calls in flight; a call that would exceed it
	// is not sent and counts as an error. Default 10,000.
	MaxInFlight int
}

// ErrOverloaded is the cause recorded for open-loop calls not sent because
// MaxInFlight calls were still in flight.
var ErrOverloaded = errors.New("too many calls in flight")

// Run runs the loop until Duration has passed or ctx is done, then waits
// for the calls in flight.
func (o Open) Run(ctx context.Context, req *Request) *Result {
	limit := o.MaxInFlight
	if limit <= 0 {
		limit = 10_000
	}
	interval := time.Duration(float64(time.Second) / o.Rate)
	n := int(o.Duration / interval)
	var (
		mu  sync.Mutex
		all recorder
		wg  sync.WaitGroup
	)
	inFlight := make(chan struct{}, limit)
	timer := time.NewTimer(0)
	defer timer.Stop()
	start := time.Now()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		planned := start.Add(time.Duration(i) * interval)
		if d := time.Until(planned); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
			}
		}
		select {
		case inFlight <- struct{}{}:
		default:
			mu.Lock()
			all.fail(ErrOverloaded)
			mu.Unlock()
			continue
		}
		late := time.Since(planned) > time.Millisecond
		wg.Go(func() {
			defer func() { <-inFlight }()
			var rec recorder
			if late {
				rec.r.Late = 1
			}
			call(ctx, o.Client, req, time.Now(), &rec, nil)
			mu.Lock()
			all.merge(&rec.r)
			mu.Unlock()
		})
	}
	wg.Wait()
	return all.result(start)
}

// Hold opens Streams concurrent streams, their starts spread evenly over
// Ramp, and keeps them until they end, so that the memory a server needs
// per held stream can be read while they are all open.
type Hold struct {
	// Client sends the calls; it must allow Streams connections to a host.
	Client *http.Client
	// Streams is the number of streams opened.
	Streams int
	// Ramp spreads the starts; 0 starts them all at once.
	Ramp time.Duration
	// Wait bounds the wait, after the ramp, for every stream to be open
	// at once; OnHeld is called when it expires even if some are not.
	// Default 10s.
	Wait time.Duration
	// OnHeld, when not nil, is called once every stream has received its
	// first event while none has ended yet (or Wait expired, or every
	// stream ended), with the number of streams open: those that have had
	// their first event and have not ended. The streams stay open while it
	// runs. It runs on its own goroutine, which Run waits for.
	OnHeld func(open int)
}

// Run opens the streams and returns when all have ended, or ctx is done.
func (h Hold) Run(ctx context.Context, req *Request) *Result {
	wait := h.Wait
	if wait <= 0 {
		wait = 10 * time.Second
	}
	var (
		open     atomic.Int64
		allOpen  = make(chan struct{})
		finished = make(chan struct{})
		mu       sync.Mutex
		rec      recorder
		streams  sync.WaitGroup
		watcher  sync.WaitGroup
	)
	start := time.Now()
	watcher.Go(func() {
		t := time.NewTimer(h.Ramp + wait)
		defer t.Stop()
		select {
		case <-allOpen:
		case <-t.C:
		case <-finished:
		case <-ctx.Done():
			return
		}
		if h.OnHeld != nil {
			h.OnHeld(int(open.Load()))
		}
	})
	var step time.Duration
	if h.Streams > 1 {
		step = h.Ramp / time.Duration(h.Streams-1)
	}
	for i := 0; i < h.Streams && ctx.Err() == nil; i++ {
		if d := time.Until(start.Add(time.Duration(i) * step)); d > 0 {
			time.Sleep(d)
		}
		streams.Go(func() {
			var r recorder
			first := false
			call(ctx, h.Client, req, time.Now(), &r, func() {
				first = true
				// Each stream adds one once, so the count reaches
				// Streams at most once.
				if open.Add(1) == int64(h.Streams) {
					close(allOpen)
				}
			})
			if first {
				open.Add(-1)
			}
			mu.Lock()
			rec.merge(&r.r)
			mu.Unlock()
		})
	}
	streams.Wait()
	close(finished)
	watcher.Wait()
	return rec.result(start)
}
