// Package c2stest runs the client-to-server layer on its own: a
// c2s.Server and a router, with accounts held in memory, serving an
// in-memory listener (xmpptest.Listener). Tests of streams, SASL,
// binding and stream management (RFC 6120, XEP-0198) drive it with
// xmpptest's Client, without a store, modules or sockets. Its clock is a
// clock.Fake that moves only in Advance, so timeouts (idle, keepalive,
// authentication, resumption) pass without waiting for them and never
// pass by accident.
//
// Integration tests that need the whole server use testserver instead.
package c2stest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"parley/internal/c2s"
	"parley/internal/clock"
	"parley/internal/im/ping"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/sasl"
	"parley/internal/store"
	"parley/internal/xmpptest"
)

// Domain is the server's domain.
const Domain = "localhost"

// Server is a running c2s layer.
type Server struct {
	Router *router.Router
	C2S    *c2s.Server
	Clock  *clock.Fake
	ln     *xmpptest.Listener

	mu      sync.Mutex // guards users and unacked
	users   map[string]store.User
	unacked []Unacked
}

// Unacked is what c2s handed back at the end of a session: the stanzas
// its client never acknowledged (XEP-0198), which the whole server puts
// into offline storage.
type Unacked struct {
	JID     jid.JID
	Stanzas []string
}

// Start serves c2s until the test ends, with plaintext authentication
// allowed (the listener is in memory) and XEP-0199 pings answered.
// configure, if not nil, may change the configuration first (timeouts,
// limits); Domain, Lookup, OnUnacked and Clock are set by Start.
func Start(tb testing.TB, configure func(*c2s.Config)) *Server {
	tb.Helper()
	s := &Server{
		Clock: clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		ln:    xmpptest.NewListener(),
		users: make(map[string]store.User),
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	domain := jid.MustParse(Domain)
	s.Router = router.New(domain, accounts{s}, log)
	ping.New(ping.Options{}).Register(s.Router)
	var cfg c2s.Config
	if configure != nil {
		configure(&cfg)
	}
	cfg.Domain = domain
	cfg.Lookup = s.lookup
	cfg.OnUnacked = s.addUnacked
	cfg.Clock = s.Clock
	s.C2S = c2s.New(cfg, s.Router, log)
	s.C2S.Start()
	served := make(chan error, 1)
	go func() { served <- s.C2S.Serve(s.ln, false, true) }()
	tb.Cleanup(func() {
		s.ln.Close()
		if err := <-served; err != nil {
			tb.Errorf("c2stest: serve: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.C2S.Shutdown(ctx); err != nil {
			tb.Errorf("c2stest: shutdown: %v", err)
		}
	})
	return s
}

// Advance lets d pass on the server's clock: each sweep of the sessions
// (timeouts, keepalives, expired resumptions) that falls due in that time
// runs, in order and at its own time, and Advance returns once the last
// one has finished. What a sweep sent may still be on its way to the
// clients.
func (s *Server) Advance(tb testing.TB, d time.Duration) {
	tb.Helper()
	end := s.Clock.Now().Add(d)
	for {
		// The sweeper re-arms its timer after each sweep: once armed,
		// the sweep before is over.
		xmpptest.Eventually(tb, 10*time.Second, func() error {
			if s.Clock.Pending() == 0 {
				return errors.New("c2stest: the sweeper is not waiting for its timer")
			}
			return nil
		})
		next, _ := s.Clock.Next()
		if next.After(end) {
			s.Clock.Advance(end.Sub(s.Clock.Now()))
			return
		}
		s.Clock.Advance(next.Sub(s.Clock.Now()))
	}
}

// AddUser creates an account (SCRAM keys of 4096 iterations).
func (s *Server) AddUser(tb testing.TB, username, password string) {
	tb.Helper()
	k1, err := sasl.NewKeys(sasl.SHA1, password, 4096)
	if err != nil {
		tb.Fatal(err)
	}
	k256, err := sasl.NewKeys(sasl.SHA256, password, 4096)
	if err != nil {
		tb.Fatal(err)
	}
	s.mu.Lock()
	s.users[username] = store.User{Username: username, SHA1: k1, SHA256: k256}
	s.mu.Unlock()
}

// Dial logs in over a new in-memory connection, without TLS; o.NoTLS is
// implied. The stream is killed when the test ends if still open.
func (s *Server) Dial(tb testing.TB, o xmpptest.Options) (*xmpptest.Client, error) {
	tb.Helper()
	conn, err := s.DialRaw()
	if err != nil {
		return nil, err
	}
	o.NoTLS = true
	if o.Domain == "" {
		o.Domain = Domain
	}
	c, err := xmpptest.DialConn(context.Background(), conn, o)
	if err != nil {
		return nil, err
	}
	tb.Cleanup(func() { c.Kill() })
	return c, nil
}

// Login is Dial that fails the test on error.
func (s *Server) Login(tb testing.TB, user, password, resource string) *xmpptest.Client {
	tb.Helper()
	c, err := s.Dial(tb, xmpptest.Options{User: user, Password: password, Resource: resource})
	if err != nil {
		tb.Fatalf("c2stest: login %s/%s: %v", user, resource, err)
	}
	return c
}

// DialRaw opens an in-memory connection for a test that speaks bytes.
func (s *Server) DialRaw() (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.ln.Dial(ctx)
}

// Unacked returns what c2s handed back so far, in order.
func (s *Server) Unacked() []Unacked {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Unacked(nil), s.unacked...)
}

func (s *Server) addUnacked(_ context.Context, full jid.JID, stanzas [][]byte) {
	u := Unacked{JID: full}
	for _, b := range stanzas {
		u.Stanzas = append(u.Stanzas, string(b))
	}
	s.mu.Lock()
	s.unacked = append(s.unacked, u)
	s.mu.Unlock()
}

func (s *Server) lookup(_ context.Context, username string) (store.ScramKeys, store.ScramKeys, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[username]
	if !ok {
		return store.ScramKeys{}, store.ScramKeys{}, sasl.ErrUnknownUser
	}
	return u.SHA1, u.SHA256, nil
}

// accounts is the router's view of the users.
type accounts struct{ s *Server }

func (a accounts) Exists(_ context.Context, username string) (bool, error) {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	_, ok := a.s.users[username]
	return ok, nil
}
