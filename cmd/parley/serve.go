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

// reload reads the configuration again as serve did (file, environment,
// the same flags) and applies what can change live: the certificate (read
// again from its files), the log level. Every other changed key is named
// in the log as waiting for a restart. A configuration that does not load
// or validate changes nothing. No session is dropped either way.
func reload(srv *server.Server, args []string, level *slog.LevelVar, log *slog.Logger) {
	log.Info("SIGHUP: reloading the configuration")
	cfg, _, err := config.FromArgs(flag.NewFlagSet("serve", flag.ContinueOnError), args)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		log.Error("reload failed; nothing changed", "err", err)
		return
	}
	restart, err := srv.Reload(cfg)
	if err != nil {
		log.Error("reload failed; nothing changed", "err", err)
		return
	}
	level.Set(cfg.SlogLevel())
	for _, k := range restart {
		log.Warn("changed setting needs a restart to take effect", "key", k)
	}
	log.Info("configuration reloaded", "log_level", cfg.SlogLevel().String(), "restart_needed", len(restart))
}

// runServe implements `parley serve`: run until SIGTERM or SIGINT
// (reloading at SIGHUP), then stop accepting, send system-shutdown to every stream, flush the store and
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
	level := new(slog.LevelVar) // SIGHUP may change it
	level.Set(cfg.SlogLevel())
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// SIGHUP reloads (a logrotate or certificate renewal hook sends it);
	// Go's default for it would end the process. Listen from the start so
	// that none arriving while the server starts is lost.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	log.Info("parley started", "domain", cfg.Domain, "data", cfg.Data, "version", server.Version)
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-hup:
			reload(srv, args, level, log)
		}
	}
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
