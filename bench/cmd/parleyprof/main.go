// Command parleyprof runs parley exactly as `parley serve` does (the same
// configuration file, environment and flags) and also serves net/http/pprof
// on a separate loopback address, so the benchmark can take CPU and heap
// profiles of the server for each workload without a profiling endpoint in
// the server itself:
//
//	parleyprof --config bench.toml --pprof 127.0.0.1:16060
//	go tool pprof -top http://127.0.0.1:16060/debug/pprof/profile?seconds=10
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"parley/internal/config"
	"parley/internal/server"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "parleyprof:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("parleyprof", flag.ContinueOnError)
	pprofAddr := fs.String("pprof", "127.0.0.1:6060", "loopback `host:port` for net/http/pprof")
	cfg, rest, err := config.FromArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("no arguments expected, got %q", rest)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*pprofAddr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--pprof %q: must be a loopback IP and port", *pprofAddr)
	}
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.SlogLevel()}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", *pprofAddr)
	if err != nil {
		srv.Stop(context.Background())
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	log.Info("parleyprof started", "domain", cfg.Domain, "pprof", ln.Addr().String())
	<-ctx.Done()
	stop()
	hs.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Stop(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
