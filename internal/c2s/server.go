package c2s

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"sync"
	"time"

	"parley/internal/clock"
	"parley/internal/defaults"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/sasl"
	"parley/internal/stanza"
	"parley/internal/transport"
	"parley/internal/xmlstream"
)

// Registrar creates accounts before authentication (XEP-0077); nil turns
// in-band registration off.
type Registrar interface {
	PreAuth(ctx context.Context, iq *stanza.Stanza, ip string) (*xmlstream.Element, error)
}

// Config of the client-to-server service.
type Config struct {
	Domain jid.JID
	TLS    *tls.Config
	Limits xmlstream.Limits
	Lookup sasl.Lookup
	// CheckPassword verifies PLAIN passwords of accounts kept elsewhere
	// (sasl.Config.CheckPassword: a directory); nil for none.
	CheckPassword func(ctx context.Context, username, password string) error
	// TokenRefused refuses FAST token logins of accounts kept elsewhere
	// (sasl.Config.TokenRefused: a directory that no longer lists them);
	// nil for none.
	TokenRefused func(username string) bool
	// SASLSecret keys the fake SCRAM salts of unknown users
	// (sasl.Config.Secret); it should persist across restarts.
	SASLSecret []byte
	// Registrar enables in-band registration when set.
	Registrar Registrar
	// IdleTimeout closes a stream that sent nothing for this long.
	IdleTimeout time.Duration
	// Keepalive sends a whitespace ping after this long without writing.
	Keepalive time.Duration
	// AuthTimeout closes a stream not authenticated after this long.
	AuthTimeout time.Duration
	// MaxQueue bounds the bytes waiting to be written to one client (and,
	// with XEP-0198, waiting for its acknowledgement): past it senders are
	// paced; past twice it the client is disconnected.
	MaxQueue int
	// SlowTimeout disconnects a client whose queue stays over MaxQueue
	// this long (default 60 s).
	SlowTimeout time.Duration
	// CSIContacts bounds the contacts whose presence a session that
	// declared itself inactive (XEP-0352) holds (DefaultCSIContacts); one
	// more, or held stanzas past a quarter of MaxQueue, flush them all
	// (limits.csi_contacts).
	CSIContacts int
	// ServerCaps, if set, returns the server's entity capabilities (a
	// XEP-0115 <c/>, or nil), offered in the stream features after
	// authentication (§6.3).
	ServerCaps func() *xmlstream.Element
	// MaxResources bounds the sessions one account may bind.
	MaxResources int
	// ResumeTimeout is how long a session with XEP-0198 resumption waits
	// for its client to come back after losing the connection.
	ResumeTimeout time.Duration
	// OnUnacked receives the stanzas a client never acknowledged when its
	// session ends for good: offline.Module.Requeue stores the messages
	// and answers the requests. Nil loses them.
	OnUnacked func(ctx context.Context, full jid.JID, stanzas [][]byte)
	// MaxConnsPerIP bounds concurrent connections from one address.
	MaxConnsPerIP int
	// StanzaRate is the sustained stanzas per second one session may
	// send, with bursts of StanzaBurst; beyond it the session's reading
	// pauses (traffic shaping: TCP pushes back on the client, nothing is
	// dropped). Zero means no limit.
	StanzaRate  float64
	StanzaBurst int
	// FreeAuthFailures, per address and per account, are answered without
	// delay (zero means 3); after them answers are delayed, doubling up
	// to MaxAuthDelay (backoff.go).
	FreeAuthFailures int
	MaxAuthDelay     time.Duration

	// Clock drives the timeouts above; nil is the system clock. Tests pass
	// a clock.Fake to expire sessions without waiting.
	Clock clock.Clock

	// Counters for metrics; any may be nil.
	OnStanzaIn    func(kind string)
	OnStanzaOut   func(kind string)
	OnAuthFailure func(mechanism string)
	OnSession     func(transport string, delta int)
	// Fast, if set, offers XEP-0484 FAST tokens in SASL2, kept per
	// account and device (fast.go); FastLifetime is how long one is
	// valid (DefaultFastLifetime).
	Fast         FastStore
	FastLifetime time.Duration
	// BindInline are the Bind 2 inline features (XEP-0386) served by
	// modules, by namespace: the carbons module's IQ handler for
	// urn:xmpp:carbons:2. Each is advertised and, when a client lists it
	// in <bind/>, called with the element as an IQ set's payload.
	BindInline map[string]BindInline
	// BoundMetadata, if set, answers an IQ get of <metadata
	// xmlns='urn:xmpp:mam:2'/> (the MAM module's handler): Bind 2 puts
	// its answer, the archive's state at binding, in <bound/> (XEP-0386
	// §3.2).
	BoundMetadata BindInline
	// OnAuth, when set, is told the outcome of every SASL exchange that
	// ended in success or a failure (for the audit log; auth.go).
	OnAuth func(AuthEvent)
}

func (c *Config) defaults() {
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 10 * time.Minute
	}
	if c.Keepalive == 0 {
		c.Keepalive = time.Minute
	}
	if c.AuthTimeout == 0 {
		c.AuthTimeout = time.Minute
	}
	if c.MaxQueue == 0 {
		c.MaxQueue = 4 << 20
	}
	if c.SlowTimeout == 0 {
		c.SlowTimeout = time.Minute
	}
	defaults.Positive(&c.CSIContacts, DefaultCSIContacts)
	if c.MaxResources == 0 {
		c.MaxResources = 100
	}
	if c.MaxConnsPerIP == 0 {
		c.MaxConnsPerIP = 1000
	}
	if c.ResumeTimeout == 0 {
		c.ResumeTimeout = 5 * time.Minute
	}
	defaults.Positive(&c.FastLifetime, DefaultFastLifetime)
	if c.StanzaBurst < 1 {
		c.StanzaBurst = 1
	}
	if c.FreeAuthFailures == 0 {
		c.FreeAuthFailures = 3
	}
	if c.MaxAuthDelay == 0 {
		c.MaxAuthDelay = 8 * time.Second
	}
	c.Clock = clock.Or(c.Clock)
}

// Server accepts client connections and runs their sessions.
type Server struct {
	cfg        Config
	domain     jid.JID
	router     *router.Router
	saslConfig *sasl.Config
	log        *slog.Logger
	backoff    *backoff

	mu        sync.Mutex // guards sessions, perIP, boshSessions, stopping, resumable, changed, sessions' detachedAt and smID, and cfg.MaxConnsPerIP (SetLimits)
	sessions  map[*session]struct{}
	resumable map[string]*session // detached sessions by XEP-0198 id
	changed   chan struct{}       // closed and replaced when a session detaches or ends (wakeTakeOvers)
	perIP     map[string]int
	// boshSessions are the BOSH sessions by sid (bosh.go).
	boshSessions map[string]*boshSession
	stopping     bool
	wg           sync.WaitGroup // one per running session and the sweeper
	stop         chan struct{}
}

// New returns a server; call Start before serving.
func New(cfg Config, r *router.Router, log *slog.Logger) *Server {
	cfg.defaults()
	if log == nil {
		log = slog.Default()
	}
	return &Server{
		cfg:    cfg,
		domain: cfg.Domain,
		router: r,
		saslConfig: &sasl.Config{Lookup: cfg.Lookup, Domain: cfg.Domain.String(), Secret: cfg.SASLSecret,
			CheckPassword: cfg.CheckPassword, TokenRefused: cfg.TokenRefused},
		log:       log.With("component", "c2s"),
		backoff:   newBackoff(cfg.FreeAuthFailures, cfg.MaxAuthDelay, cfg.Clock),
		sessions:  make(map[*session]struct{}),
		resumable: make(map[string]*session),
		changed:   make(chan struct{}),
		perIP:     make(map[string]int),
		stop:      make(chan struct{}),
	}
}

// Start runs the sweeper that enforces timeouts and sends keepalives for
// all sessions: one ticker instead of a timer per connection.
func (s *Server) Start() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		// A timer re-armed after each sweep rather than a ticker: the
		// Clock has no tickers, and a slow sweep is not followed by a
		// burst of them.
		t := s.cfg.Clock.NewTimer(s.sweepInterval())
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case now := <-t.C():
				s.sweep(now)
				t.Reset(s.sweepInterval())
			}
		}
	}()
}

func (s *Server) sweepInterval() time.Duration {
	d := min(s.cfg.Keepalive, s.cfg.AuthTimeout, s.cfg.IdleTimeout, s.cfg.SlowTimeout) / 4
	return max(d, 10*time.Millisecond)
}

func (s *Server) sweep(now time.Time) {
	s.expireResumable(now, false)
	unix := now.Unix()
	s.mu.Lock()
	list := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		list = append(list, ss)
	}
	s.mu.Unlock()
	for _, ss := range list {
		switch {
		case ss.detached.Load():
			// waiting for a resumption: expireResumable decides
		case !ss.bound.Load() && now.Sub(ss.started) > s.cfg.AuthTimeout:
			ss.terminateUnbound(stanza.ErrStreamConnectionTimeout.WithText("authentication took too long"))
		case ss.out.overFor(now) > s.cfg.SlowTimeout:
			// Senders were paced for this long and it did not catch up.
			ss.Terminate(stanza.ErrStreamResourceConstraint.WithText("reading too slowly"))
		case time.Duration(unix-ss.lastRead.Load())*time.Second > s.cfg.IdleTimeout:
			ss.Terminate(stanza.ErrStreamConnectionTimeout.WithText("idle too long"))
		case ss.bound.Load() && time.Duration(unix-ss.lastRead.Load())*time.Second > s.cfg.IdleTimeout/2 &&
			ss.pingedAt.Load() < ss.lastRead.Load():
			// Half the idle timeout without a byte: ask (XEP-0199). Every
			// client answers an IQ, with a result or an error (RFC 6120
			// §8.2.3), so a live client never reaches the timeout.
			ss.pingedAt.Store(unix)
			ss.Send([]byte("<iq type='get' id='ping-" + stanza.NewID() + "' from='" + s.domain.String() +
				"' to='" + xmlEscape(ss.full.String()) + "'><ping xmlns='urn:xmpp:ping'/></iq>"))
		case ss.bound.Load() && ss.transport != "websocket" &&
			time.Duration(unix-ss.lastWrite.Load())*time.Second >= s.cfg.Keepalive:
			ss.out.send([]byte(" "), false) // RFC 6120 §4.6.1 whitespace keepalive
		}
	}
}

// terminateUnbound ends a session that is still negotiating: its reader
// goroutine owns the writes, so only close the connection (the reader then
// ends). Sending the stream error is best effort.
func (ss *session) terminateUnbound(e *stanza.StreamError) {
	if !ss.terminating.CompareAndSwap(false, true) {
		return
	}
	ss.srv.log.Info("closing unauthenticated stream", "remote", ss.ip, "condition", e.Condition())
	// The write may block on a peer that reads nothing (or has not even
	// finished a TLS handshake): keep it off the caller, the sweeper.
	go func() {
		time.AfterFunc(2*time.Second, ss.shutdown) // bound the goodbye
		if ss.wmu.TryLock() {
			ss.fr.writeFrames([][]byte{ss.fr.streamError(e), ss.fr.trailer()})
			ss.wmu.Unlock()
		}
		ss.shutdown()
	}()
}

// Serve accepts connections from ln until it is closed. directTLS means
// XEP-0368 direct TLS: the handshake comes first. plaintextOK lets streams
// authenticate without TLS (loopback benchmarking only; config enforces).
func (s *Server) Serve(ln net.Listener, directTLS, plaintextOK bool) error {
	return transport.Serve(ln, func(conn net.Conn) {
		kind := "tcp"
		if directTLS {
			kind = "tls"
		}
		ip, _, _ := net.SplitHostPort(conn.RemoteAddr().String())
		ss := s.newSession(ip, kind)
		if ss == nil {
			conn.Close()
			return
		}
		if directTLS {
			conn = tls.Server(conn, tlsFor(s.cfg.TLS, &ss.tlsCert))
		}
		ss.secure = directTLS
		ss.canTLS = !directTLS && s.cfg.TLS != nil
		ss.plaintextOK = plaintextOK
		tf := newTCPFraming(conn, s.cfg.Limits, &ss.lastRead, s.cfg.Clock)
		ss.fr = tf
		go s.runSession(ss)
	})
}

// newSession registers a connection; nil means refuse it (the server is
// stopping or the address has too many connections).
func (s *Server) newSession(ip, transport string) *session {
	s.mu.Lock()
	if s.stopping || s.perIP[ip] >= s.cfg.MaxConnsPerIP {
		s.mu.Unlock()
		return nil
	}
	ss := &session{srv: s, transport: transport, ip: ip, started: s.cfg.Clock.Now(),
		resumeCh: make(chan resumption, 1), gone: make(chan struct{})}
	now := ss.started.Unix()
	ss.lastRead.Store(now)
	ss.lastWrite.Store(now)
	ss.out = outbox{max: s.cfg.MaxQueue, now: s.cfg.Clock.Now, write: ss.writeFrames, done: ss.outboxDone,
		csi: csiState{max: s.cfg.CSIContacts}}
	s.sessions[ss] = struct{}{}
	s.perIP[ip]++
	s.wg.Add(1)
	s.mu.Unlock()
	return ss
}

// SetLimits changes, while the server runs (a configuration reload), the
// per-address connection cap for new connections and the authentication
// back-off for later attempts; zero values mean the defaults.
func (s *Server) SetLimits(maxConnsPerIP, freeAuthFailures int, maxAuthDelay time.Duration) {
	c := Config{MaxConnsPerIP: maxConnsPerIP, FreeAuthFailures: freeAuthFailures, MaxAuthDelay: maxAuthDelay}
	c.defaults()
	s.mu.Lock()
	s.cfg.MaxConnsPerIP = c.MaxConnsPerIP
	s.mu.Unlock()
	s.backoff.set(c.FreeAuthFailures, c.MaxAuthDelay)
}

// registrationOpen reports whether in-band registration is offered now: a
// Registrar with an Open method may be closed at run time.
func (s *Server) registrationOpen() bool {
	if s.cfg.Registrar == nil {
		return false
	}
	if o, ok := s.cfg.Registrar.(interface{ Open() bool }); ok {
		return o.Open()
	}
	return true
}

// AdmitConn counts a connection that is not (yet) an XMPP session, such as
// a plain HTTP keep-alive connection, against the per-IP cap; ok is false
// when ip is at the cap or the server is stopping. Call release once when
// the connection ends or becomes a session (which is counted by itself).
func (s *Server) AdmitConn(ip string) (release func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping || s.perIP[ip] >= s.cfg.MaxConnsPerIP {
		return nil, false
	}
	s.perIP[ip]++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.perIP[ip]--; s.perIP[ip] <= 0 {
				delete(s.perIP, ip)
			}
			s.mu.Unlock()
		})
	}, true
}

func (s *Server) runSession(ss *session) {
	defer s.wg.Done()
	if s.cfg.OnSession != nil {
		s.cfg.OnSession(ss.transport, 1)
		defer s.cfg.OnSession(ss.transport, -1)
	}
	ss.run(context.Background())
	s.mu.Lock()
	delete(s.sessions, ss)
	s.wakeTakeOvers()
	if s.perIP[ss.ip]--; s.perIP[ss.ip] <= 0 {
		delete(s.perIP, ss.ip)
	}
	s.mu.Unlock()
}

// Shutdown sends system-shutdown to every stream (RFC 6120 §4.9.3.17),
// waits for the sessions to end or ctx to expire, and closes the rest.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.stopping {
		s.stopping = true
		close(s.stop)
	}
	list := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		list = append(list, ss)
	}
	s.mu.Unlock()
	s.expireResumable(s.cfg.Clock.Now(), true)
	e := stanza.ErrStreamSystemShutdown.WithText("server is stopping")
	for _, ss := range list {
		if ss.bound.Load() {
			ss.Terminate(e)
		} else {
			ss.terminateUnbound(e)
		}
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, ss := range list {
			ss.shutdown()
		}
		<-done
		return ctx.Err()
	}
}

// dropResumable forgets a detached session that is being terminated.
func (s *Server) dropResumable(ss *session) {
	s.mu.Lock()
	if s.resumable[ss.smID] == ss {
		delete(s.resumable, ss.smID)
	}
	s.mu.Unlock()
}

// sessionsOf counts the sessions bound to a user.
func (s *Server) sessionsOf(full jid.JID) int { return len(s.router.Resources(full.Bare())) }

func (s *Server) countIn(k stanza.Kind) {
	if s.cfg.OnStanzaIn != nil {
		s.cfg.OnStanzaIn(k.String())
	}
}

func (s *Server) countOut(b []byte) {
	if s.cfg.OnStanzaOut != nil {
		if k := kindOfRaw(b); k != 0 {
			s.cfg.OnStanzaOut(k.String())
		}
	}
}

func (s *Server) countAuthFailure(mech string) {
	if s.cfg.OnAuthFailure != nil {
		s.cfg.OnAuthFailure(mech)
	}
}
