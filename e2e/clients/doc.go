// Package clients holds an end-to-end test in which the coding-agent CLIs
// people point at gateways — Claude Code, Codex, Gemini CLI and opencode —
// run through a real llmux binary against fake upstreams that replay the
// recorded provider answers in testdata/fixtures, and must print them.
//
// The package has no code of its own, only tests. The CLIs are installed
// outside the repository, at pinned versions, by install.sh. TestClients
// runs only with LLMUX_E2E_CLIENTS=1 and skips each CLI that is not
// installed:
//
//	e2e/clients/install.sh
//	LLMUX_E2E_CLIENTS=1 go test ./e2e/clients -run TestClients -v -count=1
//
// Other knobs: LLMUX_E2E_BIN (a directory holding the CLIs), LLMUX_E2E_CACHE
// (install.sh's cache, default $HOME/.cache/llmux-e2e), LLMUX_E2E_TIMEOUT
// (bound on one CLI run, default 2m) and LLMUX_E2E_LLMUX (a prebuilt llmux
// instead of building ./cmd/llmux). The wire captures in testdata/ — what
// each CLI sends, straight to a recording server — are rewritten by
//
//	go test ./e2e/clients -run TestRecord -record -count=1
//
// It imports nothing of llmux: it drives the binary the way a user does,
// through a configuration file and HTTP.
package clients
