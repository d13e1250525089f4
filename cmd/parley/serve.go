package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"parley/internal/config"
	"parley/internal/server"
)

// shutdownGrace bounds how long streams get to close after SIGTERM.
const shutdownGrace = 10 * time.Second

// runServe implements `parley serve`: run until SIGTERM or SIGINT, then
// stop accepting, send system-shutdown to every stream, flush the store and
// return nil (exit 0).
func runServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg, rest, err := config.FromArgs(fs, args)
	if err != nil {
		return usageError{err}
	}
	if len(rest) > 0 {
		return usageError{fmt.Errorf("serve takes no arguments, got %q", rest)}
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.SlogLevel()}))
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	log.Info("parley started", "domain", cfg.Domain, "data", cfg.Data, "version", server.Version)
	<-ctx.Done()
	stop() // a second signal kills the process the default way
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Stop(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	log.Info("stopped")
	return nil
}
