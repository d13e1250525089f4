package s2s

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// errRefused marks a peer that was reached but refused or failed to
// authenticate (remote-server-not-found, RFC 6120 §10.4.3), as opposed to
// a timeout (remote-server-timeout).
var errRefused = errors.New("s2s: refused")

// Send is router.Remote: it queues st on the link to its domain, which
// comes up if needed. An error is returned only for what is refused at
// once; the router bounces it.
func (s *Service) Send(ctx context.Context, st *stanza.Stanza) error {
	domain, local := st.To.Domain(), s.localOf(st.From)
	if !s.Allowed(domain) {
		s.refused(domain, "out", "policy")
		return stanza.ErrRemoteServerNotFound
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return stanza.ErrRemoteServerNotFound
	}
	l := s.links[s.linkKey(local, domain)]
	if l == nil {
		if f := s.backoff[domain]; f != nil && time.Now().Before(f.until) {
			s.mu.Unlock()
			return f.err
		}
		// The stanza goes in with the link, before it can fail.
		s.startLink(local, domain, []*stanza.Stanza{st}, 0)
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	return l.enqueue(st)
}

// link is the outbound stream from one of our domains to one remote
// domain.
type link struct {
	s      *Service
	domain string
	local  string // our domain on the stream: ours or a subdomain (a MUC service)
	key    string // in s.links (linkKey)

	mu    sync.Mutex
	queue []*stanza.Stanza
	wake  chan struct{} // signalled when the queue grows
	done  chan struct{} // closed by stop
	dead  bool          // no longer accepting stanzas
	// unacked are stanzas written but not yet acknowledged by the peer
	// (XEP-0198 §4); a link that dies hands them to the next link with
	// the queue, so a stanza lost in flight is resent or bounced. Without
	// acks (a peer not offering sm) nothing is tracked.
	unacked  []*stanza.Stanza
	acked    uint32        // the peer's last h
	progress bool          // the peer acknowledged something on this link
	tries    int           // links before this one that died without progress
	pong     chan struct{} // the answer to our ping (XEP-0199)
	stopMu   sync.Once
}

// startLink starts a link from local to domain with stanzas carried over
// from tries links in a row that died without progress; s.mu is held.
func (s *Service) startLink(local, domain string, carried []*stanza.Stanza, tries int) *link {
	l := s.newLink(local, domain)
	l.queue, l.tries = carried, tries
	if len(carried) > 0 {
		l.wake <- struct{}{} // they are sent as soon as the link is up
	}
	s.wg.Add(1)
	go l.run()
	return l
}

// newLink registers a link from local to domain; s.mu is held.
func (s *Service) newLink(local, domain string) *link {
	l := &link{s: s, domain: domain, local: local, key: s.linkKey(local, domain),
		wake: make(chan struct{}, 1), done: make(chan struct{}), pong: make(chan struct{}, 1)}
	s.links[l.key] = l
	return l
}

// attach makes st, an inbound stream from domain to our domain local on
// which the peer asked for bidi (XEP-0288) and is now authenticated, our
// link from local to domain too, unless one is up or coming up already.
// ended is closed when the stream's reader (the inbound side) stops.
func (s *Service) attach(local, domain string, st *stream, ended <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.links[s.linkKey(local, domain)] != nil || !s.allowedLocked(domain) {
		return
	}
	delete(s.backoff, domain)
	l := s.newLink(local, domain)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		l.serve(st, ended)
	}()
}

func (l *link) enqueue(st *stanza.Stanza) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dead {
		return stanza.ErrRemoteServerTimeout
	}
	if len(l.queue) >= l.s.o.MaxQueue {
		// §8.3: bounded; the sender learns it at once.
		return stanza.ErrResourceConstraint.WithText("too many stanzas waiting for " + l.domain)
	}
	l.queue = append(l.queue, st)
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return nil
}

func (l *link) stop() {
	l.stopMu.Do(func() { close(l.done) })
}

// ack drops the stanzas the peer says it handled: h counts every stanza
// since <enable/>, modulo 2^32 (XEP-0198 §4).
func (l *link) ack(h uint32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := int(h - l.acked)
	if n > len(l.unacked) {
		n = len(l.unacked) // a peer acking more than we sent
	}
	l.unacked = l.unacked[n:]
	l.acked += uint32(n)
	if n > 0 {
		l.progress = true
	}
}

// take removes the queued stanzas; dead also closes the link to new ones.
func (l *link) take(dead bool) []*stanza.Stanza {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := l.queue
	l.queue = nil
	if dead {
		l.dead = true
		// Written but not acknowledged: possibly lost, so first again;
		// our own pings are not resent.
		var again []*stanza.Stanza
		for _, u := range l.unacked {
			if !l.isPing(u) {
				again = append(again, u)
			}
		}
		q = append(again, q...)
		l.unacked = nil
	}
	return q
}

// pingPrefix starts the id of our idle-link pings (XEP-0199 §4.3).
const pingPrefix = "s2sping-"

func (l *link) isPing(st *stanza.Stanza) bool {
	return st.Kind == stanza.IQ && strings.HasPrefix(st.ID, pingPrefix) && st.From.String() == l.local
}

// ping builds a ping from our domain to the link's and registers its id
// so the answer, which comes back on the peer's own stream to us, is
// handed to l (pong).
func (l *link) ping() *stanza.Stanza {
	id := pingPrefix + newID()
	st := stanza.New(stanza.IQ, jid.MustParse(l.local), jid.MustParse(l.domain), "get", id)
	st.El.Add(xmlstream.New("ping", nsPing))
	l.s.mu.Lock()
	l.s.pings[id] = l
	l.s.mu.Unlock()
	return st
}

// pong takes the answer (result or error: either shows the peer alive)
// to one of our pings; false if it is not one.
func (s *Service) pong(id, from string) bool {
	if !strings.HasPrefix(id, pingPrefix) {
		return false
	}
	s.mu.Lock()
	l := s.pings[id]
	if l == nil || l.domain != from {
		s.mu.Unlock()
		return false
	}
	delete(s.pings, id)
	s.pongs++
	s.mu.Unlock()
	select {
	case l.pong <- struct{}{}:
	default:
	}
	return true
}

// Pongs counts the answers to our idle-link pings since the start.
func (s *Service) Pongs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pongs
}

func (s *Service) unping(id string) {
	s.mu.Lock()
	delete(s.pings, id)
	s.mu.Unlock()
}

// forget removes l from the service's links.
func (l *link) forget() {
	l.s.mu.Lock()
	if l.s.links[l.key] == l {
		delete(l.s.links, l.key)
	}
	l.s.mu.Unlock()
}

func (l *link) run() {
	defer l.s.wg.Done()
	ctx, cancel := context.WithTimeout(l.s.ctx, l.s.o.Timeout)
	go func() {
		select {
		case <-l.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	st, err := l.s.connect(ctx, l.local, l.domain, true)
	cancel()
	if err != nil {
		l.s.log.Warn("s2s link failed", "domain", l.domain, "err", err)
		// §10.4.3: not-found when it cannot be resolved, reached or
		// authenticated; timeout when the attempt ran out of time.
		e := stanza.ErrRemoteServerNotFound
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			e = stanza.ErrRemoteServerTimeout
		}
		l.s.mu.Lock()
		l.s.failed(l.domain, e)
		l.s.mu.Unlock()
		l.forget()
		for _, q := range l.take(true) {
			l.s.bounce(q, e)
		}
		return
	}
	l.s.authenticated(l.domain, "out", st.auth)
	l.s.mu.Lock()
	delete(l.s.backoff, l.domain)
	l.s.mu.Unlock()
	if !l.s.track(st.c) {
		l.forget()
		for _, q := range l.take(true) {
			l.s.bounce(q, stanza.ErrRemoteServerTimeout)
		}
		return
	}
	defer l.s.untrack(st.c)
	if st.sm {
		if err := st.write([]byte("<enable xmlns='" + nsSM + "'/>")); err != nil {
			l.reconnect(st)
			return
		}
	}
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		l.read(st)
	}()
	l.serve(st, gone)
}

// read takes what the peer sends on our outbound stream until it ends:
// acks (XEP-0198), keepalives, and on a bidirectional stream (XEP-0288)
// the peer's stanzas to us, checked as on an inbound stream. Reading
// also notices a cut link.
func (l *link) read(st *stream) {
	for {
		el, err := st.next()
		if err != nil {
			return
		}
		switch {
		case el.Space == nsSM && el.Name == "a":
			if h, err := strconv.ParseUint(el.Get("h"), 10, 32); err == nil {
				l.ack(uint32(h))
			}
		case st.bidi && stanza.KindOf(el) != 0:
			if err := l.s.receive(el, func(d string) bool { return d == l.domain }); err != nil {
				st.streamErr(streamError(err))
				return
			}
		}
	}
}

// serve writes the link's stanzas on st, an authenticated stream (ours,
// or the peer's with bidi), until the link stops or gone is closed.
func (l *link) serve(st *stream, gone <-chan struct{}) {
	// XEP-0199 §4.3: a link idle for PingInterval sends a ping; one not
	// answered within PingTimeout is taken for dead (a half-open TCP
	// connection would otherwise swallow stanzas until the kernel gives up).
	idle := time.NewTimer(l.s.o.PingInterval)
	defer idle.Stop()
	var (
		pingID string
		answer <-chan time.Time
	)
	defer func() {
		if pingID != "" {
			l.s.unping(pingID)
		}
	}()
	for {
		var batch []*stanza.Stanza
		select {
		case <-l.done:
			st.write([]byte("</stream:stream>"))
			st.c.Close()
			for _, q := range l.take(true) {
				l.s.bounce(q, stanza.ErrRemoteServerTimeout)
			}
			return
		case <-gone:
			l.reconnect(st)
			return
		case <-answer:
			l.s.log.Warn("s2s ping not answered, closing the link", "domain", l.domain, "timeout", l.s.o.PingTimeout)
			l.reconnect(st)
			return
		case <-l.pong:
			pingID, answer = "", nil
			idle.Reset(l.s.o.PingInterval)
			continue
		case <-idle.C:
			if pingID != "" {
				continue
			}
			p := l.ping()
			pingID = p.ID
			answer = time.After(l.s.o.PingTimeout)
			batch = []*stanza.Stanza{p}
		case <-l.wake:
			batch = l.take(false)
			if pingID == "" {
				idle.Reset(l.s.o.PingInterval)
			}
		}
		if st.sm {
			// The peer counts every stanza, pings too (XEP-0198 §4).
			l.mu.Lock()
			l.unacked = append(l.unacked, batch...)
			l.mu.Unlock()
		}
		for _, q := range batch {
			el := renamespace(q.El, stanza.NSClient, stanza.NSServer)
			if err := st.writeEl(el); err != nil {
				l.reconnect(st)
				return
			}
		}
		if st.sm && len(batch) > 0 {
			// One request per batch (XEP-0198 §4).
			if err := st.write([]byte("<r xmlns='" + nsSM + "'/>")); err != nil {
				l.reconnect(st)
				return
			}
		}
	}
}

// reconnect replaces a link that was cut: its waiting stanzas go to a new
// link, which delivers them or bounces them (nothing silently dropped).
func (l *link) reconnect(st *stream) {
	st.c.Close()
	carried := l.take(true)
	l.mu.Lock()
	tries := l.tries + 1
	if l.progress {
		tries = 0
	}
	l.mu.Unlock()
	l.s.mu.Lock()
	if l.s.links[l.key] == l {
		delete(l.s.links, l.key)
	}
	// A peer that takes stanzas and drops the link without acknowledging
	// them, again and again: stop resending and bounce.
	giveUp := l.s.closed || tries > maxTries
	if !giveUp && len(carried) > 0 {
		l.s.startLink(l.local, l.domain, carried, tries)
	}
	l.s.mu.Unlock()
	if giveUp { // outside s.mu: a bounce may be routed back to Send
		for _, q := range carried {
			l.s.bounce(q, stanza.ErrRemoteServerTimeout)
		}
	}
}

var errNoAddress = errors.New("s2s: no address")

// maxTries is how many links in a row may die without an
// acknowledgement before what they carry is bounced.
const maxTries = 3

// target is one address to try.
type target struct {
	addr      string
	directTLS bool // XEP-0368
}

// resolve lists where domain's server listens: a static route, else
// _xmpps-server (XEP-0368) and _xmpp-server SRV records (RFC 6120 §3.2.1)
// in priority order, else the domain itself on 5269 (§3.2.2).
func (s *Service) resolve(ctx context.Context, domain string) []target {
	s.mu.Lock()
	a, ok := s.o.Routes[domain]
	s.mu.Unlock()
	if ok {
		// "tls://host:port": TLS from the first byte, as _xmpps-server.
		t, direct := strings.CutPrefix(a, DirectTLSPrefix)
		return []target{{addr: t, directTLS: direct}}
	}
	var ts []target
	type rec struct {
		*net.SRV
		direct bool
	}
	var recs []rec
	for _, svc := range []string{"xmpps-server", "xmpp-server"} {
		_, srvs, err := s.o.Resolver.LookupSRV(ctx, svc, "tcp", domain)
		if err != nil {
			continue
		}
		for _, r := range srvs {
			if r.Target == "." { // §3.2.1: service not offered
				continue
			}
			recs = append(recs, rec{r, svc == "xmpps-server"})
		}
	}
	// LookupSRV already orders by priority and weight within a service;
	// merge the two keeping that order.
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Priority < recs[j].Priority })
	for _, r := range recs {
		ts = append(ts, target{addr: net.JoinHostPort(r.Target, strconv.Itoa(int(r.Port))), directTLS: r.direct})
	}
	if len(ts) == 0 {
		ts = append(ts, target{addr: net.JoinHostPort(domain, defaultPort)})
	}
	return ts
}

// connect opens a stream from our domain local to domain, authenticated
// (auth true) or only TLS for verifying a dialback key (auth false).
func (s *Service) connect(ctx context.Context, local, domain string, auth bool) (*stream, error) {
	var errs []error
	for _, t := range s.resolve(ctx, domain) {
		c, err := s.o.Dial(ctx, "tcp", t.addr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if d, ok := ctx.Deadline(); ok {
			c.SetDeadline(d)
		}
		st, err := s.negotiate(ctx, c, local, domain, t.directTLS, auth)
		if err != nil {
			c.Close()
			errs = append(errs, err)
			if errors.Is(err, errRefused) {
				return nil, err // the server answered: no other address changes that
			}
			continue
		}
		st.c.SetDeadline(time.Time{})
		return st, nil
	}
	if len(errs) == 0 {
		return nil, errNoAddress
	}
	return nil, errors.Join(errs...)
}

func refused(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errRefused}, a...)...)
}

// clientTLS is the TLS configuration for connecting to domain; our own
// certificate goes along for SASL EXTERNAL. The peer's certificate is
// checked after the handshake (certValid), so that one not valid for the
// domain can still carry Server Dialback unless SecureAuth is set.
func (s *Service) clientTLS(local, domain string) *tls.Config {
	c := &tls.Config{ServerName: domain, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12, NextProtos: []string{"xmpp-server"}}
	if s.o.TLS != nil {
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if s.o.TLS.GetCertificate != nil {
				return s.o.TLS.GetCertificate(&tls.ClientHelloInfo{ServerName: local})
			}
			if len(s.o.TLS.Certificates) > 0 {
				return &s.o.TLS.Certificates[0], nil
			}
			return &tls.Certificate{}, nil
		}
	}
	return c
}

// negotiate runs the initiating side of RFC 6120 §4-§6 and XEP-0220.
func (s *Service) negotiate(ctx context.Context, c net.Conn, local, domain string, directTLS, auth bool) (*stream, error) {
	lim := s.o.Limits
	st := newStream(c, lim)
	upgrade := func() error {
		tc := tls.Client(st.c, s.clientTLS(local, domain))
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
		// RFC 6120 §13.7.2, RFC 6125: the certificate must chain to our
		// roots and name the domain; if not, only dialback may follow
		// (XEP-0220 §1.2), and not at all with SecureAuth.
		if s.o.SecureAuth && !s.certValid(tc.ConnectionState().PeerCertificates, domain) {
			return refused("certificate of %s is not valid for it", domain)
		}
		st.restart(tc)
		return nil
	}
	if directTLS {
		if err := upgrade(); err != nil {
			return nil, err
		}
	}
	tlsOn := directTLS
	for {
		if err := st.header(local, domain, ""); err != nil {
			return nil, err
		}
		h, err := st.readHeader()
		if err != nil {
			return nil, err
		}
		id := h.Get("id")
		feats, err := st.next()
		if err != nil {
			return nil, err
		}
		if feats.Name != "features" || feats.Space != stanza.NSStreams {
			return nil, refused("expected stream features, got <%s>", feats.Name)
		}
		if !tlsOn {
			// §5.3.1: we never federate without TLS.
			if feats.Child("starttls", nsTLS) == nil {
				return nil, refused("%s does not offer STARTTLS", domain)
			}
			if err := st.write([]byte("<starttls xmlns='" + nsTLS + "'/>")); err != nil {
				return nil, err
			}
			el, err := st.next()
			if err != nil {
				return nil, err
			}
			if el.Name != "proceed" {
				return nil, refused("STARTTLS failed")
			}
			if err := upgrade(); err != nil {
				return nil, err
			}
			tlsOn = true
			continue
		}
		if !auth {
			return st, nil // a verification stream (XEP-0220 §2.3)
		}
		if feats.Child("bidi", nsBidiFeat) != nil {
			// XEP-0288 §2: asked before authenticating; the peer then
			// sends its stanzas to us on this stream too.
			if err := st.write([]byte("<bidi xmlns='" + nsBidi + "'/>")); err != nil {
				return nil, err
			}
			st.bidi = true
		}
		if hasMechanism(feats, "EXTERNAL") {
			// RFC 6120 §6.4.2 / XEP-0178: authzid is our domain.
			id64 := base64.StdEncoding.EncodeToString([]byte(local))
			if err := st.write([]byte("<auth xmlns='" + nsSASL + "' mechanism='EXTERNAL'>" + id64 + "</auth>")); err != nil {
				return nil, err
			}
			el, err := st.next()
			if err != nil {
				return nil, err
			}
			if el.Name != "success" || el.Space != nsSASL {
				return nil, refused("SASL EXTERNAL refused by %s", domain)
			}
			st.restart(st.c)
			if err := st.header(local, domain, ""); err != nil {
				return nil, err
			}
			if _, err := st.readHeader(); err != nil {
				return nil, err
			}
			f, err := st.next() // the features after authentication
			if err != nil {
				return nil, err
			}
			st.sm = f.Child("sm", nsSM) != nil
			st.auth = AuthExternal
			return st, nil
		}
		if feats.Child("dialback", nsDialbackFeat) == nil {
			return nil, refused("%s offers neither SASL EXTERNAL nor dialback", domain)
		}
		// XEP-0220 §2.1.1: the key binds receiving, originating and the
		// receiving server's stream id.
		key := DialbackKey(s.o.Secret, domain, local, id)
		res := xmlstream.NewText("result", nsDialback, key)
		res.Set("from", local)
		res.Set("to", domain)
		if err := st.write(xmlstream.AppendIn(nil, res, stanza.NSServer)); err != nil {
			return nil, err
		}
		el, err := st.next()
		if err != nil {
			return nil, err
		}
		if el.Name != "result" || el.Space != nsDialback || el.Get("type") != "valid" {
			return nil, refused("dialback refused by %s (%s)", domain, el.Get("type"))
		}
		st.sm = feats.Child("sm", nsSM) != nil
		st.auth = AuthDialback
		return st, nil
	}
}

func hasMechanism(feats *xmlstream.Element, name string) bool {
	m := feats.Child("mechanisms", nsSASL)
	if m == nil {
		return false
	}
	for _, c := range m.Children {
		if c.Name == "mechanism" && c.Text == name {
			return true
		}
	}
	return false
}

// verifyKey asks domain's authoritative server whether key is one it
// issued for our stream id to our domain local (XEP-0220 §2.3, db:verify).
func (s *Service) verifyKey(local, domain, streamID, key string) bool {
	ctx, cancel := context.WithTimeout(s.ctx, s.o.Timeout)
	defer cancel()
	st, err := s.connect(ctx, local, domain, false)
	if err != nil {
		s.log.Warn("s2s dialback verification failed", "domain", domain, "err", err)
		return false
	}
	defer st.c.Close()
	if !s.track(st.c) { // Close ends the wait for the answer
		return false
	}
	defer s.untrack(st.c)
	st.c.SetDeadline(time.Now().Add(s.o.Timeout))
	v := xmlstream.NewText("verify", nsDialback, key)
	v.Set("from", local)
	v.Set("to", domain)
	v.Set("id", streamID)
	if err := st.write(xmlstream.AppendIn(nil, v, stanza.NSServer)); err != nil {
		return false
	}
	el, err := st.next()
	st.write([]byte("</stream:stream>"))
	return err == nil && el.Name == "verify" && el.Space == nsDialback && el.Get("id") == streamID &&
		el.Get("from") == domain && el.Get("type") == "valid"
}

// localOf is our domain that a stanza from from leaves from: a subdomain
// we serve (a MUC service, XEP-0045) has links of its own, as RFC 6120
// §4.1 pairs a stream with one domain on each side; anything else leaves
// from our domain.
func (s *Service) localOf(from jid.JID) string {
	if d := from.Domain(); strings.HasSuffix(d, "."+s.domain) {
		return d
	}
	return s.domain
}

// serves says whether domain is ours or a subdomain of ours (the
// router's components: MUC, upload, external components).
func (s *Service) serves(domain string) bool {
	return domain == s.domain || strings.HasSuffix(domain, "."+s.domain)
}

// linkKey is a link's key in Service.links: the remote domain for links
// from our domain, "local remote" for those from a subdomain.
func (s *Service) linkKey(local, domain string) string {
	if local == s.domain {
		return domain
	}
	return local + " " + domain
}
