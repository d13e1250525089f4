package c2s

import (
	"context"

	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"parley/internal/jid"
	"strconv"
	"time"

	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// Stream management (XEP-0198): acknowledgements and resumption.
//
// A session with resumption enabled that loses its connection without
// closing the stream is detached, not ended: it stays bound (its presence
// stands), stanzas for it wait in the outbox's unacked list, and its reader
// goroutine waits. A new authenticated stream that sends <resume/> with the
// session's id hands its connection over; the old goroutine takes it and
// goes on reading, so the session keeps all its state. Without a
// resumption within ResumeTimeout the session ends and its unacknowledged
// messages go to offline storage.

const nsSM = "urn:xmpp:sm:3"

// errHandedOff ends the reader of a stream whose connection now belongs
// to the session it resumed.
var errHandedOff = errors.New("c2s: connection handed to a resumed session")

// resumption carries a new connection to a detached session.
type resumption struct {
	fr        framing
	h         uint32 // stanzas the client says it handled
	transport string
	secure    bool
	// wrap, for a resumption inside SASL2 authentication, puts <resumed/>
	// into the <success/> it answers with (sasl2.go).
	wrap func(full jid.JID, resumed []byte) []byte
}

// enableSM answers <enable/> (XEP-0198 §3), alone or inline in Bind 2.
func (s *session) enableSM(el *xmlstream.Element) []byte {
	if !s.bound.Load() || s.smOn {
		return smFailed("unexpected-request", "")
	}
	s.smOn = true
	s.out.enableSM()
	if el.Get("resume") == "true" || el.Get("resume") == "1" {
		id := randomID()
		s.srv.mu.Lock() // attached reads it from another session's goroutine
		s.smID = id
		s.srv.mu.Unlock()
		return []byte("<enabled xmlns='" + nsSM + "' id='" + id + "' resume='true' max='" +
			strconv.Itoa(int(s.srv.cfg.ResumeTimeout/time.Second)) + "'/>")
	}
	return []byte("<enabled xmlns='" + nsSM + "'/>")
}

// parseH reads an 'h' attribute: an unsigned 32-bit count.
func parseH(v string) (uint32, error) {
	h, err := strconv.ParseUint(v, 10, 32)
	return uint32(h), err
}

// sm handles a stream management nonza on a bound or authenticated stream.
func (s *session) sm(el *xmlstream.Element) error {
	switch el.Name {
	case "enable":
		return s.write(s.enableSM(el))
	case "r":
		if !s.smOn {
			return nil // XEP-0198 §4: only after enable; ignore
		}
		s.settle() // handled means durable: archive commits first
		return s.write([]byte("<a xmlns='" + nsSM + "' h='" + strconv.FormatUint(uint64(s.inbound), 10) + "'/>"))
	case "a":
		if !s.smOn {
			return nil
		}
		h, err := strconv.ParseUint(el.Get("h"), 10, 32)
		if err != nil {
			return stanza.ErrStreamBadFormat.WithText("h must be an unsigned 32-bit number")
		}
		if !s.out.ack(uint32(h)) {
			// XEP-0198 §4: acknowledging more than was sent.
			return stanza.ErrStreamUndefinedCondition.WithText("handled count too high")
		}
		return nil
	case "resume":
		return s.resume(el)
	}
	return stanza.ErrStreamUnsupportedStanzaType.WithText("<" + el.Name + "/> in " + nsSM)
}

func smFailed(cond, h string) []byte {
	b := "<failed xmlns='" + nsSM + "'"
	if h != "" {
		b += " h='" + h + "'"
	}
	return []byte(b + "><" + cond + " xmlns='" + stanza.NSStanzas + "'/></failed>")
}

// resume hands this stream's connection to the session named by previd
// (XEP-0198 §5), if it is this user's: a detached one, or one still
// attached that takeResumable takes over.
func (s *session) resume(el *xmlstream.Element) error {
	if !s.authed || s.bound.Load() {
		return s.write(smFailed("unexpected-request", ""))
	}
	h, err := strconv.ParseUint(el.Get("h"), 10, 32)
	if err != nil {
		return s.write(smFailed("bad-request", ""))
	}
	old := s.srv.takeResumable(el.Get("previd"), s.username)
	if old == nil {
		return s.write(smFailed("item-not-found", ""))
	}
	old.resumeCh <- resumption{fr: s.fr, h: uint32(h), transport: s.transport, secure: s.secure}
	return errHandedOff
}

// canDetach tells whether a reader error should detach the session rather
// than end it: only a lost connection of a resumable session does.
func (s *session) canDetach(err error) bool {
	if s.smID == "" || !s.bound.Load() || s.terminating.Load() || err == nil {
		return false
	}
	var se *stanza.StreamError
	var syn *xmlstream.SyntaxError
	if errors.As(err, &se) || errors.As(err, &syn) || errors.Is(err, errHandedOff) {
		return false
	}
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.As(err, &ne) || errors.Is(err, errClosed)
}

// awaitResume detaches the session and waits for a resumption. It reports
// true with the new connection in place, false when the session must end.
func (s *session) awaitResume() bool {
	s.detached.Store(true)
	defer s.detached.Store(false)
	unacked := s.out.detach()
	s.closeFraming()
	s.srv.addResumable(s)
	s.srv.log.Info("session detached", "jid", s.full.String())
	// What the client never acknowledged may never have reached it: push
	// notifications (XEP-0357) wake it to resume and get it.
	s.srv.router.Hibernate(context.Background(), s.full, unacked)
	var r resumption
	select {
	case r = <-s.resumeCh:
	case <-s.gone:
		select { // a resumption that raced the expiry wins
		case r = <-s.resumeCh:
		default:
			return false
		}
	case <-s.srv.stop:
		// The server stops: a session that detached after Shutdown
		// expired the resumable ones must not wait for a timer that a
		// stopped (or fake) clock never fires.
		return false
	}
	s.frMu.Lock()
	s.wmu.Lock()
	s.fr, s.transport, s.secure = r.fr, r.transport, r.secure
	s.wmu.Unlock()
	s.frMu.Unlock()
	s.lastRead.Store(s.srv.cfg.Clock.Now().Unix())
	s.settle() // the h we report must be durable
	resumed := []byte("<resumed xmlns='" + nsSM + "' h='" + strconv.FormatUint(uint64(s.inbound), 10) +
		"' previd='" + s.smID + "'/>")
	if r.wrap != nil {
		resumed = r.wrap(s.full, resumed)
	}
	if !s.out.reattach(r.h, resumed) {
		s.fail(stanza.ErrStreamUndefinedCondition.WithText("handled count too high"))
		return false
	}
	s.srv.log.Info("session resumed", "jid", s.full.String(), "transport", r.transport)
	return true
}

// expire ends a detached session's wait.
func (s *session) expire() { s.goneOnce.Do(func() { close(s.gone) }) }

func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// addResumable registers a detached session under its id.
func (srv *Server) addResumable(s *session) {
	srv.mu.Lock()
	s.detachedAt = srv.cfg.Clock.Now()
	srv.resumable[s.smID] = s
	srv.wakeTakeOvers()
	srv.mu.Unlock()
}

// wakeTakeOvers tells the resumptions waiting in takeResumable that a
// session detached or ended. srv.mu must be held.
func (srv *Server) wakeTakeOvers() {
	close(srv.changed)
	srv.changed = make(chan struct{})
}

// takeResumable removes and returns the detached session with id if it
// belongs to username; whoever removes it (resume or expiry) owns it.
// A session of username with id that is still attached is taken over:
// a client often reconnects (a phone changing networks) before the server
// has seen its old connection die, and would otherwise be told
// item-not-found and lose the session. The old connection is closed, as
// if the loss had been seen, and the session taken once it has detached;
// nil if it ends instead, or has not detached within takeOverWait.
func (srv *Server) takeResumable(id, username string) *session {
	var live *session
	deadline := time.NewTimer(takeOverWait)
	defer deadline.Stop()
	for {
		srv.mu.Lock()
		s, changed := srv.resumable[id], srv.changed
		_, running := srv.sessions[live]
		if s != nil && s.username == username {
			delete(srv.resumable, id)
			srv.mu.Unlock()
			return s
		}
		srv.mu.Unlock()
		if live == nil {
			if live = srv.attached(id, username); live == nil {
				return nil
			}
			srv.log.Info("resumption takes over a connection not yet seen lost", "jid", live.full.String())
			live.closeFraming()
			continue
		}
		if !running {
			return nil
		}
		select {
		case <-changed:
		case <-deadline.C:
			return nil
		case <-srv.stop:
			return nil
		}
	}
}

// takeOverWait bounds how long a resumption waits for the session it
// takes over to detach, which closing its connection makes immediate.
const takeOverWait = 5 * time.Second

// attached returns username's bound, resumable session with id that has
// a connection, or nil.
func (srv *Server) attached(id, username string) *session {
	bare, err := jid.New(username, srv.domain.String(), "")
	if err != nil || id == "" {
		return nil
	}
	rs := srv.router.Resources(bare)
	srv.mu.Lock() // guards smID; not held into the router
	defer srv.mu.Unlock()
	for _, r := range rs {
		if s, ok := r.Session.(*session); ok && s.smID == id && s.username == username && !s.detached.Load() && !s.terminating.Load() {
			return s
		}
	}
	return nil
}

// expireResumable ends detached sessions older than the resume timeout,
// or all of them (at shutdown).
func (srv *Server) expireResumable(now time.Time, all bool) {
	srv.mu.Lock()
	var gone []*session
	for id, s := range srv.resumable {
		if all || now.Sub(s.detachedAt) > srv.cfg.ResumeTimeout {
			delete(srv.resumable, id)
			gone = append(gone, s)
		}
	}
	srv.mu.Unlock()
	for _, s := range gone {
		s.expire()
	}
}

// requeueUnacked hands the stanzas a client never acknowledged to the
// server (offline storage for messages) when its session ends for good.
func (s *session) requeueUnacked(ctx context.Context) {
	u := s.out.takeUnacked()
	if len(u) > 0 && s.srv.cfg.OnUnacked != nil {
		s.srv.cfg.OnUnacked(ctx, s.full, u)
	}
}
