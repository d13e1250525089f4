package mam

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/store/sqlite"
	"parley/internal/xmlstream"
)

// session is a bound client that records what the router sends it.
type session struct {
	jid jid.JID

	mu  sync.Mutex // guards got
	got []*xmlstream.Element
}

func (s *session) JID() jid.JID                  { return s.jid }
func (s *session) Terminate(*stanza.StreamError) {}
func (s *session) Send(b []byte) error {
	el, err := xmlstream.ParseIn(b, xmlstream.Limits{}, xmlstream.NewScope(stanza.NSClient))
	if err != nil {
		panic("unparseable bytes sent: " + err.Error() + ": " + string(b))
	}
	s.mu.Lock()
	s.got = append(s.got, el)
	s.mu.Unlock()
	return nil
}

func (s *session) take() []*xmlstream.Element {
	s.mu.Lock()
	defer s.mu.Unlock()
	got := s.got
	s.got = nil
	return got
}

type accounts map[string]bool

// offline accepts every message (the archive sees offline messages too).
type offline struct{}

func (offline) StoreOffline(context.Context, *stanza.Stanza) error { return nil }

func (a accounts) Exists(_ context.Context, u string) (bool, error) { return a[u], nil }

// fakeRoster holds contacts per user for the "roster" default.
type fakeRoster map[string][]string

func (f fakeRoster) Item(_ context.Context, user, contact jid.JID) (store.RosterItem, bool, error) {
	for _, c := range f[user.Local()] {
		if c == contact.String() {
			return store.RosterItem{JID: c}, true, nil
		}
	}
	return store.RosterItem{}, false, nil
}

// env is a router with the archive, a real SQLite store and online
// sessions alice/desk, alice/phone and bob/laptop on example.com.
type env struct {
	r      *router.Router
	st     *sqlite.Store
	m      *Module
	roster fakeRoster
	s      map[string]*session // by full JID
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	users := accounts{"alice": true, "bob": true, "carol": true}
	for u := range users {
		if err := st.CreateUser(t.Context(), store.User{Username: u}); err != nil {
			t.Fatal(err)
		}
	}
	r := router.New(jid.MustParse("example.com"), users, nil)
	r.SetOffline(offline{})
	e := &env{r: r, st: st, roster: fakeRoster{}, s: map[string]*session{}}
	e.m = New(r, st, e.roster, nil)
	e.m.Register(r)
	for _, full := range []string{"alice@example.com/desk", "alice@example.com/phone", "bob@example.com/laptop"} {
		s := &session{jid: jid.MustParse(full)}
		r.Bind(s)
		r.SetAvailability(s.jid, true, 0, []byte("<presence/>"))
		e.s[full] = s
	}
	return e
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

// send routes raw XML as sent by the session of from.
func (e *env) send(t *testing.T, from, raw string) {
	t.Helper()
	st := parse(t, raw)
	st.SetFrom(jid.MustParse(from))
	e.r.Route(t.Context(), st)
}

// iq sends an IQ from a session and returns the result messages and the
// IQ answer it received.
func (e *env) iq(t *testing.T, from, raw string) (results []*xmlstream.Element, answer *xmlstream.Element) {
	t.Helper()
	s := e.s[from]
	s.take()
	e.send(t, from, raw)
	for _, el := range s.take() {
		if el.Name == "iq" {
			answer = el
		} else {
			results = append(results, el)
		}
	}
	if answer == nil {
		t.Fatalf("no IQ answer to %s", raw)
	}
	return results, answer
}

// errCondition is the defined condition of an error stanza, or "".
func errCondition(el *xmlstream.Element) string {
	e := el.Child("error", "")
	if e == nil || el.Get("type") != "error" {
		return ""
	}
	for _, c := range e.Children {
		if c.Space == stanza.NSStanzas && c.Name != "text" {
			return c.Name
		}
	}
	return "?"
}

// archived lists the bodies (or "<name/>" of the first payload for
// messages without one) of a user's archive in order.
func (e *env) archived(t *testing.T, user string) []string {
	t.Helper()
	p, err := e.st.QueryArchive(t.Context(), user, store.ArchiveQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range p.Messages {
		el, err := xmlstream.Parse(m.Stanza, xmlstream.Limits{})
		if err != nil {
			t.Fatalf("archived stanza %s: %v", m.Stanza, err)
		}
		out = append(out, describe(el))
	}
	return out
}

func describe(el *xmlstream.Element) string {
	if b := el.ChildText("body", stanza.NSClient); b != "" {
		return b
	}
	var names []string
	for _, c := range el.Children {
		if c.Space != router.NSStanzaID {
			names = append(names, "<"+c.Name+"/>")
		}
	}
	return strings.Join(names, "")
}

// forwarded returns the archived message inside a result message.
func forwarded(t *testing.T, el *xmlstream.Element) (result, msg *xmlstream.Element) {
	t.Helper()
	result = el.Child("result", NS)
	if result == nil {
		t.Fatalf("not a MAM result: %s", el)
	}
	fwd := result.Child("forwarded", NSForward)
	if fwd == nil || fwd.Child("delay", NSDelay) == nil {
		t.Fatalf("result without forwarded/delay: %s", el)
	}
	msg = fwd.Child("message", stanza.NSClient)
	if msg == nil {
		t.Fatalf("result without a jabber:client message: %s", el)
	}
	return result, msg
}
