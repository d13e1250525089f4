package pep_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/im/pep"
	"parley/internal/store"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// publishItem is a publish of payload as id to node, with max_items=max
// (as the attack of issue 10 item 5 used) and open access.
func publishItem(node, id, payload string) string {
	return `<pubsub xmlns='` + pep.NS + `'><publish node='` + node + `'><item id='` + id + `'>` + payload +
		`</item></publish>` + publishOptions("open") + `</pubsub>`
}

// payloadOf is a payload that the server stores as exactly size bytes.
func payloadOf(t *testing.T, size int) string {
	t.Helper()
	open, end := `<p xmlns='urn:test'>`, `</p>`
	s := open + strings.Repeat("x", size-len(open)-len(end)) + end
	el, err := xmlstream.Parse([]byte(s), xmlstream.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(xmlstream.Append(nil, el)); n != size {
		t.Fatalf("payload serialises to %d bytes, want %d", n, size)
	}
	return s
}

// TestPEPLimitsOverTCP: issue 10 item 5's attack (many large items on a
// max_items=max node, then one items request) meets the limits: an item
// over pep_item_bytes is refused (not-acceptable + payload-too-big), a
// node keeps at most pep_node_items, an account at most pep_nodes nodes
// (policy-violation + max-nodes-exceeded) and pep_bytes of payloads
// (policy-violation; replacing an item at the quota still works), and an
// items reply is never larger than pep_reply_bytes: it holds the newest
// items that fit with a result set, and the client pages back to the
// oldest (XEP-0060 §6.5.4, XEP-0059).
func TestPEPLimitsOverTCP(t *testing.T) {
	const (
		itemBytes  = 1000
		nodeItems  = 50
		nodes      = 3
		quota      = 20000
		replyBytes = 5000
	)
	srv := testserver.Start(t, func(c *config.Config) {
		c.Quotas.PEPItemBytes, c.Quotas.PEPNodeItems, c.Quotas.PEPNodes = itemBytes, nodeItems, nodes
		c.Quotas.PEPBytes, c.Quotas.PEPReplyBytes = quota, replyBytes
	})
	srv.AddUsers(t, password, "mallory", "bob")
	m := login(t, srv, "mallory", "flood")
	bob := login(t, srv, "bob", "desk")

	if res := xmpptest.MustIQ(t, m, wait, "set", "", publishItem("big", "x", payloadOf(t, itemBytes+1))); xmpptest.ErrorConditions(res) != "not-acceptable+payload-too-big" {
		t.Fatalf("oversized item: %s", res)
	}
	full := payloadOf(t, itemBytes)
	small := `<s xmlns='urn:test'/>`
	for i, node := range []string{"big", "n2", "n3"} {
		p := small
		if i == 0 {
			p = full
		}
		if res := xmpptest.MustIQ(t, m, wait, "set", "", publishItem(node, "0", p)); res.Get("type") != "result" {
			t.Fatalf("publish to %s: %s", node, res)
		}
	}
	if res := xmpptest.MustIQ(t, m, wait, "set", "", publishItem("n4", "0", small)); xmpptest.ErrorConditions(res) != "policy-violation+max-nodes-exceeded" {
		t.Fatalf("node beyond pep_nodes: %s", res)
	}
	conf := xmpptest.MustIQ(t, m, wait, "get", "", `<pubsub xmlns='`+pep.NSOwner+`'><configure node='big'/></pubsub>`)
	if !strings.Contains(conf.String(), "<value>"+strconv.Itoa(nodeItems)+"</value>") {
		t.Fatalf("max_items=max is not pep_node_items: %s", conf)
	}

	// Fill the quota: the two small items take len(small) each.
	fit := (quota - 2*len(small)) / itemBytes
	for i := 1; i < fit; i++ {
		if res := xmpptest.MustIQ(t, m, wait, "set", "", publishItem("big", strconv.Itoa(i), full)); res.Get("type") != "result" {
			t.Fatalf("publish %d of %d: %s", i, fit, res)
		}
	}
	if res := xmpptest.MustIQ(t, m, wait, "set", "", publishItem("big", "over", full)); xmpptest.ErrorConditions(res) != "policy-violation" {
		t.Fatalf("publish beyond pep_bytes: %s", res)
	}
	if res := xmpptest.MustIQ(t, m, wait, "set", "", publishItem("big", "3", full)); res.Get("type") != "result" {
		t.Fatalf("replacing an item at the quota: %s", res)
	}
	want := []string{"0", "1", "2"}
	for i := 4; i < fit; i++ {
		want = append(want, strconv.Itoa(i))
	}
	want = append(want, "3") // republished: the newest

	// Bob reads the node a page at a time, newest first, back to the
	// oldest; no reply is larger than pep_reply_bytes.
	var got []string
	req := `<pubsub xmlns='` + pep.NS + `'><items node='big'/></pubsub>`
	for pages := 0; ; pages++ {
		if pages > fit {
			t.Fatalf("no end of pages: %v", got)
		}
		res := xmpptest.MustIQ(t, bob, wait, "get", "mallory@localhost", req)
		if n := len(xmlstream.Append(nil, res)); n > replyBytes {
			t.Fatalf("reply of %d bytes > %d", n, replyBytes)
		}
		ps := res.Child("pubsub", pep.NS)
		if ps == nil {
			t.Fatalf("items: %s", res)
		}
		var page []string
		for _, it := range ps.Child("items", pep.NS).Children {
			page = append(page, it.Get("id"))
		}
		if len(page) == 0 {
			t.Fatalf("empty page after %v: %s", got, res)
		}
		got = append(page, got...)
		set := ps.Child("set", pep.NSRSM)
		if set == nil || set.ChildText("count", pep.NSRSM) != strconv.Itoa(len(want)) || set.ChildText("first", pep.NSRSM) != page[0] {
			t.Fatalf("result set: %s", res)
		}
		if set.Child("first", pep.NSRSM).Get("index") == "0" {
			break
		}
		req = `<pubsub xmlns='` + pep.NS + `'><items node='big'/><set xmlns='` + pep.NSRSM + `'><before>` + page[0] + `</before></set></pubsub>`
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("paged items %v, want %v", got, want)
	}
	// Paging forward from an item, and max.
	res := xmpptest.MustIQ(t, bob, wait, "get", "mallory@localhost", `<pubsub xmlns='`+pep.NS+`'><items node='big'/><set xmlns='`+pep.NSRSM+
		`'><max>2</max><after>1</after></set></pubsub>`)
	if s := res.String(); !strings.Contains(s, "<item id='2'>") || !strings.Contains(s, "<item id='4'>") || strings.Count(s, "<item ") != 2 {
		t.Fatalf("after 1, max 2: %s", res)
	}
	if res := xmpptest.MustIQ(t, bob, wait, "get", "mallory@localhost", `<pubsub xmlns='`+pep.NS+`'><items node='big'/><set xmlns='`+pep.NSRSM+
		`'><after>nope</after></set></pubsub>`); xmpptest.ErrorConditions(res) != "item-not-found" {
		t.Fatalf("after an unknown item: %s", res)
	}
}

// TestCapsDiscoveryNotStarvedOverTCP: issue 10 item 9's attack. Sessions
// of three accounts advertise more unique caps than there are discovery
// places and never answer the disco#info queries; a new client of
// another account is still asked for its caps at once (each account
// holds at most quotas.caps_account_discoveries places) and gets its
// notifications.
func TestCapsDiscoveryNotStarvedOverTCP(t *testing.T) {
	const places, share = 8, 2
	srv := testserver.Start(t, func(c *config.Config) {
		c.Quotas.CapsDiscoveries, c.Quotas.CapsAccountDiscoveries = places, share
	})
	srv.AddUsers(t, password, "m1", "m2", "m3", "alice")
	for _, u := range []string{"m1", "m2", "m3"} {
		for i := range 2 * places {
			c := login(t, srv, u, "r"+strconv.Itoa(i))
			ver := u + strconv.Itoa(i) + "AAAAAAAAAAAAAAAAAAAAAAAA="
			if err := c.Send(`<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='urn:flood' ver='` + ver + `'/></presence>`); err != nil {
				t.Fatal(err)
			}
		}
	}
	// loginWithCaps fails unless the server asks within the wait.
	phone := loginWithCaps(t, srv, "alice", "phone", "http://jabber.org/protocol/disco#info", bookmarks+"+notify")
	if res := xmpptest.MustIQ(t, phone, wait, "set", "", `<pubsub xmlns='`+pep.NS+`'><publish node='`+bookmarks+`'><item id='`+room+`'>`+
		conference(true, "crone")+`</item></publish>`+publishOptions("whitelist")+`</pubsub>`); res.Get("type") != "result" {
		t.Fatalf("publish: %s", res)
	}
	if _, err := phone.Expect(wait, isEvent); err != nil {
		t.Fatalf("no notification: %v", err)
	}
}

// TestRosterAccessOverTCP: the roster access model (XEP-0060 §4.5,
// pubsub#roster_groups_allowed): a contact in an allowed group of the
// owner's roster reads the node and is notified, one in another group
// gets not-authorized + not-in-roster-group (§6.5.9.7) and no event;
// equal publish-options pass and other groups are a precondition
// conflict (§7.1.5); the model is advertised; a last item sent at login
// carries when it was published (§6.1.7, XEP-0203).
func TestRosterAccessOverTCP(t *testing.T) {
	const mood = "urn:test:mood"
	srv := testserver.Start(t, nil)
	srv.AddUsers(t, password, "alice", "bob", "carol")
	ctx := t.Context()
	for _, p := range [][3]string{{"alice", "bob@localhost", "Friends"}, {"alice", "carol@localhost", "Work"},
		{"bob", "alice@localhost", ""}, {"carol", "alice@localhost", ""}} {
		it := store.RosterItem{JID: p[1], Subscription: store.SubBoth}
		if p[2] != "" {
			it.Groups = []string{p[2]}
		}
		if _, err := srv.Store().PutRosterItem(ctx, p[0], it); err != nil {
			t.Fatal(err)
		}
	}
	alice := login(t, srv, "alice", "desk")
	carol := loginWithCaps(t, srv, "carol", "desk", mood+"+notify")
	rosterOptions := func(group string) string {
		return `<publish-options>` + submit(pep.NSPublishOptions, "pubsub#access_model=roster", "pubsub#roster_groups_allowed="+group) + `</publish-options>`
	}
	publish := func(id, group string) *xmlstream.Element {
		return xmpptest.MustIQ(t, alice, wait, "set", "", `<pubsub xmlns='`+pep.NS+`'><publish node='`+mood+`'><item id='`+id+
			`'><m xmlns='urn:test'>`+id+`</m></item></publish>`+rosterOptions(group)+`</pubsub>`)
	}
	if res := publish("1", "Friends"); res.Get("type") != "result" {
		t.Fatalf("publish with the roster model: %s", res)
	}
	read := `<pubsub xmlns='` + pep.NS + `'><items node='` + mood + `'/></pubsub>`

	bob := loginWithCaps(t, srv, "bob", "desk", "http://jabber.org/protocol/disco#info", mood+"+notify")
	ev, err := bob.Expect(wait, isEvent)
	if err != nil || !strings.Contains(ev.String(), ">1</m>") {
		t.Fatalf("bob's last item: %v %s", err, ev)
	}
	d := ev.Child("delay", pep.NSDelay)
	if d == nil || d.Get("from") != "alice@localhost" {
		t.Fatalf("last item without <delay/>: %s", ev)
	}
	if at, err := time.Parse(time.RFC3339, d.Get("stamp")); err != nil || time.Since(at) > time.Minute || time.Until(at) > time.Second {
		t.Fatalf("delay stamp %q: %v", d.Get("stamp"), err)
	}
	if res := xmpptest.MustIQ(t, bob, wait, "get", "alice@localhost", read); res.Get("type") != "result" || !strings.Contains(res.String(), ">1</m>") {
		t.Fatalf("bob (Friends) reads: %s", res)
	}
	if res := xmpptest.MustIQ(t, carol, wait, "get", "alice@localhost", read); xmpptest.ErrorConditions(res) != "not-authorized+not-in-roster-group" {
		t.Fatalf("carol (Work) reads: %s", res)
	}

	// Equal options pass; other groups conflict (§7.1.5).
	if res := publish("2", "Friends"); res.Get("type") != "result" {
		t.Fatalf("publish with equal options: %s", res)
	}
	if _, err := bob.Expect(wait, func(el *xmlstream.Element) bool { return isEvent(el) && strings.Contains(el.String(), ">2</m>") }); err != nil {
		t.Fatalf("bob's notification: %v", err)
	}
	if res := publish("3", "Work"); xmpptest.ErrorConditions(res) != "conflict+precondition-not-met" {
		t.Fatalf("publish with other groups: %s", res)
	}
	xmpptest.MustIQ(t, carol, wait, "get", "", `<ping xmlns='urn:xmpp:ping'/>`)
	if ev, err := carol.Expect(100*time.Millisecond, isEvent); err == nil {
		t.Fatalf("carol (Work) got %s", ev)
	}

	// The owner sees the groups in the configuration and may change them.
	conf := xmpptest.MustIQ(t, alice, wait, "get", "", `<pubsub xmlns='`+pep.NSOwner+`'><configure node='`+mood+`'/></pubsub>`)
	if !strings.Contains(conf.String(), "<field var='pubsub#roster_groups_allowed' type='list-multi'") ||
		!strings.Contains(conf.String(), "<value>Friends</value>") {
		t.Fatalf("configuration: %s", conf)
	}
	configure := `<pubsub xmlns='` + pep.NSOwner + `'><configure node='` + mood + `'>` +
		submit(pep.NSNodeConfig, "pubsub#roster_groups_allowed=Work") + `</configure></pubsub>`
	if res := xmpptest.MustIQ(t, alice, wait, "set", "", configure); res.Get("type") != "result" {
		t.Fatalf("configure: %s", res)
	}
	if res := xmpptest.MustIQ(t, carol, wait, "get", "alice@localhost", read); res.Get("type") != "result" {
		t.Fatalf("carol reads once Work is allowed: %s", res)
	}
	if res := xmpptest.MustIQ(t, bob, wait, "get", "alice@localhost", read); xmpptest.ErrorConditions(res) != "not-authorized+not-in-roster-group" {
		t.Fatalf("bob reads once Friends is not allowed: %s", res)
	}
	info := xmpptest.MustIQ(t, bob, wait, "get", "alice@localhost", `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	if !strings.Contains(info.String(), pep.NS+"#access-roster") {
		t.Fatalf("access-roster not advertised: %s", info)
	}
}
