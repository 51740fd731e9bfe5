package gateway

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmux/llmux/internal/config"
)

// TestAdminAuthAndReload: the admin API wants the admin key (a client key
// gets 403, none 401), shows key fingerprints but never keys, and reloads
// the configuration file on request.
func TestAdminAuthAndReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "llmux.yaml")
	write := func(text string) {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := "admin_key: adm-secret\nkeys: [cli-key]\nproviders:\n  oa:\n    type: openai\n    base_url: http://127.0.0.1:1/v1\n    api_keys: [sk-upstream-aaaa, sk-upstream-bbbb]\n"
	write(base)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg, Options{Registry: registry()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	for _, tt := range []struct {
		key    string
		status int
	}{{"", 401}, {"cli-key", 403}, {"wrong", 401}, {"adm-secret", 200}} {
		h := map[string]string{}
		if tt.key != "" {
			h["Authorization"] = "Bearer " + tt.key
		}
		resp, b := send(t, ts, "GET", "/admin/api/health", "", h)
		if resp.StatusCode != tt.status {
			t.Errorf("key %q: status %d, want %d: %s", tt.key, resp.StatusCode, tt.status, b)
		}
		if strings.Contains(string(b), "sk-upstream") {
			t.Errorf("the health answer shows a key: %s", b)
		}
		if tt.status == 200 && (!strings.Contains(string(b), `"id":"oa"`) || strings.Count(string(b), `"fingerprint"`) != 2) {
			t.Errorf("health = %s", b)
		}
	}
	admin := map[string]string{"Authorization": "Bearer adm-secret"}
	if resp, _ := send(t, ts, "GET", "/admin/api/reload", "", admin); resp.StatusCode != 405 {
		t.Errorf("GET reload: %d", resp.StatusCode)
	}
	write(base + "  more:\n    type: mock\n")
	resp, b := send(t, ts, "POST", "/admin/api/reload", "", admin)
	if resp.StatusCode != 200 {
		t.Fatalf("reload: %d %s", resp.StatusCode, b)
	}
	found := false
	for _, p := range srv.Providers() {
		found = found || p == "more"
	}
	if !found {
		t.Errorf("providers after reload: %v", srv.Providers())
	}
	write("providers:\n  oa:\n    bsae_url: x\n")
	resp, b = send(t, ts, "POST", "/admin/api/reload", "", admin)
	if resp.StatusCode != 422 || !strings.Contains(string(b), "bsae_url") {
		t.Errorf("a broken file: %d %s", resp.StatusCode, b)
	}
	if resp, _ := send(t, ts, "POST", "/v1/chat/completions", `{"model":"more/echo","messages":[{"role":"user","content":"hi"}]}`,
		map[string]string{"Authorization": "Bearer cli-key"}); resp.StatusCode != 200 {
		t.Errorf("the configuration was lost after a failed reload: %d", resp.StatusCode)
	}
}
