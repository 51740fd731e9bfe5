// Command llmux is a self-hosted LLM API gateway: one base URL and one key
// in front of every model, whatever protocol the client speaks.
//
// This package is wiring only: flags → configuration → server.
package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/llmux/llmux/internal/app"
	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/gateway"
	"github.com/llmux/llmux/internal/provider"
	"github.com/llmux/llmux/internal/store"
	"github.com/llmux/llmux/internal/version"
	"github.com/llmux/llmux/protocol/all"
)

const usageText = `llmux — one OpenAI-, Anthropic-, Gemini- and Ollama-compatible endpoint for every LLM provider.

Usage:
  llmux serve [--config FILE] [--listen ADDR]   start the gateway
  llmux keys create --name NAME [flags]         issue a virtual key (see 'llmux keys')
  llmux keys list | revoke ID                   list or revoke virtual keys
  llmux version                                 print the version

With no configuration file (--config or $LLMUX_CONFIG), llmux enables the
providers whose keys are in the environment (OPENAI_API_KEY, DEEPSEEK_API_KEY,
GROQ_API_KEY, MISTRAL_API_KEY, XAI_API_KEY, OPENROUTER_API_KEY, OLLAMA_BASE_URL, …)
plus the built-in mock provider, and listens on 127.0.0.1:8080.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return 2
	}
	switch args[0] {
	case "serve":
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		if err := serve(ctx, args[1:], stderr); err != nil {
			fmt.Fprintln(stderr, "llmux:", err)
			return 1
		}
		return 0
	case "keys":
		err := keysCmd(context.Background(), args[1:], stdout, stderr)
		switch {
		case errors.Is(err, errUsage):
			return 2
		case err != nil:
			fmt.Fprintln(stderr, "llmux keys:", err)
			return 1
		}
		return 0
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "llmux %s (%s %s/%s)\n", version.String(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usageText)
		return 0
	}
	fmt.Fprintf(stderr, "llmux: unknown command %q\n\n%s", args[0], usageText)
	return 2
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFlag := fs.String("config", "", "configuration file (YAML or JSON); default $LLMUX_CONFIG")
	listen := fs.String("listen", "", "address to listen on, host:port (overrides the configuration)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := loadConfig(config.ConfigPath(*configFlag))
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	log := newLogger(cfg, stderr)
	for _, w := range cfg.Warnings {
		log.Warn("configuration", "warning", w)
	}
	a, err := app.Open(ctx, cfg, all.Registry(), log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return errors.Join(err, a.Close(context.Background()))
	}
	a.Start(cfg)
	banner(stderr, cfg, a.Server, ln.Addr().String(), a.AdminKeyFile, a.AdminKeyCreated, a.Keys.HasVirtual())
	if cfg.File != "" {
		go watchConfig(ctx, cfg.File, fileSum(cfg.File), a.Server, log, reloadPoll)
	}
	runErr := a.Server.Run(ctx, ln, cfg.DrainTimeout.Std())
	cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Close(cctx); err != nil {
		log.Error("shutting down", "error", err)
		return errors.Join(runErr, err)
	}
	log.Info("usage records written", "records", a.Writer.Stats().Written)
	return runErr
}

// reloadPoll is how often the configuration file is checked for changes.
const reloadPoll = 2 * time.Second

// watchConfig reloads the configuration when its file changes or on
// SIGHUP. A file that does not load, or that would leave a reachable
// listener without keys, is reported and the running configuration kept;
// listen itself is not changed by a reload. Requests in flight finish with the
// configuration they started with.
// last identifies the content the running configuration was loaded from.
func watchConfig(ctx context.Context, path, last string, srv *gateway.Server, log *slog.Logger, every time.Duration) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		why := "file changed"
		select {
		case <-ctx.Done():
			return
		case <-hup:
			why = "SIGHUP"
		case <-tick.C:
			sum := fileSum(path)
			if sum == last {
				continue
			}
			last = sum
		}
		if err := srv.ReloadFile(); err != nil {
			log.Error("configuration reload failed; keeping the running configuration", "reason", why, "file", path, "error", err)
			continue
		}
		log.Info("configuration reloaded", "reason", why, "file", path, "providers", len(srv.Providers()))
	}
}

// fileSum identifies a file's content; "" when it cannot be read.
func fileSum(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return string(sum[:])
}

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.FromEnv(provider.EnvTable(), config.Getenv)
	}
	cfg, err := config.Load(path)
	var errs config.Errors
	if errors.As(err, &errs) {
		return nil, fmt.Errorf("configuration is not valid:\n%w", err)
	}
	return cfg, err
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.LogFormat
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// banner tells a first-time user what is running, where the admin key is
// and how to call it.
func banner(w io.Writer, cfg *config.Config, srv *gateway.Server, addr, adminFile string, adminCreated, virtualKeys bool) {
	ids := srv.Providers()
	sort.Strings(ids)
	for i, id := range ids {
		if id == provider.MockType && cfg.Providers[id] == nil {
			ids[i] = id + " (built in)"
		}
	}
	source := "environment variables (no configuration file)"
	if cfg.File != "" {
		source = cfg.File
	}
	auth := fmt.Sprintf("%d static client key(s)", len(cfg.Keys))
	if virtualKeys {
		auth += " and virtual keys from the database"
	}
	keyHeader := ` -H "Authorization: Bearer $LLMUX_KEY"`
	if len(cfg.Keys) == 0 && !virtualKeys {
		auth = "no client keys yet: serving this machine only (create one with 'llmux keys create --name NAME')"
		keyHeader = ""
	}
	admin := "admin_key from the configuration"
	switch {
	case adminFile != "" && adminCreated:
		admin = "generated now and written to " + adminFile + " (shown nowhere else; keep it safe)"
	case adminFile != "":
		admin = "in " + adminFile + " (generated at the first start)"
	}
	host := addr
	if h, port, err := net.SplitHostPort(addr); err == nil && (h == "0.0.0.0" || h == "::" || h == "") {
		host = net.JoinHostPort("127.0.0.1", port)
	}
	limits := "in memory (this instance)"
	if cfg.Redis != "" {
		limits = "Redis " + store.RedactDSN(cfg.Redis) + " (shared by all instances)"
	}
	fmt.Fprintf(w, `llmux %s listening on http://%s
  configuration: %s
  database:      %s
  limits:        %s
  providers:     %s
  client auth:   %s
  admin key:     %s
  try it:
    curl http://%s/v1/chat/completions -H 'Content-Type: application/json'%s \
      -d '{"model":"mock/echo","messages":[{"role":"user","content":"Hello, llmux!"}]}'
  admin API:
    curl http://%s/admin/api/keys -H "Authorization: Bearer %s"
`, version.String(), addr, source, store.RedactDSN(cfg.Database), limits, strings.Join(ids, ", "), auth, admin, host, keyHeader,
		host, adminKeyHint(adminFile))
}

func adminKeyHint(file string) string {
	if file == "" {
		return "$LLMUX_ADMIN_KEY"
	}
	return "$(cat " + file + ")"
}
