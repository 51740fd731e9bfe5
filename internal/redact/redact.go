// Package redact removes secrets and internal addresses from text that is
// about to leave the gateway in an error message or a log line: API keys
// (the configured ones, and anything shaped like a vendor key), URLs with
// credentials, and the hosts of upstream endpoints.
//
// It imports only the standard library.
package redact

import (
	"net"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// Mask replaces every redacted span.
const Mask = "[redacted]"

// keyShapes matches strings that look like vendor API keys or bearer
// tokens, including the masked forms vendors echo back ("sk-abc***xyz").
var keyShapes = regexp.MustCompile(strings.Join([]string{
	`\bsk-[A-Za-z0-9_\-\*\.]{8,}`,         // OpenAI, Anthropic, DeepSeek, …
	`\bAIza[0-9A-Za-z_\-]{20,}`,           // Google
	`\bgsk_[A-Za-z0-9]{16,}`,              // Groq
	`\bxai-[A-Za-z0-9]{16,}`,              // xAI
	`\bpplx-[A-Za-z0-9]{16,}`,             // Perplexity
	`\bya29\.[A-Za-z0-9_\-\.]{16,}`,       // Google OAuth access tokens
	`\b[Bb]earer\s+[A-Za-z0-9_\-\.=]{8,}`, // a bearer credential echoed back
	`\bllmux-[A-Za-z0-9_\-]{16,}`,         // llmux's own virtual keys
}, "|"))

// urls matches absolute URLs.
var urls = regexp.MustCompile(`\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s"'<>\x60]+`)

// ipPort matches IPv4 addresses with an optional port.
var ipPort = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b`)

// Redactor removes a fixed set of secrets and hosts plus everything
// key-shaped. The zero value redacts only by shape.
type Redactor struct {
	secrets []string
	hosts   []string
	hostRE  *regexp.Regexp // the hosts, matched case-insensitively
}

// New returns a Redactor for the given secrets (API keys) and internal hosts
// (upstream base URL hosts, with or without port).
func New(secrets, hosts []string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		if len(s) >= 4 {
			r.secrets = append(r.secrets, s)
		}
	}
	var alts []string
	for _, h := range hosts {
		if h != "" {
			r.hosts = append(r.hosts, strings.ToLower(h))
			alts = append(alts, regexp.QuoteMeta(h))
		}
	}
	if len(alts) > 0 {
		// Longest first, so that "host:8443" wins over "host".
		sort.Slice(alts, func(i, j int) bool { return len(alts[i]) > len(alts[j]) })
		r.hostRE = regexp.MustCompile(`(?i)` + strings.Join(alts, "|"))
	}
	return r
}

// String returns s with secrets, key-shaped tokens, URLs that carry
// credentials or point at an internal host, and private IP addresses
// replaced by Mask.
func (r *Redactor) String(s string) string {
	if s == "" {
		return s
	}
	if r != nil {
		for _, sec := range r.secrets {
			s = strings.ReplaceAll(s, sec, Mask)
		}
	}
	s = keyShapes.ReplaceAllString(s, Mask)
	s = urls.ReplaceAllStringFunc(s, func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil {
			return Mask
		}
		if u.User != nil || r.internal(u.Hostname()) || u.Query().Has("key") {
			return Mask
		}
		return raw
	})
	s = ipPort.ReplaceAllStringFunc(s, func(m string) string {
		host := m
		if h, _, err := net.SplitHostPort(m); err == nil {
			host = h
		}
		if ip := net.ParseIP(host); ip != nil && (ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified()) {
			return Mask
		}
		return m
	})
	if r != nil && r.hostRE != nil {
		s = r.hostRE.ReplaceAllLiteralString(s, Mask)
	}
	return s
}

// internal reports whether host is one of the redactor's hosts or a
// private, loopback or link-local address.
func (r *Redactor) internal(host string) bool {
	host = strings.ToLower(host)
	if host == "localhost" || strings.HasSuffix(host, ".internal") || strings.HasSuffix(host, ".local") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified()
	}
	if r == nil {
		return false
	}
	for _, h := range r.hosts {
		hn := h
		if x, _, err := net.SplitHostPort(h); err == nil {
			hn = x
		}
		if host == hn {
			return true
		}
	}
	return false
}
