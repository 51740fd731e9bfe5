package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/pprof"

	"github.com/llmux/llmux/bench"
	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/gateway"
	"github.com/llmux/llmux/protocol/all"
)

// profiledGateway is the profiled-gateway mode: llmux's gateway, built the
// way cmd/llmux builds it from the same configuration file, in this
// process, with a CPU profile for its whole life and an allocation profile
// written when it stops (SIGTERM). The measured runs use the real llmux
// binary; this mode only exists because llmux serves no pprof endpoint.
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
	srv, err := gateway.New(cfg, gateway.Options{Registry: all.Registry()})
	if err != nil {
		return fmt.Errorf("configuration is not valid:\n%w", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	f, err := os.Create(*cpuFile)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	runErr := srv.Run(ctx, ln, cfg.DrainTimeout.Std())
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
