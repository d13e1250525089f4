// Package imtest holds the in-memory parts that the tests of the
// internal/im feature packages share, so that protocol logic is tested
// through a real router without sockets: a bound session that records
// what it is sent, recorders for the router's remote domains and
// inbound presence, a fixed set of accounts, in-memory stores (rosters,
// accounts, one document per key) and a stanza parser that fails the
// test.
//
// It is imported by tests only. Put here only what two or more packages
// use; a fake of one package's store stays in that package's tests.
package imtest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

var (
	_ router.Session         = (*Session)(nil)
	_ router.Remote          = (*Remote)(nil)
	_ router.PresenceHandler = (*Presence)(nil)
	_ router.Accounts        = Accounts(nil)
)

// Parse parses raw as one stanza in jabber:client, failing the test if it
// is not one.
func Parse(t testing.TB, raw string) *stanza.Stanza {
	t.Helper()
	st, err := parse([]byte(raw))
	if err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}
	return st
}

func parse(b []byte) (*stanza.Stanza, error) {
	el, err := xmlstream.ParseIn(b, xmlstream.Limits{}, xmlstream.NewScope(stanza.NSClient))
	if err != nil {
		return nil, err
	}
	return stanza.Parse(el)
}

// recorder keeps stanzas until they are taken.
type recorder struct {
	mu  sync.Mutex // guards got
	got Stanzas
}

func (r *recorder) add(st *stanza.Stanza) {
	r.mu.Lock()
	r.got = append(r.got, st)
	r.mu.Unlock()
}

// Stanzas are recorded stanzas. They print as their XML, so that a
// failing test shows what was sent.
type Stanzas []*stanza.Stanza

func (ss Stanzas) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, st := range ss {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(st.El.String())
	}
	b.WriteByte(']')
	return b.String()
}

// Take returns what was recorded since the last Take, in order, and
// forgets it.
func (r *recorder) Take() Stanzas {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

// addBytes records a serialised stanza, parsed from a copy of b so that
// later changes to the sender's buffer do not show; what does not parse
// fails the test.
func (r *recorder) addBytes(t testing.TB, who string, b []byte) {
	st, err := parse(slices.Clone(b))
	if err != nil {
		t.Errorf("%s got a bad stanza %q: %v", who, b, err)
		return
	}
	r.add(st)
}

// Errors Send returns.
var (
	errEnded   = errors.New("imtest: session terminated")
	errRefused = errors.New("imtest: session refuses stanzas")
)

// Session is a router.Session that records, parsed, what it is sent.
// Like a real session, it takes nothing more once terminated: a stanza
// sent after Terminate is refused, not recorded. It is the one fake
// session of the tests that use a router.
type Session struct {
	recorder
	t   testing.TB
	jid jid.JID
	// OnSend, if set while nothing is sent to the session, runs after
	// each stanza the session took, outside its locks (a test that holds
	// delivery up).
	OnSend func()

	mu      sync.Mutex // guards ended, refuse, discard and sent
	ended   string
	refuse  bool
	discard bool
	sent    int
}

// NewSession returns an unbound session for a full JID; bind it with
// router.Bind (Bind and Available do both).
func NewSession(t testing.TB, full string) *Session {
	return &Session{t: t, jid: jid.MustParse(full)}
}

// JID implements router.Session.
func (s *Session) JID() jid.JID { return s.jid }

// Send implements router.Session.
func (s *Session) Send(b []byte) error {
	s.mu.Lock()
	switch {
	case s.ended != "":
		s.mu.Unlock()
		return errEnded
	case s.refuse:
		s.mu.Unlock()
		return errRefused
	}
	s.sent++
	discard := s.discard
	s.mu.Unlock()
	if !discard {
		s.addBytes(s.t, s.jid.String(), b)
	}
	if s.OnSend != nil {
		s.OnSend()
	}
	return nil
}

// Terminate implements router.Session, remembering the first condition.
func (s *Session) Terminate(e *stanza.StreamError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended == "" {
		s.ended = e.Condition()
	}
}

// Ended returns the condition of the stream error the session was
// terminated with, or "" while it was not.
func (s *Session) Ended() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ended
}

// Refuse makes Send fail from now on (true) or not (false), as for a
// session too far behind or going away.
func (s *Session) Refuse(refuse bool) {
	s.mu.Lock()
	s.refuse = refuse
	s.mu.Unlock()
}

// Discard stops (true) or resumes (false) recording: stanzas are only
// counted, for benchmarks.
func (s *Session) Discard(discard bool) {
	s.mu.Lock()
	s.discard = discard
	s.mu.Unlock()
}

// Sent counts the stanzas Send took, recorded or discarded, and resets
// the count.
func (s *Session) Sent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.sent
	s.sent = 0
	return n
}

// Remote is a router.Remote that records the stanzas for other domains.
type Remote struct {
	recorder
	t testing.TB
}

// NewRemote returns a Remote with nothing recorded.
func NewRemote(t testing.TB) *Remote { return &Remote{t: t} }

// Send implements router.Remote.
func (r *Remote) Send(_ context.Context, st *stanza.Stanza) error {
	r.addBytes(r.t, "remote", st.Bytes())
	return nil
}

// Presence is a router.PresenceHandler that records inbound presence and
// ignores the rest.
type Presence struct{ recorder }

// Inbound implements router.PresenceHandler.
func (p *Presence) Inbound(_ context.Context, st *stanza.Stanza) { p.add(st) }

// Outbound implements router.PresenceHandler.
func (p *Presence) Outbound(context.Context, *stanza.Stanza) {}

// Accounts is a router.Accounts holding the usernames mapped to true.
type Accounts map[string]bool

// Exists implements router.Accounts.
func (a Accounts) Exists(_ context.Context, user string) (bool, error) { return a[user], nil }

// Summary renders stanzas compactly for comparisons, one
// "kind [type] from->to" each.
func Summary(sts []*stanza.Stanza) []string {
	var out []string
	for _, st := range sts {
		s := st.Kind.String()
		if st.Type != "" {
			s += " " + st.Type
		}
		s += " " + st.From.String() + "->" + st.To.String()
		out = append(out, s)
	}
	return out
}

// Bind returns a new session for full, bound on r.
func Bind(t testing.TB, r *router.Router, full string) *Session {
	s := NewSession(t, full)
	r.Bind(s)
	return s
}

// Available returns a new session for full, bound on r and available at
// priority prio, with presence (nil for none) as its last broadcast.
func Available(t testing.TB, r *router.Router, full string, prio int8, presence []byte) *Session {
	s := Bind(t, r, full)
	r.SetAvailability(s.JID(), true, prio, presence)
	return s
}
