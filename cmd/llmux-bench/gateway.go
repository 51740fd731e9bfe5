package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/pprof"
	"time"

	"github.com/llmux/llmux/bench"
	"github.com/llmux/llmux/internal/app"
	"github.com/llmux/llmux/internal/config"
	_ "github.com/llmux/llmux/internal/store/sqlite" // registers sqlite://, the benchmark's database
	"github.com/llmux/llmux/protocol/all"
)

// profiledGateway is the profiled-gateway mode: llmux assembled by
// internal/app from the same configuration file, exactly as cmd/llmux's
// serve assembles it, in this process, with a CPU profile for its whole life and an
// allocation profile written when it stops (SIGTERM). The measured runs use
// the real llmux binary; this mode only exists because llmux serves no
// pprof endpoint.
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
	a, err := app.Open(ctx, cfg, all.Registry(), log)
	if err != nil {
		return err
	}
	// The usage writer is closed after the server has drained, so that the
	// last requests' records are written, and before the profiles are.
	closeApp := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return a.Close(ctx)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return errors.Join(err, closeApp())
	}
	f, err := os.Create(*cpuFile)
	if err != nil {
		ln.Close()
		return errors.Join(err, closeApp())
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		ln.Close()
		return errors.Join(err, closeApp())
	}
	a.Start(cfg)
	runErr := a.Server.Run(ctx, ln, cfg.DrainTimeout.Std())
	runErr = errors.Join(runErr, closeApp())
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
