package h1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"
)

// FuzzResponse parses arbitrary answers: never a panic, and where both this
// parser and net/http's accept an answer, the same status and body.
func FuzzResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nuntil close",
		"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 1, 1\r\n\r\nx",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
		"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n",
		"HTTP/1.1 200 OK\nContent-Type: text/event-stream\n\ndata: {}\n\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n000\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(raw), 16)
		resp, kind, err := readHead(br, http.MethodPost, 4096)
		if err != nil {
			return
		}
		b := newBody(nil, br, kind, resp.ContentLength, true)
		got, gotErr := io.ReadAll(b)
		if kind == bodyNone && len(got) > 0 {
			t.Fatalf("body %q where none was expected", got)
		}
		if resp.StatusCode < 200 || resp.StatusCode > 999 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		ref, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), &http.Request{Method: http.MethodPost})
		if err != nil || ref.StatusCode < 200 {
			return // net/http refuses it or stops at the interim answer
		}
		want, wantErr := io.ReadAll(ref.Body)
		if gotErr != nil || wantErr != nil {
			return
		}
		if ref.StatusCode != resp.StatusCode || !bytes.Equal(got, want) {
			t.Fatalf("status %d body %q; net/http: %d %q", resp.StatusCode, got, ref.StatusCode, want)
		}
	})
}

// FuzzChunked decodes arbitrary chunked bodies, differentially against
// net/http's chunked reader on the same answer.
func FuzzChunked(f *testing.F) {
	f.Add([]byte("3\r\nabc\r\n0\r\n\r\n"))
	f.Add([]byte("1;a=b\r\nx\r\n0\r\nX: y\r\n\r\n"))
	f.Add([]byte("ff\r\n"))
	f.Fuzz(func(t *testing.T, chunks []byte) {
		raw := append([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), chunks...)
		br := bufio.NewReaderSize(bytes.NewReader(raw), 16)
		resp, kind, err := readHead(br, http.MethodPost, 4096)
		if err != nil || kind != bodyChunked {
			t.Fatalf("head: %v %v", err, kind)
		}
		got, gotErr := io.ReadAll(newBody(nil, br, kind, resp.ContentLength, true))
		ref, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), &http.Request{Method: http.MethodPost})
		if err != nil {
			t.Fatal(err)
		}
		want, wantErr := io.ReadAll(ref.Body)
		if gotErr == nil && wantErr == nil && !bytes.Equal(got, want) {
			t.Fatalf("body %q; net/http %q", got, want)
		}
	})
}
