package pep_test

import (
	"strconv"
	"strings"
	"testing"

	"parley/internal/config"
	"parley/internal/im/pep"
	"parley/internal/store"
	"parley/internal/xmlstream"
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
	srv.AddUser(t, "mallory", password)
	srv.AddUser(t, "bob", password)
	m := login(t, srv, "mallory", "flood")
	bob := login(t, srv, "bob", "desk")

	if res := iq(t, m, "set", "", publishItem("big", "x", payloadOf(t, itemBytes+1))); condition(res) != "not-acceptable+payload-too-big" {
		t.Fatalf("oversized item: %s", res)
	}
	full := payloadOf(t, itemBytes)
	small := `<s xmlns='urn:test'/>`
	for i, node := range []string{"big", "n2", "n3"} {
		p := small
		if i == 0 {
			p = full
		}
		if res := iq(t, m, "set", "", publishItem(node, "0", p)); res.Get("type") != "result" {
			t.Fatalf("publish to %s: %s", node, res)
		}
	}
	if res := iq(t, m, "set", "", publishItem("n4", "0", small)); condition(res) != "policy-violation+max-nodes-exceeded" {
		t.Fatalf("node beyond pep_nodes: %s", res)
	}
	conf := iq(t, m, "get", "", `<pubsub xmlns='`+pep.NSOwner+`'><configure node='big'/></pubsub>`)
	if !strings.Contains(conf.String(), "<value>"+strconv.Itoa(nodeItems)+"</value>") {
		t.Fatalf("max_items=max is not pep_node_items: %s", conf)
	}

	// Fill the quota: the two small items take len(small) each.
	fit := (quota - 2*len(small)) / itemBytes
	for i := 1; i < fit; i++ {
		if res := iq(t, m, "set", "", publishItem("big", strconv.Itoa(i), full)); res.Get("type") != "result" {
			t.Fatalf("publish %d of %d: %s", i, fit, res)
		}
	}
	if res := iq(t, m, "set", "", publishItem("big", "over", full)); condition(res) != "policy-violation" {
		t.Fatalf("publish beyond pep_bytes: %s", res)
	}
	if res := iq(t, m, "set", "", publishItem("big", "3", full)); res.Get("type") != "result" {
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
		res := iq(t, bob, "get", "mallory@localhost", req)
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
	res := iq(t, bob, "get", "mallory@localhost", `<pubsub xmlns='`+pep.NS+`'><items node='big'/><set xmlns='`+pep.NSRSM+
		`'><max>2</max><after>1</after></set></pubsub>`)
	if s := res.String(); !strings.Contains(s, "<item id='2'>") || !strings.Contains(s, "<item id='4'>") || strings.Count(s, "<item ") != 2 {
		t.Fatalf("after 1, max 2: %s", res)
	}
	if res := iq(t, bob, "get", "mallory@localhost", `<pubsub xmlns='`+pep.NS+`'><items node='big'/><set xmlns='`+pep.NSRSM+
		`'><after>nope</after></set></pubsub>`); condition(res) != "item-not-found" {
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
	for _, u := range []string{"m1", "m2", "m3", "alice"} {
		srv.AddUser(t, u, password)
	}
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
	if res := iq(t, phone, "set", "", `<pubsub xmlns='`+pep.NS+`'><publish node='`+bookmarks+`'><item id='`+room+`'>`+
		conference(true, "crone")+`</item></publish>`+publishOptions("whitelist")+`</pubsub>`); res.Get("type") != "result" {
		t.Fatalf("publish: %s", res)
	}
	if _, err := phone.Expect(wait, isEvent); err != nil {
		t.Fatalf("no notification: %v", err)
	}
}

// TestRosterAccessRefusedOverTCP: issue 9 item 14. The roster access
// model (XEP-0060 §4.5, pubsub#roster_groups_allowed) is not served, so
// asking for it is refused with not-acceptable + unsupported-access-model,
// on creation by publish-options and on configuration, and never turned
// into presence access: a contact subscribed to the owner's presence and
// in the named group reads nothing. It is not advertised.
func TestRosterAccessRefusedOverTCP(t *testing.T) {
	srv := testserver.Start(t, nil)
	for _, u := range []string{"alice", "bob"} {
		srv.AddUser(t, u, password)
	}
	ctx := t.Context()
	for _, p := range [][2]string{{"alice", "bob@localhost"}, {"bob", "alice@localhost"}} {
		if _, err := srv.Store().PutRosterItem(ctx, p[0], store.RosterItem{JID: p[1], Subscription: store.SubBoth, Groups: []string{"Friends"}}); err != nil {
			t.Fatal(err)
		}
	}
	alice := login(t, srv, "alice", "desk")
	bob := login(t, srv, "bob", "desk")
	rosterOptions := `<publish-options><x xmlns='jabber:x:data' type='submit'>` +
		`<field var='FORM_TYPE' type='hidden'><value>` + pep.NSPublishOptions + `</value></field>` +
		`<field var='pubsub#access_model'><value>roster</value></field>` +
		`<field var='pubsub#roster_groups_allowed'><value>Friends</value></field></x></publish-options>`
	res := iq(t, alice, "set", "", `<pubsub xmlns='`+pep.NS+`'><publish node='urn:test:mood'><item id='1'><m xmlns='urn:test'/></item></publish>`+rosterOptions+`</pubsub>`)
	if condition(res) != "not-acceptable+unsupported-access-model" {
		t.Fatalf("publish with the roster model: %s", res)
	}
	if res := iq(t, bob, "get", "alice@localhost", `<pubsub xmlns='`+pep.NS+`'><items node='urn:test:mood'/></pubsub>`); condition(res) != "item-not-found" {
		t.Fatalf("the refused node exists: %s", res)
	}

	if res := iq(t, alice, "set", "", publishItem("urn:test:mood", "1", `<m xmlns='urn:test'/>`)); res.Get("type") != "result" {
		t.Fatalf("publish: %s", res)
	}
	configure := `<pubsub xmlns='` + pep.NSOwner + `'><configure node='urn:test:mood'><x xmlns='jabber:x:data' type='submit'>` +
		`<field var='FORM_TYPE' type='hidden'><value>` + pep.NSNodeConfig + `</value></field>` +
		`<field var='pubsub#access_model'><value>whitelist</value></field></x></configure></pubsub>`
	if res := iq(t, alice, "set", "", configure); res.Get("type") != "result" {
		t.Fatalf("configure whitelist: %s", res)
	}
	if res := iq(t, alice, "set", "", strings.Replace(configure, "whitelist", "roster", 1)); condition(res) != "not-acceptable+unsupported-access-model" {
		t.Fatalf("configure roster: %s", res)
	}
	if res := iq(t, bob, "get", "alice@localhost", `<pubsub xmlns='`+pep.NS+`'><items node='urn:test:mood'/></pubsub>`); condition(res) != "not-allowed+closed-node" {
		t.Fatalf("bob reads a whitelist node after a refused roster configuration: %s", res)
	}
	info := iq(t, bob, "get", "alice@localhost", `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	if strings.Contains(info.String(), "access-roster") {
		t.Fatalf("access-roster advertised: %s", info)
	}
}
