// Package rostertest provides in-memory parts for testing the roster,
// presence and offline packages without sockets or a database: a roster
// store, a recording session and a recording remote domain.
package rostertest

import (
	"context"
	"slices"
	"sync"
	"testing"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Rosters is an in-memory store.Rosters with per-user versions.
type Rosters struct {
	mu       sync.Mutex // guards the fields below
	items    map[string]map[string]store.RosterItem
	versions map[string]int64
	// Loads counts Roster calls, to observe the cache.
	Loads int
}

var _ store.Rosters = (*Rosters)(nil)

// NewRosters returns an empty store.
func NewRosters() *Rosters {
	return &Rosters{items: make(map[string]map[string]store.RosterItem), versions: make(map[string]int64)}
}

// Roster implements store.Rosters.
func (r *Rosters) Roster(_ context.Context, user string) ([]store.RosterItem, int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Loads++
	var out []store.RosterItem
	for _, it := range r.items[user] {
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b store.RosterItem) int {
		if a.JID < b.JID {
			return -1
		}
		if a.JID > b.JID {
			return 1
		}
		return 0
	})
	return out, r.versions[user], nil
}

// RosterItem implements store.Rosters.
func (r *Rosters) RosterItem(_ context.Context, user, contact string) (store.RosterItem, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	it, ok := r.items[user][contact]
	if !ok {
		return store.RosterItem{}, store.ErrNotFound
	}
	return it, nil
}

// PutRosterItem implements store.Rosters.
func (r *Rosters) PutRosterItem(_ context.Context, user string, it store.RosterItem) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.items[user] == nil {
		r.items[user] = make(map[string]store.RosterItem)
	}
	it.Groups = slices.Clone(it.Groups)
	r.items[user][it.JID] = it
	r.versions[user]++
	return r.versions[user], nil
}

// DeleteRosterItem implements store.Rosters.
func (r *Rosters) DeleteRosterItem(_ context.Context, user, contact string) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.items[user][contact]; !ok {
		return 0, store.ErrNotFound
	}
	delete(r.items[user], contact)
	r.versions[user]++
	return r.versions[user], nil
}

// Get returns a stored item straight from the store.
func (r *Rosters) Get(user, contact string) (store.RosterItem, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	it, ok := r.items[user][contact]
	return it, ok
}

// Recorder collects stanzas, parsed.
type Recorder struct {
	t   testing.TB
	mu  sync.Mutex // guards got
	got []*stanza.Stanza
}

func (r *Recorder) add(b []byte) {
	el, err := xmlstream.ParseIn(slices.Clone(b), xmlstream.Limits{}, xmlstream.NewScope(stanza.NSClient))
	if err != nil {
		r.t.Errorf("unparsable stanza %q: %v", b, err)
		return
	}
	st, err := stanza.Parse(el)
	if err != nil {
		r.t.Errorf("bad stanza %q: %v", b, err)
		return
	}
	r.mu.Lock()
	r.got = append(r.got, st)
	r.mu.Unlock()
}

// Take returns what was recorded and forgets it.
func (r *Recorder) Take() []*stanza.Stanza {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

// Session is a router.Session that records what it is sent.
type Session struct {
	Recorder
	J jid.JID
}

// NewSession returns a session for a full JID.
func NewSession(t testing.TB, full string) *Session {
	return &Session{Recorder: Recorder{t: t}, J: jid.MustParse(full)}
}

// JID implements router.Session.
func (s *Session) JID() jid.JID { return s.J }

// Send implements router.Session.
func (s *Session) Send(b []byte) error { s.add(b); return nil }

// Terminate implements router.Session.
func (s *Session) Terminate(*stanza.StreamError) {}

// Remote is a router.Remote that records stanzas for other domains.
type Remote struct{ Recorder }

// NewRemote returns an empty recorder.
func NewRemote(t testing.TB) *Remote { return &Remote{Recorder{t: t}} }

// Send implements router.Remote.
func (r *Remote) Send(_ context.Context, st *stanza.Stanza) error {
	r.add(st.Bytes())
	return nil
}

// Accounts is a router.Accounts with a fixed set of usernames.
type Accounts map[string]bool

// Exists implements router.Accounts.
func (a Accounts) Exists(_ context.Context, user string) (bool, error) { return a[user], nil }

// Summary renders stanzas compactly for comparisons:
// "kind type from->to" each, with the first payload's name.
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
