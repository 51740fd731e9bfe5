package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmux/llmux/internal/keys"
	"github.com/llmux/llmux/internal/store"
)

// TestProfiledGateway runs the profiled-gateway mode as the benchmark
// starts it, with a virtual key made beforehand in its fresh database: the
// key is served and limited, every call leaves a usage record readable
// through the admin API, and the profiles are written when it stops.
func TestProfiledGateway(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite://" + filepath.Join(dir, "llmux.db")
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	sec := keys.NewSecret()
	k, err := st.CreateKey(ctx, store.VirtualKey{Name: "bench", Enabled: true, Limits: store.Limits{RPM: 1000}, Hash: sec.Hash, Prefix: sec.Prefix})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := filepath.Join(dir, "llmux.yaml")
	conf := fmt.Sprintf("listen: %s\nkeys: [ static-key ]\nadmin_key: adm\ndatabase: %q\nlog_requests: false\nlog_level: warn\ndrain_timeout: 1s\n", addr, dsn)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "allocs.pprof")
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	var stderr strings.Builder
	go func() {
		done <- profiledGateway(runCtx, []string{"-config", cfg, "-cpuprofile", cpu, "-memprofile", mem}, &stderr)
	}()
	stopped := false
	defer func() {
		if !stopped {
			stop()
			<-done
		}
	}()

	c := &http.Client{Timeout: 5 * time.Second}
	send := func(method, path, key, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			resp, err := c.Do(req)
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				return resp, string(b)
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s %s: %v; log: %s", method, path, err, stderr.String())
			}
			req.Body = io.NopCloser(strings.NewReader(body))
		}
	}
	const chat = `{"model":"mock/echo","messages":[{"role":"user","content":"hi"}]}`
	for range 3 {
		resp, body := send(http.MethodPost, "/v1/chat/completions", sec.Raw, chat)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Ratelimit-Limit-Requests") != "1000" {
			t.Fatalf("a call with the virtual key: %d, limit %q: %s", resp.StatusCode, resp.Header.Get("X-Ratelimit-Limit-Requests"), body)
		}
	}
	var records int64
	for deadline := time.Now().Add(5 * time.Second); records < 3 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, body := send(http.MethodGet, "/admin/api/usage?key="+k.ID, "adm", "")
		var v struct{ Rows []struct{ Requests int64 } }
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil || len(v.Rows) != 1 {
			t.Fatalf("usage: %d %s", resp.StatusCode, body)
		}
		records = v.Rows[0].Requests
	}
	if records != 3 {
		t.Errorf("%d usage records for 3 calls", records)
	}

	stop()
	stopped = true
	if err := <-done; err != nil {
		t.Fatalf("profiled-gateway: %v; log: %s", err, stderr.String())
	}
	for _, f := range []string{cpu, mem} {
		if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
			t.Errorf("profile %s: %v", filepath.Base(f), err)
		}
	}
}
