package bench

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// ServeReverseProxy serves Go's httputil.ReverseProxy on listen, forwarding
// to upstream, until ctx is done: the Go reference a gateway is compared
// with. Its transport keeps as many idle connections per host as llmux's,
// so that neither pays for reconnecting; the proxy flushes event streams
// at once by itself.
//
// A non-nil transport replaces net/http's; llmux-bench passes llmux's own
// HTTP/1.1 transport (internal/h1) there: net/http's server and llmux's
// client with nothing of the gateway between them, the floor that llmux's
// own figures can be held to. (This package imports nothing of llmux.)
func ServeReverseProxy(ctx context.Context, listen, upstream string, transport http.RoundTripper) error {
	target, err := url.Parse(upstream)
	if err != nil {
		return err
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	rp.Transport = &http.Transport{
		DialContext:         d.DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
	}
	if transport != nil {
		rp.Transport = transport
	}
	srv := &http.Server{Addr: listen, Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	err = srv.Close()
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
