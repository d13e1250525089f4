// Package s2s is server-to-server federation (RFC 6120, XEP-0220,
// XEP-0368, XEP-0185): it is the router's Remote for domains parley does
// not serve, and accepts other servers' streams on the s2s listener.
// See docs/design/16_s2s.md. External components (XEP-0114, Components)
// share its stream code: they are servers of their own domain that the
// router reaches through a stream in jabber:component:accept.
package s2s

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"parley/internal/defaults"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// Policy modes ([s2s] mode).
const (
	ModeOff       = "off"
	ModeAllowlist = "allowlist"
	ModeOpen      = "open"
)

// DirectTLSPrefix marks a route with TLS from the first byte
// ("tls://10.0.0.5:5270", XEP-0368).
const DirectTLSPrefix = "tls://"

// Defaults for zero Options fields.
const (
	DefaultMaxQueue   = 1000
	DefaultTimeout    = 30 * time.Second
	DefaultRate       = 100
	DefaultBurst      = 200
	DefaultIdle       = 10 * time.Minute
	DefaultPing       = 5 * time.Minute
	defaultPort       = "5269"
	maxPreAuthElement = 16 << 10
)

// Router is what s2s needs of the router: inbound stanzas go through Send
// (inbound processing); bounces go back to local senders through Reply.
type Router interface {
	Send(ctx context.Context, st *stanza.Stanza)
	Reply(ctx context.Context, st *stanza.Stanza)
}

// Options configure the service. Zero limits mean the defaults above.
type Options struct {
	Domain jid.JID
	// TLS serves our certificate (inbound, and as client certificate for
	// SASL EXTERNAL outbound).
	TLS *tls.Config
	// Roots verify peers' certificates; nil is the system roots.
	Roots *x509.CertPool
	// SecureAuth requires every peer to present a certificate that chains
	// to Roots and names its domain (RFC 6125), both ways. Without it a
	// peer whose certificate is not valid is authenticated by Server
	// Dialback (XEP-0220), which trusts DNS or the static route to say
	// where the domain's server is.
	SecureAuth bool
	// Secret is the dialback secret (LoadOrCreateSecret).
	Secret []byte
	// Routes are static addresses (host:port) per remote domain; a route
	// replaces DNS for its domain. DirectTLSPrefix before the address is
	// TLS from the first byte (XEP-0368).
	Routes map[string]string
	// Mode, Allow and Deny are the federation policy.
	Mode        string
	Allow, Deny []string
	Limits      xmlstream.Limits
	MaxQueue    int           // stanzas waiting per remote domain
	Timeout     time.Duration // connecting and negotiating a stream
	Rate        float64       // inbound stanzas per second per remote domain
	Burst       int
	// PingInterval is how long an outbound link may stay idle before it
	// sends a XEP-0199 ping; PingTimeout how long the answer may take
	// before the link is closed (defaults DefaultPing, Timeout).
	PingInterval, PingTimeout time.Duration
	Log                       *slog.Logger
	// Dial opens TCP connections; net.Dialer's by default (RFC 6555 fallback).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Resolver looks up SRV records; net.DefaultResolver by default.
	Resolver *net.Resolver
	// OnEvent, if set, hears of each authenticated link and each refusal
	// (the audit log, metrics); it must not block.
	OnEvent func(Event)
}

// Event is a federation event for the audit log.
type Event struct {
	Domain    string
	Direction string // "in" or "out"
	Refused   bool   // false: an authenticated link with Domain
	First     bool   // the first authenticated link with Domain this way
	Reason    string // why it was refused
	Auth      string // how the link authenticated: AuthExternal or AuthDialback
}

// How a link authenticated (Event.Auth, the log's "auth").
const (
	AuthExternal = "EXTERNAL" // SASL EXTERNAL with a valid certificate (RFC 6120 §6, XEP-0178)
	AuthDialback = "dialback" // Server Dialback (XEP-0220)
)

// Service is the federation endpoint.
type Service struct {
	o      Options
	domain string
	r      Router
	log    *slog.Logger

	ctx    context.Context // cancelled by Close: attempts under way end
	cancel context.CancelFunc

	mu      sync.Mutex
	links   map[string]*link // outbound, by linkKey
	buckets map[string]*bucket
	seen    map[string]bool // remote domain and direction, audited once
	backoff map[string]*failure
	conns   map[net.Conn]struct{}
	pings   map[string]*link // outstanding XEP-0199 pings, by id
	pongs   int              // their answers (Pongs)
	closed  bool
	wg      sync.WaitGroup
}

// New builds the service.
func New(o Options) *Service {
	defaults.Positive(&o.MaxQueue, DefaultMaxQueue)
	defaults.Positive(&o.Timeout, DefaultTimeout)
	defaults.Positive(&o.Rate, DefaultRate)
	defaults.Positive(&o.Burst, DefaultBurst)
	defaults.Positive(&o.PingInterval, DefaultPing)
	defaults.Positive(&o.PingTimeout, o.Timeout)
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Dial == nil {
		d := &net.Dialer{}
		o.Dial = d.DialContext
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{o: o, ctx: ctx, cancel: cancel, domain: o.Domain.String(), log: o.Log, links: make(map[string]*link),
		buckets: make(map[string]*bucket), seen: make(map[string]bool), backoff: make(map[string]*failure), pings: make(map[string]*link), conns: make(map[net.Conn]struct{})}
}

// Register keeps the router and becomes its Remote.
func (s *Service) Register(r *router.Router) {
	s.r = r
	r.SetRemote(s)
}

// SetRoute sets (addr "" removes) the static route of a remote domain,
// for links made from now on.
func (s *Service) SetRoute(domain, addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	routes := make(map[string]string, len(s.o.Routes)+1)
	for d, a := range s.o.Routes {
		routes[d] = a
	}
	if addr == "" {
		delete(routes, domain)
	} else {
		routes[domain] = addr
	}
	s.o.Routes = routes
}

// SetRouter keeps the router without installing the service as its
// Remote (the caller does: router.SetRemote(s)).
func (s *Service) SetRouter(r Router) { s.r = r }

// Allowed says whether the policy lets us federate with domain.
func (s *Service) Allowed(domain string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.allowedLocked(domain)
}

func (s *Service) allowedLocked(domain string) bool {
	switch s.o.Mode {
	case ModeOpen:
		return !slices.Contains(s.o.Deny, domain)
	case ModeAllowlist:
		return slices.Contains(s.o.Allow, domain)
	}
	return false
}

// SetPolicy replaces the allow and deny lists (a configuration reload):
// new links and stanzas follow them at once, and outbound links to
// domains no longer allowed are closed (what waits on them bounces).
// Inbound streams check each stanza's domain, so they end too.
func (s *Service) SetPolicy(allow, deny []string) {
	s.mu.Lock()
	s.o.Allow, s.o.Deny = slices.Clone(allow), slices.Clone(deny)
	var gone []*link
	for k, l := range s.links {
		if !s.allowedLocked(l.domain) {
			delete(s.links, k)
			gone = append(gone, l)
		}
	}
	s.mu.Unlock()
	for _, l := range gone {
		s.refused(l.domain, "out", "policy")
		l.stop()
	}
}

// refused logs a refusal.
func (s *Service) refused(domain, dir, why string) {
	s.log.Warn("s2s refused", "domain", domain, "direction", dir, "reason", why)
	if s.o.OnEvent != nil {
		s.o.OnEvent(Event{Domain: domain, Direction: dir, Refused: true, Reason: why})
	}
}

// authenticated logs each authenticated link and tells OnEvent, saying
// whether it is the first one with a remote domain in that direction.
func (s *Service) authenticated(domain, dir, auth string) {
	s.log.Info("s2s link authenticated", "domain", domain, "direction", dir, "auth", auth)
	s.mu.Lock()
	first := !s.seen[dir+" "+domain]
	s.seen[dir+" "+domain] = true
	s.mu.Unlock()
	if s.o.OnEvent != nil {
		s.o.OnEvent(Event{Domain: domain, Direction: dir, Auth: auth, First: first})
	}
}

// certValid says whether chain verifies against our roots and its leaf
// names domain (RFC 6125).
func (s *Service) certValid(chain []*x509.Certificate, domain string) bool {
	leaf := s.verifyPeer(chain)
	return leaf != nil && domain != "" && leaf.VerifyHostname(domain) == nil
}

// bounce answers st with e unless it is an error itself (RFC 6120 §8.3.1).
func (s *Service) bounce(st *stanza.Stanza, e *stanza.Error) {
	if reply := stanza.ErrorReply(st, e); reply != nil && !st.From.IsZero() && s.r != nil {
		s.r.Reply(context.Background(), reply)
	}
}

// Close ends every link and connection and waits for their goroutines.
func (s *Service) Close() {
	s.cancel()
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	links := s.links
	s.links = map[string]*link{}
	s.mu.Unlock()
	for _, l := range links {
		l.stop()
	}
	s.wg.Wait()
}

// track registers a connection for Close; false when closing.
func (s *Service) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Service) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// bucket is a token bucket for one remote domain's inbound stanzas.
type bucket struct {
	tokens float64
	last   time.Time
}

func (s *Service) allow(domain string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[domain]
	now := time.Now()
	if b == nil {
		b = &bucket{tokens: float64(s.o.Burst), last: now}
		s.buckets[domain] = b
	}
	b.tokens += now.Sub(b.last).Seconds() * s.o.Rate
	if b.tokens > float64(s.o.Burst) {
		b.tokens = float64(s.o.Burst)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// failure is a remote domain that could not be reached lately: until
// then, stanzas for it bounce at once with the same error instead of
// each starting another attempt (reconnect backoff).
type failure struct {
	until time.Time
	n     int
	err   *stanza.Error
}

// Backoff bounds: the first retry may start after minBackoff, doubling
// per failure up to maxBackoff.
const (
	minBackoff = time.Second
	maxBackoff = 5 * time.Minute
)

// failed records a failed attempt; s.mu is held.
func (s *Service) failed(domain string, e *stanza.Error) {
	f := s.backoff[domain]
	if f == nil {
		f = &failure{}
		s.backoff[domain] = f
	}
	d := minBackoff << min(f.n, 20)
	if d > maxBackoff {
		d = maxBackoff
	}
	f.n++
	f.until = time.Now().Add(d)
	f.err = e
}
