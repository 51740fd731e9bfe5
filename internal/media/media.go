// Package media downloads media given by URL for upstreams that accept only
// inline bytes (Gemini, Ollama). A download is bounded in size and time,
// and by default refuses every address that is not public — loopback,
// private, link-local, multicast, unspecified — checked on the address
// actually dialled, so a DNS name that resolves (or re-resolves) to an
// internal address is refused too.
package media

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/llmux/llmux/llm"
)

// Fetcher downloads media URLs into inline base64 data.
type Fetcher struct {
	maxBytes int64
	timeout  time.Duration
	client   *http.Client
}

// Defaults for a zero size or time limit.
const (
	DefaultMaxBytes = 20 << 20
	DefaultTimeout  = 15 * time.Second
)

// New returns a fetcher; zero limits take the defaults. allowPrivate
// permits internal addresses.
func New(maxBytes int64, timeout time.Duration, allowPrivate bool) *Fetcher {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	d := &net.Dialer{Timeout: timeout}
	if !allowPrivate {
		d.Control = refusePrivate
	}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would dial on our behalf and hide the address
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          16,
		IdleConnTimeout:       30 * time.Second,
	}
	return &Fetcher{maxBytes: maxBytes, timeout: timeout, client: &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to a %s URL", req.URL.Scheme)
			}
			return nil
		},
	}}
}

// errPrivate is the refusal of an internal address.
var errPrivate = errors.New("the URL points to a private or local address")

func refusePrivate(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return errPrivate
	}
	if !Public(ap.Addr()) {
		return errPrivate
	}
	return nil
}

// Public reports whether a is a globally routable unicast address.
func Public(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	if a.Is4() {
		b := a.As4()
		switch {
		case b[0] == 0, // this network
			b[0] == 100 && b[1]&0xc0 == 64,            // carrier-grade NAT 100.64/10
			b[0] == 192 && b[1] == 0 && b[2] == 0,     // IETF protocol assignments
			b[0] == 198 && (b[1] == 18 || b[1] == 19), // benchmarking
			b[0] >= 240: // reserved, broadcast
			return false
		}
	}
	if a.Is6() {
		b := a.As16()
		if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b { // NAT64 may reach anything
			return false
		}
	}
	return true
}

// NeedsFetch reports whether req has media given by an http(s) URL.
func NeedsFetch(req *llm.Request) bool {
	found := false
	each(req, func(_ string, m *llm.Media) {
		if remote(m) {
			found = true
		}
	})
	return found
}

func remote(m *llm.Media) bool {
	return m != nil && m.Data == "" && (strings.HasPrefix(m.URL, "https://") || strings.HasPrefix(m.URL, "http://"))
}

// Inline returns a copy of req in which every media URL is replaced by its
// downloaded bytes; req itself is not changed (other attempts may go to an
// upstream that takes URLs). A failed download is a KindInvalidRequest
// error naming the part.
func (f *Fetcher) Inline(ctx context.Context, req *llm.Request) (*llm.Request, error) {
	type job struct {
		path string
		m    *llm.Media
	}
	var jobs []job
	each(req, func(path string, m *llm.Media) {
		if remote(m) {
			jobs = append(jobs, job{path, m})
		}
	})
	if len(jobs) == 0 {
		return req, nil
	}
	out := cloneMedia(req)
	// cloneMedia keeps the walk order, so the k-th remote medium of out is
	// the k-th job.
	var targets []*llm.Media
	each(out, func(_ string, m *llm.Media) {
		if remote(m) {
			targets = append(targets, m)
		}
	})
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			data, mt, err := f.fetch(ctx, jobs[i].m.URL)
			if err != nil {
				errs[i] = &llm.Error{Kind: llm.KindInvalidRequest, Param: jobs[i].path, Code: "media_fetch_failed",
					Message: fmt.Sprintf("%s: the media URL could not be downloaded for this upstream: %v", jobs[i].path, err)}
				return
			}
			t := targets[i]
			t.Data = base64.StdEncoding.EncodeToString(data)
			if t.MIMEType == "" || t.MIMEType == "application/octet-stream" {
				t.MIMEType = mt
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			if ctx.Err() != nil {
				return nil, llm.AsError(ctx.Err())
			}
			return nil, err
		}
	}
	return out, nil
}

func (f *Fetcher) fetch(ctx context.Context, url string) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", errors.New("not a valid URL")
	}
	req.Header.Set("Accept", "image/*, audio/*, application/pdf, */*;q=0.5")
	resp, err := f.client.Do(req)
	if err != nil {
		var ne net.Error
		switch {
		case errors.Is(err, errPrivate):
			return nil, "", errPrivate
		case ctx.Err() != nil, errors.As(err, &ne) && ne.Timeout():
			return nil, "", fmt.Errorf("no answer within %s", f.timeout)
		}
		return nil, "", errors.New("the server could not be reached")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("the server answered HTTP %d", resp.StatusCode)
	}
	if resp.ContentLength > f.maxBytes {
		return nil, "", fmt.Errorf("it is larger than the limit of %d bytes", f.maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", fmt.Errorf("no complete answer within %s", f.timeout)
		}
		return nil, "", errors.New("the download broke off")
	}
	if int64(len(data)) > f.maxBytes {
		return nil, "", fmt.Errorf("it is larger than the limit of %d bytes", f.maxBytes)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "" || mt == "application/octet-stream" || mt == "binary/octet-stream" {
		mt, _, _ = mime.ParseMediaType(http.DetectContentType(data))
	}
	return data, mt, nil
}

// each calls fn for every medium of req in a fixed order, with its JSON-ish
// path for error messages.
func each(req *llm.Request, fn func(path string, m *llm.Media)) {
	for i := range req.Messages {
		eachPart(req.Messages[i].Parts, fmt.Sprintf("messages[%d]", i), fn)
	}
}

func eachPart(parts []llm.Part, base string, fn func(string, *llm.Media)) {
	for j := range parts {
		p := &parts[j]
		if p.Media != nil {
			fn(fmt.Sprintf("%s.content[%d]", base, j), p.Media)
		}
		if p.ToolResult != nil {
			eachPart(p.ToolResult.Content, fmt.Sprintf("%s.content[%d]", base, j), fn)
		}
	}
}

// cloneMedia copies req deeply enough that its media can be changed:
// messages, parts, tool results and media are new; everything else is
// shared.
func cloneMedia(req *llm.Request) *llm.Request {
	out := *req
	out.Messages = make([]llm.Message, len(req.Messages))
	for i, m := range req.Messages {
		m.Parts = cloneParts(m.Parts)
		out.Messages[i] = m
	}
	return &out
}

func cloneParts(parts []llm.Part) []llm.Part {
	if parts == nil {
		return nil
	}
	out := make([]llm.Part, len(parts))
	for j, p := range parts {
		if p.Media != nil {
			m := *p.Media
			p.Media = &m
		}
		if p.ToolResult != nil {
			r := *p.ToolResult
			r.Content = cloneParts(r.Content)
			p.ToolResult = &r
		}
		out[j] = p
	}
	return out
}
