package muc

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/im/presence"
	"parley/internal/im/roster"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store/sqlite"
	"parley/internal/xmlstream"
)

// fakeSession is the tests' recording session (imtest.Session), whose
// deliveries the muc tests read as elements.
type fakeSession struct{ *imtest.Session }

// take returns what was delivered since the last take, in order.
func (s *fakeSession) take() []*xmlstream.Element {
	var els []*xmlstream.Element
	for _, st := range s.Take() {
		els = append(els, st.El)
	}
	return els
}

// harness is a real router with presence and roster modules, a SQLite
// store and the MUC service on conference.example.com.
type harness struct {
	t     testing.TB
	r     *router.Router
	svc   *Module
	st    *sqlite.Store
	opts  Options
	users map[string]*fakeSession
}

const service = "conference.example.com"

func newHarness(t testing.TB, configure ...func(*Options)) *harness {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newHarnessOn(t, st, configure...)
}

func newHarnessOn(t testing.TB, st *sqlite.Store, configure ...func(*Options)) *harness {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := router.New(jid.MustParse("example.com"), nil, log)
	rosters := roster.New(roster.Options{Store: st})
	rosters.Register(r)
	presence.New(presence.Options{Roster: rosters, Log: log}).Register(r)
	opts := Options{Rooms: st, Log: log}
	for _, c := range configure {
		c(&opts)
	}
	opts.JID = jid.MustParse(service)
	svc := New(opts)
	svc.Register(r)
	return &harness{t: t, r: r, svc: svc, st: st, opts: opts, users: map[string]*fakeSession{}}
}

// user binds a session for a full JID (on example.com) and returns it.
func (h *harness) user(full string) *fakeSession {
	if s := h.users[full]; s != nil {
		return s
	}
	s := &fakeSession{imtest.NewSession(h.t, full)}
	h.r.Bind(s)
	h.users[full] = s
	return s
}

// send routes raw XML as the session of full sends it (c2s stamps from).
func (h *harness) send(full, raw string) {
	h.t.Helper()
	st := imtest.Parse(h.t, raw)
	st.SetFrom(h.user(full).JID())
	h.r.Route(context.Background(), st)
}

// sendDirect routes raw XML from full with r.Send, past the presence
// module (which would otherwise remember directed presence).
func (h *harness) sendDirect(full, raw string) {
	h.t.Helper()
	st := imtest.Parse(h.t, raw)
	st.SetFrom(h.user(full).JID())
	h.r.Send(context.Background(), st)
}

// recv sends and returns what the sender got back.
func (h *harness) recv(full, raw string) []*xmlstream.Element {
	h.t.Helper()
	h.user(full).take()
	h.send(full, raw)
	return h.user(full).take()
}

// join enters room as nick and returns what the session got.
func (h *harness) join(full, room, nick string) []*xmlstream.Element {
	h.t.Helper()
	return h.recv(full, "<presence to='"+room+"@"+service+"/"+nick+"'><x xmlns='"+NS+"'/></presence>")
}

// create makes an instant room (§10.1.2) owned by full.
func (h *harness) create(full, room, nick string) {
	h.t.Helper()
	got := h.join(full, room, nick)
	if !hasCodes(last(got, "presence"), codeCreated, codeSelf) {
		h.t.Fatalf("creating %s: no 201/110 self-presence in %s", room, dump(got))
	}
	h.configure(full, room, "")
}

// configure submits a config form with fields ("var=value" pairs) and
// requires a result.
func (h *harness) configure(full, room string, fields ...string) {
	h.t.Helper()
	got := h.recv(full, "<iq type='set' id='cfg' to='"+room+"@"+service+"'><query xmlns='"+NSOwner+"'>"+form(fields...)+"</query></iq>")
	if r := find(got, isIQ("cfg")); r == nil || r.Get("type") != "result" {
		h.t.Fatalf("configure %s %v: %s", room, fields, dump(got))
	}
}

// form builds a muc#roomconfig submission; none is an empty instant-room
// submission.
func form(fields ...string) string {
	if len(fields) == 1 && fields[0] == "" {
		return "<x xmlns='jabber:x:data' type='submit'/>"
	}
	return dataForm("submit", NSRoomConfig, "muc#roomconfig_", fields...)
}

// dataForm is a data form (XEP-0004) of type typ with "var=value"
// fields, each var after prefix, FORM_TYPE first unless formType is "".
func dataForm(typ, formType, prefix string, fields ...string) string {
	var b strings.Builder
	b.WriteString("<x xmlns='jabber:x:data' type='" + typ + "'>")
	if formType != "" {
		b.WriteString("<field var='FORM_TYPE'><value>" + formType + "</value></field>")
	}
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		b.WriteString("<field var='" + prefix + k + "'><value>" + v + "</value></field>")
	}
	b.WriteString("</x>")
	return b.String()
}

func dump(els []*xmlstream.Element) string {
	var b strings.Builder
	for _, el := range els {
		b.WriteString("\n  " + el.String())
	}
	if b.Len() == 0 {
		return "(nothing)"
	}
	return b.String()
}

func find(els []*xmlstream.Element, match func(*xmlstream.Element) bool) *xmlstream.Element {
	for _, el := range els {
		if match(el) {
			return el
		}
	}
	return nil
}

func all(els []*xmlstream.Element, match func(*xmlstream.Element) bool) []*xmlstream.Element {
	var out []*xmlstream.Element
	for _, el := range els {
		if match(el) {
			out = append(out, el)
		}
	}
	return out
}

func last(els []*xmlstream.Element, name string) *xmlstream.Element {
	for i := len(els) - 1; i >= 0; i-- {
		if els[i].Name == name {
			return els[i]
		}
	}
	return nil
}

func isIQ(id string) func(*xmlstream.Element) bool {
	return func(el *xmlstream.Element) bool { return el.Name == "iq" && el.Get("id") == id }
}

func from(name, f string) func(*xmlstream.Element) bool {
	return func(el *xmlstream.Element) bool { return el.Name == name && el.Get("from") == f }
}

func body(b string) func(*xmlstream.Element) bool {
	return func(el *xmlstream.Element) bool { return el.Name == "message" && el.ChildText("body", "") == b }
}

// codes returns the x#user status codes of a stanza.
func codes(el *xmlstream.Element) []string {
	if el == nil {
		return nil
	}
	x := el.Child("x", NSUser)
	if x == nil {
		return nil
	}
	var out []string
	for _, c := range x.Children {
		if c.Name == "status" {
			out = append(out, c.Get("code"))
		}
	}
	return out
}

func hasCodes(el *xmlstream.Element, want ...string) bool {
	got := codes(el)
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return el != nil
}

func item(el *xmlstream.Element) *xmlstream.Element {
	if el == nil {
		return nil
	}
	if x := el.Child("x", NSUser); x != nil {
		return x.Child("item", NSUser)
	}
	return nil
}

// errorOf returns the defined condition of an error stanza, or "".
func errorOf(el *xmlstream.Element) string {
	if el == nil || el.Get("type") != "error" {
		return ""
	}
	e := el.Child("error", "")
	if e == nil {
		return ""
	}
	for _, c := range e.Children {
		if c.Space == stanza.NSStanzas && c.Name != "text" {
			return c.Name
		}
	}
	return ""
}
