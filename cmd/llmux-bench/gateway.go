package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/llmux/llmux/bench"
	"github.com/llmux/llmux/internal/admin"
	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/gateway"
	"github.com/llmux/llmux/internal/keys"
	"github.com/llmux/llmux/internal/limits"
	"github.com/llmux/llmux/internal/store"
	_ "github.com/llmux/llmux/internal/store/sqlite" // registers sqlite://, the benchmark's database
	"github.com/llmux/llmux/internal/usage"
	"github.com/llmux/llmux/protocol/all"
)

// profiledGateway is the profiled-gateway mode: llmux's gateway, built the
// way cmd/llmux's serve builds it from the same configuration file — with
// its database, key resolver, in-memory limiter, usage writer and admin
// API — in this process, with a CPU profile for its whole life and an
// allocation profile written when it stops (SIGTERM). The measured runs use
// the real llmux binary; this mode only exists because llmux serves no
// pprof endpoint. (What serve does besides — Redis, the generated admin
// key, budget seeding, retention, watching the file — the benchmark does
// not use.)
func profiledGateway(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet(bench.ModeProfiledGateway, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgFile := fs.String("config", "", "llmux configuration file")
	cpuFile := fs.String("cpuprofile", "", "write a CPU profile here")
	memFile := fs.String("memprofile", "", "write an allocation profile here on exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cfgFile == "" || *cpuFile == "" {
		return errors.New("profiled-gateway: -config and -cpuprofile are required")
	}
	cfg, err := config.Load(*cfgFile)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return fmt.Errorf("opening the database: %w", err)
	}
	defer st.Close()
	limiter := limits.NewMemory(limits.Options{})
	resolver := keys.New(st, keys.Options{Logger: log})
	if err := resolver.Sync(ctx); err != nil {
		return fmt.Errorf("reading keys from the database: %w", err)
	}
	writer := usage.NewWriter(st, usage.WriterOptions{BatchSize: cfg.Usage.BatchSize, FlushInterval: cfg.Usage.FlushInterval.Std(),
		Logger: log, LogContent: cfg.LogContent})
	// The writer is closed after the server has drained, so that the last
	// requests' records are written, and before the profiles are.
	closeWriter := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := writer.Close(ctx); err != nil {
			return fmt.Errorf("usage records were lost at shutdown: %w", err)
		}
		return nil
	}
	srv, err := gateway.New(cfg, gateway.Options{Registry: all.Registry(), Logger: log, Keys: resolver, Limiter: limiter,
		Usage: writer, Admin: admin.New(admin.Options{Store: st, Limiter: limiter, Logger: log}),
		Ready: st.Ping, Settings: st})
	if err != nil {
		return errors.Join(fmt.Errorf("configuration is not valid:\n%w", err), closeWriter())
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return errors.Join(err, closeWriter())
	}
	f, err := os.Create(*cpuFile)
	if err != nil {
		ln.Close()
		return errors.Join(err, closeWriter())
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		ln.Close()
		return errors.Join(err, closeWriter())
	}
	// Following key and setting changes, as serve does, until the server
	// has drained.
	var bgWork sync.WaitGroup
	bg, stopBG := context.WithCancel(context.Background())
	bgWork.Go(func() { resolver.Run(bg) })
	bgWork.Go(func() { srv.FollowSettings(bg, 500*time.Millisecond) })
	runErr := srv.Run(ctx, ln, cfg.DrainTimeout.Std())
	stopBG()
	bgWork.Wait()
	runErr = errors.Join(runErr, closeWriter())
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		return errors.Join(runErr, err)
	}
	if *memFile != "" {
		if err := writeAllocs(*memFile); err != nil {
			return errors.Join(runErr, err)
		}
	}
	return runErr
}

func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
