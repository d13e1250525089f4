package router_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

type accountSet map[string]bool

func (a accountSet) Exists(_ context.Context, u string) (bool, error) { return a[u], nil }

type offlineRecorder struct{ stored []*stanza.Stanza }

func (o *offlineRecorder) StoreOffline(_ context.Context, st *stanza.Stanza) error {
	o.stored = append(o.stored, st)
	return nil
}

func parse(t testing.TB, s string) *stanza.Stanza {
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

// setup binds romeo/orchard and juliet/balcony (prio 1) and juliet/chamber
// (prio 0), all available; nurse has an account and no session.
func setup(t testing.TB) (*router.Router, map[string]*imtest.Session, *offlineRecorder) {
	r := router.New(jid.MustParse("example.com"), accountSet{"romeo": true, "juliet": true, "nurse": true}, nil)
	off := &offlineRecorder{}
	r.SetOffline(off)
	sessions := map[string]*imtest.Session{}
	for full, prio := range map[string]int8{"romeo@example.com/orchard": 0, "juliet@example.com/balcony": 1, "juliet@example.com/chamber": 0} {
		s := imtest.NewSession(t, full)
		r.Bind(s)
		r.SetAvailability(s.JID(), true, prio, nil)
		sessions[full] = s
	}
	return r, sessions, off
}

// TestMessageRouting follows RFC 6121 §8.5.
func TestMessageRouting(t *testing.T) {
	tests := []struct {
		stanza  string
		to      []string // sessions that receive it
		errorTo string   // condition bounced to romeo, if any
		offline bool
	}{
		0: {stanza: `<message from='romeo@example.com/orchard' to='juliet@example.com' type='chat'><body>hi</body></message>`,
			to: []string{"juliet@example.com/balcony"}}, // highest priority only
		1: {stanza: `<message from='romeo@example.com/orchard' to='juliet@example.com/chamber' type='chat'><body>hi</body></message>`,
			to: []string{"juliet@example.com/chamber"}},
		2: {stanza: `<message from='romeo@example.com/orchard' to='juliet@example.com/gone' type='chat'><body>hi</body></message>`,
			to: []string{"juliet@example.com/balcony"}}, // §8.5.3.2.1: as if bare
		3: {stanza: `<message from='romeo@example.com/orchard' to='juliet@example.com' type='headline'><body>news</body></message>`,
			to: []string{"juliet@example.com/balcony", "juliet@example.com/chamber"}},
		4: {stanza: `<message from='romeo@example.com/orchard' to='juliet@example.com/gone' type='headline'><body>x</body></message>`},
		5: {stanza: `<message from='romeo@example.com/orchard' to='juliet@example.com' type='groupchat'><body>x</body></message>`,
			errorTo: "service-unavailable"},
		6: {stanza: `<message from='romeo@example.com/orchard' to='nobody@example.com' type='chat'><body>x</body></message>`,
			errorTo: "service-unavailable"}, // §8.5.1
		7: {stanza: `<message from='romeo@example.com/orchard' to='nurse@example.com' type='chat'><body>x</body></message>`,
			offline: true},
		8: {stanza: `<message from='romeo@example.com/orchard' to='nobody@example.com' type='error'><body>x</body></message>`},
		9: {stanza: `<message from='romeo@example.com/orchard' to='juliet@elsewhere.example' type='chat'><body>x</body></message>`,
			errorTo: "remote-server-not-found"},
		10: {stanza: `<iq from='romeo@example.com/orchard' to='juliet@example.com/gone' type='get' id='1'><query xmlns='jabber:iq:version'/></iq>`,
			errorTo: "service-unavailable"},
		11: {stanza: `<iq from='romeo@example.com/orchard' to='juliet@example.com/chamber' type='get' id='1'><query xmlns='jabber:iq:version'/></iq>`,
			to: []string{"juliet@example.com/chamber"}},
		12: {stanza: `<iq from='romeo@example.com/orchard' to='juliet@example.com' type='get' id='1'><query xmlns='urn:example:unknown'/></iq>`,
			errorTo: "service-unavailable"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			r, sessions, off := setup(t)
			r.Route(context.Background(), parse(t, tc.stanza))
			romeo := sessions["romeo@example.com/orchard"].Take()
			for full, s := range sessions {
				if full == "romeo@example.com/orchard" {
					continue
				}
				got := s.Take()
				want := contains(tc.to, full)
				if want != (len(got) == 1) {
					t.Errorf("%s got %d stanzas, want delivered=%v", full, len(got), want)
				}
			}
			if tc.errorTo != "" {
				if len(romeo) != 1 || romeo[0].El.Get("type") != "error" || romeo[0].El.Child("error", "").Child(tc.errorTo, stanza.NSStanzas) == nil {
					t.Fatalf("want %s bounced to sender, got %v", tc.errorTo, romeo)
				}
			} else if len(romeo) != 0 {
				t.Errorf("sender got %v", romeo)
			}
			if tc.offline != (len(off.stored) == 1) {
				t.Errorf("offline stored %d, want %v", len(off.stored), tc.offline)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestStanzaIDStamped checks XEP-0359: the recipient's server adds its id
// and drops a forged one claiming to be from it.
// TestStanzaIDStamped: the recipient's server stamps its own stanza-id
// and removes any that claims to be by the recipient (XEP-0359 §5), in
// whatever case the address is written (issue 10 item 12); another
// entity's id stays.
func TestStanzaIDStamped(t *testing.T) {
	for i, tc := range []struct {
		by   string
		kept bool
	}{
		0: {by: "juliet@example.com"},
		1: {by: "JULIET@example.com"},
		2: {by: "juliet@EXAMPLE.COM"},
		3: {by: "Juliet@Example.Com"},
		4: {by: "room@conference.example.com", kept: true},
		5: {by: "juliet@example.com/chamber", kept: true}, // a full JID is not the account
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			r, sessions, _ := setup(t)
			r.Route(context.Background(), parse(t, `<message from='romeo@example.com/orchard' to='juliet@example.com/chamber' type='chat'><body>hi</body><stanza-id xmlns='urn:xmpp:sid:0' id='forged' by='`+tc.by+`'/></message>`))
			got := sessions["juliet@example.com/chamber"].Take()
			if len(got) != 1 {
				t.Fatalf("got %d stanzas", len(got))
			}
			var ours []string
			forged := false
			for _, c := range got[0].El.Children {
				if c.Name == "stanza-id" && c.Space == router.NSStanzaID {
					if c.Get("id") == "forged" {
						forged = true
					} else if c.Get("by") == "juliet@example.com" {
						ours = append(ours, c.Get("id"))
					}
				}
			}
			if len(ours) != 1 || ours[0] == "" || forged != tc.kept {
				t.Fatalf("own stanza ids %v, forged one kept: %v, want %v", ours, forged, tc.kept)
			}
			if got[0].El.ChildText("body", "") != "hi" {
				t.Errorf("body lost: %s", got[0].El.Raw)
			}
		})
	}
}

// TestBindReplaces checks RFC 6120 §7.7.2.2: the old session gets <conflict/>.
func TestBindReplaces(t *testing.T) {
	r, sessions, _ := setup(t)
	old := sessions["juliet@example.com/balcony"]
	repl := imtest.NewSession(t, old.JID().String())
	r.Bind(repl)
	if old.Ended() != "conflict" {
		t.Fatalf("old session ended with %q", old.Ended())
	}
	r.Unbind(context.Background(), old) // the old one's late unbind must not remove the new one
	if res, ok := r.Lookup(old.JID()); !ok || res.Session != repl {
		t.Fatal("replacement was unbound by the old session")
	}
}

// BenchmarkRouteMessage routes one chat message between two in-process
// sessions: parse from bytes, stamp from, apply §8 rules, deliver.
func BenchmarkRouteMessage(b *testing.B) {
	r, romeo, juliet := benchRouter(b)
	ctx := context.Background()
	for b.Loop() {
		r.Route(ctx, readMessage(b, romeo))
	}
	if juliet.Sent() == 0 {
		b.Fatal("nothing delivered")
	}
}

// benchMessage is the chat message the routing benchmarks route.
var benchMessage = []byte(`<message to='juliet@example.com/balcony' type='chat' id='ktx72v49'><body>Art thou not Romeo, and a Montague?</body></message>`)

// benchRouter binds romeo and juliet (available), sessions that discard
// what they are sent, and starts the benchmark's measures.
func benchRouter(b *testing.B) (r *router.Router, romeo, juliet *imtest.Session) {
	r = router.New(jid.MustParse("example.com"), accountSet{"romeo": true, "juliet": true}, nil)
	romeo = imtest.NewSession(b, "romeo@example.com/orchard")
	juliet = imtest.NewSession(b, "juliet@example.com/balcony")
	romeo.Discard(true)
	juliet.Discard(true)
	r.Bind(romeo)
	r.Bind(juliet)
	r.SetAvailability(juliet.JID(), true, 0, nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchMessage)))
	return r, romeo, juliet
}

// readMessage reads benchMessage as the session from's stream does:
// parse, then stamp the sender.
func readMessage(b *testing.B, from *imtest.Session) *stanza.Stanza {
	el, err := xmlstream.ParseIn(benchMessage, xmlstream.Limits{}, clientScope)
	if err != nil {
		b.Fatal(err)
	}
	st, err := stanza.Parse(el)
	if err != nil {
		b.Fatal(err)
	}
	st.SetFrom(from.JID())
	return st
}

var clientScope = xmlstream.NewScope(stanza.NSClient)

type observerRecorder struct {
	outgoing []string
	incoming []string // stanza-id, then the number of target sessions
	// write, if set, makes the observer start a write with this outcome
	// for every message; writes holds them.
	write  func() error
	writes []router.Write
}

func (o *observerRecorder) Outgoing(_ context.Context, st *stanza.Stanza) router.Write {
	o.outgoing = append(o.outgoing, st.From.String())
	return o.start()
}

func (o *observerRecorder) Incoming(_ context.Context, st *stanza.Stanza, to []router.Session) router.Write {
	id := st.El.Child("stanza-id", router.NSStanzaID)
	if id == nil {
		o.incoming = append(o.incoming, "no stanza-id")
	} else {
		o.incoming = append(o.incoming, id.Get("by")+" "+strconv.Itoa(len(to)))
	}
	return o.start()
}

func (o *observerRecorder) start() router.Write {
	if o.write == nil {
		return nil
	}
	w := make(chan error, 1)
	w <- o.write()
	o.writes = append(o.writes, w)
	return w
}

// TestWritesOwed (docs/design/06): the writes observers start for a
// session's message are returned to the session, not awaited; the ones
// for a message the server sends are awaited by the router, and a failure
// is reported until a write succeeds again.
func TestWritesOwed(t *testing.T) {
	r, sessions, _ := setup(t)
	fail := errors.New("disk on fire")
	var failures int
	r.OnWriteFailure = func() { failures++ }
	o := &observerRecorder{write: func() error { return nil }}
	r.ObserveMessages(o)
	ctx := context.Background()
	ow := r.Route(ctx, parse(t, `<message from='romeo@example.com/orchard' to='juliet@example.com' type='chat'><body>a</body></message>`))
	if len(ow.Writes) != 2 || ow.Writes[0] != o.writes[0] || ow.Writes[1] != o.writes[1] {
		t.Fatalf("owed %d writes, want the observer's 2 in order", len(ow.Writes))
	}
	if len(sessions["juliet@example.com/balcony"].Take()) != 1 {
		t.Fatal("not delivered")
	}
	if err := r.Await(ow.Writes); err != nil || r.WriteHealth() != nil {
		t.Fatalf("await: %v, health %v", err, r.WriteHealth())
	}
	o.write = func() error { return fail }
	r.Send(ctx, parse(t, `<message from='example.com' to='juliet@example.com' type='chat'><body>b</body></message>`))
	if !errors.Is(r.WriteHealth(), fail) || failures != 1 {
		t.Fatalf("health %v after a failed write, %d failures counted", r.WriteHealth(), failures)
	}
	if len(sessions["juliet@example.com/balcony"].Take()) != 1 {
		t.Fatal("without compliance mode a message whose write failed is still delivered")
	}
	o.write = func() error { return nil }
	r.Send(ctx, parse(t, `<message from='example.com' to='juliet@example.com' type='chat'><body>c</body></message>`))
	if r.WriteHealth() != nil {
		t.Fatalf("health %v after a successful write", r.WriteHealth())
	}
}

// TestRequireWrites: in compliance mode a message whose write fails
// reaches nobody (no session, no offline storage) and bounces to its
// sender with resource-constraint (wait).
func TestRequireWrites(t *testing.T) {
	for i, to := range []string{"juliet@example.com", "nurse@example.com"} { // online, offline
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			r, sessions, off := setup(t)
			r.RequireWrites(true)
			o := &observerRecorder{write: func() error { return errors.New("read-only") }}
			r.ObserveMessages(o)
			ow := r.Route(context.Background(), parse(t, `<message from='romeo@example.com/orchard' to='`+to+`' id='m1' type='chat'><body>a</body></message>`))
			if len(ow.Writes) != 0 || len(o.writes) != 1 {
				t.Fatalf("owed %d writes, %d started: compliance mode waits, and stops at the first failure", len(ow.Writes), len(o.writes))
			}
			if got := sessions["juliet@example.com/balcony"].Take(); len(got) != 0 || len(off.stored) != 0 {
				t.Fatalf("delivered %v, stored %v", got, off.stored)
			}
			got := sessions["romeo@example.com/orchard"].Take()
			if len(got) != 1 || got[0].El.Get("id") != "m1" || got[0].El.Get("type") != "error" ||
				got[0].El.Child("error", "").Get("type") != "wait" || got[0].El.Child("error", "").Child("resource-constraint", stanza.NSStanzas) == nil {
				t.Fatalf("sender got %v, want resource-constraint (wait)", got)
			}
		})
	}
}

// TestMessageObservers: observers see the sender's message and the
// recipient's stamped copy with its targets (empty when stored offline).
func TestMessageObservers(t *testing.T) {
	r, _, _ := setup(t)
	o := &observerRecorder{}
	r.ObserveMessages(o)
	ctx := context.Background()
	r.Route(ctx, parse(t, `<message from='romeo@example.com/orchard' to='juliet@example.com' type='chat'><body>a</body></message>`))
	r.Route(ctx, parse(t, `<message from='romeo@example.com/orchard' to='nurse@example.com' type='chat'><body>b</body></message>`))
	r.Route(ctx, parse(t, `<presence from='romeo@example.com/orchard'/>`))
	if len(o.outgoing) != 2 || o.outgoing[0] != "romeo@example.com/orchard" {
		t.Errorf("outgoing = %v", o.outgoing)
	}
	want := []string{"juliet@example.com 1", "nurse@example.com 0"}
	if strings.Join(o.incoming, ",") != strings.Join(want, ",") {
		t.Errorf("incoming = %v, want %v", o.incoming, want)
	}
}

// TestGroupchatNotStamped: a room's message to an occupant keeps only the
// room's stanza-id; the user's server adds none of its own.
func TestGroupchatNotStamped(t *testing.T) {
	r, sessions, _ := setup(t)
	st := parse(t, `<message from='room@conference.example.com/nurse' to='juliet@example.com/chamber' type='groupchat'><body>hi</body><stanza-id xmlns='urn:xmpp:sid:0' id='room-1' by='room@conference.example.com'/></message>`)
	r.Send(context.Background(), st)
	got := sessions["juliet@example.com/chamber"].Take()
	if len(got) != 1 {
		t.Fatalf("got %d stanzas", len(got))
	}
	n := 0
	for _, c := range got[0].El.Children {
		if c.Name == "stanza-id" {
			n++
			if c.Get("by") != "room@conference.example.com" {
				t.Errorf("stanza-id by %q", c.Get("by"))
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d stanza-ids: %s", n, got[0].El.Raw)
	}
}

// TestSessionEnded: subscribers hear of each session end once, with the
// session's last state; a session replaced on its resource ends at the
// replacement's Bind, and its own later Unbind is not a second end.
func TestSessionEnded(t *testing.T) {
	r := router.New(jid.MustParse("example.com"), accountSet{"alice": true}, nil)
	var got []router.SessionEnded
	r.OnSessionEnded(func(_ context.Context, e router.SessionEnded) { got = append(got, e) })
	a := imtest.NewSession(t, "alice@example.com/a")
	r.Bind(a)
	r.SetAvailability(a.JID(), true, 5, []byte("<presence/>"))
	r.Unbind(context.Background(), a)
	r.Unbind(context.Background(), a) // a second Unbind is not a second end
	if len(got) != 1 || got[0].JID != a.JID() || got[0].Last.Session != a || !got[0].Last.Available || got[0].Last.Priority != 5 {
		t.Fatalf("ended events = %+v", got)
	}
	// A session replaced under the same resource: its Unbind (after the
	// replacement bound) does not end the replacement.
	b1 := imtest.NewSession(t, "alice@example.com/b")
	b2 := imtest.NewSession(t, "alice@example.com/b")
	r.Bind(b1)
	r.Bind(b2)
	if len(got) != 2 || got[1].Last.Session != b1 || b1.Ended() != "conflict" {
		t.Fatalf("replacing a session: ended events = %+v, stream error %q", got, b1.Ended())
	}
	r.Unbind(context.Background(), b1)
	if len(got) != 2 {
		t.Fatalf("unbinding a replaced session reported %+v", got[2:])
	}
	r.Unbind(context.Background(), b2)
	if len(got) != 3 || got[2].Last.Session != b2 {
		t.Fatalf("ended events = %+v", got)
	}
}

// TestLastSessionEnded: OnLastSessionEnded hears of a user once the
// user's last session ended, not while another is bound (a replaced
// session included).
func TestLastSessionEnded(t *testing.T) {
	r := router.New(jid.MustParse("example.com"), accountSet{"alice": true}, nil)
	var got []string
	r.OnLastSessionEnded(func(_ context.Context, user jid.JID) { got = append(got, user.String()) })
	a := imtest.NewSession(t, "alice@example.com/a")
	b1 := imtest.NewSession(t, "alice@example.com/b")
	b2 := imtest.NewSession(t, "alice@example.com/b")
	r.Bind(a)
	r.Bind(b1)
	r.Bind(b2) // replaces b1
	r.Unbind(context.Background(), a)
	if len(got) != 0 {
		t.Fatalf("heard %q while alice/b is bound", got)
	}
	r.Unbind(context.Background(), b2)
	if len(got) != 1 || got[0] != "alice@example.com" {
		t.Fatalf("heard %q, want alice@example.com once", got)
	}
}

// TestRefusedDeliveryStored: a message that every target session refuses
// goes to offline storage for the bare JID, never nowhere (issue 10 item
// 2); an IQ to such a session bounces.
func TestRefusedDeliveryStored(t *testing.T) {
	for i, to := range []string{"juliet@example.com", "juliet@example.com/balcony"} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			r, sessions, off := setup(t)
			for _, s := range sessions {
				s.Refuse(true)
			}
			r.Route(context.Background(), parse(t, `<message from='romeo@example.com/orchard' to='`+to+`' type='chat'><body>hi</body></message>`))
			if len(off.stored) != 1 || off.stored[0].To.String() != "juliet@example.com" {
				t.Fatalf("stored %v", off.stored)
			}
		})
	}
	r, sessions, _ := setup(t)
	sessions["juliet@example.com/balcony"].Refuse(true)
	r.Route(context.Background(), parse(t, `<iq from='romeo@example.com/orchard' to='juliet@example.com/balcony' type='get' id='v'><query xmlns='jabber:iq:version'/></iq>`))
	got := sessions["romeo@example.com/orchard"].Take()
	if len(got) != 1 || got[0].El.Get("type") != "error" || got[0].El.Child("error", "").Child("service-unavailable", stanza.NSStanzas) == nil {
		t.Fatalf("romeo got %v, want service-unavailable", got)
	}
}

// TestUsers lists each user with a bound session once, and none after
// their sessions are unbound.
func TestUsers(t *testing.T) {
	r := router.New(jid.MustParse("example.com"), accountSet{}, nil)
	a1, a2, b := imtest.NewSession(t, "a@example.com/1"), imtest.NewSession(t, "a@example.com/2"), imtest.NewSession(t, "b@example.com/1")
	for _, s := range []*imtest.Session{a1, a2, b} {
		r.Bind(s)
	}
	got := r.Users()
	slices.SortFunc(got, func(x, y jid.JID) int { return strings.Compare(x.String(), y.String()) })
	if len(got) != 2 || got[0].String() != "a@example.com" || got[1].String() != "b@example.com" {
		t.Fatalf("Users() = %v", got)
	}
	r.Unbind(context.Background(), b)
	if got := r.Users(); len(got) != 1 || got[0].String() != "a@example.com" {
		t.Fatalf("after b left: %v", got)
	}
}

// writeObserver owes one write per message, always the same channel.
type writeObserver struct{ w router.Write }

func (o writeObserver) Outgoing(context.Context, *stanza.Stanza) router.Write { return o.w }
func (o writeObserver) Incoming(context.Context, *stanza.Stanza, []router.Session) router.Write {
	return o.w
}

// BenchmarkRouteMessageOwed is BenchmarkRouteMessage with an observer that
// owes a write for each copy (as the archive does), routed as a session
// does (RouteInto with its reused Owed): owing costs no allocation.
func BenchmarkRouteMessageOwed(b *testing.B) {
	r, romeo, _ := benchRouter(b)
	r.ObserveMessages(writeObserver{make(chan error)})
	ctx := context.Background()
	var ow router.Owed
	for b.Loop() {
		st := readMessage(b, romeo)
		ow.Writes, ow.Behind = ow.Writes[:0], ow.Behind[:0]
		r.RouteInto(ctx, st, &ow)
		if len(ow.Writes) != 2 {
			b.Fatalf("%d writes owed, want 2", len(ow.Writes))
		}
	}
}
