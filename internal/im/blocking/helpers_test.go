package blocking

import (
	"context"
	"slices"
	"sync"
	"testing"

	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// memStore is store.Blocklists and Rosters in memory.
type memStore struct {
	mu     sync.Mutex // guards all fields
	lists  map[string][]string
	roster map[string][]store.RosterItem
	loads  int // Blocklist calls, to see the cache at work
}

func newMemStore() *memStore {
	return &memStore{lists: map[string][]string{}, roster: map[string][]store.RosterItem{}}
}

func (s *memStore) Blocklist(_ context.Context, u string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loads++
	return slices.Clone(s.lists[u]), nil
}

func (s *memStore) Block(_ context.Context, u string, js []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range js {
		if !slices.Contains(s.lists[u], j) {
			s.lists[u] = append(s.lists[u], j)
		}
	}
	return nil
}

func (s *memStore) Unblock(_ context.Context, u string, js []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(js) == 0 {
		delete(s.lists, u)
		return nil
	}
	s.lists[u] = slices.DeleteFunc(s.lists[u], func(j string) bool { return slices.Contains(js, j) })
	return nil
}

func (s *memStore) Roster(_ context.Context, u string) ([]store.RosterItem, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.roster[u]), 1, nil
}

// session is a bound client that records what it is sent.
type session struct {
	j  jid.JID
	mu sync.Mutex // guards out
	// out holds every stanza sent to the session, parsed.
	out []*stanza.Stanza
	t   *testing.T
}

func (s *session) JID() jid.JID                  { return s.j }
func (s *session) Terminate(*stanza.StreamError) {}
func (s *session) Send(b []byte) error {
	el, err := xmlstream.ParseIn(append([]byte(nil), b...), xmlstream.Limits{}, xmlstream.NewScope(stanza.NSClient))
	if err != nil {
		s.t.Errorf("%s got unparsable %q: %v", s.j, b, err)
		return nil
	}
	st, err := stanza.Parse(el)
	if err != nil {
		s.t.Errorf("%s got a bad stanza %q: %v", s.j, b, err)
		return nil
	}
	s.mu.Lock()
	s.out = append(s.out, st)
	s.mu.Unlock()
	return nil
}

// take returns and forgets what the session received.
func (s *session) take() []*stanza.Stanza {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.out
	s.out = nil
	return out
}

// presenceLog is a router.PresenceHandler that records inbound presence.
type presenceLog struct {
	mu  sync.Mutex // guards got
	got []*stanza.Stanza
}

func (p *presenceLog) Outbound(context.Context, *stanza.Stanza) {}
func (p *presenceLog) Ended(context.Context, router.Resource)   {}
func (p *presenceLog) Inbound(_ context.Context, st *stanza.Stanza) {
	p.mu.Lock()
	p.got = append(p.got, st)
	p.mu.Unlock()
}

func (p *presenceLog) take() []*stanza.Stanza {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.got
	p.got = nil
	return out
}

func parse(t *testing.T, s string) *stanza.Stanza {
	t.Helper()
	el, err := xmlstream.ParseIn([]byte(s), xmlstream.Limits{}, xmlstream.NewScope(stanza.NSClient))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	st, err := stanza.Parse(el)
	if err != nil {
		t.Fatalf("stanza %s: %v", s, err)
	}
	return st
}

// bind binds a session on r, available with priority 0 if avail.
func bind(t *testing.T, r *router.Router, full string, avail bool) *session {
	s := &session{j: jid.MustParse(full), t: t}
	r.Bind(s)
	if avail {
		r.SetAvailability(s.j, true, 0, []byte(`<presence><show>chat</show></presence>`))
	}
	return s
}

// errCondition returns the defined condition and application condition of
// an error stanza.
func errCondition(st *stanza.Stanza) (cond, app string) {
	e := st.El.Child("error", "")
	if e == nil {
		return "", ""
	}
	for _, c := range e.Children {
		switch c.Space {
		case stanza.NSStanzas:
			if c.Name != "text" {
				cond = c.Name
			}
		default:
			app = c.Name + " " + c.Space
		}
	}
	return cond, app
}

// jids lists the item jids of a blocking payload.
func jids(el *xmlstream.Element) []string {
	var out []string
	for _, c := range el.Children {
		out = append(out, c.Get("jid"))
	}
	return out
}
