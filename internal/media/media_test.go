package media

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/llm"
)

// png is the smallest valid PNG header, enough for content sniffing.
var png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")

func imageReq(urls ...string) *llm.Request {
	var parts []llm.Part
	for _, u := range urls {
		parts = append(parts, llm.Part{Type: llm.PartImage, Media: &llm.Media{URL: u}})
	}
	return &llm.Request{Messages: []llm.Message{
		{Role: llm.RoleSystem, Parts: []llm.Part{{Type: llm.PartText, Text: "sys"}}},
		{Role: llm.RoleUser, Parts: parts},
	}}
}

func server(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/a.png", func(w http.ResponseWriter, r *http.Request) { w.Write(png) })
	mux.HandleFunc("/typed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/webp; charset=binary")
		w.Write([]byte("RIFF....WEBP"))
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 5000)) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/missing", http.NotFound)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestInlineDownloadsAndLeavesTheOriginal(t *testing.T) {
	srv := server(t)
	f := New(1<<20, 2*time.Second, true)
	req := imageReq(srv.URL+"/a.png", srv.URL+"/typed", "data:image/png;base64,AAAA")
	out, err := f.Inline(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	got := out.Messages[1].Parts
	if got[0].Media.MIMEType != "image/png" || got[0].Media.Data != base64.StdEncoding.EncodeToString(png) {
		t.Errorf("first image = %+v", got[0].Media)
	}
	if got[1].Media.MIMEType != "image/webp" {
		t.Errorf("declared type not kept: %q", got[1].Media.MIMEType)
	}
	if got[2].Media.Data != "" || got[2].Media.URL != "data:image/png;base64,AAAA" {
		t.Errorf("a data URL is the decoder's business and must be left alone: %+v", got[2].Media)
	}
	if req.Messages[1].Parts[0].Media.Data != "" {
		t.Error("the caller's request was changed")
	}
	if NeedsFetch(out) {
		t.Error("NeedsFetch after Inline")
	}
	if !NeedsFetch(req) {
		t.Error("NeedsFetch missed the URLs")
	}
}

func TestInlineRefusals(t *testing.T) {
	srv := server(t)
	tests := []struct {
		name    string
		f       *Fetcher
		url     string
		wantMsg string
	}{
		{"loopback refused by default", New(1<<20, time.Second, false), srv.URL + "/a.png", "private or local address"},
		{"too big", New(1000, time.Second, true), srv.URL + "/big", "larger than the limit of 1000 bytes"},
		{"timeout", New(1<<20, 200*time.Millisecond, true), srv.URL + "/slow", "within"},
		{"not found", New(1<<20, time.Second, true), srv.URL + "/missing", "HTTP 404"},
		{"unreachable", New(1<<20, time.Second, true), "http://127.0.0.1:1/x.png", "could not be reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.f.Inline(context.Background(), imageReq(tt.url))
			e := llm.AsError(err)
			if err == nil || e.Kind != llm.KindInvalidRequest || e.Param != "messages[1].content[0]" {
				t.Fatalf("err = %v (%+v)", err, e)
			}
			if !strings.Contains(e.Message, tt.wantMsg) {
				t.Errorf("message %q lacks %q", e.Message, tt.wantMsg)
			}
			if strings.Contains(e.Message, "127.0.0.1") {
				t.Errorf("message names the address: %q", e.Message)
			}
		})
	}
}

func TestRedirectToPrivateIsRefused(t *testing.T) {
	// The redirecting server itself is on loopback too, so this checks that
	// every hop is dialled through the same refusal.
	target := server(t)
	redir := httptest.NewServer(http.RedirectHandler(target.URL+"/a.png", http.StatusFound))
	defer redir.Close()
	_, err := New(1<<20, time.Second, false).Inline(context.Background(), imageReq(redir.URL))
	if err == nil || !strings.Contains(err.Error(), "private") {
		t.Fatalf("err = %v", err)
	}
}

func TestPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "2606:4700::1111": true, "127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false,
		"192.168.1.1": false, "169.254.169.254": false, "100.64.0.1": false, "0.0.0.0": false, "::1": false,
		"fe80::1": false, "fc00::1": false, "::ffff:127.0.0.1": false, "255.255.255.255": false, "224.0.0.1": false,
		"64:ff9b::8.8.8.8": false, "198.18.0.1": false,
	} {
		if got := Public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Public(%s) = %v, want %v", addr, got, want)
		}
	}
}
