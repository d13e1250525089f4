package s2s

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"

	"parley/internal/stanza"
	"parley/internal/transport"
	"parley/internal/xmlstream"
)

// Serve accepts other servers' streams on ln until it is closed.
func (s *Service) Serve(ln net.Listener) error { return s.serve(ln, false) }

// ServeDirectTLS accepts other servers' streams with TLS from the first
// byte (XEP-0368, ALPN xmpp-server) on ln until it is closed; after the
// handshake the stream is negotiated as after STARTTLS.
func (s *Service) ServeDirectTLS(ln net.Listener) error { return s.serve(ln, true) }

func (s *Service) serve(ln net.Listener, directTLS bool) error {
	return transport.Serve(ln, func(c net.Conn) {
		if !s.track(c) {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			defer c.Close()
			s.accept(c, directTLS)
		}()
	})
}

// inbound is the receiving side of one stream.
type inbound struct {
	s     *Service
	st    *stream
	id    string
	from  string            // the header's 'from'
	cert  *x509.Certificate // the peer's verified-chain leaf, nil if none
	authd map[string]bool   // domains authenticated on this stream
	local string            // our domain the stream is to: ours or a subdomain we serve
	sm    bool              // XEP-0198 enabled: h counts handled stanzas
	h     uint32
	tls   bool          // the TLS handshake is done
	ended chan struct{} // closed when the stream ends (a bidi link's cue)
}

func (s *Service) accept(c net.Conn, directTLS bool) {
	lim := s.o.Limits
	pre := lim
	pre.MaxStanza = maxPreAuthElement
	in := &inbound{s: s, st: newStream(c, pre), authd: map[string]bool{}, ended: make(chan struct{})}
	defer close(in.ended)
	c.SetDeadline(time.Now().Add(s.o.Timeout))
	err := in.negotiate(directTLS)
	if directTLS && !in.tls {
		// Not TLS, or a failed handshake: no stream to put an error on.
		s.log.Debug("s2s direct TLS handshake failed", "remote", c.RemoteAddr().String(), "err", err)
		return
	}
	s.log.Debug("s2s inbound stream ended", "from", in.from, "err", err)
	in.st.streamErr(streamError(err))
}

// opened reads the peer's header and answers with ours and features.
func (in *inbound) opened(tlsOn bool) error {
	h, err := in.st.readHeader()
	if err != nil {
		return err
	}
	in.id = newID()
	in.from = h.Get("from")
	in.local = in.s.domain
	to := h.Get("to")
	if in.s.serves(to) {
		in.local = to // a subdomain's own stream (a MUC service's, XEP-0045)
	}
	if err := in.st.header(in.local, in.from, in.id); err != nil {
		return err
	}
	if h.Get("xmlns") != "" && h.Get("xmlns") != stanza.NSServer {
		return stanza.ErrStreamInvalidNamespace
	}
	if to != "" && !in.s.serves(to) {
		return stanza.ErrStreamHostUnknown // §4.9.3.6
	}
	f := "<stream:features>"
	switch {
	case !tlsOn:
		f += "<starttls xmlns='" + nsTLS + "'><required/></starttls>"
	case len(in.authd) == 0:
		if in.certValidFor(in.from) {
			f += "<mechanisms xmlns='" + nsSASL + "'><mechanism>EXTERNAL</mechanism></mechanisms>"
		}
		f += "<dialback xmlns='" + nsDialbackFeat + "'><errors/></dialback>"
		f += "<bidi xmlns='" + nsBidiFeat + "'/>" // XEP-0288 §2
	}
	if tlsOn {
		f += "<sm xmlns='" + nsSM + "'/>" // acks for the initiator (XEP-0198)
	}
	return in.st.write([]byte(f + "</stream:features>"))
}

// certValidFor says whether the peer presented a certificate that chains
// to our roots and names domain (RFC 6125).
func (in *inbound) certValidFor(domain string) bool {
	return in.cert != nil && domain != "" && in.cert.VerifyHostname(domain) == nil
}

// negotiate runs the stream until it fails; it never returns nil.
// With directTLS the connection starts with the TLS handshake (XEP-0368).
func (in *inbound) negotiate(directTLS bool) error {
	s := in.s
	if !directTLS {
		if err := in.opened(false); err != nil {
			return err
		}
		el, err := in.st.next()
		if err != nil {
			return err
		}
		if el.Name != "starttls" || el.Space != nsTLS {
			return stanza.ErrStreamNotAuthorized.WithText("STARTTLS is required")
		}
		if err := in.st.write([]byte("<proceed xmlns='" + nsTLS + "'/>")); err != nil {
			return err
		}
	}
	cfg := s.o.TLS.Clone()
	cfg.ClientAuth = tls.RequestClientCert
	cfg.MinVersion = tls.VersionTLS12
	cfg.NextProtos = []string{"xmpp-server"} // XEP-0368 §3; the c2s config names xmpp-client
	tc := tls.Server(in.st.c, cfg)
	if err := tc.Handshake(); err != nil {
		return err
	}
	in.tls = true
	in.cert = s.verifyPeer(tc.ConnectionState().PeerCertificates)
	in.st.restart(tc)
	if err := in.opened(true); err != nil {
		return err
	}
	for {
		el, err := in.st.next()
		if err != nil {
			return err
		}
		switch {
		case el.Space == nsSASL && el.Name == "auth":
			if err := in.external(el); err != nil {
				return err
			}
		case el.Space == nsDialback && el.Name == "result":
			if err := in.dialback(el); err != nil {
				return err
			}
		case el.Space == nsBidi && el.Name == "bidi" && len(in.authd) == 0:
			in.st.bidi = true // XEP-0288 §2: we may send our stanzas back on it
		case el.Space == nsDialback && el.Name == "verify":
			if err := in.answerVerify(el); err != nil {
				return err
			}
		case el.Space == nsSM && el.Name == "enable" && len(in.authd) > 0 && !in.sm:
			in.sm = true // no resumption: a new link resends what was not acked
			if err := in.st.write([]byte("<enabled xmlns='" + nsSM + "'/>")); err != nil {
				return err
			}
		case el.Space == nsSM && el.Name == "r" && in.sm:
			if err := in.st.write([]byte("<a xmlns='" + nsSM + "' h='" + strconv.FormatUint(uint64(in.h), 10) + "'/>")); err != nil {
				return err
			}
		case el.Space == nsSM && el.Name == "a":
			// We never request acks on an inbound stream.
		case stanza.KindOf(el) != 0:
			if err := in.stanza(el); err != nil {
				return err
			}
			if in.sm {
				in.h++ // handled: routed or answered (XEP-0198 §4)
			}
		default:
			return stanza.ErrStreamUnsupportedStanzaType
		}
	}
}

// verifyPeer checks the peer's chain against our roots; nil if it does
// not verify (dialback may still authenticate the domain).
func (s *Service) verifyPeer(chain []*x509.Certificate) *x509.Certificate {
	if len(chain) == 0 {
		return nil
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: s.o.Roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil
	}
	return chain[0]
}

// external is SASL EXTERNAL (RFC 6120 §6, XEP-0178): the certificate
// must name the stream's 'from' domain, and the authzid, if any, be it.
func (in *inbound) external(el *xmlstream.Element) error {
	fail := func() error {
		in.s.refused(in.from, "in", "SASL EXTERNAL")
		in.st.write([]byte("<failure xmlns='" + nsSASL + "'><not-authorized/></failure>"))
		return stanza.ErrStreamNotAuthorized
	}
	if len(in.authd) > 0 || el.Get("mechanism") != "EXTERNAL" || !in.certValidFor(in.from) {
		return fail()
	}
	if t := strings.TrimSpace(el.Text); t != "" && t != "=" {
		b, err := base64.StdEncoding.DecodeString(t)
		if err != nil || string(b) != in.from {
			return fail()
		}
	}
	if !in.s.Allowed(in.from) {
		in.s.refused(in.from, "in", "policy")
		return stanza.ErrStreamPolicyViolation
	}
	if err := in.st.write([]byte("<success xmlns='" + nsSASL + "'/>")); err != nil {
		return err
	}
	in.authd[in.from] = true
	in.authenticated(in.from, AuthExternal)
	in.st.restart(in.st.c)
	if err := in.opened(true); err != nil {
		return err
	}
	in.attach(in.from)
	return nil
}

// attach makes the stream our link to domain too when the peer asked for
// bidi (XEP-0288); only for the stream's own domain, the one the peer's
// server was reached as (piggybacked domains get links of their own).
// Called once the peer is authenticated and our answers are written, so
// that no stanza of ours precedes them.
func (in *inbound) attach(domain string) {
	if in.st.bidi && domain == in.from {
		in.s.attach(in.local, domain, in.st, in.ended)
	}
}

// authenticated lifts the pre-authentication limits once domain is
// authenticated on the stream.
func (in *inbound) authenticated(domain, auth string) {
	in.st.r.SetLimits(in.s.o.Limits)
	in.st.c.SetDeadline(time.Now().Add(DefaultIdle))
	in.s.authenticated(domain, "in", auth)
}

// dialback handles <db:result/> from an originating server (XEP-0220
// §2.2): the key is checked with that domain's authoritative server.
func (in *inbound) dialback(el *xmlstream.Element) error {
	from, to := el.Get("from"), el.Get("to")
	if to != in.local {
		return stanza.ErrStreamHostUnknown
	}
	if from == "" || el.Text == "" {
		return stanza.ErrStreamInvalidFrom
	}
	valid := false
	switch {
	case !in.s.Allowed(from):
		in.s.refused(from, "in", "policy")
	case in.s.o.SecureAuth && !in.certValidFor(from):
		in.s.refused(from, "in", "no valid certificate")
	default:
		valid = in.s.verifyKey(in.local, from, in.id, strings.TrimSpace(el.Text))
		if !valid {
			in.s.refused(from, "in", "dialback key not valid")
		}
	}
	typ := "invalid"
	if valid {
		typ = "valid"
		in.authd[from] = true
		in.authenticated(from, AuthDialback)
	}
	r := xmlstream.New("result", nsDialback, "from", in.local, "to", from, "type", typ)
	if err := in.st.writeEl(r); err != nil {
		return err
	}
	if valid {
		in.attach(from)
	}
	return nil
}

// answerVerify answers <db:verify/> for a key we issued as the
// originating server (XEP-0220 §2.3.2).
func (in *inbound) answerVerify(el *xmlstream.Element) error {
	from, to, id := el.Get("from"), el.Get("to"), el.Get("id")
	if !in.s.serves(to) {
		return stanza.ErrStreamHostUnknown
	}
	typ := "invalid"
	if validKey(in.s.o.Secret, from, to, id, strings.TrimSpace(el.Text)) {
		typ = "valid"
	}
	return in.st.writeEl(xmlstream.New("verify", nsDialback, "from", to, "to", from, "id", id, "type", typ))
}

// stanza routes an inbound stanza after checking its addresses.
func (in *inbound) stanza(el *xmlstream.Element) error {
	if len(in.authd) == 0 {
		return stanza.ErrStreamNotAuthorized
	}
	if err := in.s.receive(el, func(d string) bool { return in.authd[d] }); err != nil {
		return err
	}
	in.st.c.SetDeadline(time.Now().Add(DefaultIdle))
	return nil
}

// receive checks a stanza from a peer on a stream where authd says which
// domains are authenticated, and routes it (RFC 6120 §4.9.3.9, §8.1.1.1,
// §8.1.2.1); an error is the stream error that ends the stream.
func (s *Service) receive(el *xmlstream.Element, authd func(domain string) bool) error {
	st, err := stanza.Parse(el)
	if st == nil {
		return stanza.ErrStreamBadFormat
	}
	if st.From.IsZero() || !authd(st.From.Domain()) {
		s.refused(st.From.Domain(), "in", "'from' not authenticated on the stream")
		return stanza.ErrStreamInvalidFrom
	}
	if !s.serves(st.To.Domain()) {
		return stanza.ErrStreamHostUnknown
	}
	if !s.Allowed(st.From.Domain()) { // the policy may have changed (SetPolicy)
		s.refused(st.From.Domain(), "in", "policy")
		return stanza.ErrStreamPolicyViolation
	}
	if !s.allow(st.From.Domain()) {
		s.refused(st.From.Domain(), "in", "stanza rate")
		return stanza.ErrStreamPolicyViolation.WithText("too many stanzas")
	}
	if st.Kind == stanza.IQ && (st.Type == "result" || st.Type == "error") && s.serves(st.To.String()) &&
		s.pong(st.ID, st.From.String()) {
		return nil // the answer to an idle-link ping of ours
	}
	st.El = renamespace(st.El, stanza.NSServer, stanza.NSClient)
	if err != nil { // jid-malformed, bad-request: answer the stanza
		var se *stanza.Error
		if errors.As(err, &se) {
			s.bounceIn(st, se)
		}
		return nil
	}
	s.r.Send(context.Background(), st)
	return nil
}

// bounceIn answers a bad inbound stanza back over federation.
func (s *Service) bounceIn(st *stanza.Stanza, e *stanza.Error) {
	if reply := stanza.ErrorReply(st, e); reply != nil {
		s.r.Send(context.Background(), reply)
	}
}
