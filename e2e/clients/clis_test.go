//go:build unix

package clients

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// client is one coding-agent CLI and how to point it at a gateway.
type client struct {
	// name names the wire capture, testdata/<name>.request.json.
	name string
	// exe is the executable install.sh puts in its bin directory.
	exe string
	// protocol is the API the CLI speaks, an llmux ingress.
	protocol string
	// setup writes the CLI's configuration under r.home and returns its
	// arguments and the environment it needs beyond commonEnv.
	setup func(r *cliRun) (args, env []string, err error)
}

// cliRun is one invocation of a CLI.
type cliRun struct {
	home   string // HOME, holding every configuration and cache of the CLI
	work   string // the working directory, an empty project
	base   string // the gateway's root URL, no trailing slash
	key    string // the client key
	model  string // the model to ask for, provider/model
	prompt string
}

var clients = []client{
	{name: "claude-code", exe: "claude", protocol: "anthropic", setup: setupClaude},
	{name: "codex", exe: "codex", protocol: "openai-responses", setup: setupCodex},
	{name: "gemini-cli", exe: "gemini", protocol: "gemini", setup: setupGemini},
	{name: "opencode", exe: "opencode", protocol: "openai", setup: setupOpencode},
}

// setupClaude: Claude Code reads its endpoint and key from the environment;
// -p runs one prompt and prints the answer. Every model alias (the
// background "haiku" calls included) is pinned to the model under test so
// that no request names a model the gateway does not route.
func setupClaude(r *cliRun) ([]string, []string, error) {
	args := []string{"-p", r.prompt, "--model", r.model, "--output-format", "text"}
	env := []string{
		"ANTHROPIC_BASE_URL=" + r.base,
		"ANTHROPIC_API_KEY=" + r.key,
		"CLAUDE_CONFIG_DIR=" + filepath.Join(r.home, ".claude"),
		"ANTHROPIC_MODEL=" + r.model,
		"ANTHROPIC_DEFAULT_OPUS_MODEL=" + r.model,
		"ANTHROPIC_DEFAULT_SONNET_MODEL=" + r.model,
		"ANTHROPIC_DEFAULT_HAIKU_MODEL=" + r.model,
		"ANTHROPIC_SMALL_FAST_MODEL=" + r.model,
		"CLAUDE_CODE_SUBAGENT_MODEL=" + r.model,
		// No telemetry, error reports, update checks or other traffic
		// beyond the model calls.
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
		"DISABLE_AUTOUPDATER=1",
		"DISABLE_TELEMETRY=1",
		"DISABLE_ERROR_REPORTING=1",
		"DISABLE_BUG_COMMAND=1",
		"CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY=1",
		"CLAUDE_CODE_DISABLE_TERMINAL_TITLE=1",
	}
	return args, env, nil
}

// setupCodex: Codex reads a custom model provider from config.toml in
// CODEX_HOME; `codex exec` runs one prompt and prints the last message.
func setupCodex(r *cliRun) ([]string, []string, error) {
	codexHome := filepath.Join(r.home, ".codex")
	cfg := fmt.Sprintf(`# Written by TestClients.
model = %s
model_provider = "llmux"
check_for_update_on_startup = false
approval_policy = "never"
sandbox_mode = "read-only"

[analytics]
enabled = false

[feedback]
enabled = false

# Plugins would sync a curated marketplace from github.com at start.
[features]
plugins = false
apps = false

[model_providers.llmux]
name = "llmux"
base_url = %s
env_key = "LLMUX_API_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
`, strconv.Quote(r.model), strconv.Quote(r.base+"/v1"))
	if err := writeFile(filepath.Join(codexHome, "config.toml"), cfg); err != nil {
		return nil, nil, err
	}
	args := []string{"exec", "--skip-git-repo-check", "--ephemeral", "--color", "never", r.prompt}
	env := []string{"CODEX_HOME=" + codexHome, "LLMUX_API_KEY=" + r.key}
	return args, env, nil
}

// setupGemini: Gemini CLI takes its endpoint and key from the environment
// and the rest from ~/.gemini/settings.json; -p runs one prompt.
func setupGemini(r *cliRun) ([]string, []string, error) {
	settings := map[string]any{
		"security":  map[string]any{"auth": map[string]any{"selectedType": "gemini-api-key"}},
		"privacy":   map[string]any{"usageStatisticsEnabled": false},
		"telemetry": map[string]any{"enabled": false},
		"general":   map[string]any{"disableAutoUpdate": true, "disableUpdateNag": true},
		"ide":       map[string]any{"enabled": false},
	}
	b, _ := json.MarshalIndent(settings, "", "  ")
	if err := writeFile(filepath.Join(r.home, ".gemini", "settings.json"), string(b)); err != nil {
		return nil, nil, err
	}
	args := []string{"-p", r.prompt, "-m", r.model, "--output-format", "text", "--skip-trust"}
	env := []string{
		"GEMINI_API_KEY=" + r.key,
		"GOOGLE_GEMINI_BASE_URL=" + r.base,
		"GEMINI_CLI_NO_RELAUNCH=true",
		"GEMINI_TELEMETRY_ENABLED=false",
	}
	return args, env, nil
}

// setupOpencode: opencode takes a provider from the configuration file
// OPENCODE_CONFIG names; @ai-sdk/openai-compatible (bundled) speaks Chat
// Completions to its baseURL. `opencode run` runs one prompt.
func setupOpencode(r *cliRun) ([]string, []string, error) {
	cfg := map[string]any{
		"$schema":     "https://opencode.ai/config.json",
		"autoupdate":  false,
		"share":       "disabled",
		"model":       "llmux/" + r.model,
		"small_model": "llmux/" + r.model,
		"provider": map[string]any{
			"llmux": map[string]any{
				"npm":     "@ai-sdk/openai-compatible",
				"name":    "llmux",
				"options": map[string]any{"baseURL": r.base + "/v1", "apiKey": r.key},
				"models":  map[string]any{r.model: map[string]any{"name": r.model}},
			},
		},
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	path := filepath.Join(r.home, "opencode.json")
	if err := writeFile(path, string(b)); err != nil {
		return nil, nil, err
	}
	// At start opencode npm-installs its plugin SDK into its configuration
	// directory unless package.json and package-lock.json there already
	// declare it and node_modules exists (Npm.install in its source). That
	// install goes to registry.npmjs.org and stalls a run for 10-40s until
	// it fails; `run` with no plugins needs none of it.
	confDir := filepath.Join(r.home, ".config", "opencode")
	for name, content := range map[string]string{
		"package.json":      `{"dependencies":{"@opencode-ai/plugin":"*"}}`,
		"package-lock.json": `{"lockfileVersion":3,"packages":{"":{"dependencies":{"@opencode-ai/plugin":"*"}}}}`,
	} {
		if err := writeFile(filepath.Join(confDir, name), content); err != nil {
			return nil, nil, err
		}
	}
	if err := os.MkdirAll(filepath.Join(confDir, "node_modules"), 0o755); err != nil {
		return nil, nil, err
	}
	args := []string{"run", "-m", "llmux/" + r.model, r.prompt}
	env := []string{
		"OPENCODE_CONFIG=" + path,
		"OPENCODE_DISABLE_AUTOUPDATE=1",
		"OPENCODE_DISABLE_MODELS_FETCH=1",
		"OPENCODE_DISABLE_DEFAULT_PLUGINS=1",
		"OPENCODE_DISABLE_LSP_DOWNLOAD=1",
		"OPENCODE_DISABLE_SHARE=1",
		"OPENCODE_DISABLE_CLAUDE_CODE=1",
		"OPENCODE_DISABLE_EXTERNAL_SKILLS=1",
	}
	return args, env, nil
}

// commonEnv is the environment every CLI starts from: nothing of the
// caller's but PATH (a stray OPENAI_API_KEY must not leak in), a private
// home, no colour, and every proxy variable pointing at blackhole so that
// a request to anything but the gateway on loopback fails and is logged.
func commonEnv(home, blackhole string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"USER=llmux-e2e",
		"LANG=C.UTF-8",
		"TERM=dumb",
		"NO_COLOR=1",
		"FORCE_COLOR=0",
		"TMPDIR=" + filepath.Join(home, "tmp"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".local", "state"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
	}
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"} {
		env = append(env, k+"="+blackhole)
	}
	return append(env, "NO_PROXY=127.0.0.1,localhost,::1", "no_proxy=127.0.0.1,localhost,::1")
}

func writeFile(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o600)
}

// findExe looks for a CLI in LLMUX_E2E_BIN, then in install.sh's default
// bin directory, then on PATH.
func findExe(name string) (string, bool) {
	var dirs []string
	if d := os.Getenv("LLMUX_E2E_BIN"); d != "" {
		dirs = append(dirs, d)
	}
	cache := os.Getenv("LLMUX_E2E_CACHE")
	if cache == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cache = filepath.Join(home, ".cache", "llmux-e2e")
		}
	}
	if cache != "" {
		found, _ := filepath.Glob(filepath.Join(cache, "npm-*", "node_modules", ".bin"))
		dirs = append(dirs, newestFirst(found)...)
	}
	dirs = append(dirs, filepath.SplitList(os.Getenv("PATH"))...)
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// newestFirst keeps the complete installs among dirs (install.sh's
// node_modules/.bin directories), newest first, so that after a version
// bump the new install wins over an old one.
func newestFirst(dirs []string) []string {
	mod := map[string]time.Time{}
	var out []string
	for _, p := range dirs {
		if fi, err := os.Stat(filepath.Join(p, "..", "..", ".complete")); err == nil {
			mod[p] = fi.ModTime()
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return mod[b].Compare(mod[a]) })
	return out
}
