package roster

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

type env struct {
	m        *Module
	r        *router.Router
	store    *imtest.Rosters
	pres     *imtest.Presence
	remote   *imtest.Remote
	one, two *imtest.Session // alice's sessions; two is interested
}

func newEnv(t *testing.T, seed ...store.RosterItem) *env {
	t.Helper()
	e := &env{store: imtest.NewRosters(), pres: &imtest.Presence{}, remote: imtest.NewRemote(t)}
	for _, it := range seed {
		if _, err := e.store.PutRosterItem(context.Background(), "alice", it); err != nil {
			t.Fatal(err)
		}
	}
	e.r = router.New(jid.MustParse("example.com"), imtest.Accounts{"alice": true, "bob": true},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.m = New(Options{Store: e.store, Limits: Limits{MaxItems: 3, MaxNameLen: 8, MaxGroupLen: 5, MaxGroups: 2}})
	e.m.Register(e.r)
	e.r.SetPresence(e.pres)
	e.r.SetRemote(e.remote)
	e.one = imtest.NewSession(t, "alice@example.com/one")
	e.two = imtest.NewSession(t, "alice@example.com/two")
	e.r.Bind(e.one)
	e.r.Bind(e.two)
	e.r.SetInterested(e.two.JID())
	return e
}

// route sends an IQ from alice/one and returns the reply it got.
func (e *env) route(t *testing.T, iq string) *stanza.Stanza {
	t.Helper()
	e.r.Route(context.Background(), imtest.Parse(t, iq))
	got := e.one.Take()
	if len(got) != 1 {
		t.Fatalf("alice/one got %d stanzas, want the reply only: %v", len(got), imtest.Summary(got))
	}
	return got[0]
}

func errCondition(st *stanza.Stanza) string {
	if st.Type != "error" {
		return ""
	}
	if e := st.El.Child("error", ""); e != nil && len(e.Children) > 0 {
		return e.Children[0].Name
	}
	return "?"
}

// itemString renders an <item/> like "jid sub [ask] [approved] name groups".
func itemString(el *xmlstream.Element) string {
	s := el.Get("jid") + " " + el.Get("subscription")
	if a := el.Get("ask"); a != "" {
		s += " ask=" + a
	}
	if el.Get("approved") == "true" {
		s += " approved"
	}
	if n := el.Get("name"); n != "" {
		s += " name=" + n
	}
	var groups []string
	for _, g := range el.Children {
		groups = append(groups, g.Text)
	}
	if len(groups) > 0 {
		s += " groups=" + strings.Join(groups, ",")
	}
	return s
}

// pushes returns the items pushed to a session, checking each push.
func pushes(t *testing.T, s *imtest.Session) []string {
	t.Helper()
	var out []string
	for _, st := range s.Take() {
		q := st.Payload()
		if st.Kind != stanza.IQ || st.Type != "set" || q == nil || q.Space != NS || !st.From.IsZero() || st.To != s.JID() {
			t.Errorf("not a roster push: %s", st.El)
			continue
		}
		if q.Get("ver") == "" {
			t.Errorf("push without ver: %s", st.El)
		}
		out = append(out, itemString(q.FirstChild()))
	}
	return out
}

const iqSet = `<iq xmlns='jabber:client' from='alice@example.com/one' id='s1' type='set'><query xmlns='jabber:iq:roster'>%s</query></iq>`

func set(items string) string { return strings.Replace(iqSet, "%s", items, 1) }

func TestSet(t *testing.T) {
	tests := []struct {
		name     string
		seed     []store.RosterItem
		items    string
		wantErr  string
		wantPush []string
	}{
		0: {name: "add", items: `<item jid='bob@example.com' name='Bob'><group>b</group><group>a</group></item>`,
			wantPush: []string{"bob@example.com none name=Bob groups=a,b"}},
		1: {name: "client subscription ignored (§2.1.2.5)", items: `<item jid='bob@example.com' subscription='both' ask='subscribe' approved='true'/>`,
			wantPush: []string{"bob@example.com none"}},
		2: {name: "update keeps state, replaces handle and groups (§2.4.1)",
			seed:     []store.RosterItem{{JID: "bob@example.com", Name: "B", Groups: []string{"x"}, Subscription: store.SubTo, AskOut: false, PendingIn: true}},
			items:    `<item jid='bob@example.com'/>`,
			wantPush: []string{"bob@example.com to"}},
		3: {name: "adding a hidden item shows it", seed: []store.RosterItem{{JID: "bob@example.com", Subscription: store.SubNone, PendingIn: true, Hidden: true}},
			items: `<item jid='bob@example.com'/>`, wantPush: []string{"bob@example.com none"}},
		4:  {name: "two items (§2.3.3)", items: `<item jid='a@example.com'/><item jid='b@example.com'/>`, wantErr: "bad-request"},
		5:  {name: "no item", items: ``, wantErr: "bad-request"},
		6:  {name: "duplicate group (§2.3.3)", items: `<item jid='b@example.com'><group>a</group><group>a</group></item>`, wantErr: "bad-request"},
		7:  {name: "empty group (§2.3.3)", items: `<item jid='b@example.com'><group/></item>`, wantErr: "not-acceptable"},
		8:  {name: "long group", items: `<item jid='b@example.com'><group>abcdef</group></item>`, wantErr: "not-acceptable"},
		9:  {name: "long name", items: `<item jid='b@example.com' name='abcdefghi'/>`, wantErr: "not-acceptable"},
		10: {name: "too many groups", items: `<item jid='b@example.com'><group>a</group><group>b</group><group>c</group></item>`, wantErr: "not-acceptable"},
		11: {name: "bad jid", items: `<item jid='@example.com'/>`, wantErr: "jid-malformed"},
		12: {name: "full jid", items: `<item jid='b@example.com/r'/>`, wantErr: "bad-request"},
		13: {name: "roster full", seed: []store.RosterItem{{JID: "a@x.example"}, {JID: "b@x.example"}, {JID: "c@x.example"}},
			items: `<item jid='d@x.example'/>`, wantErr: "not-allowed"},
		14: {name: "hidden items do not count", seed: []store.RosterItem{{JID: "a@x.example"}, {JID: "b@x.example"}, {JID: "c@x.example", PendingIn: true, Hidden: true}},
			items: `<item jid='d@x.example'/>`, wantPush: []string{"d@x.example none"}},
		15: {name: "remove unknown (§2.5.3)", items: `<item jid='b@example.com' subscription='remove'/>`, wantErr: "item-not-found"},
		16: {name: "remove hidden is unknown", seed: []store.RosterItem{{JID: "b@example.com", PendingIn: true, Hidden: true}},
			items: `<item jid='b@example.com' subscription='remove'/>`, wantErr: "item-not-found"},
		17: {name: "remove", seed: []store.RosterItem{{JID: "b@example.com", Subscription: store.SubNone}},
			items: `<item jid='b@example.com' subscription='remove'/>`, wantPush: []string{"b@example.com remove"}},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			e := newEnv(t, tc.seed...)
			reply := e.route(t, set(tc.items))
			if got := errCondition(reply); got != tc.wantErr {
				t.Fatalf("%s: error %q, want %q (%s)", tc.name, got, tc.wantErr, reply.El)
			}
			if tc.wantErr == "" && (reply.Type != "result" || reply.Payload() != nil) {
				t.Errorf("%s: reply %s, want an empty result", tc.name, reply.El)
			}
			if got := pushes(t, e.two); !slices.Equal(got, tc.wantPush) {
				t.Errorf("%s: pushed %q, want %q", tc.name, got, tc.wantPush)
			}
		})
	}
}

func TestGet(t *testing.T) {
	seed := []store.RosterItem{
		{JID: "bob@example.com", Name: "Bob", Subscription: store.SubBoth, Groups: []string{"f"}},
		{JID: "carol@example.net", Subscription: store.SubNone, AskOut: true, PendingIn: true},
		{JID: "dave@example.net", Subscription: store.SubNone, PreApproved: true},
		{JID: "eve@example.net", Subscription: store.SubNone, PendingIn: true, Hidden: true},
	}
	full := []string{
		"bob@example.com both name=Bob groups=f",
		"carol@example.net none ask=subscribe",
		"dave@example.net none approved",
	}
	tests := []struct {
		query     string
		wantVer   string // "" for no ver attribute
		wantItems []string
		empty     bool
	}{
		0: {query: `<query xmlns='jabber:iq:roster'/>`, wantItems: full},
		1: {query: `<query xmlns='jabber:iq:roster' ver=''/>`, wantVer: "4", wantItems: full},
		2: {query: `<query xmlns='jabber:iq:roster' ver='3'/>`, wantVer: "4", wantItems: full},
		3: {query: `<query xmlns='jabber:iq:roster' ver='4'/>`, empty: true}, // §2.6.3
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			e := newEnv(t, seed...)
			reply := e.route(t, `<iq xmlns='jabber:client' from='alice@example.com/one' id='g' type='get'>`+tc.query+`</iq>`)
			if reply.Type != "result" || reply.ID != "g" {
				t.Fatalf("reply %s", reply.El)
			}
			q := reply.Payload()
			if tc.empty {
				if q != nil {
					t.Fatalf("got %s, want an empty result", reply.El)
				}
				return
			}
			if q == nil {
				t.Fatal("no query in result")
			}
			if v, ok := attr(q, "ver"); v != tc.wantVer || ok != (tc.wantVer != "") {
				t.Errorf("ver %q (present %v), want %q", v, ok, tc.wantVer)
			}
			var items []string
			for _, c := range q.Children {
				items = append(items, itemString(c))
			}
			if !slices.Equal(items, tc.wantItems) {
				t.Errorf("items %q, want %q", items, tc.wantItems)
			}
			// The session that asked is now interested (§2.1.6).
			if res, _ := e.r.Lookup(e.one.JID()); !res.Interested {
				t.Error("roster get did not mark the session interested")
			}
		})
	}
}

func TestForbidden(t *testing.T) {
	tests := []string{
		0: `<iq xmlns='jabber:client' from='bob@example.com/x' to='alice@example.com' id='f' type='get'><query xmlns='jabber:iq:roster'/></iq>`,
		1: `<iq xmlns='jabber:client' from='bob@example.com/x' to='alice@example.com' id='f' type='set'><query xmlns='jabber:iq:roster'><item jid='m@example.com'/></query></iq>`,
	}
	for i, iq := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			e := newEnv(t)
			bob := imtest.Bind(t, e.r, "bob@example.com/x")
			e.r.Route(context.Background(), imtest.Parse(t, iq))
			got := bob.Take()
			if len(got) != 1 || errCondition(got[0]) != "forbidden" {
				t.Fatalf("bob got %v, want forbidden", imtest.Summary(got))
			}
			if _, ok := e.store.Get("alice", "m@example.com"); ok {
				t.Error("bob changed alice's roster")
			}
		})
	}
}

// TestRemoveCancels checks the presence sent when an item is removed
// (RFC 6121 §2.5.2).
func TestRemoveCancels(t *testing.T) {
	tests := []struct {
		item       store.RosterItem
		wantLocal  []string // seen by bob's presence handler
		wantRemote []string
	}{
		0: {item: store.RosterItem{JID: "bob@example.com", Subscription: store.SubBoth},
			wantLocal: []string{"presence unavailable alice@example.com/one->bob@example.com", "presence unsubscribed alice@example.com->bob@example.com", "presence unsubscribe alice@example.com->bob@example.com"}},
		1: {item: store.RosterItem{JID: "bob@example.com", Subscription: store.SubTo},
			wantLocal: []string{"presence unsubscribe alice@example.com->bob@example.com"}},
		2: {item: store.RosterItem{JID: "bob@example.com", Subscription: store.SubFrom, AskOut: true},
			wantLocal: []string{"presence unavailable alice@example.com/one->bob@example.com", "presence unsubscribed alice@example.com->bob@example.com", "presence unsubscribe alice@example.com->bob@example.com"}},
		3: {item: store.RosterItem{JID: "bob@example.com", Subscription: store.SubNone, PendingIn: true},
			wantLocal: []string{"presence unsubscribed alice@example.com->bob@example.com"}},
		4: {item: store.RosterItem{JID: "bob@example.com", Subscription: store.SubNone}},
		5: {item: store.RosterItem{JID: "carol@example.net", Subscription: store.SubTo},
			wantRemote: []string{"presence unsubscribe alice@example.com->carol@example.net"}},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			e := newEnv(t, tc.item)
			e.r.SetAvailability(e.one.JID(), true, 0, []byte("<presence/>")) // one available, two not
			reply := e.route(t, set(`<item jid='`+tc.item.JID+`' subscription='remove'/>`))
			if reply.Type != "result" {
				t.Fatalf("reply %s", reply.El)
			}
			if got := imtest.Summary(e.pres.Take()); !slices.Equal(got, tc.wantLocal) {
				t.Errorf("local presence %q, want %q", got, tc.wantLocal)
			}
			if got := imtest.Summary(e.remote.Take()); !slices.Equal(got, tc.wantRemote) {
				t.Errorf("remote presence %q, want %q", got, tc.wantRemote)
			}
			if _, ok := e.store.Get("alice", tc.item.JID); ok {
				t.Error("item still stored")
			}
		})
	}
}

func TestModify(t *testing.T) {
	ctx := context.Background()
	alice := jid.MustParse("alice@example.com")
	bob := jid.MustParse("bob@example.com")
	tests := []struct {
		name     string
		seed     []store.RosterItem
		fn       func(it *store.RosterItem, exists bool) bool
		wantPush []string
		wantItem *store.RosterItem
	}{
		0: {name: "unchanged is not stored", fn: func(*store.RosterItem, bool) bool { return false }},
		1: {name: "hidden new item is stored, not pushed",
			fn:       func(it *store.RosterItem, _ bool) bool { it.PendingIn, it.Hidden = true, true; return true },
			wantItem: &store.RosterItem{JID: "bob@example.com", Subscription: store.SubNone, PendingIn: true, Hidden: true}},
		2: {name: "hidden item left empty is deleted", seed: []store.RosterItem{{JID: "bob@example.com", Subscription: store.SubNone, PendingIn: true, PendingInStanza: []byte("<presence/>"), Hidden: true}},
			fn: func(it *store.RosterItem, _ bool) bool { it.PendingIn = false; return true }},
		3: {name: "visible change is pushed", seed: []store.RosterItem{{JID: "bob@example.com", Subscription: store.SubNone, AskOut: true}},
			fn:       func(it *store.RosterItem, _ bool) bool { it.Subscription, it.AskOut = store.SubTo, false; return true },
			wantPush: []string{"bob@example.com to"},
			wantItem: &store.RosterItem{JID: "bob@example.com", Subscription: store.SubTo}},
		4: {name: "pending stanza dropped with the pending flag", seed: []store.RosterItem{{JID: "bob@example.com", Subscription: store.SubNone, PendingIn: true, PendingInStanza: []byte("<presence/>")}},
			fn: func(it *store.RosterItem, _ bool) bool {
				it.PendingIn, it.Subscription = false, store.SubFrom
				return true
			},
			wantPush: []string{"bob@example.com from"},
			wantItem: &store.RosterItem{JID: "bob@example.com", Subscription: store.SubFrom}},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			e := newEnv(t, tc.seed...)
			if _, err := e.m.Modify(ctx, alice, bob, tc.fn); err != nil {
				t.Fatal(err)
			}
			if got := pushes(t, e.two); !slices.Equal(got, tc.wantPush) {
				t.Errorf("%s: pushed %q, want %q", tc.name, got, tc.wantPush)
			}
			got, ok := e.store.Get("alice", "bob@example.com")
			switch {
			case tc.wantItem == nil && ok:
				t.Errorf("%s: stored %+v, want nothing", tc.name, got)
			case tc.wantItem != nil && (!ok || !equalItem(got, *tc.wantItem)):
				t.Errorf("%s: stored %+v (%v), want %+v", tc.name, got, ok, *tc.wantItem)
			}
			// The cache agrees with the store.
			cached, cok, err := e.m.Item(ctx, alice, bob)
			if err != nil || cok != ok || (ok && !equalItem(cached, got)) {
				t.Errorf("%s: cache %+v %v, store %+v %v", tc.name, cached, cok, got, ok)
			}
		})
	}
}

func equalItem(a, b store.RosterItem) bool {
	return a.JID == b.JID && a.Name == b.Name && slices.Equal(a.Groups, b.Groups) &&
		a.Subscription == b.Subscription && a.AskOut == b.AskOut && a.PendingIn == b.PendingIn &&
		a.PreApproved == b.PreApproved && a.Hidden == b.Hidden && string(a.PendingInStanza) == string(b.PendingInStanza)
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	alice := jid.MustParse("alice@example.com")
	e := newEnv(t, store.RosterItem{JID: "bob@example.com", Subscription: store.SubBoth},
		store.RosterItem{JID: "carol@example.net", Subscription: store.SubFrom},
		store.RosterItem{JID: "dave@example.net", Subscription: store.SubNone, PendingIn: true, Hidden: true})
	for range 3 {
		subs, pubs, err := e.m.Audience(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(subs, func(a, b jid.JID) int { return strings.Compare(a.String(), b.String()) })
		if got := []string{subs[0].String(), subs[1].String()}; len(subs) != 2 || got[0] != "bob@example.com" || got[1] != "carol@example.net" {
			t.Errorf("subscribers %v", subs)
		}
		if len(pubs) != 1 || pubs[0].String() != "bob@example.com" {
			t.Errorf("publishers %v", pubs)
		}
	}
	if e.store.Loads != 1 {
		t.Errorf("store loaded %d times, want 1 (cached)", e.store.Loads)
	}
	e.m.Forget(alice)
	if n := e.m.cached(); n != 0 {
		t.Errorf("%d users cached after Forget", n)
	}
	if _, err := e.m.Items(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if e.store.Loads != 2 {
		t.Errorf("store loaded %d times after Forget, want 2", e.store.Loads)
	}
}

// TestConcurrentModify checks that read-modify-write is atomic per user.
func TestConcurrentModify(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	alice := jid.MustParse("alice@example.com")
	bob := jid.MustParse("bob@example.com")
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_, err := e.m.Modify(ctx, alice, bob, func(it *store.RosterItem, _ bool) bool {
				it.Name += "x"
				return true
			})
			if err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() { e.m.Forget(alice) })
	}
	wg.Wait()
	got, _ := e.store.Get("alice", "bob@example.com")
	if len(got.Name) != 50 {
		t.Errorf("name has %d x, want 50: a change was lost", len(got.Name))
	}
}
