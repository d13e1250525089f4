package webhook

import (
	"bytes"
	"sync"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// session is a hook's presence in the router: a bound resource with no
// client behind it. What reaches it is read to see the room's answers to
// a join and, for a room hook, by observe (which must not block): its
// presence always, the room's messages only for an outgoing hook; the
// rest is dropped unparsed.
type session struct {
	full     jid.JID
	observe  func(*xmlstream.Element) // nil: not a room hook
	messages bool                     // observe wants messages too

	mu      sync.Mutex
	waiters []waiter
	gone    bool
}

type waiter struct {
	match func(*xmlstream.Element) bool
	ch    chan *xmlstream.Element
}

func newSession(full jid.JID, observe func(*xmlstream.Element), messages bool) *session {
	return &session{full: full, observe: observe, messages: messages}
}

// JID implements router.Session.
func (s *session) JID() jid.JID { return s.full }

// Send implements router.Session: it hands the stanza to a waiter that
// matches it.
func (s *session) Send(b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.waiters) == 0 && (s.observe == nil || !s.messages && !bytes.HasPrefix(b, []byte("<presence"))) {
		return nil
	}
	el, err := xmlstream.ParseIn(b, xmlstream.DefaultLimits(), xmlstream.NewScope(stanza.NSClient))
	if err != nil {
		return nil
	}
	for i, w := range s.waiters {
		if w.match(el) {
			w.ch <- el
			s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
			return nil
		}
	}
	if s.observe != nil {
		s.observe(el)
	}
	return nil
}

// Terminate implements router.Session: another session took the
// resource, or the server stops; the next post binds anew.
func (s *session) Terminate(*stanza.StreamError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gone = true
}

func (s *session) ended() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gone
}

// expect returns a channel that gets the first stanza match accepts.
func (s *session) expect(match func(*xmlstream.Element) bool) <-chan *xmlstream.Element {
	ch := make(chan *xmlstream.Element, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiters = append(s.waiters, waiter{match: match, ch: ch})
	return ch
}
