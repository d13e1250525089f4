package carbons

import (
	"strconv"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

type env struct {
	r *router.Router
	m *Module
	s map[string]*imtest.Session
}

// newEnv binds alice/desk (priority 5), alice/phone (1), alice/tablet (0)
// and bob/laptop; desk and phone enable carbons.
func newEnv(t *testing.T) *env {
	t.Helper()
	r := router.New(jid.MustParse("example.com"), imtest.Accounts{"alice": true, "bob": true}, nil)
	e := &env{r: r, m: New(Options{}), s: map[string]*imtest.Session{}}
	e.m.Register(r)
	for _, b := range []struct {
		full string
		prio int8
	}{{"alice@example.com/desk", 5}, {"alice@example.com/phone", 1}, {"alice@example.com/tablet", 0}, {"bob@example.com/laptop", 0}} {
		e.bind(t, b.full, b.prio)
	}
	for _, full := range []string{"alice@example.com/desk", "alice@example.com/phone"} {
		if a := e.route(t, full, `<iq type='set' id='c'><enable xmlns='urn:xmpp:carbons:2'/></iq>`); a.Get("type") != "result" {
			t.Fatalf("enable: %s", a)
		}
	}
	return e
}

func (e *env) bind(t *testing.T, full string, prio int8) {
	e.s[full] = imtest.Available(t, e.r, full, prio, []byte("<presence/>"))
}

// route sends raw from a session and returns the last stanza that session
// got back (an IQ answer), if any.
func (e *env) route(t *testing.T, from, raw string) *xmlstream.Element {
	t.Helper()
	st := imtest.Parse(t, raw)
	st.SetFrom(jid.MustParse(from))
	e.r.Route(t.Context(), st)
	got := e.s[from].Take()
	if len(got) == 0 {
		return nil
	}
	return got[len(got)-1].El
}

// summary describes what each session got: "msg", "sent", "received".
func (e *env) summary() map[string][]string {
	out := map[string][]string{}
	for full, s := range e.s {
		for _, st := range s.Take() {
			el := st.El
			kind := el.Name
			for _, dir := range []string{"sent", "received"} {
				if el.Child(dir, NS) != nil {
					kind = dir
				}
			}
			if kind == "message" {
				kind = "msg"
			}
			out[full] = append(out[full], kind)
		}
	}
	return out
}

func TestEligible(t *testing.T) {
	tests := []struct {
		xml  string
		want bool
	}{
		{`<message to='a@b' type='chat'><body>hi</body></message>`, true},
		{`<message to='a@b' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`, true},
		{`<message to='a@b'><body>normal with body</body></message>`, true},
		{`<message to='a@b' type='normal'/>`, false},
		{`<message to='a@b'><received xmlns='urn:xmpp:receipts' id='1'/></message>`, true},
		{`<message to='a@b'><displayed xmlns='urn:xmpp:chat-markers:0' id='1'/></message>`, true},
		{`<message to='a@b'><reactions xmlns='urn:xmpp:reactions:0' id='1'/></message>`, true},
		{`<message to='a@b'><retract xmlns='urn:xmpp:message-retract:1' id='1'/></message>`, true},
		{`<message to='a@b' type='chat'><body>hi</body><private xmlns='urn:xmpp:carbons:2'/></message>`, false},
		{`<message to='a@b' type='chat'><body>hi</body><no-copy xmlns='urn:xmpp:hints'/></message>`, false},
		{`<message to='a@b' type='chat'><received xmlns='urn:xmpp:carbons:2'/></message>`, false},
		{`<message to='a@b' type='groupchat'><body>hi</body></message>`, false},
		{`<message to='a@b' type='headline'><body>hi</body></message>`, false},
		{`<message to='a@b' type='error'><body>hi</body></message>`, false},
		{`<message to='a@b'><body>invite</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>`, false},
		{`<message type='chat'><body>no to</body></message>`, false},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if got := eligible(imtest.Parse(t, tc.xml)); got != tc.want {
				t.Errorf("eligible(%s) = %v, want %v", tc.xml, got, tc.want)
			}
		})
	}
}

// TestCopies: who gets what, case by case (XEP-0280 §6-7).
func TestCopies(t *testing.T) {
	const (
		desk, phone, tablet, bob = "alice@example.com/desk", "alice@example.com/phone", "alice@example.com/tablet", "bob@example.com/laptop"
	)
	tests := []struct {
		from, xml string
		want      map[string][]string
	}{
		// To the bare JID: desk (highest priority) gets it, phone a copy,
		// tablet (not enabled) nothing.
		{bob, `<message to='alice@example.com' type='chat'><body>1</body></message>`,
			map[string][]string{desk: {"msg"}, phone: {"received"}}},
		// To a full JID: the others enabled get copies.
		{bob, `<message to='alice@example.com/tablet' type='chat'><body>2</body></message>`,
			map[string][]string{tablet: {"msg"}, desk: {"received"}, phone: {"received"}}},
		{bob, `<message to='alice@example.com/phone' type='chat'><body>3</body></message>`,
			map[string][]string{phone: {"msg"}, desk: {"received"}}},
		// Sent: the sender's other enabled sessions.
		{desk, `<message to='bob@example.com' type='chat'><body>4</body></message>`,
			map[string][]string{bob: {"msg"}, phone: {"sent"}}},
		{tablet, `<message to='bob@example.com' type='chat'><body>5</body></message>`,
			map[string][]string{bob: {"msg"}, desk: {"sent"}, phone: {"sent"}}},
		// Private and no-copy: nobody else.
		{desk, `<message to='bob@example.com' type='chat'><body>6</body><private xmlns='urn:xmpp:carbons:2'/></message>`,
			map[string][]string{bob: {"msg"}}},
		{bob, `<message to='alice@example.com/tablet' type='chat'><body>7</body><no-copy xmlns='urn:xmpp:hints'/></message>`,
			map[string][]string{tablet: {"msg"}}},
		// Headlines are not copied (and go to every non-negative resource).
		{bob, `<message to='alice@example.com' type='headline'><body>8</body></message>`,
			map[string][]string{desk: {"msg"}, phone: {"msg"}, tablet: {"msg"}}},
		// Between one's own sessions: the target has it, the others one
		// <sent/> copy.
		{desk, `<message to='alice@example.com/tablet' type='chat'><body>9</body></message>`,
			map[string][]string{tablet: {"msg"}, phone: {"sent"}}},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			e := newEnv(t)
			e.route(t, tc.from, tc.xml)
			got := e.summary()
			if tc.from != bob {
				delete(got, tc.from) // the sender gets nothing back anyway
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for full, w := range tc.want {
				if g := got[full]; len(g) != len(w) || (len(w) > 0 && g[0] != w[0]) || (len(w) > 1 && g[1] != w[1]) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// TestCopyFormat: the copy's wrapper and the untouched original inside.
func TestCopyFormat(t *testing.T) {
	e := newEnv(t)
	e.route(t, "bob@example.com/laptop", `<message to='alice@example.com' type='chat' id='r1'><body>hi &amp; bye</body><request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/></message>`)
	got := e.s["alice@example.com/phone"].Take()
	if len(got) != 1 {
		t.Fatalf("phone got %d", len(got))
	}
	c := got[0].El
	if c.Get("from") != "alice@example.com" || c.Get("to") != "alice@example.com/phone" || c.Get("type") != "chat" {
		t.Fatalf("carbon wrapper %s", c)
	}
	fwd := c.Child("received", NS).Child("forwarded", NSForward)
	inner := fwd.Child("message", stanza.NSClient)
	if inner == nil || inner.Get("id") != "r1" || inner.Get("from") != "bob@example.com/laptop" ||
		inner.ChildText("body", "") != "hi & bye" || inner.Child("request", "urn:xmpp:receipts") == nil ||
		inner.Child("markable", "urn:xmpp:chat-markers:0") == nil {
		t.Fatalf("forwarded message %s", c)
	}
	sid := inner.Child("stanza-id", router.NSStanzaID)
	if sid == nil || sid.Get("by") != "alice@example.com" {
		t.Fatalf("the received copy lacks the stanza-id: %s", c)
	}
	e.route(t, "alice@example.com/desk", `<message to='bob@example.com' type='chat' id='s1'><body>out</body></message>`)
	got = e.s["alice@example.com/phone"].Take()
	if len(got) != 1 || got[0].El.Child("sent", NS) == nil ||
		got[0].El.Child("sent", NS).Child("forwarded", NSForward).Child("message", stanza.NSClient).Get("to") != "bob@example.com" {
		t.Fatalf("sent copy %v", got)
	}
}

// TestEnableDisable: per session, and forgotten with the session.
func TestEnableDisable(t *testing.T) {
	e := newEnv(t)
	phone := "alice@example.com/phone"
	if !e.m.Enabled(jid.MustParse(phone)) {
		t.Fatal("phone not enabled")
	}
	if a := e.route(t, phone, `<iq type='set' id='d'><disable xmlns='urn:xmpp:carbons:2'/></iq>`); a.Get("type") != "result" {
		t.Fatalf("disable: %s", a)
	}
	e.route(t, "bob@example.com/laptop", `<message to='alice@example.com' type='chat'><body>x</body></message>`)
	if got := e.s[phone].Take(); len(got) != 0 {
		t.Fatalf("disabled phone got %v", got)
	}

	// A new session under the same resource starts disabled.
	desk := "alice@example.com/desk"
	e.bind(t, desk, 5)
	if e.m.Enabled(jid.MustParse(desk)) {
		t.Fatal("a new session inherited carbons")
	}
	e.route(t, "bob@example.com/laptop", `<message to='alice@example.com/tablet' type='chat'><body>y</body></message>`)
	if got := e.s[desk].Take(); len(got) != 0 {
		t.Fatalf("new desk session got %v", got)
	}
	e.m.mu.Lock()
	n := len(e.m.enabled)
	e.m.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d users still tracked after their sessions left or disabled", n)
	}

	for i, tc := range []struct{ iq, want string }{
		{`<iq type='get' id='x'><enable xmlns='urn:xmpp:carbons:2'/></iq>`, "bad-request"},
		{`<iq type='set' id='x'><enabled xmlns='urn:xmpp:carbons:2'/></iq>`, "bad-request"},
		{`<iq type='set' id='x' to='bob@example.com'><enable xmlns='urn:xmpp:carbons:2'/></iq>`, "forbidden"},
	} {
		a := e.route(t, phone, tc.iq)
		if a == nil || a.Get("type") != "error" || a.Child("error", "").Child(tc.want, stanza.NSStanzas) == nil {
			t.Errorf("%d: %s answered %s, want %s", i, tc.iq, a, tc.want)
		}
	}
}

// TestSessionEndForgets: a session that enabled carbons and ended (or was
// replaced on its resource) leaves the module's state at once
// (router.SessionEnded), and a new session on the resource gets no copies
// until it enables them itself.
func TestSessionEndForgets(t *testing.T) {
	e := newEnv(t)
	e.r.Unbind(t.Context(), e.s["alice@example.com/desk"])
	e.bind(t, "alice@example.com/phone", 1) // replaces the enabled phone session
	e.m.mu.Lock()
	n := len(e.m.enabled[jid.MustParse("alice@example.com")])
	e.m.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d ended sessions still enabled", n)
	}
	if e.m.Enabled(jid.MustParse("alice@example.com/phone")) {
		t.Fatal("the new phone session inherited carbons")
	}
}
