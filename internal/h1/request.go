package h1

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// bufPool holds the buffers requests are serialized into; a request's
// buffer lives until its answer's head has arrived, since a request is
// sent again from it when a pooled connection turns out dead.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// maxPooled is the largest buffer kept for reuse: a request with a large
// image is rare and should not pin its size in every pooled buffer.
const maxPooled = 64 << 10

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooled {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// defaultUserAgent is sent when the request has no User-Agent, as
// net/http does.
const defaultUserAgent = "Go-http-client/1.1"

// skipped are the header fields the transport writes itself.
var skipped = map[string]bool{
	"Host": true, "Content-Length": true, "Transfer-Encoding": true, "Connection": true, "Trailer": true,
}

// appendRequest appends req's head and body, read to its end, to dst and
// closes the body. A body of unknown length is sent with its length.
func appendRequest(dst []byte, req *http.Request) ([]byte, error) {
	defer closeBody(req)
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	if !validName(method) {
		return dst, fmt.Errorf("h1: invalid method %q", clip(method))
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	uri := req.URL.RequestURI()
	if !validValue(host) || strings.ContainsAny(host, " \t") || !validValue(uri) || strings.ContainsAny(uri, " \t") {
		return dst, errors.New("h1: invalid host or path in the request URL")
	}
	dst = append(dst, method...)
	dst = append(dst, ' ')
	dst = append(dst, uri...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\n"...)
	if _, ok := req.Header["User-Agent"]; !ok {
		dst = append(dst, "User-Agent: "+defaultUserAgent+"\r\n"...)
	}
	for k, vv := range req.Header {
		if skipped[k] {
			continue
		}
		if !validName(k) {
			return dst, fmt.Errorf("h1: invalid header name %q", clip(k))
		}
		for _, v := range vv {
			if !validValue(v) {
				return dst, fmt.Errorf("h1: header %s has a control character in its value", k)
			}
			dst = append(dst, k...)
			dst = append(dst, ": "...)
			dst = append(dst, v...)
			dst = append(dst, "\r\n"...)
		}
	}
	if req.Close {
		dst = append(dst, "Connection: close\r\n"...)
	}
	return appendBody(dst, req)
}

// appendBody appends Content-Length, the end of the head and the body.
func appendBody(dst []byte, req *http.Request) ([]byte, error) {
	rc := req.Body
	if rc == http.NoBody {
		rc = nil
	}
	n := req.ContentLength
	if rc == nil {
		if n > 0 {
			return dst, fmt.Errorf("h1: ContentLength=%d with no body", n)
		}
		switch req.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			dst = append(dst, "Content-Length: 0\r\n"...)
		}
		return append(dst, "\r\n"...), nil
	}
	if n <= 0 {
		data, err := io.ReadAll(rc)
		if err != nil {
			return dst, fmt.Errorf("h1: reading the request body: %w", err)
		}
		dst = appendLength(dst, int64(len(data)))
		return append(dst, data...), nil
	}
	dst = appendLength(dst, n)
	at := len(dst)
	dst = grow(dst, int(n))
	if _, err := io.ReadFull(rc, dst[at:at+int(n)]); err != nil {
		return dst, fmt.Errorf("h1: request body shorter than its ContentLength=%d: %w", n, err)
	}
	// One byte more must be the end; it is read into spare capacity, which
	// the request does not include.
	dst = grow(dst, 1)
	k, _ := rc.Read(dst[len(dst)-1:])
	dst = dst[:len(dst)-1]
	if k > 0 {
		return dst, fmt.Errorf("h1: request body longer than its ContentLength=%d", n)
	}
	return dst, nil
}

func appendLength(dst []byte, n int64) []byte {
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, "\r\n\r\n"...)
}

// grow extends dst by n bytes.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) < n {
		nb := make([]byte, len(dst), len(dst)+n)
		copy(nb, dst)
		dst = nb
	}
	return dst[:len(dst)+n]
}
