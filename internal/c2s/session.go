package c2s

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/sasl"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// Namespaces of stream negotiation (RFC 6120 §5-7) and its companions.
const (
	nsTLS       = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL      = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsBind      = "urn:ietf:params:xml:ns:xmpp-bind"
	nsSession   = "urn:ietf:params:xml:ns:xmpp-session" // RFC 3921 §3, kept for old clients
	nsRegister  = "jabber:iq:register"
	nsFramingWS = xmlstream.NSFraming
)

// maxAuthAttempts on one stream before it is closed (RFC 6120 §6.4.5:
// allow at least 2 and at most 5 retries).
const maxAuthAttempts = 3

// session is one client connection, from the first byte to the close. Its
// reader goroutine (run) owns every field not marked otherwise.
type session struct {
	srv       *Server
	fr        framing
	transport string // "tcp", "tls", "websocket"
	ip        string

	secure      bool              // TLS is in place (or a trusted proxy terminated it)
	tlsCert     *x509.Certificate // what our TLS presented (binding.go)
	plaintextOK bool              // loopback listener with allow_plaintext
	canTLS      bool              // STARTTLS may be offered
	authed      bool
	username    string
	lang        string
	authTries   int
	exchange    *sasl.Server
	s2          *sasl2Request          // an XEP-0388 exchange's extras (sasl2.go)
	device      atomic.Pointer[device] // set at a SASL2 login with a user-agent (fast.go)
	headerSent  bool
	started     time.Time
	lastRead    atomic.Int64 // unix seconds; read by the sweeper
	lastWrite   atomic.Int64 // unix seconds; read by the sweeper
	pingedAt    atomic.Int64 // unix seconds of the sweeper's last ping
	bound       atomic.Bool  // read by the sweeper
	full        jid.JID      // set once at bind, before bound is true
	wmu         sync.Mutex   // serialises frame writes and swaps of fr
	frMu        sync.Mutex   // guards fr for goroutines other than the reader
	out         outbox
	terminating atomic.Bool

	// pending holds the durable writes this session's stanzas started
	// (router.Owed), oldest first; settle waits for them.
	pending []router.Write
	owed    router.Owed // what the stanza being routed owes; reused

	// Stream management (XEP-0198); see sm.go.
	smOn       bool            // enabled on this session
	smID       string          // resumption id; "" when not resumable; written under srv.mu
	inbound    uint32          // stanzas handled from the client, modulo 2^32
	detached   atomic.Bool     // waiting for a resumption
	detachedAt time.Time       // guarded by srv.mu
	resumeCh   chan resumption // a new connection for a detached session
	gone       chan struct{}   // closed when a detached session must end
	goneOnce   sync.Once
	tokens     float64   // stanza rate limit bucket
	refilled   time.Time // when tokens was last topped up
}

// JID implements router.Session.
func (s *session) JID() jid.JID { return s.full }

// Send implements router.Session: queue a stanza for the client.
func (s *session) Send(b []byte) error {
	if err := s.out.send(b, true); err != nil {
		return err
	}
	s.srv.countOut(b)
	return nil
}

// SendBatched implements router.Batched: Send without starting the
// writer, for a fan-out that wakes its recipients once its batch is queued.
func (s *session) SendBatched(b []byte) (router.Waker, error) {
	wake, err := s.out.sendBatched(b)
	if err != nil {
		return nil, err
	}
	s.srv.countOut(b)
	if !wake {
		return nil, nil
	}
	return &s.out, nil
}

// Hibernated implements router.Hibernating: the connection is lost and
// the session waits for a resumption (XEP-0198 §5).
func (s *session) Hibernated() bool { return s.detached.Load() }

// Nickname tells the nickname this session joined a room with (its last
// available presence to room/nick), for push notifications of mentions.
func (s *session) Nickname(room jid.JID) (string, bool) { return s.out.nickname(room.String()) }

// Behind implements router.Paced.
func (s *session) Behind() <-chan struct{} { return s.out.behind() }

// SendTracked implements router.Tracked: done(true) once the client has
// the stanza (acknowledged under XEP-0198, else written to the
// connection), done(false) if the session ends first.
func (s *session) SendTracked(b []byte, done func(delivered bool)) error {
	if err := s.out.sendTracked(b, true, done); err != nil {
		return err
	}
	s.srv.countOut(b)
	return nil
}

// Terminate implements router.Session: send a stream error and close.
func (s *session) Terminate(e *stanza.StreamError) {
	if !s.terminating.CompareAndSwap(false, true) {
		return
	}
	s.srv.log.Info("session terminated", "jid", s.full.String(), "condition", e.Condition())
	if s.detached.Load() {
		s.srv.dropResumable(s)
		s.expire()
		return
	}
	fr := s.framing()
	s.out.finish(fr.streamError(e), fr.trailer())
}

// outboxDone is called when the outbox stops writing for good: the
// connection closes (its reader then ends or detaches the session). A
// detached session whose unacknowledged stanzas outgrew the bound ends
// now rather than at the resume timeout, and they go to offline storage.
func (s *session) outboxDone(err error) {
	if errors.Is(err, errQueueFull) && s.detached.Load() {
		s.Terminate(stanza.ErrStreamResourceConstraint.WithText("too much waiting for a resumption"))
		return
	}
	s.shutdown()
}

// framing returns the current connection's framing from any goroutine.
func (s *session) framing() framing {
	s.frMu.Lock()
	defer s.frMu.Unlock()
	return s.fr
}

// shutdown closes the current connection; safe from any goroutine.
func (s *session) shutdown() { s.closeFraming() }

func (s *session) closeFraming() { s.framing().close() }

// writeFrames is the outbox's write function.
func (s *session) writeFrames(bufs [][]byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.lastWrite.Store(s.srv.cfg.Clock.Now().Unix())
	return s.fr.writeFrames(bufs)
}

// write sends stream-level bytes in order with everything queued before.
func (s *session) write(b []byte) error {
	if s.bound.Load() {
		return s.out.send(b, false)
	}
	// Before binding no one else sends to this session, so the reader
	// goroutine writes directly and negotiation stays strictly in order.
	return s.writeFrames([][]byte{b})
}

// run drives the session until the stream ends.
func (s *session) run(ctx context.Context) {
	var err error
	for {
		err = s.negotiateAndServe(ctx)
		if !s.canDetach(err) || !s.awaitResume() {
			break
		}
	}
	if errors.Is(err, errHandedOff) {
		return // the connection lives on in the session it resumed
	}
	var se *stanza.StreamError
	var syn *xmlstream.SyntaxError
	switch {
	case err == nil, errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), errors.Is(err, errClosed):
	case errors.As(err, &syn):
		s.fail(stanza.StreamCondition(syn.Condition).WithText(syn.Reason))
	case errors.As(err, &se):
		s.fail(se)
	default:
		s.srv.log.Debug("connection ended", "remote", s.ip, "err", err)
	}
	if s.bound.Load() {
		s.settle()
		s.srv.router.Unbind(ctx, s)
		s.requeueUnacked(ctx)
	}
	// Let queued bytes (a final stream error, the trailer) go out, then
	// close. Without a writer running, close now.
	if s.out.idle() || !s.terminating.Load() {
		s.shutdown()
	}
}

// fail sends a stream error (after our header, if not sent yet: RFC 6120
// §4.9.1.2) and closes the stream.
func (s *session) fail(e *stanza.StreamError) {
	s.srv.log.Info("stream error", "remote", s.ip, "jid", s.full.String(), "condition", e.Condition(), "reason", e.Text())
	var frames [][]byte
	if !s.headerSent {
		frames = append(frames, s.fr.header(streamID(), s.srv.domain.String(), "", "en"))
		s.headerSent = true
	}
	frames = append(frames, s.fr.streamError(e), s.fr.trailer())
	if s.bound.Load() {
		s.terminating.Store(true)
		s.out.finish(frames...)
		return
	}
	s.writeFrames(frames)
}

func (s *session) negotiateAndServe(ctx context.Context) error {
	for {
		tok, err := s.fr.next()
		if err != nil {
			return err
		}
		switch tok.Kind {
		case xmlstream.StreamStart:
			if err := s.open(tok.El); err != nil {
				return err
			}
		case xmlstream.StreamEnd:
			s.closeStream()
			return nil
		case xmlstream.StreamElement:
			if !s.headerSent {
				return stanza.ErrStreamNotWellFormed.WithText("element before stream header")
			}
			if err := s.element(ctx, tok.El); err != nil {
				return err
			}
		}
	}
}

// closeStream answers the client's </stream:stream> (RFC 6120 §4.4).
func (s *session) closeStream() {
	if s.bound.Load() {
		s.settle()
		s.srv.router.Unbind(context.Background(), s)
		s.requeueUnacked(context.Background())
		s.bound.Store(false) // run must not unbind twice
		s.terminating.Store(true)
		s.out.finish(s.fr.trailer())
		return
	}
	s.writeFrames([][]byte{s.fr.trailer()})
}

// open handles a stream header (RFC 6120 §4.7) and sends features.
func (s *session) open(h *xmlstream.Element) error {
	if h.Space != streamsNS && h.Space != nsFramingWS {
		return stanza.ErrStreamInvalidNamespace.WithText("stream namespace must be " + streamsNS)
	}
	s.lang = h.Get("xml:lang")
	if s.lang == "" {
		s.lang = "en"
	}
	to := h.Get("to")
	if to != "" {
		d, err := jid.Parse(to)
		if err != nil || d != s.srv.domain {
			s.srv.log.Info("stream to unknown host", "remote", s.ip, "to", to)
			return stanza.ErrStreamHostUnknown.WithText("this server serves " + s.srv.domain.String())
		}
	}
	var from string
	if f := h.Get("from"); f != "" {
		if _, err := jid.Parse(f); err == nil {
			from = f
		}
	}
	s.headerSent = true
	if err := s.write(s.fr.header(streamID(), s.srv.domain.String(), from, s.lang)); err != nil {
		return err
	}
	if v := h.Get("version"); !strings.HasPrefix(v, "1.") {
		// RFC 6120 §4.7.5: no version means pre-1.0 (unsupported here).
		return stanza.ErrStreamUnsupportedVersion.WithText("XMPP 1.0 is required")
	}
	return s.write(s.fr.features(s.featureList()))
}

// featureList is what the client may negotiate next (RFC 6120 §4.3.2).
func (s *session) featureList() []byte {
	var b []byte
	switch {
	case s.authed:
		if !s.bound.Load() { // Bind 2 (sasl2.go) may have bound already
			b = append(b, "<bind xmlns='"+nsBind+"'/>"+
				"<session xmlns='"+nsSession+"'><optional/></session>"...)
		}
		b = append(b, "<ver xmlns='urn:xmpp:features:rosterver'/>"+
			"<sub xmlns='urn:xmpp:features:pre-approval'/>"...)
		if !s.smOn {
			b = append(b, "<sm xmlns='"+nsSM+"'/>"...)
		}
		b = append(b, "<csi xmlns='"+nsCSI+"'/>"...)
		// XEP-0115 §6.3: the server's caps, so that a client that has
		// seen this ver skips its disco#info query. Offered once the
		// client is authenticated, not to anyone who connects (§9.4,
		// information exposure).
		if s.srv.cfg.ServerCaps != nil {
			if c := s.srv.cfg.ServerCaps(); c != nil {
				b = xmlstream.Append(b, c)
			}
		}
	case !s.secure && s.canTLS && !s.plaintextOK:
		// TLS is mandatory before authentication (RFC 6120 §5.3.1).
		b = append(b, "<starttls xmlns='"+nsTLS+"'><required/></starttls>"...)
	default:
		if !s.secure && s.canTLS {
			b = append(b, "<starttls xmlns='"+nsTLS+"'/>"...)
		}
		ch := s.channel()
		mechs := sasl.Mechanisms(ch)
		b = append(b, "<mechanisms xmlns='"+nsSASL+"'>"...)
		b = append(appendMechanisms(b, mechs), "</mechanisms>"...)
		b = appendChannelBinding(b, ch)
		b = s.appendSASL2(b, mechs)
		if s.srv.registrationOpen() {
			b = append(b, "<register xmlns='http://jabber.org/features/iq-register'/>"...)
		}
	}
	return b
}

// element handles one top-level element according to the stream's state.
func (s *session) element(ctx context.Context, el *xmlstream.Element) error {
	switch {
	case el.Space == nsTLS && el.Name == "starttls":
		return s.startTLS()
	case el.Space == nsSASL:
		return s.sasl(ctx, el)
	case el.Space == nsSASL2:
		return s.sasl2(ctx, el)
	case el.Space == nsSM:
		return s.sm(el)
	case el.Space == nsCSI && s.bound.Load():
		return s.clientState(el)
	}
	kind := stanza.KindOf(el)
	if kind == 0 {
		if el.Name == "message" || el.Name == "presence" || el.Name == "iq" {
			return stanza.ErrStreamInvalidNamespace.WithText("stanzas must be in jabber:client")
		}
		return stanza.ErrStreamUnsupportedStanzaType.WithText("<" + el.Name + "/> in " + el.Space)
	}
	if !s.authed {
		if kind == stanza.IQ && s.srv.registrationOpen() && s.secure {
			if q := el.FirstChild(); q != nil && q.Space == nsRegister {
				return s.register(ctx, el)
			}
		}
		return stanza.ErrStreamNotAuthorized.WithText("authenticate first")
	}
	if !s.bound.Load() {
		return s.bind(ctx, el)
	}
	return s.stanza(ctx, el)
}

func (s *session) startTLS() error {
	tf, ok := s.fr.(*tcpFraming)
	if !ok || s.secure || !s.canTLS || s.authed {
		// RFC 6120 §5.4.2.2: STARTTLS where it was not offered.
		return stanza.ErrStreamPolicyViolation.WithText("STARTTLS not available here")
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := tf.writeFrames([][]byte{[]byte("<proceed xmlns='" + nsTLS + "'/>")}); err != nil {
		return err
	}
	if _, err := tf.startTLS(tlsFor(s.srv.cfg.TLS, &s.tlsCert)); err != nil {
		return err
	}
	s.secure = true
	s.transport = "tls"
	s.headerSent = false
	return nil
}

func saslFailure(cond sasl.Condition, text string) []byte {
	b := "<failure xmlns='" + nsSASL + "'><" + string(cond) + "/>"
	if text != "" {
		b += "<text xml:lang='en'>" + xmlEscape(text) + "</text>"
	}
	return []byte(b + "</failure>")
}

// sasl runs SASL negotiation (RFC 6120 §6.4).
func (s *session) sasl(ctx context.Context, el *xmlstream.Element) error {
	if s.authed {
		return stanza.ErrStreamPolicyViolation.WithText("already authenticated")
	}
	if !s.secure && !s.plaintextOK {
		return s.write(saslFailure(sasl.EncryptionRequired, "use STARTTLS first"))
	}
	switch el.Name {
	case "auth":
		ex, f := s.startExchange(ctx, el.Get("mechanism"), nil)
		if f != nil {
			return s.write(saslFailure(f.Condition, f.Text))
		}
		s.exchange = ex
		return s.saslStep(ctx, el.Text, true)
	case "response":
		if s.exchange == nil {
			return s.write(saslFailure(sasl.MalformedRequest, "no exchange in progress"))
		}
		return s.saslStep(ctx, el.Text, false)
	case "abort":
		s.exchange = nil
		return s.write(saslFailure(sasl.Aborted, ""))
	}
	return stanza.ErrStreamUnsupportedStanzaType.WithText("unknown SASL element")
}

func (s *session) saslStep(ctx context.Context, text string, initial bool) error {
	var in []byte
	text = strings.TrimSpace(text)
	if text != "" && text != "=" { // "=" is an empty initial response (RFC 6120 §6.4.2)
		var err error
		if in, err = base64.StdEncoding.DecodeString(text); err != nil {
			return s.authFailedWith(sasl.IncorrectEncoding, "")
		}
	} else if !initial && text == "" {
		in = []byte{}
	}
	out, done, err := s.exchange.Step(ctx, in)
	if err != nil {
		return s.authFailed(ctx, err)
	}
	enc := base64.StdEncoding.EncodeToString(out)
	if !done {
		return s.write(s.challenge(enc))
	}
	// A success is delayed like a failure when it comes from an address
	// that failed recently, so its timing does not tell a guess that hit
	// (c2s/backoff.go).
	wait, ok := s.srv.backoff.answer(s.ip, s.exchange.Username(), true)
	if !ok {
		s.reportAuth(s.exchange.Mechanism(), s.exchange.Username(), string(sasl.TemporaryAuthFailure))
		return s.authFailedWith(sasl.TemporaryAuthFailure, "too many attempts at this account; try again later")
	}
	s.srv.backoff.sleep(ctx, wait)
	s.username = s.exchange.Username()
	s.reportAuth(s.exchange.Mechanism(), s.username, "")
	if s.s2 != nil {
		s.s2.tokenUsed = s.exchange.TokenUsed()
	}
	s.exchange = nil
	s.authed = true
	s.srv.log.Info("authenticated", "user", s.username, "remote", s.ip, "transport", s.transport)
	if len(out) == 0 {
		enc = ""
	}
	if s.s2 != nil {
		return s.sasl2Success(ctx, enc)
	}
	if err := s.write([]byte("<success xmlns='" + nsSASL + "'>" + enc + "</success>")); err != nil {
		return err
	}
	// RFC 6120 §6.4.6: the stream restarts; discard the old parser state.
	s.headerSent = false
	s.fr.authenticated()
	s.fr.restart()
	return nil
}

// authFailed answers a failed exchange after a back-off delay that grows
// with the failures seen from this address and for this account
// (backoff.go), and closes the stream after maxAuthAttempts.
func (s *session) authFailed(ctx context.Context, err error) error {
	mech, account := "", ""
	if s.exchange != nil {
		mech, account = s.exchange.Mechanism(), s.exchange.Attempted()
	}
	s.exchange = nil
	var f *sasl.Failure
	if !errors.As(err, &f) {
		f = &sasl.Failure{Condition: sasl.TemporaryAuthFailure}
	}
	if f.Condition == sasl.NotAuthorized {
		s.authTries++
		s.srv.countAuthFailure(mech)
		s.srv.log.Info("authentication failed", "remote", s.ip, "mechanism", mech)
		// Back-off per address and per account (c2s/backoff.go).
		if wait, ok := s.srv.backoff.answer(s.ip, account, false); ok {
			s.srv.backoff.sleep(ctx, wait)
		} else {
			f = &sasl.Failure{Condition: sasl.TemporaryAuthFailure, Text: "too many attempts at this account; try again later"}
		}
	}
	s.reportAuth(mech, account, string(f.Condition))
	if err := s.authFailedWith(f.Condition, f.Text); err != nil {
		return err
	}
	if s.authTries >= maxAuthAttempts {
		return stanza.ErrStreamPolicyViolation.WithText("too many failed authentication attempts")
	}
	return nil
}

// register serves in-band registration before authentication (XEP-0077).
func (s *session) register(ctx context.Context, el *xmlstream.Element) error {
	st, err := stanza.Parse(el)
	if err != nil {
		return s.replyDirect(st, err)
	}
	payload, err := s.srv.cfg.Registrar.PreAuth(ctx, st, s.ip)
	if err != nil {
		return s.replyDirect(st, err)
	}
	return s.write(stanza.Result(st, payload).Bytes())
}

// replyDirect answers a stanza with an error before the session is bound.
func (s *session) replyDirect(st *stanza.Stanza, err error) error {
	var se *stanza.Error
	if !errors.As(err, &se) {
		se = stanza.ErrInternalServerError
	}
	if st == nil {
		return stanza.ErrStreamBadFormat
	}
	if r := stanza.ErrorReply(st, se); r != nil {
		return s.write(r.Bytes())
	}
	return nil
}

// bind handles resource binding (RFC 6120 §7) and the legacy session
// request; anything else before binding ends the stream.
func (s *session) bind(ctx context.Context, el *xmlstream.Element) error {
	st, err := stanza.Parse(el)
	if st == nil || st.Kind != stanza.IQ || st.Type != "set" || st.Payload() == nil || st.Payload().Space != nsBind {
		return stanza.ErrStreamNotAuthorized.WithText("bind a resource first")
	}
	if err != nil {
		return s.replyDirect(st, err)
	}
	res := strings.TrimSpace(st.Payload().ChildText("resource", nsBind))
	if res == "" {
		res = stanza.NewID()
	}
	full, serr := s.bindable(res)
	if serr != nil {
		return s.replyDirect(st, serr)
	}
	s.full = full
	s.bound.Store(true)
	s.srv.router.Bind(s)
	payload := xmlstream.New("bind", nsBind).Add(xmlstream.NewText("jid", nsBind, full.String()))
	return s.write(stanza.Result(st, payload).Bytes())
}

// clientState handles <active/> and <inactive/> (XEP-0352 §4); they are
// not stanzas, so stream management does not count them.
func (s *session) clientState(el *xmlstream.Element) error {
	switch el.Name {
	case "active":
		return s.out.setInactive(false)
	case "inactive":
		return s.out.setInactive(true)
	}
	return stanza.ErrStreamUnsupportedStanzaType.WithText("<" + el.Name + "/> in " + nsCSI)
}

// stanza handles a stanza from a bound client (RFC 6120 §8).
func (s *session) stanza(ctx context.Context, el *xmlstream.Element) error {
	if s.smOn {
		s.inbound++ // XEP-0198 §4: every stanza counts, even a bad one
	}
	st, err := stanza.Parse(el)
	if err != nil {
		if st != nil {
			st.From = s.full
			st.To = jid.JID{}
			if r := stanza.ErrorReply(st, asStanzaError(err)); r != nil {
				s.Send(r.Bytes())
			}
		}
		return nil
	}
	s.srv.countIn(st.Kind)
	s.shape()
	// RFC 6120 §8.1.2.1: the server stamps the full JID; a 'from' that is
	// neither it nor the bare JID is a forgery.
	if !st.From.IsZero() && st.From != s.full {
		if st.From != s.full.Bare() {
			return stanza.ErrStreamInvalidFrom.WithText("from does not match the bound address")
		}
	}
	if st.From != s.full {
		st.SetFrom(s.full)
	}
	if st.Kind == stanza.Presence && st.To.Resource() != "" && (st.Type == "" || st.Type == "unavailable") {
		// Presence to room/nick joins a room under that nickname (XEP-0045
		// §7.2); client state indication tells mentions of it apart.
		s.out.joined(st.To.Bare().String(), st.To.Resource(), st.Type == "")
	}
	if st.Kind == stanza.IQ && st.Type == "set" && st.Payload().Space == nsSession {
		// RFC 3921 §3 session establishment: a no-op kept for old clients.
		return s.Send(stanza.Result(st, nil).Bytes())
	}
	// Stop reading while a recipient's queue is over its bound (bounded
	// by router.PaceWait): TCP then pushes back on this client.
	ow := &s.owed
	clear(ow.Writes)
	clear(ow.Behind)
	ow.Writes, ow.Behind = ow.Writes[:0], ow.Behind[:0]
	s.srv.router.RouteInto(ctx, st, ow)
	router.Pay(ctx, *ow)
	s.owe(ow.Writes)
	return nil
}

// maxPending bounds the durable writes one session may have in flight;
// beyond it the session waits for the oldest before reading on
// (backpressure on a client that never asks for acknowledgements).
const maxPending = 256

// owe keeps the writes a routed stanza started, to be waited for before
// the session acknowledges it (docs/design/06).
func (s *session) owe(ws []router.Write) {
	s.pending = append(s.pending, ws...)
	if n := len(s.pending) - maxPending; n > 0 {
		s.srv.router.Await(s.pending[:n])
		s.pending = append(s.pending[:0], s.pending[n:]...)
	}
}

// settle waits for the durable writes this session's stanzas started; it
// runs before acknowledging stanzas and when the session ends.
//
// A write that failed has been reported (log, metric, health) by the
// router; the stanza it belonged to was answered already where the
// failure meant it was not stored (offline storage, compliance mode), so
// the ack counts it as handled, which it was (docs/design/06).
func (s *session) settle() {
	s.srv.router.Await(s.pending)
	clear(s.pending)
	s.pending = s.pending[:0]
}

// shape enforces the stanza rate with a token bucket: when it is empty the
// reader sleeps, so the client is slowed by TCP flow control instead of
// losing stanzas.
func (s *session) shape() {
	rate := s.srv.cfg.StanzaRate
	if rate <= 0 {
		return
	}
	now := time.Now()
	burst := float64(s.srv.cfg.StanzaBurst)
	if s.refilled.IsZero() {
		s.tokens = burst
	} else {
		s.tokens = min(burst, s.tokens+now.Sub(s.refilled).Seconds()*rate)
	}
	s.refilled = now
	if s.tokens < 1 {
		wait := time.Duration((1 - s.tokens) / rate * float64(time.Second))
		time.Sleep(wait)
		s.tokens = 1
		s.refilled = now.Add(wait)
	}
	s.tokens--
}

// streamID is an unpredictable stream id (RFC 6120 §4.7.3: it must not be
// guessable, later protocols such as dialback key on it).
func streamID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func asStanzaError(err error) *stanza.Error {
	var se *stanza.Error
	if errors.As(err, &se) {
		return se
	}
	return stanza.ErrBadRequest
}

// kindOfRaw tells a serialised stanza's kind from its first bytes, for the
// outbound counters (no parsing on the write path).
func kindOfRaw(b []byte) stanza.Kind {
	b = bytes.TrimLeft(b, " \t\r\n")
	switch {
	case bytes.HasPrefix(b, []byte("<message")):
		return stanza.Message
	case bytes.HasPrefix(b, []byte("<presence")):
		return stanza.Presence
	case bytes.HasPrefix(b, []byte("<iq")):
		return stanza.IQ
	}
	return 0
}
