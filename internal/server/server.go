// Package server assembles parley: it opens the store, builds the router
// and every module, and starts and stops the listeners. It is the one
// wiring place (cmd/parley only parses flags and calls it); components are
// started in dependency order and stopped in reverse.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"parley/internal/im/carbons"
	"path/filepath"
	"sync"
	"time"

	"parley/internal/audit"
	"parley/internal/c2s"
	"parley/internal/config"
	"parley/internal/control"
	"parley/internal/directory"
	"parley/internal/dlp/enforce"
	"parley/internal/ediscovery"
	"parley/internal/httpapi"
	"parley/internal/im/digest"
	"parley/internal/im/mam"
	"parley/internal/im/muc"
	"parley/internal/im/offline"
	"parley/internal/jid"
	"parley/internal/metrics"
	"parley/internal/oidc"
	"parley/internal/proxy65"
	"parley/internal/retention"
	"parley/internal/router"
	"parley/internal/s2s"
	"parley/internal/sasl"
	"parley/internal/store"
	"parley/internal/store/postgres"
	"parley/internal/store/sqlite"
	"parley/internal/transport"
	"parley/internal/upload"
	"parley/internal/webhook"
	"parley/internal/xmlstream"
)

// Version is the software version reported by XEP-0092 and `parley version`.
var Version = "0.1.0-dev"

// Server is a running parley node.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	store   store.Store
	router  *router.Router
	c2s     *c2s.Server
	metrics *metrics.Metrics
	tls     *tls.Config
	certs   *transport.Certs // the certificate s.tls serves, replaced by Reload
	offline *offline.Module
	pep     interface{ Close() } // caps lookups under way, stopped at Stop
	muc     *muc.Module          // for the control socket and Reload
	mam     *mam.Module          // for Reload
	carbons *carbons.Module      // a Bind 2 inline feature of c2s
	dlp     *enforce.Module      // DLP policies, for the admin API
	upload  *upload.Module       // file uploads (XEP-0363), nil when off; https.go
	mailer  *digest.SMTP         // missed-message digests' SMTP client, nil when off; digest.go
	digest  *digest.Module       // missed-message digests, nil when off
	proxy65 *proxy65.Module      // nil when [listen] proxy65 is off (proxy65.go)
	s2s     *s2s.Service         // federation, nil when [s2s] mode is off (s2s.go)
	push    interface{ Close() } // notifications in flight (XEP-0357), stopped at Stop
	// directory is the [auth.ldap] account source, nil without one
	// (directory.go).
	directory *directory.Directory
	// sso is the [auth.oidc] provider's client, nil without one; one for
	// both listeners, which share its pending logins (adminapi.go).
	sso *oidc.Client
	// components are the external components (XEP-0114), nil when none
	// (component.go).
	components *s2s.Components
	// webhooks are the incoming webhooks, nil when none (webhook.go).
	webhooks *webhook.Module
	// registration is in-band registration, open or not (Reload).
	registration *liveRegistrar
	// forgetAccount drops what modules cache for a deleted account.
	forgetAccount func(username string)
	// serverCaps is the server's <c/> for c2s stream features (disco).
	serverCaps func() *xmlstream.Element

	retention *retention.Job // [retention] (retention.go)

	// The audit log (audit.go) and its SIEM sinks.
	audit      *audit.Log
	forwarders []*audit.Forwarder
	// ediscovery searches and exports archives (ediscovery.go).
	ediscovery *ediscovery.Service

	// listen opens a listener; net.Listen, replaced in tests.
	listen func(network, addr string) (net.Listener, error)

	mu         sync.Mutex // guards listeners, addrs and stopped
	listeners  map[string]*transport.Listener
	addrs      map[string]net.Addr
	stopped    map[string]error // listeners whose serving ended with an error
	stopOnce   sync.Once        // Stop's work
	stopErr    error            // its result
	httpSrv    *http.Server
	httpsSrv   *http.Server // [listen] https, https.go
	metricsSrv *http.Server // [listen] metrics
	controlLn  net.Listener // <data>/control.sock, nil when it could not be opened
	httpConns  sync.Map     // net.Conn -> release func() of its per-IP count
	serving    sync.WaitGroup
}

// New builds a server from a validated configuration; Start runs it.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	domain, err := jid.Parse(cfg.Domain)
	if err != nil || !domain.IsDomain() {
		return nil, fmt.Errorf("server: domain %q is not a domain", cfg.Domain)
	}
	m := metrics.New()
	st, err := openStore(ctx, cfg, m)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, store: st, metrics: m, listen: net.Listen,
		listeners: make(map[string]*transport.Listener),
		addrs:     make(map[string]net.Addr), stopped: make(map[string]error)}
	if cfg.Listen.C2S != config.Off || cfg.Listen.C2STLS != config.Off || httpsOn(cfg) {
		cert, err := transport.LoadOrCreateCert(cfg.Data, domain.String(), cfg.Cert, cfg.Key)
		if err != nil {
			st.Close()
			return nil, err
		}
		s.certs = new(transport.Certs)
		s.certs.Set(cert)
		s.tls = s.certs.TLSConfig()
	}
	// The fake salts of unknown accounts must not change at a restart
	// (issue 9 item 13).
	secret, err := sasl.LoadOrCreateSecret(filepath.Join(cfg.Data, "sasl.secret"))
	if err != nil {
		st.Close()
		return nil, err
	}
	if err := s.newAudit(ctx, cfg); err != nil {
		st.Close()
		return nil, err
	}
	s.router = router.New(domain, accounts{st}, log.With("component", "router"))
	s.router.OnError = s.metrics.RoutingError
	s.router.OnWriteFailure = s.metrics.WriteFailure
	if err := s.newUpload(cfg); err != nil {
		s.closeAudit()
		st.Close()
		return nil, err
	}
	if s.mailer, err = newMailer(cfg); err != nil {
		s.closeAudit()
		st.Close()
		return nil, err
	}
	if err := s.newEdiscovery(cfg); err != nil {
		s.closeAudit()
		st.Close()
		return nil, err
	}
	if err := s.newDirectory(cfg); err != nil {
		s.closeAudit()
		st.Close()
		return nil, err
	}
	if s.sso, err = newSSO(cfg.Auth.OIDC); err != nil {
		s.closeAudit()
		st.Close()
		return nil, err
	}
	s.registerModules(cfg)
	if err := s.newS2S(cfg); err != nil {
		s.closeAudit()
		st.Close()
		return nil, err
	}
	s.newRetention(cfg) // retention.go
	c2sCfg := c2s.Config{
		Domain:     domain,
		TLS:        s.tls,
		Limits:     xmlstream.Limits{MaxStanza: cfg.Limits.MaxStanza, MaxDepth: cfg.Limits.MaxDepth},
		SASLSecret: secret,
		Lookup: func(ctx context.Context, username string) (store.ScramKeys, store.ScramKeys, error) {
			u, err := st.GetUser(ctx, username)
			if errors.Is(err, store.ErrNotFound) {
				return store.ScramKeys{}, store.ScramKeys{}, sasl.ErrUnknownUser
			}
			if err == nil && u.Disabled {
				// XEP-0133 §4.3: no login until re-enabled (RFC 6120 §6.5.1).
				return store.ScramKeys{}, store.ScramKeys{}, &sasl.Failure{Condition: sasl.AccountDisabled}
			}
			return u.SHA1, u.SHA256, err
		},
		CheckPassword: s.checkPassword(),
		TokenRefused:  s.tokenRefused(),
		IdleTimeout:   cfg.Limits.IdleTimeout.Duration,
		Keepalive:     cfg.Limits.Keepalive.Duration,
		AuthTimeout:   cfg.Limits.AuthTimeout.Duration,
		ResumeTimeout: cfg.Limits.ResumeTimeout.Duration,
		MaxQueue:      cfg.Limits.MaxQueue,
		SlowTimeout:   cfg.Limits.SlowTimeout.Duration,
		CSIContacts:   cfg.Limits.CSIContacts,
		MaxConnsPerIP: cfg.Limits.MaxConnectionsPerIP,
		StanzaRate:    cfg.Limits.StanzaRate,
		StanzaBurst:   cfg.Limits.StanzaBurst,

		FreeAuthFailures: cfg.Limits.AuthFailuresBeforeBackoff,
		MaxAuthDelay:     cfg.Limits.AuthBackoffMax.Duration,
		OnStanzaIn:       s.metrics.StanzaIn,
		OnStanzaOut:      s.metrics.StanzaOut,
		OnAuthFailure:    s.metrics.AuthFailure,
		OnSession:        s.metrics.Session,
		OnAuth:           s.onAuth,
		OnUnacked:        s.offline.Requeue,
	}
	// In-band registration, offered while register.enabled (Reload).
	c2sCfg.Registrar = s.registration
	c2sCfg.ServerCaps = s.serverCaps
	c2sCfg.BindInline = map[string]c2s.BindInline{carbons.NS: s.carbons.HandleIQ}
	c2sCfg.Fast = st // XEP-0484 tokens per account and device
	c2sCfg.BoundMetadata = s.mam.HandleIQ
	c2sCfg.FastLifetime = cfg.Limits.FastTokenLifetime.Duration
	s.c2s = c2s.New(c2sCfg, s.router, log)
	return s, nil
}

func openStore(ctx context.Context, cfg config.Config, m *metrics.Metrics) (store.Store, error) {
	if cfg.Store != "" {
		// config.Validate accepts only postgres:// URLs here. Never echo the
		// URL: it may hold a password.
		st, err := postgres.Open(ctx, cfg.Store)
		if err != nil {
			return nil, fmt.Errorf("server: store: %w", err)
		}
		return store.Measure(st, m.StoreOp), nil
	}
	st, err := sqlite.Open(ctx, cfg.SQLitePath())
	if err != nil {
		return nil, err
	}
	return store.Measure(st, m.StoreOp), nil
}

// Start opens the listeners and serves. Addresses may use port 0; Addr
// tells which port was chosen.
func (s *Server) Start(ctx context.Context) error {
	s.c2s.Start()
	s.startWebhooks(ctx)
	if s.directory != nil {
		s.directory.Start()
	}
	plain := s.cfg.AllowPlaintext
	if err := s.serve("c2s", s.cfg.Listen.C2S, func(ln net.Listener) error {
		return s.c2s.Serve(s.proxied(ln), false, plain)
	}); err != nil {
		return errors.Join(err, s.Stop(ctx))
	}
	if err := s.serve("c2s_tls", s.cfg.Listen.C2STLS, func(ln net.Listener) error {
		return s.c2s.Serve(s.proxied(ln), true, plain)
	}); err != nil {
		return errors.Join(err, s.Stop(ctx))
	}
	s.httpSrv = &http.Server{
		Handler: httpapi.Handler(httpapi.Endpoints{
			WebSocket: s.c2s.WebSocket(plain, s.cfg.TrustedProxyPrefixes()),
			BOSH:      s.c2s.BOSH(plain, s.cfg.TrustedProxyPrefixes()),
			Metrics:   s.metricsOnHTTP(),
			Upload:    s.uploadHandler(),
			AdminAPI:  s.adminAPI(true), // loopback only: tokens in clear otherwise
			Health:    s.health,
			Degraded:  s.router.WriteHealth,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       s.cfg.Limits.HTTPIdleTimeout.Duration,
		ConnState:         s.httpConnState,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	if err := s.serve("http", s.cfg.Listen.HTTP, s.httpSrv.Serve); err != nil {
		return errors.Join(err, s.Stop(ctx))
	}
	s.metricsSrv = &http.Server{
		Handler:           httpapi.MetricsOnly(s.metrics.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       s.cfg.Limits.HTTPIdleTimeout.Duration,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	if err := s.serve("metrics", s.cfg.Listen.Metrics, s.metricsSrv.Serve); err != nil {
		return errors.Join(err, s.Stop(ctx))
	}
	if err := s.startControl(); err != nil {
		return errors.Join(err, s.Stop(ctx))
	}
	if err := s.ediscovery.Resume(); err != nil { // exports a stop interrupted
		return errors.Join(err, s.Stop(ctx))
	}
	if err := s.startHTTPS(); err != nil {
		return errors.Join(err, s.Stop(ctx))
	}
	if err := s.serveProxy65(); err != nil {
		return errors.Join(err, s.Stop(ctx))
	}
	if err := s.serveS2S(); err != nil {
		return errors.Join(err, s.Stop(ctx))
	}
	if err := s.serveComponents(); err != nil {
		return errors.Join(err, s.Stop(ctx))
	}
	return nil
}

// startControl opens the control socket in the data directory, through
// which `parley user` and `parley room` act on the running server
// (internal/control). Another server answering on it is an error; a
// socket that cannot be made (e.g. a path too long for a Unix socket) is
// logged, and the CLI then writes the store directly as without a server.
func (s *Server) startControl() error {
	ln, err := control.Listen(s.cfg.Data)
	if errors.Is(err, control.ErrRunning) {
		return fmt.Errorf("server: %w", err)
	}
	if err != nil {
		s.log.Error("no control socket: the CLI will not reach this server", "err", err)
		return nil
	}
	domain := s.router.Domain()
	ops := &control.Ops{Domain: domain, Users: s.store, Sessions: s.router, Rooms: s.muc, Tokens: s.store,
		Ediscovery: s.ediscovery, Holds: s.store, Uploads: s.uploadCleanup(), Done: s.controlDone}
	s.mu.Lock()
	s.controlLn = ln
	s.mu.Unlock()
	s.log.Info("listening", "listener", "control", "addr", ln.Addr().String())
	s.serving.Add(1)
	go func() {
		defer s.serving.Done()
		if err := control.Serve(ln, ops, s.log.With("component", "control")); err != nil {
			s.log.Error("control socket failed", "err", err)
		}
	}()
	return nil
}

// controlDone records what the CLI did through the control socket in the
// audit log (the server is its one writer while it runs), as the CLI
// records it when no server runs (control.AuditRecord), and, for a
// deleted account, drops what modules cache for it. A destroyed room is
// recorded by the MUC service itself.
func (s *Server) controlDone(req control.Request) {
	if req.Op == "user.del" && s.forgetAccount != nil {
		s.forgetAccount(req.User)
	}
	if req.Op == "room.destroy" {
		return // the MUC service records it
	}
	r, ok := control.AuditRecord(req, s.cfg.Domain)
	if !ok {
		return
	}
	if r.Details == nil {
		r.Details = map[string]string{}
	}
	r.Details["via"] = "control-socket"
	s.audit.Emit(r)
}

// proxied reads the PROXY protocol header that trusted_proxies send on a
// client listener (transport.ProxyListener), so that per-address limits
// count the client, not the proxy.
func (s *Server) proxied(ln net.Listener) net.Listener {
	trusted := s.cfg.TrustedProxyPrefixes()
	if len(trusted) == 0 {
		return ln
	}
	return transport.NewProxyListener(ln, trusted)
}

// metricsOnHTTP is /metrics on the public HTTP listener: only with a
// bearer token (metrics.token), else not served there (issue 9 item 15:
// metrics tell who is active and how much).
func (s *Server) metricsOnHTTP() http.Handler {
	if s.cfg.Metrics.Token == "" {
		return nil
	}
	return httpapi.Bearer(s.cfg.Metrics.Token, s.metrics.Handler())
}

// serve opens listener name on addr and serves it. The listener retries
// accept errors (transport.Listener), so serving ends only when Stop
// closes it; if it ends otherwise, health reports it.
func (s *Server) serve(name, addr string, serve func(net.Listener) error) error {
	if addr == config.Off || addr == "" {
		return nil
	}
	raw, err := s.listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("server: listen.%s: %w", name, err)
	}
	ln := transport.NewListener(raw)
	s.mu.Lock()
	s.listeners[name] = ln
	s.addrs[name] = ln.Addr()
	s.mu.Unlock()
	s.log.Info("listening", "listener", name, "addr", ln.Addr().String())
	s.serving.Add(1)
	go func() {
		defer s.serving.Done()
		err := serve(ln)
		if err == nil || errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
			return
		}
		s.log.Error("listener failed", "listener", name, "err", err)
		s.mu.Lock()
		s.stopped[name] = err
		s.mu.Unlock()
	}()
	return nil
}

// health is what /healthz reports: the store answers and every listener
// accepts (one failing to accept, e.g. out of file descriptors, takes no
// new clients even though the process runs).
func (s *Server) health(ctx context.Context) error {
	var errs []error
	s.mu.Lock()
	for name, ln := range s.listeners {
		if err := s.stopped[name]; err != nil {
			errs = append(errs, fmt.Errorf("listener %s stopped: %w", name, err))
		} else if err := ln.Err(); err != nil {
			errs = append(errs, fmt.Errorf("listener %s failing: %w", name, err))
		}
	}
	s.mu.Unlock()
	if _, err := s.store.ListUsers(ctx); err != nil {
		errs = append(errs, fmt.Errorf("store: %w", err))
	}
	return errors.Join(errs...)
}

// httpConnState counts plain HTTP connections against the per-IP cap,
// like XMPP connections: otherwise idle keep-alive connections from one
// address could hold descriptors without bound. A connection over the cap
// is closed before its first request. Connections from trusted proxies
// are not counted (they carry many clients); a WebSocket upgrade
// (hijack) ends the HTTP count, and the session is counted by c2s under
// the client's address.
func (s *Server) httpConnState(c net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
		if err != nil {
			return
		}
		ip := ap.Addr().Unmap()
		if s.trusted(ip) {
			return
		}
		release, ok := s.c2s.AdmitConn(ip.String())
		if !ok {
			s.log.Info("HTTP connection refused: too many connections from the address", "remote", ip.String())
			c.Close()
			return
		}
		s.httpConns.Store(c, release)
	case http.StateHijacked, http.StateClosed:
		if r, ok := s.httpConns.LoadAndDelete(c); ok {
			r.(func())()
		}
	}
}

// trusted reports whether ip is one of trusted_proxies.
func (s *Server) trusted(ip netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxyPrefixes() {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Addr returns the bound address of a listener ("c2s", "c2s_tls", "http",
// "https", "metrics"), or nil when it is off.
func (s *Server) Addr(name string) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addrs[name]
}

// Store is the server's store (for administrative commands and tests).
func (s *Server) Store() store.Store { return s.store }

// Router is the server's router (for tests).
func (s *Server) Router() *router.Router { return s.router }

// Stop stops accepting, sends system-shutdown to every stream, waits for
// sessions to end (or ctx), and closes the store last so that everything
// acknowledged is flushed. It runs once: a second call (a signal while a
// failed Start stops the server) waits for the first and returns its
// result.
func (s *Server) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() { s.stopErr = s.stop(ctx) })
	return s.stopErr
}

func (s *Server) stop(ctx context.Context) error {
	s.mu.Lock()
	lns := s.listeners
	s.listeners = make(map[string]*transport.Listener)
	ctl := s.controlLn
	s.controlLn = nil
	s.mu.Unlock()
	if ctl != nil {
		ctl.Close()
	}
	for _, ln := range lns {
		ln.Close()
	}
	var errs []error
	if s.httpSrv != nil {
		// Shutdown closes the HTTP listener (already closed above: that
		// error is expected). WebSocket sessions are hijacked, so it does
		// not wait for them; the c2s shutdown below ends them.
		if err := s.httpSrv.Shutdown(ctx); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if s.metricsSrv != nil {
		if err := s.metricsSrv.Shutdown(ctx); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if err := s.stopHTTPS(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := s.c2s.Shutdown(ctx); err != nil {
		errs = append(errs, err)
	}
	s.serving.Wait()
	s.closeProxy65()
	s.closeS2S()
	s.closeComponents()
	if s.webhooks != nil {
		s.webhooks.Close()
	}
	if s.offline != nil {
		s.offline.Close() // deliveries end with their sessions
	}
	if s.pep != nil {
		s.pep.Close()
	}
	if s.push != nil {
		s.push.Close()
	}
	if s.digest != nil {
		s.digest.Close()
	}
	if s.upload != nil {
		s.upload.Close()
	}
	if s.directory != nil {
		s.directory.Close()
	}
	s.ediscovery.Close() // running exports go on at the next start
	s.closeAudit()       // after everything that records, before the store
	if err := s.store.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// accounts answers the router's question with the store.
type accounts struct{ st store.Users }

func (a accounts) Exists(ctx context.Context, username string) (bool, error) {
	_, err := a.st.GetUser(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
