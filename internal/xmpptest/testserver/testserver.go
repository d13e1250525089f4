// Package testserver starts an in-process parley on loopback ports chosen
// by the kernel, for integration and interop tests.
package testserver

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/internal/config"
	"parley/internal/sasl"
	"parley/internal/server"
	"parley/internal/store"
	"parley/internal/xmpptest"
)

// EnvBackend selects the store of every test server: unset for SQLite in
// the test's temporary directory, "postgres" for a fresh database on
// PARLEY_TEST_POSTGRES (see FreshPostgres). `make test` runs the
// integration suites once per backend.
const EnvBackend = "PARLEY_TEST_BACKEND"

// FreshPostgres creates an empty database on the test PostgreSQL server
// (PARLEY_TEST_POSTGRES, default the local one) and drops it when the test
// ends. Without a server the test skips, except under CI, where it fails.
func FreshPostgres(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv("PARLEY_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("testserver: PostgreSQL unreachable under CI: %v", err)
		}
		tb.Skipf("SKIP: PostgreSQL unreachable (%v); set PARLEY_TEST_POSTGRES", err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "parley_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		tb.Fatalf("testserver: %v", err)
	}
	tb.Cleanup(func() {
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		conn.Close(context.Background())
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// ReadOnlyPostgres makes a database from FreshPostgres refuse every write,
// as a full disk or a failed-over read-only replica would: new
// transactions are read-only, and every other connection is ended so that
// a running server reconnects into them (each pooled connection fails
// once). The durability tests (compliance mode) break a live store so.
func ReadOnlyPostgres(tb testing.TB, dsn string) {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		"ALTER DATABASE " + strings.TrimPrefix(u.Path, "/") + " SET default_transaction_read_only = on",
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			tb.Fatalf("testserver: %s: %v", q, err)
		}
	}
}

// databases maps a data directory to its PostgreSQL database, so that a
// test restarting a server on the same data directory finds its data.
var databases sync.Map // data dir -> DSN

func databaseFor(tb testing.TB, data string) string {
	if dsn, ok := databases.Load(data); ok {
		return dsn.(string)
	}
	dsn := FreshPostgres(tb)
	databases.Store(data, dsn)
	tb.Cleanup(func() { databases.Delete(data) })
	return dsn
}

// Server is a running in-process server.
type Server struct {
	*server.Server
	Config config.Config
}

// Start builds and starts a server for domain "localhost" with its data in
// a temporary directory and every listener on 127.0.0.1:0; configure, if
// not nil, may change the configuration first. The server is stopped when
// the test ends. Its log goes to the test's output (shown on failure or
// with -v).
func Start(tb testing.TB, configure func(*config.Config)) *Server {
	tb.Helper()
	out := &gatedWriter{w: tb.Output()}
	tb.Cleanup(out.close) // runs after the server's Stop (cleanups are LIFO)
	return start(tb, configure, slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo})))
}

// Quiet is Start with the log discarded (benchmarks, many connections).
func Quiet(tb testing.TB, configure func(*config.Config)) *Server {
	tb.Helper()
	return start(tb, configure, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func start(tb testing.TB, configure func(*config.Config), log *slog.Logger) *Server {
	tb.Helper()
	cfg := config.Default()
	cfg.Data = tb.TempDir()
	cfg.Domain = "localhost"
	cfg.Listen = config.Listen{C2S: "127.0.0.1:0", C2STLS: "127.0.0.1:0", HTTP: "127.0.0.1:0", Metrics: "127.0.0.1:0"}
	if configure != nil {
		configure(&cfg)
	}
	if os.Getenv(EnvBackend) == "postgres" && cfg.Store == "" {
		cfg.Store = databaseFor(tb, cfg.Data)
	}
	if err := cfg.Validate(); err != nil {
		tb.Fatalf("testserver: config: %v", err)
	}
	ctx := context.Background()
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		tb.Fatalf("testserver: new: %v", err)
	}
	if err := srv.Start(ctx); err != nil {
		tb.Fatalf("testserver: start: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			tb.Errorf("testserver: stop: %v", err)
		}
	})
	return &Server{Server: srv, Config: cfg}
}

// C2S is the STARTTLS listener's address.
func (s *Server) C2S() string { return s.Addr("c2s").String() }

// C2STLS is the direct TLS listener's address.
func (s *Server) C2STLS() string { return s.Addr("c2s_tls").String() }

// HTTP is the HTTP listener's address.
func (s *Server) HTTP() string { return s.Addr("http").String() }

// HTTPS is the HTTPS listener's address; the test must have turned it on
// (Config.Listen.HTTPS = "127.0.0.1:0").
func (s *Server) HTTPS() string { return s.Addr("https").String() }

// Online logs user in as resource over STARTTLS (SCRAM-SHA-256) and sends
// initial presence; the stream is closed when the test ends.
func (s *Server) Online(tb testing.TB, user, password, resource string) *xmpptest.Client {
	tb.Helper()
	return xmpptest.Online(tb, s.C2S(), xmpptest.Options{User: user, Password: password, Resource: resource})
}

// AddUser creates an account with password.
func (s *Server) AddUser(tb testing.TB, username, password string) {
	tb.Helper()
	u, err := NewUser(username, password)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Store().CreateUser(context.Background(), u); err != nil {
		tb.Fatalf("testserver: create %s: %v", username, err)
	}
}

// AddUsers creates an account with password for each name.
func (s *Server) AddUsers(tb testing.TB, password string, names ...string) {
	tb.Helper()
	for _, n := range names {
		s.AddUser(tb, n, password)
	}
}

// OnlineUsers creates an account with password for each name and logs
// each in as resource with initial presence (Online), in the order of
// names, so a later one's presence may reach an earlier one.
func (s *Server) OnlineUsers(tb testing.TB, password, resource string, names ...string) []*xmpptest.Client {
	tb.Helper()
	s.AddUsers(tb, password, names...)
	cs := make([]*xmpptest.Client, len(names))
	for i, n := range names {
		cs[i] = s.Online(tb, n, password, resource)
	}
	return cs
}

// TLSConfig verifies the server's self-signed certificate (data/tls) as
// a client given that certificate would, offering the ALPN protos.
func (s *Server) TLSConfig(tb testing.TB, protos ...string) *tls.Config {
	tb.Helper()
	pem, err := os.ReadFile(filepath.Join(s.Config.Data, "tls", s.Config.Domain+".crt"))
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		tb.Fatalf("testserver: no certificate in %s.crt", s.Config.Domain)
	}
	return &tls.Config{RootCAs: pool, NextProtos: protos}
}

// HTTPSClient is an HTTP client (HTTP/2 when the server offers it) that
// trusts the server's certificate; its idle connections are closed when
// the test ends.
func (s *Server) HTTPSClient(tb testing.TB) *http.Client {
	tb.Helper()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: s.TLSConfig(tb), ForceAttemptHTTP2: true}}
	tb.Cleanup(hc.CloseIdleConnections)
	return hc
}

// NewUser derives the stored SCRAM keys of an account (4096 iterations).
func NewUser(username, password string) (store.User, error) {
	k1, err := sasl.NewKeys(sasl.SHA1, password, 4096)
	if err != nil {
		return store.User{}, err
	}
	k256, err := sasl.NewKeys(sasl.SHA256, password, 4096)
	if err != nil {
		return store.User{}, err
	}
	return store.User{Username: username, SHA1: k1, SHA256: k256}, nil
}

// gatedWriter drops writes once the test is over: server goroutines may
// still log while stopping, and testing panics on output after the end.
type gatedWriter struct {
	mu     sync.Mutex
	w      io.Writer
	closed atomic.Bool
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed.Load() {
		return len(p), nil
	}
	return g.w.Write(p)
}

func (g *gatedWriter) close() {
	g.mu.Lock()
	g.closed.Store(true)
	g.mu.Unlock()
}
