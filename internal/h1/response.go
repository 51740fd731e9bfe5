package h1

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
)

// bodyKind is how a response's body is delimited (RFC 9112 §6.3).
type bodyKind uint8

const (
	bodyNone       bodyKind = iota // HEAD, 1xx, 204, 304, or Content-Length: 0
	bodyFixed                      // Content-Length
	bodyChunked                    // Transfer-Encoding: chunked
	bodyUntilClose                 // neither: the body ends with the connection
)

// noAnswer is a failure before the first byte of the answer.
type noAnswer struct{ cause error }

func (e *noAnswer) Error() string { return e.cause.Error() }
func (e *noAnswer) Unwrap() error { return e.cause }

// closedByPeer reports whether err is the server closing or resetting the
// connection, as it does to a connection that sat idle too long.
func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

var errHeadTooLarge = errors.New("h1: response head exceeds the size limit")

// readLine appends one line, without its CRLF (or bare LF), to dst and
// takes its length from *left.
func readLine(br *bufio.Reader, dst []byte, left *int) ([]byte, error) {
	for {
		frag, err := br.ReadSlice('\n')
		if len(frag) > *left {
			return dst, errHeadTooLarge
		}
		*left -= len(frag)
		dst = append(dst, frag...)
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			if err == io.EOF && len(frag) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return dst, err
		}
	}
	dst = dst[:len(dst)-1]
	if n := len(dst); n > 0 && dst[n-1] == '\r' {
		dst = dst[:n-1]
	}
	return dst, nil
}

// readHead reads a response's status line and header fields, skipping
// interim 1xx answers, and says how its body is delimited. The head's
// text is kept in one string that the header values point into.
func readHead(br *bufio.Reader, method string, max int) (*http.Response, bodyKind, error) {
	left := max
	var stack [128]byte
	blk := stack[:0]
	first := true
	for {
		blk = blk[:0]
		lines := 0
		for {
			start := len(blk)
			var err error
			blk, err = readLine(br, blk, &left)
			if err != nil {
				if first && len(blk) == 0 {
					return nil, 0, &noAnswer{cause: err}
				}
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return nil, 0, fmt.Errorf("h1: reading the response head: %w", err)
			}
			first = false
			if len(blk) == start {
				break // the empty line ends the head
			}
			blk = append(blk, '\n')
			lines++
		}
		if lines == 0 {
			return nil, 0, errors.New("h1: empty response head")
		}
		resp, err := parseHead(string(blk[:len(blk)-1]), lines-1)
		if err != nil {
			return nil, 0, err
		}
		switch {
		case resp.StatusCode == http.StatusSwitchingProtocols:
			return nil, 0, errors.New("h1: unexpected 101 Switching Protocols")
		case resp.StatusCode < 200:
			continue // 100 Continue, 103 Early Hints: the answer follows
		}
		kind, err := delimit(resp, method)
		return resp, kind, err
	}
}

// parseHead parses a status line and n header lines, joined by "\n".
func parseHead(s string, n int) (*http.Response, error) {
	status, rest, _ := strings.Cut(s, "\n")
	resp := &http.Response{ProtoMajor: 1}
	if len(status) < 12 || !strings.HasPrefix(status, "HTTP/1.") || status[8] != ' ' ||
		(status[7] != '0' && status[7] != '1') || len(status) > 12 && status[12] != ' ' {
		return nil, fmt.Errorf("h1: malformed status line %q", clip(status))
	}
	resp.ProtoMinor = int(status[7] - '0')
	resp.Proto = status[:8]
	code := 0
	for _, c := range []byte(status[9:12]) {
		if c < '0' || c > '9' {
			return nil, fmt.Errorf("h1: malformed status code in %q", clip(status))
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 {
		return nil, fmt.Errorf("h1: malformed status code in %q", clip(status))
	}
	resp.StatusCode = code
	resp.Status = status[9:]
	if len(status) == 12 || len(status) == 13 {
		resp.Status = status[9:12] + " " + http.StatusText(code)
	}
	h := make(http.Header, n)
	vals := make([]string, n)
	used := 0
	var lastKey string
	for rest != "" {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		if line[0] == ' ' || line[0] == '\t' {
			// Obsolete line folding: the value goes on after one space.
			vv := h[lastKey]
			if len(vv) == 0 {
				return nil, fmt.Errorf("h1: malformed header line %q", clip(line))
			}
			vv[len(vv)-1] += " " + trimOWS(line)
			continue
		}
		i := strings.IndexByte(line, ':')
		if i <= 0 || !validName(line[:i]) {
			return nil, fmt.Errorf("h1: malformed header line %q", clip(line))
		}
		v := trimOWS(line[i+1:])
		if !validValue(v) {
			return nil, fmt.Errorf("h1: header %s has a control character in its value", clip(line[:i]))
		}
		k := http.CanonicalHeaderKey(line[:i])
		if vv, ok := h[k]; ok {
			h[k] = append(vv, v)
		} else {
			vals[used] = v
			h[k] = vals[used : used+1 : used+1]
			used++
		}
		lastKey = k
	}
	resp.Header = h
	return resp, nil
}

// delimit decides how resp's body ends, sets ContentLength,
// TransferEncoding and Close as net/http would, and refuses what cannot be
// delimited safely.
func delimit(resp *http.Response, method string) (bodyKind, error) {
	h := resp.Header
	resp.Close = resp.ProtoMinor == 0 || hasToken(h["Connection"], "close")
	n, hasLength, err := contentLength(h["Content-Length"])
	if err != nil {
		return 0, err
	}
	if method == http.MethodHead || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
		resp.ContentLength = 0
		if method == http.MethodHead && hasLength {
			resp.ContentLength = n
		}
		return bodyNone, nil
	}
	if te, ok := h["Transfer-Encoding"]; ok {
		if resp.ProtoMinor == 0 {
			return 0, errors.New("h1: Transfer-Encoding in an HTTP/1.0 response")
		}
		if len(te) != 1 || !strings.EqualFold(strings.TrimSpace(te[0]), "chunked") {
			return 0, fmt.Errorf("h1: unsupported Transfer-Encoding %q", clip(strings.Join(te, ", ")))
		}
		delete(h, "Transfer-Encoding")
		if hasLength {
			// Both: the length is ignored and the connection not trusted again.
			delete(h, "Content-Length")
			resp.Close = true
		}
		resp.TransferEncoding = []string{"chunked"}
		resp.ContentLength = -1
		return bodyChunked, nil
	}
	if hasLength {
		resp.ContentLength = n
		if n == 0 {
			return bodyNone, nil
		}
		return bodyFixed, nil
	}
	resp.ContentLength = -1
	resp.Close = true
	return bodyUntilClose, nil
}

// contentLength parses Content-Length fields, which may repeat (also as a
// list) only with the same value.
func contentLength(vv []string) (int64, bool, error) {
	n, seen := int64(-1), false
	for _, v := range vv {
		for part := range strings.SplitSeq(v, ",") {
			part = trimOWS(part)
			m, err := strconv.ParseUint(part, 10, 63)
			if err != nil || part[0] == '+' {
				return 0, false, fmt.Errorf("h1: malformed Content-Length %q", clip(v))
			}
			if seen && int64(m) != n {
				return 0, false, errors.New("h1: conflicting Content-Length values")
			}
			n, seen = int64(m), true
		}
	}
	return n, seen, nil
}

// hasToken reports whether a comma-separated header holds token.
func hasToken(vv []string, token string) bool {
	for _, v := range vv {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(trimOWS(part), token) {
				return true
			}
		}
	}
	return false
}

func trimOWS(s string) string { return strings.Trim(s, " \t") }

// validName reports whether s is a field name (RFC 9110 token).
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// validValue reports whether s holds no control character but tab.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// clip shortens text quoted in errors.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
