package blocking

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
)

func TestMatches(t *testing.T) {
	l := List{
		"romeo@montague.lit":            {},
		"tybalt@capulet.lit/sword":      {},
		"evil.org":                      {},
		"bot.example/resource":          {},
		"nurse@capulet.lit/kitchen/x@y": {},
	}
	tests := []struct {
		j    string
		want bool
	}{
		0:  {"romeo@montague.lit", true},
		1:  {"romeo@montague.lit/orchard", true}, // bare item: any resource
		2:  {"tybalt@capulet.lit/sword", true},   // full item: that resource
		3:  {"tybalt@capulet.lit/dagger", false}, // ...and no other
		4:  {"tybalt@capulet.lit", false},        // ...nor the bare JID
		5:  {"evil.org", true},                   // domain item: the domain
		6:  {"anyone@evil.org/x", true},          // ...every user on it
		7:  {"evil.org/component", true},         // ...its resources
		8:  {"room@muc.evil.org/nick", true},     // ...and its subdomains
		9:  {"notevil.org", false},               // not a suffix match on characters
		10: {"bot.example/resource", true},       // domain/resource item
		11: {"bot.example/other", false},         // only that resource
		12: {"user@bot.example/resource", false}, // and not users of the domain
		13: {"juliet@capulet.lit", false},
		14: {"nurse@capulet.lit/kitchen/x@y", true},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if got := l.Matches(jid.MustParse(tc.j)); got != tc.want {
				t.Errorf("Matches(%s) = %v, want %v", tc.j, got, tc.want)
			}
		})
	}
	if (List{}).Matches(jid.MustParse("a@b")) || l.Matches(jid.JID{}) {
		t.Error("an empty list or an empty address matched")
	}
}

type world struct {
	r       *router.Router
	st      *memStore
	m       *Module
	pres    *imtest.Presence
	balcony *imtest.Session // juliet, asked for the block list
	chamber *imtest.Session // juliet, did not
	orchard *imtest.Session // romeo
	nurse   *imtest.Session // nurse, not on juliet's roster
	ctx     context.Context
	t       *testing.T
}

func newWorld(t *testing.T) *world { return newWorldWith(t, func(*Options) {}) }

// newWorldWith is newWorld with options changed by configure.
func newWorldWith(t *testing.T, configure func(*Options)) *world {
	w := &world{st: newMemStore(), pres: &imtest.Presence{}, ctx: context.Background(), t: t}
	w.r = router.New(jid.MustParse("capulet.lit"), nil, nil)
	w.r.SetPresence(w.pres)
	o := Options{Store: w.st, Rosters: w.st}
	configure(&o)
	w.m = New(o)
	w.m.Register(w.r)
	w.st.roster["juliet"] = []store.RosterItem{
		{JID: "romeo@capulet.lit", Subscription: store.SubBoth},
		{JID: "tybalt@capulet.lit", Subscription: store.SubTo}, // may not see juliet's presence
	}
	w.balcony = bind(t, w.r, "juliet@capulet.lit/balcony", true)
	w.chamber = bind(t, w.r, "juliet@capulet.lit/chamber", false)
	w.orchard = bind(t, w.r, "romeo@capulet.lit/orchard", true)
	w.nurse = bind(t, w.r, "nurse@capulet.lit/kitchen", true)
	// Bound so that presence to tybalt would reach the handler.
	bind(t, w.r, "tybalt@capulet.lit/sword", false)
	w.route(`<iq type='get' id='bl' from='juliet@capulet.lit/balcony'><blocklist xmlns='urn:xmpp:blocking'/></iq>`)
	res := w.balcony.Take()
	if len(res) != 1 || res[0].Type != "result" || res[0].Payload().Name != "blocklist" || len(res[0].Payload().Children) != 0 {
		t.Fatalf("blocklist get: %v", res)
	}
	return w
}

func (w *world) route(s string) {
	w.t.Helper()
	w.r.Route(w.ctx, imtest.Parse(w.t, s))
}

// TestBlockFlow walks XEP-0191 §3.2-§3.5 through the router.
func TestBlockFlow(t *testing.T) {
	w := newWorld(t)

	// Block romeo (§3.3): result to the requester, a push to the
	// interested session only, unavailable presence to romeo.
	w.route(`<iq type='set' id='b1' from='juliet@capulet.lit/chamber'><block xmlns='urn:xmpp:blocking'><item jid='Romeo@capulet.lit'/><item jid='tybalt@capulet.lit'/></block></iq>`)
	if got := w.chamber.Take(); len(got) != 1 || got[0].Type != "result" || got[0].ID != "b1" {
		t.Fatalf("chamber got %v, want only the result", got)
	}
	push := w.balcony.Take()
	if len(push) != 1 || push[0].Type != "set" || push[0].Payload().Name != "block" {
		t.Fatalf("balcony got %v, want one block push", push)
	}
	if got := jids(push[0].Payload()); !slices.Equal(got, []string{"romeo@capulet.lit", "tybalt@capulet.lit"}) {
		t.Errorf("push items %q (must be normalised)", got)
	}
	pres := w.pres.Take()
	if len(pres) != 1 || pres[0].Type != "unavailable" || pres[0].From.String() != "juliet@capulet.lit/balcony" ||
		pres[0].To.String() != "romeo@capulet.lit" {
		t.Fatalf("presence on block: %v; want unavailable from the one available resource to romeo only", pres)
	}

	// Inbound from romeo: message and iq bounce service-unavailable,
	// presence vanishes.
	w.route(`<message type='chat' id='m1' from='romeo@capulet.lit/orchard' to='juliet@capulet.lit'><body>hi</body></message>`)
	w.route(`<iq type='get' id='i1' from='romeo@capulet.lit/orchard' to='juliet@capulet.lit/balcony'><ping xmlns='urn:xmpp:ping'/></iq>`)
	w.route(`<presence type='subscribe' from='romeo@capulet.lit/orchard' to='juliet@capulet.lit'/>`)
	got := w.orchard.Take()
	if len(got) != 2 {
		t.Fatalf("romeo got %d stanzas, want 2 errors: %v", len(got), got)
	}
	for i, st := range got {
		if c, _ := errCondition(st); st.Type != "error" || c != "service-unavailable" {
			t.Errorf("romeo's %d: type %s condition %s", i, st.Type, c)
		}
	}
	if got := w.balcony.Take(); len(got) != 0 {
		t.Errorf("juliet received %v from a blocked contact", got)
	}
	if got := w.pres.Take(); len(got) != 0 {
		t.Errorf("presence from a blocked contact reached the handler: %v", got)
	}

	// Outbound to romeo: not-acceptable + <blocked/>; presence vanishes.
	w.route(`<message type='chat' id='m2' from='juliet@capulet.lit/chamber' to='romeo@capulet.lit/orchard'><body>hi</body></message>`)
	w.route(`<presence from='juliet@capulet.lit/chamber' to='romeo@capulet.lit'/>`)
	got = w.chamber.Take()
	if len(got) != 1 {
		t.Fatalf("chamber got %v, want one error", got)
	}
	if c, app := errCondition(got[0]); c != "not-acceptable" || app != "blocked "+NSErrors {
		t.Errorf("outbound error %s / %s", c, app)
	}
	if got := w.orchard.Take(); len(got) != 0 {
		t.Errorf("romeo received %v from a user who blocked him", got)
	}

	// The nurse is not blocked.
	w.route(`<message type='chat' id='m3' from='nurse@capulet.lit/kitchen' to='juliet@capulet.lit/balcony'><body>hi</body></message>`)
	if got := w.balcony.Take(); len(got) != 1 || got[0].Kind != stanza.Message {
		t.Errorf("balcony got %v, want the nurse's message", got)
	}

	// The list as stored and as answered.
	w.route(`<iq type='get' id='bl2' from='juliet@capulet.lit/balcony'><blocklist xmlns='urn:xmpp:blocking'/></iq>`)
	got = w.balcony.Take()
	if len(got) != 1 || !slices.Equal(jids(got[0].Payload()), []string{"romeo@capulet.lit", "tybalt@capulet.lit"}) {
		t.Fatalf("blocklist: %v", got)
	}

	// Unblock romeo (§3.4): push, and his view of juliet's presence back.
	w.route(`<iq type='set' id='u1' from='juliet@capulet.lit/chamber'><unblock xmlns='urn:xmpp:blocking'><item jid='romeo@capulet.lit'/></unblock></iq>`)
	w.chamber.Take()
	push = w.balcony.Take()
	if len(push) != 1 || push[0].Payload().Name != "unblock" || !slices.Equal(jids(push[0].Payload()), []string{"romeo@capulet.lit"}) {
		t.Fatalf("unblock push: %v", push)
	}
	pres = w.pres.Take()
	if len(pres) != 1 || pres[0].Type != "" || pres[0].To.String() != "romeo@capulet.lit" ||
		pres[0].El.ChildText("show", "") != "chat" {
		t.Fatalf("presence on unblock: %v; want juliet's current presence", pres)
	}
	w.route(`<message type='chat' id='m4' from='romeo@capulet.lit/orchard' to='juliet@capulet.lit/balcony'><body>back</body></message>`)
	if got := w.balcony.Take(); len(got) != 1 {
		t.Errorf("after unblock juliet got %v", got)
	}

	// Unblock all (§3.5): an empty push; tybalt (subscription 'to') gets
	// no presence.
	w.route(`<iq type='set' id='u2' from='juliet@capulet.lit/chamber'><unblock xmlns='urn:xmpp:blocking'/></iq>`)
	push = w.balcony.Take()
	if len(push) != 1 || push[0].Payload().Name != "unblock" || len(push[0].Payload().Children) != 0 {
		t.Fatalf("unblock-all push: %v", push)
	}
	if got := w.pres.Take(); len(got) != 0 {
		t.Errorf("presence to a contact not subscribed: %v", got)
	}
	if l := w.st.lists["juliet"]; len(l) != 0 {
		t.Errorf("store still holds %q", l)
	}
}

func TestHandleErrors(t *testing.T) {
	tests := []struct {
		iq  string
		err *stanza.Error
	}{
		0: {`<iq type='set' id='1' from='juliet@capulet.lit/b'><block xmlns='urn:xmpp:blocking'/></iq>`, stanza.ErrBadRequest},
		1: {`<iq type='set' id='1' from='juliet@capulet.lit/b'><block xmlns='urn:xmpp:blocking'><item jid='@bad'/></block></iq>`, stanza.ErrJIDMalformed},
		2: {`<iq type='set' id='1' from='juliet@capulet.lit/b'><block xmlns='urn:xmpp:blocking'><item/></block></iq>`, stanza.ErrJIDMalformed},
		3: {`<iq type='set' id='1' from='juliet@capulet.lit/b'><unblock xmlns='urn:xmpp:blocking'><item jid='a@b/'/></unblock></iq>`, stanza.ErrJIDMalformed},
		4: {`<iq type='get' id='1' to='romeo@capulet.lit' from='juliet@capulet.lit/b'><blocklist xmlns='urn:xmpp:blocking'/></iq>`, stanza.ErrForbidden},
		5: {`<iq type='get' id='1' to='juliet@capulet.lit' from='juliet@montague.lit/b'><blocklist xmlns='urn:xmpp:blocking'/></iq>`, stanza.ErrForbidden},
		6: {`<iq type='set' id='1' from='juliet@capulet.lit/b'><blocklist xmlns='urn:xmpp:blocking'/></iq>`, stanza.ErrBadRequest},
		7: {`<iq type='get' id='1' from='juliet@capulet.lit/b'><block xmlns='urn:xmpp:blocking'/></iq>`, stanza.ErrBadRequest},
		8: { // over MaxItems (3): two stored plus two new
			`<iq type='set' id='1' from='juliet@capulet.lit/b'><block xmlns='urn:xmpp:blocking'><item jid='c@d'/><item jid='e@f'/></block></iq>`,
			stanza.ErrPolicyViolation},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			st := newMemStore()
			st.lists["juliet"] = []string{"a@b", "x@y"}
			m := New(Options{Store: st, MaxItems: 3})
			m.Register(router.New(jid.MustParse("capulet.lit"), nil, nil))
			_, err := m.Handle(context.Background(), imtest.Parse(t, tc.iq))
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if l := st.lists["juliet"]; !slices.Equal(l, []string{"a@b", "x@y"}) {
				t.Errorf("a refused command changed the list: %q", l)
			}
		})
	}
}

// TestBlockWithinLimit: re-blocking what is already listed does not count
// against MaxItems.
func TestBlockWithinLimit(t *testing.T) {
	st := newMemStore()
	st.lists["juliet"] = []string{"a@b", "x@y"}
	m := New(Options{Store: st, MaxItems: 3})
	m.Register(router.New(jid.MustParse("capulet.lit"), nil, nil))
	_, err := m.Handle(context.Background(), imtest.Parse(t,
		`<iq type='set' id='1' from='juliet@capulet.lit/b'><block xmlns='urn:xmpp:blocking'><item jid='a@b'/><item jid='c@d'/></block></iq>`))
	if !errors.Is(err, router.ErrNoReply) {
		t.Fatalf("err = %v, want the module's own reply", err)
	}
	if l := st.lists["juliet"]; !slices.Equal(l, []string{"a@b", "x@y", "c@d"}) {
		t.Errorf("list %q", l)
	}
}

// TestCache checks that the list is loaded once, that a write is seen by
// the next check, and that the cache stays within its bound.
func TestCache(t *testing.T) {
	st := newMemStore()
	st.lists["juliet"] = []string{"romeo@capulet.lit"}
	c := newCache(st, 2)
	ctx := context.Background()
	romeo := jid.MustParse("romeo@capulet.lit/x")
	for range 3 {
		l, err := c.get(ctx, "juliet")
		if err != nil || !l.Matches(romeo) {
			t.Fatalf("get: %v, %v", l, err)
		}
	}
	if st.loads != 1 {
		t.Errorf("%d loads, want 1", st.loads)
	}
	_ = st.Unblock(ctx, "juliet", nil)
	c.invalidate("juliet")
	if l, _ := c.get(ctx, "juliet"); l.Matches(romeo) {
		t.Error("stale list after invalidate")
	}
	for _, u := range []string{"a", "b", "c", "d"} {
		if _, err := c.get(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.lists); n > 2 {
		t.Errorf("cache holds %d lists, bound is 2", n)
	}
}

// TestStalePushTarget: a session that asked for the list and then went
// away gets no push, and neither does a new session on its resource that
// never asked.
func TestStalePushTarget(t *testing.T) {
	w := newWorld(t)
	w.r.Unbind(w.ctx, w.balcony)
	w.m.mu.Lock()
	n := len(w.m.interested["juliet"])
	w.m.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d interested entries kept after the session ended", n)
	}
	again := bind(t, w.r, "juliet@capulet.lit/balcony", false)
	w.route(`<iq type='set' id='b1' from='juliet@capulet.lit/chamber'><block xmlns='urn:xmpp:blocking'><item jid='x@y'/></block></iq>`)
	if got := again.Take(); len(got) != 0 {
		t.Errorf("new session on the resource got %v", got)
	}
	if got := w.balcony.Take(); len(got) != 0 {
		t.Errorf("gone session got %v", got)
	}
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	if n := len(w.m.interested["juliet"]); n != 0 {
		t.Errorf("%d stale interested entries kept", n)
	}
}

// TestForget: after Forget, a new account of the same name starts from
// the store, not from the old cached list.
func TestForget(t *testing.T) {
	st := newMemStore()
	st.lists["juliet"] = []string{"romeo@capulet.lit"}
	m := New(Options{Store: st})
	m.Register(router.New(jid.MustParse("capulet.lit"), nil, nil))
	ctx := context.Background()
	romeo := jid.MustParse("romeo@capulet.lit")
	if ok, _ := m.Blocks(ctx, "juliet", romeo); !ok {
		t.Fatal("romeo not blocked")
	}
	delete(st.lists, "juliet") // the account and its data are gone
	m.Forget("juliet")
	if ok, _ := m.Blocks(ctx, "juliet", romeo); ok {
		t.Error("the old list survived Forget")
	}
}
