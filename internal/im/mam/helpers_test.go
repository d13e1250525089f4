package mam

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/store/sqlite"
	"parley/internal/xmlstream"
)

// offline accepts every message (the archive sees offline messages too).
type offline struct{}

func (offline) StoreOffline(context.Context, *stanza.Stanza) error { return nil }

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
	s      map[string]*imtest.Session // by full JID
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	users := imtest.Accounts{"alice": true, "bob": true, "carol": true}
	for u := range users {
		if err := st.CreateUser(t.Context(), store.User{Username: u}); err != nil {
			t.Fatal(err)
		}
	}
	r := router.New(jid.MustParse("example.com"), users, nil)
	r.SetOffline(offline{})
	e := &env{r: r, st: st, roster: fakeRoster{}, s: map[string]*imtest.Session{}}
	e.m = New(Options{Store: st, Roster: e.roster})
	e.m.Register(r)
	for _, full := range []string{"alice@example.com/desk", "alice@example.com/phone", "bob@example.com/laptop"} {
		e.s[full] = imtest.Available(t, r, full, 0, []byte("<presence/>"))
	}
	return e
}

// send routes raw XML as sent by the session of from, and waits for the
// writes it owes, as the session does before acknowledging it.
func (e *env) send(t *testing.T, from, raw string) {
	t.Helper()
	st := imtest.Parse(t, raw)
	st.SetFrom(jid.MustParse(from))
	if err := e.r.Await(e.r.Route(t.Context(), st).Writes); err != nil {
		t.Fatal(err)
	}
}

// iq sends an IQ from a session and returns the result messages and the
// IQ answer it received.
func (e *env) iq(t *testing.T, from, raw string) (results []*xmlstream.Element, answer *xmlstream.Element) {
	t.Helper()
	s := e.s[from]
	s.Take()
	e.send(t, from, raw)
	for _, st := range s.Take() {
		if st.Kind == stanza.IQ {
			answer = st.El
		} else {
			results = append(results, st.El)
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
