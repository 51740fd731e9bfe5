package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Run serves on ln until ctx is done, then shuts down gracefully: /readyz
// starts failing, the listener closes, idle connections close, and requests
// in flight (streams included) get up to drain to finish before their
// connections are closed. It returns nil after a graceful shutdown.
func (s *Server) Run(ctx context.Context, ln net.Listener, drain time.Duration) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.SetDraining(true)
	s.log.Info("draining", "timeout", drain.String())
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		s.log.Warn("drain timeout reached; closing the remaining connections")
		err = srv.Close()
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	// Handlers cut off by Close, and settlements that run after their
	// response, still account for their requests: wait for them (briefly),
	// so that the caller can then flush every usage record.
	done := make(chan struct{})
	go func() { s.pending.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.log.Warn("requests still accounting after the drain; their usage records may be lost")
	}
	return err
}
