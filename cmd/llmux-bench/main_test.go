package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	for _, tt := range []struct {
		name       string
		args       []string
		code       int
		out, inErr string
	}{
		{"list", []string{"-list"}, 0, "held-streams", ""},
		{"optional marked", []string{"-list"}, 0, "openai-gemini-stream*", ""},
		{"keyed scenario listed", []string{"-list"}, 0, "openai-policy\n", ""},
		{"help", []string{"-h"}, 0, "", "-smoke"},
		{"unknown scenario, before anything starts", []string{"-scenarios", "nope", "-out", "@DIR"}, 1, "", `no scenario "nope"`},
		{"stray argument", []string{"now"}, 1, "", `unexpected argument "now"`},
		{"reverse-proxy without upstream", []string{"reverse-proxy"}, 1, "", "-upstream is required"},
		{"profiled-gateway without config", []string{"profiled-gateway"}, 1, "", "-config and -cpuprofile are required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for i, a := range tt.args {
				if a == "@DIR" {
					tt.args[i] = t.TempDir()
				}
			}
			var out, errOut bytes.Buffer
			if code := run(tt.args, &out, &errOut); code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errOut.String())
			}
			if !strings.Contains(out.String(), tt.out) || !strings.Contains(errOut.String(), tt.inErr) {
				t.Errorf("stdout %q\nstderr %q", out.String(), errOut.String())
			}
		})
	}
}
