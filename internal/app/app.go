// Package app assembles a running llmux from its configuration: the
// store, the limiter (in memory or Redis), the key resolver, the usage
// writer, the admin API and the gateway, with their background work, and
// takes them down in order so that no usage record is lost. cmd/llmux's
// serve and the benchmark's profiled gateway both use it, so the two
// cannot drift apart. Which store implementations exist is the commands'
// choice: they import them.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/llmux/llmux/internal/admin"
	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/gateway"
	"github.com/llmux/llmux/internal/keys"
	"github.com/llmux/llmux/internal/limits"
	"github.com/llmux/llmux/internal/store"
	"github.com/llmux/llmux/internal/usage"
	"github.com/llmux/llmux/protocol"
)

// App is llmux assembled: the gateway and what it runs on.
type App struct {
	Server  *gateway.Server
	Store   store.Store
	Keys    *keys.Resolver
	Limiter limits.Limiter
	Writer  *usage.Writer
	// AdminKeyFile is where a generated admin key was written ("" when the
	// configuration sets admin_key); AdminKeyCreated says it was made now.
	AdminKeyFile    string
	AdminKeyCreated bool

	log          *slog.Logger
	closeLimiter func()
	stopBG       context.CancelFunc
	bg           sync.WaitGroup
}

// Open checks the configuration, opens the database (creating and
// migrating it), the limiter, the key resolver and the usage writer, sets
// up the admin key, and builds the gateway. It refuses a listen address
// other hosts can reach while no client key exists.
func Open(ctx context.Context, cfg *config.Config, reg *protocol.Registry, log *slog.Logger) (*App, error) {
	// A configuration that cannot be served is refused before anything is
	// created on disk.
	if _, err := gateway.New(cfg, gateway.Options{Registry: reg}); err != nil {
		return nil, fmt.Errorf("configuration is not valid:\n%w", err)
	}
	a := &App{log: log, closeLimiter: func() {}}
	var err error
	if a.Store, err = OpenStore(ctx, cfg); err != nil {
		return nil, err
	}
	fail := func(err error) (*App, error) {
		a.closeLimiter()
		a.Store.Close()
		return nil, err
	}
	if a.Limiter, a.closeLimiter, err = openLimiter(ctx, cfg); err != nil {
		return fail(err)
	}
	a.Keys = keys.New(a.Store, keys.Options{Logger: log})
	if err := a.Keys.Sync(ctx); err != nil {
		return fail(fmt.Errorf("reading keys from the database: %w", err))
	}
	if err := gateway.CheckListen(cfg, cfg.Listen, a.Keys.HasVirtual()); err != nil {
		return fail(err)
	}
	adminSum, file, created, err := adminKey(ctx, cfg, a.Store)
	if err != nil {
		return fail(fmt.Errorf("setting up the admin key: %w", err))
	}
	a.AdminKeyFile, a.AdminKeyCreated = file, created
	a.Writer = usage.NewWriter(a.Store, usage.WriterOptions{BatchSize: cfg.Usage.BatchSize,
		FlushInterval: cfg.Usage.FlushInterval.Std(), Logger: log, LogContent: cfg.LogContent})
	a.Server, err = gateway.New(cfg, gateway.Options{Registry: reg, Logger: log, Keys: a.Keys, Limiter: a.Limiter,
		Usage: a.Writer, Admin: admin.New(admin.Options{Store: a.Store, Limiter: a.Limiter, Logger: log}),
		AdminKeyHash: adminSum, Ready: a.Store.Ping, SettleAsync: cfg.Redis != "", Settings: a.Store})
	if err != nil {
		a.Writer.Close(context.Background())
		return fail(fmt.Errorf("configuration is not valid:\n%w", err))
	}
	return a, nil
}

// Start begins the background work: following key and configuration
// changes made by other instances, seeding budgets from stored usage, and
// deleting usage records past the retention.
func (a *App) Start(cfg *config.Config) {
	ctx, stop := context.WithCancel(context.Background())
	a.stopBG = stop
	a.bg.Go(func() { a.Keys.Run(ctx) })
	a.bg.Go(func() { a.Server.FollowSettings(ctx, 500*time.Millisecond) })
	a.bg.Go(func() { seedSpend(ctx, a.Store, a.Limiter, a.log) })
	a.bg.Go(func() { usage.RunRetention(ctx, a.Store, cfg.Usage.Retention.Std(), time.Hour, a.log) })
}

// Close stops the background work, writes every queued usage record
// (waiting up to ctx's deadline for the database), and closes the limiter
// and the store. Call it after the server has drained.
func (a *App) Close(ctx context.Context) error {
	if a.stopBG != nil {
		a.stopBG()
		a.bg.Wait()
	}
	err := a.Writer.Close(ctx)
	if err != nil {
		err = fmt.Errorf("usage records were lost at shutdown: %w", err)
	}
	a.closeLimiter()
	return errors.Join(err, a.Store.Close())
}

// openStore opens the configured database, creating and migrating it.
func OpenStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	st, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, fmt.Errorf("opening the database: %w", err)
	}
	return st, nil
}

// openLimiter returns the Redis limiter when redis is configured, shared by
// every instance using that Redis, else an in-memory one.
func openLimiter(ctx context.Context, cfg *config.Config) (limits.Limiter, func(), error) {
	if cfg.Redis == "" {
		return limits.NewMemory(limits.Options{}), func() {}, nil
	}
	opt, err := redis.ParseURL(cfg.Redis)
	if err != nil {
		return nil, nil, fmt.Errorf("redis: %v", redactRedis(err, cfg.Redis))
	}
	c := redis.NewClient(opt)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("redis at %s does not answer: %v", opt.Addr, redactRedis(err, cfg.Redis))
	}
	return limits.NewRedis(c, limits.Options{}), func() { c.Close() }, nil
}

// redactRedis keeps a password in the Redis URL out of an error message.
func redactRedis(err error, url string) error {
	msg := err.Error()
	if i := strings.Index(url, "@"); i > 0 {
		msg = strings.ReplaceAll(msg, url, store.RedactDSN(url))
	}
	return errors.New(msg)
}

// adminKeySetting holds the SHA-256 of the generated admin key, shared by
// every instance of one database.
const adminKeySetting = "admin/key_sha256"

// adminKey returns the hash of the admin key to require when the
// configuration sets none: the one in the store, or a new one, whose
// secret is then written once to a file beside the database (mode 0600) and
// whose path is returned for the banner.
func adminKey(ctx context.Context, cfg *config.Config, st store.Store) (sum *[32]byte, file string, created bool, err error) {
	if cfg.AdminKey != "" {
		return nil, "", false, nil
	}
	file = adminKeyFile(cfg)
	if s, err := st.GetSetting(ctx, adminKeySetting); err == nil && len(s.Value) == 32 {
		var h [32]byte
		copy(h[:], s.Value)
		return &h, file, false, nil
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, "", false, err
	}
	sec := keys.NewSecret()
	raw := "sk-llmux-admin-" + strings.TrimPrefix(sec.Raw, keys.SecretPrefix)
	h := store.HashKey(raw)
	if _, err := st.PutSetting(ctx, adminKeySetting, h[:], 0); errors.Is(err, store.ErrConflict) {
		return adminKey(ctx, cfg, st) // another instance made one first
	} else if err != nil {
		return nil, "", false, err
	}
	if err := os.WriteFile(file, []byte(raw+"\n"), 0o600); err != nil {
		return nil, "", false, fmt.Errorf("writing the new admin key to %s: %w (set admin_key or LLMUX_ADMIN_KEY instead)", file, err)
	}
	return &h, file, true, nil
}

// adminKeyFile is where a generated admin key is written: beside the SQLite
// database, else in the working directory.
func adminKeyFile(cfg *config.Config) string {
	dir := "."
	if path, ok := strings.CutPrefix(cfg.Database, "sqlite://"); ok {
		path, _, _ = strings.Cut(path, "?")
		dir = filepath.Dir(path)
	}
	return filepath.Join(dir, "llmux-admin.key")
}

// seedSpend tells the limiter what keys and teams with budgets have spent in
// their current period, from the stored usage, so that a restart (or an
// emptied Redis) does not forget it. Records still in other instances'
// queues are missed; they are at most one flush interval old.
func seedSpend(ctx context.Context, st store.Store, l limits.Limiter, log *slog.Logger) {
	now := time.Now()
	seed := func(kind limits.Kind, id string, lim store.Limits, f store.UsageFilter) {
		if lim.BudgetUSD <= 0 {
			return
		}
		p := limits.Period(lim.BudgetPeriod)
		_, start, _ := p.Bounds(now)
		f.From = start
		rows, err := st.AggregateUsage(ctx, store.AggregateQuery{Filter: f})
		if err != nil || len(rows) == 0 {
			if err != nil {
				log.Warn("reading past spend failed", "subject", id, "error", err)
			}
			return
		}
		if err := l.SeedSpend(ctx, limits.Subject{Kind: kind, ID: id}, p, limits.Dollars(rows[0].CostUSD)); err != nil {
			log.Warn("seeding the limiter failed", "subject", id, "error", err)
		}
	}
	teams, err := st.ListTeams(ctx)
	if err != nil {
		log.Warn("reading teams failed; budgets start from what the limiter remembers", "error", err)
		return
	}
	for _, t := range teams {
		seed(limits.KindTeam, t.ID, t.Limits, store.UsageFilter{TeamID: t.ID})
	}
	ks, err := st.ListKeys(ctx, store.KeyFilter{})
	if err != nil {
		log.Warn("reading keys failed; budgets start from what the limiter remembers", "error", err)
		return
	}
	for _, k := range ks {
		seed(limits.KindKey, k.ID, k.Limits, store.UsageFilter{KeyID: k.ID})
	}
}
