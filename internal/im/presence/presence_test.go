package presence

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/im/roster"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmpptest"
)

type env struct {
	r       *router.Router
	h       *Handler
	rosters *imtest.Rosters
	remote  *imtest.Remote
	a1, a2  *imtest.Session // alice
	b1      *imtest.Session // bob
	initial []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{rosters: imtest.NewRosters(), remote: imtest.NewRemote(t)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.r = router.New(jid.MustParse("example.com"), imtest.Accounts{"alice": true, "bob": true}, log)
	rm := roster.New(roster.Options{Store: e.rosters})
	rm.Register(e.r)
	e.h = New(Options{Roster: rm, Log: log})
	e.h.OnInitialPresence = func(_ context.Context, full jid.JID, prio int8) {
		e.initial = append(e.initial, full.String()+" "+strconv.Itoa(int(prio)))
	}
	e.h.Register(e.r)
	e.r.SetRemote(e.remote)
	e.a1 = imtest.NewSession(t, "alice@example.com/one")
	e.a2 = imtest.NewSession(t, "alice@example.com/two")
	e.b1 = imtest.NewSession(t, "bob@example.com/b")
	for _, s := range []*imtest.Session{e.a1, e.a2, e.b1} {
		e.r.Bind(s)
	}
	return e
}

func (e *env) seed(t *testing.T, user string, items ...store.RosterItem) {
	t.Helper()
	for _, it := range items {
		if _, err := e.rosters.PutRosterItem(context.Background(), user, it); err != nil {
			t.Fatal(err)
		}
	}
}

// seedCarol puts it, for carol, in alice's roster; nil puts nothing.
func (e *env) seedCarol(t *testing.T, it *store.RosterItem) {
	t.Helper()
	if it != nil {
		item := *it
		item.JID = carol
		e.seed(t, "alice", item)
	}
}

// checkCarol compares carol's item in alice's roster (as itemState has
// it) and what was routed to remote servers since the last Take.
func (e *env) checkCarol(t *testing.T, wantItem string, wantRemote []string) {
	t.Helper()
	if got := itemState(e.rosters.Get("alice", carol)); got != wantItem {
		t.Errorf("item %q, want %q", got, wantItem)
	}
	if got := imtest.Summary(e.remote.Take()); !slices.Equal(got, wantRemote) {
		t.Errorf("routed %q, want %q", got, wantRemote)
	}
}

// send routes a stanza from a session, stamping its full JID as c2s does.
func (e *env) send(t *testing.T, s *imtest.Session, xml string) {
	t.Helper()
	st := imtest.Parse(t, xml)
	st.SetFrom(s.JID())
	e.r.Route(context.Background(), st)
}

// presences summarises what a session got, leaving out roster pushes.
func presences(s *imtest.Session) []string {
	var out []*stanza.Stanza
	for _, st := range s.Take() {
		if st.Kind == stanza.Presence {
			out = append(out, st)
		}
	}
	return imtest.Summary(out)
}

func itemState(it store.RosterItem, ok bool) string {
	if !ok {
		return "-"
	}
	s := it.Subscription
	if it.AskOut {
		s += "+ask"
	}
	if it.PendingIn {
		s += "+in"
	}
	if it.PreApproved {
		s += "+pre"
	}
	if it.Hidden {
		s += " hidden"
	}
	return s
}

const carol = "carol@example.net"

// TestOutbound covers RFC 6121 Appendix A.2 for a remote contact.
func TestOutbound(t *testing.T) {
	tests := []struct {
		seed       *store.RosterItem
		typ        string
		wantItem   string
		wantRemote []string
	}{
		0:  {typ: "subscribe", wantItem: "none+ask", wantRemote: []string{"presence subscribe alice@example.com->" + carol}},
		1:  {seed: &store.RosterItem{Subscription: "to"}, typ: "subscribe", wantItem: "to", wantRemote: []string{"presence subscribe alice@example.com->" + carol}},
		2:  {seed: &store.RosterItem{Subscription: "from"}, typ: "subscribe", wantItem: "from+ask", wantRemote: []string{"presence subscribe alice@example.com->" + carol}},
		3:  {seed: &store.RosterItem{Subscription: "none", PendingIn: true, Hidden: true}, typ: "subscribe", wantItem: "none+ask+in", wantRemote: []string{"presence subscribe alice@example.com->" + carol}},
		4:  {seed: &store.RosterItem{Subscription: "none", PendingIn: true, Hidden: true}, typ: "subscribed", wantItem: "from", wantRemote: []string{"presence subscribed alice@example.com->" + carol, "presence alice@example.com/one->" + carol}},
		5:  {seed: &store.RosterItem{Subscription: "to", PendingIn: true}, typ: "subscribed", wantItem: "both", wantRemote: []string{"presence subscribed alice@example.com->" + carol, "presence alice@example.com/one->" + carol}},
		6:  {seed: &store.RosterItem{Subscription: "from"}, typ: "subscribed", wantItem: "from"},
		7:  {typ: "subscribed", wantItem: "none+pre"}, // §3.4.1: pre-approval, not routed
		8:  {seed: &store.RosterItem{Subscription: "to"}, typ: "unsubscribe", wantItem: "none", wantRemote: []string{"presence unsubscribe alice@example.com->" + carol}},
		9:  {seed: &store.RosterItem{Subscription: "both"}, typ: "unsubscribe", wantItem: "from", wantRemote: []string{"presence unsubscribe alice@example.com->" + carol}},
		10: {seed: &store.RosterItem{Subscription: "none", AskOut: true}, typ: "unsubscribe", wantItem: "none", wantRemote: []string{"presence unsubscribe alice@example.com->" + carol}},
		11: {typ: "unsubscribe", wantItem: "-", wantRemote: []string{"presence unsubscribe alice@example.com->" + carol}},
		12: {seed: &store.RosterItem{Subscription: "from"}, typ: "unsubscribed", wantItem: "none",
			wantRemote: []string{"presence unavailable alice@example.com/one->" + carol, "presence unsubscribed alice@example.com->" + carol}},
		13: {seed: &store.RosterItem{Subscription: "both"}, typ: "unsubscribed", wantItem: "to",
			wantRemote: []string{"presence unavailable alice@example.com/one->" + carol, "presence unsubscribed alice@example.com->" + carol}},
		14: {seed: &store.RosterItem{Subscription: "none", PendingIn: true, Hidden: true}, typ: "unsubscribed", wantItem: "-", wantRemote: []string{"presence unsubscribed alice@example.com->" + carol}},
		15: {seed: &store.RosterItem{Subscription: "none", PreApproved: true}, typ: "unsubscribed", wantItem: "none", wantRemote: []string{"presence unsubscribed alice@example.com->" + carol}},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			e := newEnv(t)
			e.seedCarol(t, tc.seed)
			e.send(t, e.a1, `<presence xmlns='jabber:client'><show>dnd</show></presence>`)
			e.remote.Take()
			// A full 'to' is reduced to the bare JID (§3.1.2).
			e.send(t, e.a1, `<presence xmlns='jabber:client' to='`+carol+`/x' type='`+tc.typ+`'/>`)
			e.checkCarol(t, tc.wantItem, tc.wantRemote)
		})
	}
}

// TestInbound covers RFC 6121 Appendix A.3 for a remote contact.
func TestInbound(t *testing.T) {
	tests := []struct {
		seed        *store.RosterItem
		typ         string
		wantItem    string
		wantDeliver []string // to alice/one (available); alice/two is not
		wantRemote  []string
	}{
		0: {typ: "subscribe", wantItem: "none+in hidden", wantDeliver: []string{"presence subscribe " + carol + "->alice@example.com"}},
		1: {seed: &store.RosterItem{Subscription: "from"}, typ: "subscribe", wantItem: "from",
			wantRemote: []string{"presence subscribed alice@example.com->" + carol, "presence alice@example.com/one->" + carol}},
		2: {seed: &store.RosterItem{Subscription: "none", PreApproved: true}, typ: "subscribe", wantItem: "from",
			wantRemote: []string{"presence subscribed alice@example.com->" + carol, "presence alice@example.com/one->" + carol}},
		3:  {seed: &store.RosterItem{Subscription: "none", PendingIn: true}, typ: "subscribe", wantItem: "none+in"},
		4:  {seed: &store.RosterItem{Subscription: "none", AskOut: true}, typ: "subscribed", wantItem: "to", wantDeliver: []string{"presence subscribed " + carol + "->alice@example.com"}},
		5:  {seed: &store.RosterItem{Subscription: "from", AskOut: true}, typ: "subscribed", wantItem: "both", wantDeliver: []string{"presence subscribed " + carol + "->alice@example.com"}},
		6:  {seed: &store.RosterItem{Subscription: "none"}, typ: "subscribed", wantItem: "none"},
		7:  {typ: "subscribed", wantItem: "-"},
		8:  {seed: &store.RosterItem{Subscription: "from"}, typ: "unsubscribe", wantItem: "none", wantDeliver: []string{"presence unsubscribe " + carol + "->alice@example.com"}, wantRemote: []string{"presence unavailable alice@example.com/one->" + carol}},
		9:  {seed: &store.RosterItem{Subscription: "both"}, typ: "unsubscribe", wantItem: "to", wantDeliver: []string{"presence unsubscribe " + carol + "->alice@example.com"}, wantRemote: []string{"presence unavailable alice@example.com/one->" + carol}},
		10: {seed: &store.RosterItem{Subscription: "none", PendingIn: true, Hidden: true}, typ: "unsubscribe", wantItem: "-"},
		11: {seed: &store.RosterItem{Subscription: "to"}, typ: "unsubscribed", wantItem: "none", wantDeliver: []string{"presence unsubscribed " + carol + "->alice@example.com"}},
		12: {seed: &store.RosterItem{Subscription: "none", AskOut: true}, typ: "unsubscribed", wantItem: "none", wantDeliver: []string{"presence unsubscribed " + carol + "->alice@example.com"}},
		13: {seed: &store.RosterItem{Subscription: "from"}, typ: "unsubscribed", wantItem: "from"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			e := newEnv(t)
			e.seedCarol(t, tc.seed)
			e.send(t, e.a1, `<presence xmlns='jabber:client'/>`)
			e.a1.Take()
			e.a2.Take()
			e.remote.Take()
			// A remote server may use the full JID: the contact's side
			// works on bare JIDs (§3.1.3).
			e.r.Send(context.Background(), imtest.Parse(t, `<presence xmlns='jabber:client' from='`+carol+`/x' to='alice@example.com' type='`+tc.typ+`'/>`))
			if got := presences(e.a1); !slices.Equal(got, tc.wantDeliver) {
				t.Errorf("delivered %q, want %q", got, tc.wantDeliver)
			}
			if got := presences(e.a2); len(got) != 0 {
				t.Errorf("unavailable resource got %q", got)
			}
			e.checkCarol(t, tc.wantItem, tc.wantRemote)
		})
	}
}

// TestLocalSubscription runs a whole subscription between two local
// users, both sides of the state machine through the router.
func TestLocalSubscription(t *testing.T) {
	e := newEnv(t)
	e.send(t, e.b1, `<presence xmlns='jabber:client'/>`)
	e.send(t, e.a1, `<presence xmlns='jabber:client'/>`)
	e.b1.Take()
	e.a1.Take()
	e.a2.Take()

	e.send(t, e.a1, `<presence xmlns='jabber:client' to='bob@example.com' type='subscribe'/>`)
	if got, want := presences(e.b1), []string{"presence subscribe alice@example.com->bob@example.com"}; !slices.Equal(got, want) {
		t.Fatalf("bob got %q, want %q", got, want)
	}
	if got := itemState(e.rosters.Get("bob", "alice@example.com")); got != "none+in hidden" {
		t.Errorf("bob's item %q", got)
	}
	e.send(t, e.b1, `<presence xmlns='jabber:client' to='alice@example.com' type='subscribed'/>`)
	want := []string{"presence subscribed bob@example.com->alice@example.com", "presence bob@example.com/b->alice@example.com"}
	if got := presences(e.a1); !slices.Equal(got, want) {
		t.Errorf("alice got %q, want %q", got, want)
	}
	if a, b := itemState(e.rosters.Get("alice", "bob@example.com")), itemState(e.rosters.Get("bob", "alice@example.com")); a != "to" || b != "from" {
		t.Errorf("alice has %q, bob has %q; want to, from", a, b)
	}
	// Now bob's presence reaches alice, alice's does not reach bob.
	e.send(t, e.b1, `<presence xmlns='jabber:client'><show>away</show></presence>`)
	if got := presences(e.a1); !slices.Equal(got, []string{"presence bob@example.com/b->alice@example.com"}) {
		t.Errorf("alice got %q", got)
	}
	e.b1.Take()
	e.send(t, e.a1, `<presence xmlns='jabber:client'><show>away</show></presence>`)
	if got := presences(e.b1); len(got) != 0 {
		t.Errorf("bob got %q from a non-subscribed contact", got)
	}
}

// TestInitialPresence checks §4.2.2: broadcast, own resources, probes,
// pending requests and the offline hook.
func TestInitialPresence(t *testing.T) {
	e := newEnv(t)
	e.seed(t, "alice",
		store.RosterItem{JID: "bob@example.com", Subscription: store.SubBoth},
		store.RosterItem{JID: carol, Subscription: store.SubTo},
		store.RosterItem{JID: "dave@example.org", Subscription: store.SubFrom},
		store.RosterItem{JID: "eve@example.org", Subscription: store.SubNone, PendingIn: true, Hidden: true,
			PendingInStanza: []byte(`<presence from='eve@example.org' to='alice@example.com' type='subscribe'/>`)})
	e.seed(t, "bob", store.RosterItem{JID: "alice@example.com", Subscription: store.SubBoth})
	e.send(t, e.b1, `<presence xmlns='jabber:client'><priority>3</priority></presence>`)
	e.send(t, e.a2, `<presence xmlns='jabber:client'/>`)
	e.b1.Take()
	e.a2.Take()
	e.remote.Take()
	e.initial = nil

	e.send(t, e.a1, `<presence xmlns='jabber:client'><priority>7</priority></presence>`)
	wantA1 := []string{
		"presence alice@example.com/one->alice@example.com/one", // own broadcast
		"presence bob@example.com/b->alice@example.com/one",     // probe answered to the new session only
		"presence alice@example.com/two->alice@example.com/one", // other own resource
		"presence subscribe eve@example.org->alice@example.com", // §3.1.3 redelivery
	}
	if got := presences(e.a1); !slices.Equal(got, wantA1) {
		t.Errorf("alice/one got %q, want %q", got, wantA1)
	}
	if got := presences(e.a2); !slices.Equal(got, []string{"presence alice@example.com/one->alice@example.com/two"}) {
		t.Errorf("alice/two got %q", got)
	}
	if got := presences(e.b1); !slices.Equal(got, []string{"presence alice@example.com/one->bob@example.com"}) {
		t.Errorf("bob got %q", got)
	}
	wantRemote := []string{"presence alice@example.com/one->dave@example.org", "presence probe alice@example.com->" + carol}
	if got := imtest.Summary(e.remote.Take()); !slices.Equal(got, wantRemote) {
		t.Errorf("remote got %q, want %q", got, wantRemote)
	}
	if !slices.Equal(e.initial, []string{"alice@example.com/one 7"}) {
		t.Errorf("OnInitialPresence calls %q", e.initial)
	}
	if res, _ := e.r.Lookup(e.a1.JID()); !res.Available || res.Priority != 7 {
		t.Errorf("router state %+v", res)
	}
	// Subsequent presence: broadcast again, no probes, no hook (§4.4.2).
	e.send(t, e.a1, `<presence xmlns='jabber:client'><show>away</show></presence>`)
	if got := imtest.Summary(e.remote.Take()); !slices.Equal(got, []string{"presence alice@example.com/one->dave@example.org"}) {
		t.Errorf("remote got %q on subsequent presence", got)
	}
	if len(e.initial) != 1 {
		t.Errorf("OnInitialPresence called again: %q", e.initial)
	}
}

// TestProbe checks answers to probes (§4.3.2).
func TestProbe(t *testing.T) {
	tests := []struct {
		sub       string
		available bool
		want      []string
	}{
		0: {sub: store.SubFrom, available: true, want: []string{"presence alice@example.com/one->" + carol}},
		1: {sub: store.SubBoth, available: false, want: []string{"presence unavailable alice@example.com->" + carol}},
		2: {sub: store.SubTo, available: true, want: []string{"presence unsubscribed alice@example.com->" + carol}},
		3: {sub: "", available: true, want: []string{"presence unsubscribed alice@example.com->" + carol}},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			e := newEnv(t)
			if tc.sub != "" {
				e.seed(t, "alice", store.RosterItem{JID: carol, Subscription: tc.sub})
			}
			if tc.available {
				e.send(t, e.a1, `<presence xmlns='jabber:client'/>`)
			}
			e.remote.Take()
			e.r.Send(context.Background(), imtest.Parse(t, `<presence xmlns='jabber:client' from='`+carol+`' to='alice@example.com' type='probe'/>`))
			if got := imtest.Summary(e.remote.Take()); !slices.Equal(got, tc.want) {
				t.Errorf("answer %q, want %q", got, tc.want)
			}
		})
	}
}

// TestUnavailable checks §4.5 and §4.6.3: unavailable presence, sent or
// generated when the session ends, reaches subscribers, directed-presence
// targets and own resources.
func TestUnavailable(t *testing.T) {
	for i, ended := range []bool{false, true} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			e := newEnv(t)
			e.seed(t, "alice", store.RosterItem{JID: "dave@example.org", Subscription: store.SubFrom})
			e.send(t, e.a2, `<presence xmlns='jabber:client'/>`)
			e.send(t, e.a1, `<presence xmlns='jabber:client'/>`)
			e.send(t, e.a1, `<presence xmlns='jabber:client' to='room@muc.example.org/nick'/>`)
			e.send(t, e.a1, `<presence xmlns='jabber:client' to='dave@example.org'/>`)
			e.send(t, e.a1, `<presence xmlns='jabber:client' to='gone@example.org'/>`)
			e.send(t, e.a1, `<presence xmlns='jabber:client' to='gone@example.org' type='unavailable'/>`)
			e.send(t, e.b1, `<presence xmlns='jabber:client' to='alice@example.com/one'/>`)
			if got := presences(e.a1); !slices.Contains(got, "presence bob@example.com/b->alice@example.com/one") {
				t.Errorf("directed presence to a full JID not delivered: %q", got)
			}
			e.remote.Take()
			e.a2.Take()
			if ended {
				e.r.Unbind(context.Background(), e.a1)
			} else {
				e.send(t, e.a1, `<presence xmlns='jabber:client' type='unavailable'/>`)
				if got := presences(e.a1); !slices.Equal(got, []string{"presence unavailable alice@example.com/one->alice@example.com/one"}) {
					t.Errorf("sender got %q", got)
				}
			}
			want := []string{
				"presence unavailable alice@example.com/one->dave@example.org",
				"presence unavailable alice@example.com/one->room@muc.example.org/nick",
			}
			got := imtest.Summary(e.remote.Take())
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("remote got %q, want %q", got, want)
			}
			if got := presences(e.a2); !slices.Equal(got, []string{"presence unavailable alice@example.com/one->alice@example.com/two"}) {
				t.Errorf("alice/two got %q", got)
			}
			if got := presences(e.b1); len(got) != 0 {
				t.Errorf("bob (no subscription, no directed presence) got %q", got)
			}
			if n := e.h.Directed(e.a1.JID()); n != 0 {
				t.Errorf("alice/one's %d directed presences still remembered after going unavailable", n)
			}
		})
	}
}

// TestInboundAvailability checks delivery rules (RFC 6121 §8.5.2.1.2,
// §8.5.3).
func TestInboundAvailability(t *testing.T) {
	tests := []struct {
		to         string
		wantA1     int
		wantA2     int
		a2Availble bool
	}{
		0: {to: "alice@example.com", wantA1: 1},
		1: {to: "alice@example.com", wantA1: 1, wantA2: 1, a2Availble: true},
		2: {to: "alice@example.com/two", wantA2: 1}, // a bound full JID, available or not
		3: {to: "alice@example.com/nope"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			e := newEnv(t)
			e.send(t, e.a1, `<presence xmlns='jabber:client'/>`)
			if tc.a2Availble {
				e.send(t, e.a2, `<presence xmlns='jabber:client'/>`)
			}
			e.a1.Take()
			e.a2.Take()
			e.r.Send(context.Background(), imtest.Parse(t, `<presence xmlns='jabber:client' from='`+carol+`/x' to='`+tc.to+`'/>`))
			if n1, n2 := len(e.a1.Take()), len(e.a2.Take()); n1 != tc.wantA1 || n2 != tc.wantA2 {
				t.Errorf("delivered %d, %d; want %d, %d", n1, n2, tc.wantA1, tc.wantA2)
			}
		})
	}
}

func TestPriority(t *testing.T) {
	tests := []struct {
		xml  string
		want int8
	}{
		0: {`<presence xmlns='jabber:client'/>`, 0},
		1: {`<presence xmlns='jabber:client'><priority>5</priority></presence>`, 5},
		2: {`<presence xmlns='jabber:client'><priority> -128 </priority></presence>`, -128},
		3: {`<presence xmlns='jabber:client'><priority>127</priority></presence>`, 127},
		4: {`<presence xmlns='jabber:client'><priority>128</priority></presence>`, 0},
		5: {`<presence xmlns='jabber:client'><priority>high</priority></presence>`, 0},
		6: {`<presence xmlns='jabber:client'><priority xmlns='urn:other'>9</priority></presence>`, 0},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if got := priority(imtest.Parse(t, tc.xml)); got != tc.want {
				t.Errorf("priority %d, want %d", got, tc.want)
			}
		})
	}
}

// TestDirectedLimit: a session remembers directed presence for at most
// MaxDirected entities; beyond it directed available presence is refused
// with policy-violation and not routed, an entity already remembered may
// be told again, and unavailable presence frees a place.
func TestDirectedLimit(t *testing.T) {
	e := newEnv(t)
	e.h.MaxDirected = 3
	e.send(t, e.a1, `<presence xmlns='jabber:client'/>`)
	for i := range 10 {
		e.send(t, e.a1, `<presence xmlns='jabber:client' to='u`+strconv.Itoa(i)+`@example.org'/>`)
	}
	if got := e.h.Directed(e.a1.JID()); got != 3 {
		t.Fatalf("%d entries remembered, want 3", got)
	}
	if got := len(e.remote.Take()); got != 3 {
		t.Errorf("%d directed presences routed, want 3", got)
	}
	errs := 0
	for _, st := range e.a1.Take() {
		if st.Kind == stanza.Presence && st.Type == "error" {
			errs++
			if c := xmpptest.StanzaErrorCondition(st.El); c != "policy-violation" {
				t.Errorf("refusal condition %q", c)
			}
		}
	}
	if errs != 7 {
		t.Errorf("%d refusals, want 7", errs)
	}
	e.send(t, e.a1, `<presence xmlns='jabber:client' to='u0@example.org'/>`) // remembered: passes
	e.send(t, e.a1, `<presence xmlns='jabber:client' to='u1@example.org' type='unavailable'/>`)
	e.send(t, e.a1, `<presence xmlns='jabber:client' to='u9@example.org'/>`)
	if got := imtest.Summary(e.remote.Take()); !slices.Equal(got, []string{
		"presence alice@example.com/one->u0@example.org",
		"presence unavailable alice@example.com/one->u1@example.org",
		"presence alice@example.com/one->u9@example.org"}) {
		t.Errorf("routed %q", got)
	}
	if got := e.h.Directed(e.a1.JID()); got != 3 {
		t.Errorf("%d entries remembered, want 3", got)
	}
}

// TestSessionEndedDropsState: what the handler keeps of a session (the
// entities it sent directed presence to) is gone once the session ends,
// closed or replaced by another on the same resource (router
// SessionEnded), and the end is announced to them in both cases.
func TestSessionEndedDropsState(t *testing.T) {
	for i, replaced := range []bool{false, true} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			e := newEnv(t)
			e.send(t, e.a2, `<presence xmlns='jabber:client'/>`)
			e.send(t, e.a1, `<presence xmlns='jabber:client'/>`)
			e.send(t, e.a1, `<presence xmlns='jabber:client' to='room@muc.example.org/nick'/>`)
			e.a2.Take()
			if e.h.Directed(e.a1.JID()) != 1 || e.h.Sessions() != 1 {
				t.Fatalf("directed presence not remembered: %d", e.h.Directed(e.a1.JID()))
			}
			e.remote.Take()
			if replaced {
				e.r.Bind(imtest.NewSession(t, e.a1.JID().String()))
			} else {
				e.r.Unbind(context.Background(), e.a1)
			}
			if n := e.h.Sessions(); n != 0 {
				t.Errorf("state of %d sessions kept after the end", n)
			}
			if got := imtest.Summary(e.remote.Take()); !slices.Equal(got, []string{"presence unavailable alice@example.com/one->room@muc.example.org/nick"}) {
				t.Errorf("remote got %q", got)
			}
			if got := presences(e.a2); !slices.Contains(got, "presence unavailable alice@example.com/one->alice@example.com/two") {
				t.Errorf("alice/two got %q", got)
			}
		})
	}
}
