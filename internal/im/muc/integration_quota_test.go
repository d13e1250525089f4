package muc_test

import (
	"strconv"
	"strings"
	"testing"

	"parley/internal/config"
	"parley/internal/im/muc"
	"parley/internal/rsm"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// TestRoomLimitsOverTCP: a user may have created at most
// max_rooms_per_user rooms at once (beyond: not-allowed, XEP-0045
// §10.1.1) and at most max_persistent_rooms_per_user persistent ones
// (beyond: policy-violation); a destroyed room frees its place; other
// users and admins are not affected.
func TestRoomLimitsOverTCP(t *testing.T) {
	srv := start(t, func(c *config.Config) {
		c.MUC = config.MUC{Create: config.MUCCreateLocal, Admins: []string{"alice@localhost"},
			MaxRoomsPerUser: 2, MaxPersistentRoomsPerUser: 1}
	}, "alice", "bob", "carol")
	alice, bob, carol := dial(t, srv, "alice"), dial(t, srv, "bob"), dial(t, srv, "carol")
	roomJID := func(i int) string { return "r" + strconv.Itoa(i) + "@conference.localhost" }
	// join enters room i as nick and returns the self-presence or error.
	join := func(c *xmpptest.Client, i int, nick string) *xmlstream.Element {
		t.Helper()
		send(t, c, "<presence to='"+roomJID(i)+"/"+nick+"'><x xmlns='"+muc.NS+"'/></presence>")
		return expect(t, c, "join of "+roomJID(i), func(el *xmlstream.Element) bool {
			return el.Name == "presence" && el.Get("from") == roomJID(i)+"/"+nick
		})
	}
	configure := func(c *xmpptest.Client, i int, persistent string) *xmlstream.Element {
		t.Helper()
		res, err := c.IQ(wait, "set", roomJID(i), "<query xmlns='"+muc.NSOwner+"'>"+
			muc.DataForm("submit", muc.NSRoomConfig, "muc#roomconfig_", "persistentroom="+persistent)+"</query>")
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for i := 1; i <= 2; i++ {
		if p := join(bob, i, "bob"); p.Get("type") == "error" {
			t.Fatalf("bob's room %d: %s", i, p)
		}
	}
	if p := join(bob, 3, "bob"); xmpptest.StanzaErrorCondition(p) != "not-allowed" {
		t.Fatalf("bob's third room: %s", p)
	}
	// Others are not limited by bob's rooms; an admin is not limited.
	if p := join(carol, 3, "carol"); p.Get("type") == "error" {
		t.Fatalf("carol's room: %s", p)
	}
	for i := 10; i < 13; i++ {
		if p := join(alice, i, "alice"); p.Get("type") == "error" {
			t.Fatalf("admin's room %d: %s", i, p)
		}
	}

	if res := configure(bob, 1, "1"); res.Get("type") != "result" {
		t.Fatalf("bob's first persistent room: %s", res)
	}
	if res := configure(bob, 2, "1"); xmpptest.StanzaErrorCondition(res) != "policy-violation" {
		t.Fatalf("bob's second persistent room: %s", res)
	}
	if res := configure(bob, 2, "0"); res.Get("type") != "result" {
		t.Fatalf("bob's temporary room: %s", res)
	}
	// Destroying the persistent room frees both places.
	res, err := bob.IQ(wait, "set", roomJID(1), "<query xmlns='"+muc.NSOwner+"'><destroy/></query>")
	if err != nil || res.Get("type") != "result" {
		t.Fatalf("destroy: %v %v", res, err)
	}
	if res := configure(bob, 2, "1"); res.Get("type") != "result" {
		t.Fatalf("persistent after the other's destruction: %s", res)
	}
	if p := join(bob, 4, "bob"); p.Get("type") == "error" {
		t.Fatalf("a new room after a destruction: %s", p)
	}
}

// TestDiscoItemsPagedOverTCP: the service's room list comes in pages
// (XEP-0059) rather than in one reply: without a <set/> the first page
// and the count, then page by page with <after/>, or the last page with
// an empty <before/>.
func TestDiscoItemsPagedOverTCP(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) {
		c.MUC = config.MUC{Create: config.MUCCreateAdmins, Admins: []string{"alice@localhost"}}
	})
	srv.AddUser(t, "alice", password)
	alice := dial(t, srv, "alice")
	const rooms = 130
	name := func(i int) string { return "r" + strconv.Itoa(1000+i) + "@conference.localhost" }
	for i := range rooms {
		send(t, alice, "<presence to='"+name(i)+"/alice'><x xmlns='"+muc.NS+"'/></presence>")
		send(t, alice, "<iq type='set' id='c"+strconv.Itoa(i)+"' to='"+name(i)+"'><query xmlns='"+muc.NSOwner+"'>"+
			"<x xmlns='jabber:x:data' type='submit'/></query></iq>")
	}
	for i := range rooms {
		expect(t, alice, "room "+strconv.Itoa(i), func(el *xmlstream.Element) bool {
			return el.Name == "iq" && el.Get("id") == "c"+strconv.Itoa(i) && el.Get("type") == "result"
		})
	}
	items := func(set string) (jids []string, reply *xmlstream.Element) {
		t.Helper()
		res, err := alice.IQ(wait, "get", "conference.localhost", "<query xmlns='"+muc.NSDiscoItems+"'>"+set+"</query>")
		if err != nil || res.Get("type") != "result" {
			t.Fatalf("disco#items %s: %v %v", set, res, err)
		}
		q := res.Child("query", muc.NSDiscoItems)
		for _, it := range q.Children {
			if it.Name == "item" {
				jids = append(jids, it.Get("jid"))
			}
		}
		return jids, q.Child("set", rsm.NS)
	}
	first, set := items("")
	if len(first) != 100 || first[0] != name(0) || set == nil || set.ChildText("count", rsm.NS) != strconv.Itoa(rooms) {
		t.Fatalf("first page: %d items, set %v", len(first), set)
	}
	next, set := items("<set xmlns='" + rsm.NS + "'><max>20</max><after>" + set.ChildText("last", rsm.NS) + "</after></set>")
	if len(next) != 20 || next[0] != name(100) || set.Child("first", rsm.NS).Get("index") != "100" {
		t.Fatalf("second page: %v, set %v", next, set)
	}
	last, _ := items("<set xmlns='" + rsm.NS + "'><max>7</max><before/></set>")
	if strings.Join(last, " ") != strings.Join([]string{name(123), name(124), name(125), name(126), name(127), name(128), name(129)}, " ") {
		t.Fatalf("last page: %v", last)
	}
	res, err := alice.IQ(wait, "get", "conference.localhost", "<query xmlns='"+muc.NSDiscoItems+"'><set xmlns='"+rsm.NS+"'><max>-1</max></set></query>")
	if err != nil || xmpptest.StanzaErrorCondition(res) != "bad-request" {
		t.Fatalf("bad max: %v %v", res, err)
	}
}
