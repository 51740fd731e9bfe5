//go:build unix

package clients

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var record = flag.Bool("record", false, "run each installed CLI against a recording server and rewrite testdata/<cli>.request.json")

// capture is the file testdata/<cli>.request.json: every request one run
// of the CLI sent, straight to a recording server speaking its protocol.
type capture struct {
	CLI      string     `json:"cli"`
	Version  string     `json:"version"`
	Command  string     `json:"command"`
	Env      []string   `json:"env"`
	Note     string     `json:"note"`
	Requests []exchange `json:"requests"`
	// Blocked lists what the CLI tried to reach through a proxy other
	// than the server it was pointed at (and did not get).
	Blocked []string `json:"blocked_outbound,omitempty"`
}

// TestRecord rewrites the wire captures. The recording server is the fake
// upstream itself, standing where the gateway would: it answers each
// protocol with its recorded text answer, so the CLI finishes normally.
func TestRecord(t *testing.T) {
	if !*record {
		t.Skip("the wire captures in testdata/ are rewritten with: go test ./e2e/clients -run TestRecord -record")
	}
	fx := loadFixtures(t)
	bh := newBlackhole(t)
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			exe, ok := findExe(c.exe)
			if !ok {
				t.Skipf("%s is not installed: run e2e/clients/install.sh", c.exe)
			}
			model := ownModel(c)
			rec := newFakeUpstream(t, "recording", fx, "", model)
			res := runCLI(t, c, exe, rec.URL(), testKey, model, bh.srv.URL)
			t.Logf("%s", res)
			exs := rec.requests(0)
			if len(exs) == 0 {
				t.Fatalf("%s sent nothing to the recording server\n%s", c.name, res)
			}
			blocked := bh.since(0)
			if len(blocked) > 0 {
				t.Logf("outbound attempts blocked: %v", blocked)
			}
			version, _ := exec.Command(exe, "--version").Output()
			cp := capture{
				CLI: c.name, Version: strings.TrimSpace(string(version)), Command: res.commandLine(),
				Env:      res.env,
				Note:     "Recorded by TestRecord against a fake server replaying testdata/fixtures; secrets, temporary paths and the key are replaced.",
				Requests: exs,
				Blocked:  blocked,
			}
			for i := range cp.Requests {
				if cp.Requests[i].Body != nil {
					cp.Requests[i].Body = scrub(cp.Requests[i].Body, res)
				}
			}
			b, err := json.MarshalIndent(cp, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			b = append(scrub(b, res), '\n')
			path := filepath.Join("testdata", c.name+".request.json")
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s: %d requests", path, len(exs))
		})
	}
}

// scrub replaces what differs between runs and machines: the temporary
// directories, where the CLI is installed, the recording server's address
// and the key.
func scrub(b []byte, res *result) []byte {
	install := ""
	if i := strings.Index(res.exe, "/node_modules/"); i > 0 {
		install = res.exe[:i]
	}
	for _, r := range []struct{ old, new string }{
		{install, "$INSTALL"},
		{res.work, "$WORK"}, {res.home, "$HOME"}, {filepath.Dir(res.home), "$TMP"},
		{res.base, "$BASE"}, {testKey, "$KEY"},
	} {
		if r.old != "" {
			b = bytes.ReplaceAll(b, []byte(r.old), []byte(r.new))
		}
	}
	return b
}
