package blocking

import (
	"context"
	"slices"
	"sync"
	"testing"

	"parley/internal/im/imtest"
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

// bind binds a session on r, available with priority 0 if avail.
func bind(t *testing.T, r *router.Router, full string, avail bool) *imtest.Session {
	s := imtest.Bind(t, r, full)
	if avail {
		r.SetAvailability(s.JID(), true, 0, []byte(`<presence><show>chat</show></presence>`))
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
