package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/llmux/llmux/bench/load"
	"github.com/llmux/llmux/bench/report"
)

// This file holds what the keyed scenarios add around a measurement: the
// client's virtual key, a first call that shows the limiter is in the
// way, and the count of the usage records afterwards.

// withKey returns c sending key wherever it sends clientKey.
func (c call) withKey(key string) call {
	h := c.header.Clone()
	for _, vs := range h {
		for i, v := range vs {
			vs[i] = strings.ReplaceAll(v, clientKey, key)
		}
	}
	c.header = h
	return c
}

// checkLimited sends req once and checks that the answer carries the
// virtual key's request limit (x-ratelimit-limit-requests): the call went
// through the limiter's admission.
func checkLimited(ctx context.Context, req *load.Request) error {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return err
	}
	hr.Header = req.Header.Clone()
	c := &http.Client{Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Do(hr)
	if err != nil {
		return fmt.Errorf("first call with the virtual key: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 2000))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("first call with the virtual key: status %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	if got, want := resp.Header.Get("X-Ratelimit-Limit-Requests"), strconv.Itoa(keyRPM); got != want {
		return fmt.Errorf("first call with the virtual key: x-ratelimit-limit-requests is %q, want %s: the limiter did not admit it", got, want)
	}
	return nil
}

// usageWait bounds the wait for the usage records of a run's last calls,
// which llmux's usage writer flushes once a second by default.
const usageWait = 5 * time.Second

// countUsage reads, through the admin API of the llmux at addr, how many
// usage records it stored for key, until they number calls or wait has
// passed.
func countUsage(ctx context.Context, addr string, key *virtualKey, calls int64, wait time.Duration) (*report.UsageCheck, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	start := time.Now()
	for {
		n, err := usageRecords(ctx, c, addr, key.ID)
		if err != nil {
			return nil, err
		}
		waited := time.Since(start)
		if n >= calls || waited >= wait {
			return &report.UsageCheck{Calls: calls, Records: n, Waited: waited}, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// usageRecords asks GET /admin/api/usage?key=ID for the number of records
// of the key.
func usageRecords(ctx context.Context, c *http.Client, addr, keyID string) (int64, error) {
	u := "http://" + addr + "/admin/api/usage?key=" + url.QueryEscape(keyID)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+adminKey)
	resp, err := c.Do(req)
	if err != nil {
		return 0, fmt.Errorf("counting usage records: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, fmt.Errorf("counting usage records: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("counting usage records: GET %s: status %d: %s", u, resp.StatusCode, bytes.TrimSpace(body))
	}
	var v struct {
		Rows []struct {
			Requests int64 `json:"requests"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return 0, fmt.Errorf("counting usage records: GET %s: %v", u, err)
	}
	var n int64
	for _, r := range v.Rows {
		n += r.Requests
	}
	return n, nil
}
