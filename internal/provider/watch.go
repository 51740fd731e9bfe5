package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmux/llmux/internal/health"
	"github.com/llmux/llmux/llm"
)

// errIdle is why the watch cancels a stream silent for the idle timeout;
// errFirstByte one whose body did not start within the first-byte timeout.
var (
	errIdle      = errors.New("stream idle")
	errFirstByte = errors.New("no first byte")
)

// callWatch bounds a call whose body is read after the call returns: the
// provider's total timeout (the context's deadline), and once the body is
// wrapped, the idle timeout (before the first bytes: the first-byte
// timeout, when shorter). It is also the wrapped body.
//
// One timer per call keeps the idle watch. Reads only note the time; the
// timer, when it fires, looks at the last read and either cancels the call
// or sleeps until the new due time. A busy stream thus costs a clock read
// per read instead of a timer reset, and its timer fires once per idle
// period.
type callWatch struct {
	io.ReadCloser // the upstream body, once wrapped
	p             *HTTP
	ctx           context.Context
	cancel        context.CancelFunc    // ends the call
	why           atomic.Pointer[error] // errIdle or errFirstByte, once the watch canceled the call
	start         time.Time             // when the body was wrapped
	last          atomic.Int64          // since start, of the last read that returned bytes; 0 before the first
	mu            sync.Mutex            // orders the timer's rearming with stop
	timer         *time.Timer
	stopped       bool
}

// watch starts a call's watch: the returned watch's ctx carries the
// provider's total timeout, and stop (or closing the body) releases it.
func (p *HTTP) watch(ctx context.Context) *callWatch {
	w := &callWatch{p: p}
	w.ctx, w.cancel = context.WithTimeout(ctx, p.timeout)
	return w
}

// stop releases a call whose body was never wrapped, or was closed.
func (w *callWatch) stop() {
	w.mu.Lock()
	w.stopped = true
	if w.timer != nil {
		w.timer.Stop()
	}
	w.mu.Unlock()
	w.cancel()
}

// body wraps a streamed or forwarded answer: reading it fails with an
// *llm.Error classified like a failed call (the client left, the deadline
// passed, the stream fell silent, the connection broke), and closing it
// ends the call.
func (w *callWatch) body(rc io.ReadCloser) io.ReadCloser {
	w.ReadCloser = rc
	w.start = time.Now()
	w.mu.Lock() // fire may run before AfterFunc returns
	w.timer = time.AfterFunc(w.firstWait(), w.fire)
	w.mu.Unlock()
	return w
}

// firstWait is how long a body may stay silent before its first bytes.
func (w *callWatch) firstWait() time.Duration {
	if f := w.p.first; f > 0 && f < w.p.idle {
		return f
	}
	return w.p.idle
}

// fire runs when the timer expires: it cancels a call silent for too long,
// and otherwise sets the timer for the new due time.
func (w *callWatch) fire() {
	now := time.Since(w.start)
	due, why := w.firstWait(), errFirstByte
	if last := w.last.Load(); last > 0 {
		due, why = time.Duration(last)+w.p.idle, errIdle
	} else if due == w.p.idle {
		why = errIdle
	}
	if now >= due {
		w.why.Store(&why)
		w.cancel()
		return
	}
	w.mu.Lock()
	if !w.stopped {
		w.timer.Reset(due - now)
	}
	w.mu.Unlock()
}

func (w *callWatch) Read(buf []byte) (int, error) {
	n, err := w.ReadCloser.Read(buf)
	if n > 0 {
		w.last.Store(max(int64(time.Since(w.start)), 1))
	}
	if err != nil && err != io.EOF {
		p := w.p
		var e *llm.Error
		switch why := w.why.Load(); {
		case why != nil && *why == errIdle:
			e = &llm.Error{Kind: llm.KindTimeout, Message: fmt.Sprintf("the upstream provider %s sent nothing for %s", p.id, p.idle), Cause: err}
		case why != nil:
			e = &llm.Error{Kind: llm.KindTimeout, Message: fmt.Sprintf("the upstream provider %s sent no data within %s of its headers", p.id, p.first), Cause: err}
		default:
			e = p.transportError(w.ctx, err)
		}
		if e.Kind == llm.KindUpstream {
			e.Message = fmt.Sprintf("the connection to the upstream provider %s broke", p.id)
		}
		if e.Kind != llm.KindCanceled {
			p.health.Breaker.Report(time.Now(), health.Failure, false)
		}
		return n, e
	}
	return n, err
}

func (w *callWatch) Close() error {
	err := w.ReadCloser.Close()
	w.stop()
	return err
}
