package pep_test

import (
	"strings"
	"testing"
	"time"

	"parley/internal/im/pep"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// TestPEPSubscriptionsOverTCP: explicit subscriptions on PEP (XEP-0060
// §6.1-6.3 on the pubsub core): a contact without +notify caps
// subscribes and gets the last item with <delay/>, then each publish
// once; delivery can be turned off; access models apply to subscribing;
// the owner lists subscriptions (§8.8), makes outcasts and whitelist
// members (§8.9), purges (§8.5) and deletes (§8.4) with subscribers told.
func TestPEPSubscriptionsOverTCP(t *testing.T) {
	const news, secret = "urn:test:news", "urn:test:secret"
	srv := testserver.Start(t, nil)
	srv.AddUsers(t, password, "alice", "bob", "carol")
	befriend(t, srv, "alice", "bob")
	alice := login(t, srv, "alice", "desk")
	bob := login(t, srv, "bob", "desk") // no caps: no implicit notifications
	carol := login(t, srv, "carol", "desk")
	at := func(c *xmpptest.Client, typ, payload string) *xmlstream.Element {
		t.Helper()
		res, err := c.IQ(wait, typ, "alice@localhost", payload)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	ps := func(inner string) string { return `<pubsub xmlns='` + pep.NS + `'>` + inner + `</pubsub>` }
	owner := func(inner string) string { return `<pubsub xmlns='` + pep.NSOwner + `'>` + inner + `</pubsub>` }
	entry := func(text string) string { return `<entry xmlns='urn:test'>` + text + `</entry>` }
	eventWith := func(c *xmpptest.Client, want string) *xmlstream.Element {
		t.Helper()
		ev, err := c.Expect(wait, func(el *xmlstream.Element) bool { return isEvent(el) && strings.Contains(el.String(), want) })
		if err != nil {
			t.Fatalf("no event with %q: %v", want, err)
		}
		return ev
	}
	noEvent := func(c *xmpptest.Client) {
		t.Helper()
		xmpptest.MustIQ(t, c, wait, "get", "", `<ping xmlns='urn:xmpp:ping'/>`)
		if ev, err := c.Expect(100*time.Millisecond, isEvent); err == nil {
			t.Fatalf("unexpected event %s", ev)
		}
	}

	info := at(bob, "get", `<query xmlns='http://jabber.org/protocol/disco#info'/>`).String()
	for _, f := range []string{"#subscribe", "#subscription-options", "#manage-subscriptions", "#modify-affiliations", "#purge-nodes"} {
		if !strings.Contains(info, "'"+pep.NS+f+"'") {
			t.Fatalf("%s not advertised: %s", f, info)
		}
	}
	if res := xmpptest.MustIQ(t, alice, wait, "set", "", publishItem(news, "1", entry("first"))); res.Get("type") != "result" {
		t.Fatalf("publish: %s", res)
	}
	res := at(bob, "set", ps(`<subscribe node='`+news+`' jid='bob@localhost'/>`))
	if s := res.Child("pubsub", pep.NS).Child("subscription", pep.NS); s == nil || s.Get("subscription") != "subscribed" || s.Get("subid") == "" {
		t.Fatalf("subscribe: %s", res)
	}
	ev := eventWith(bob, "first")
	if ev.Child("delay", pep.NSDelay) == nil || ev.Get("from") != "alice@localhost" {
		t.Fatalf("last item: %s", ev)
	}
	xmpptest.MustIQ(t, alice, wait, "set", "", publishItem(news, "2", entry("second")))
	eventWith(bob, "second")

	// §6.3: delivery off, then on again.
	opts := `<options node='` + news + `' jid='bob@localhost'>` +
		submit("http://jabber.org/protocol/pubsub#subscribe_options", "pubsub#deliver=%s") + `</options>`
	if res := at(bob, "set", ps(strings.Replace(opts, "%s", "false", 1))); res.Get("type") != "result" {
		t.Fatalf("options: %s", res)
	}
	xmpptest.MustIQ(t, alice, wait, "set", "", publishItem(news, "3", entry("third")))
	noEvent(bob)
	at(bob, "set", ps(strings.Replace(opts, "%s", "true", 1)))
	if mine := at(bob, "get", ps(`<subscriptions/>`)).String(); !strings.Contains(mine, "node='"+news+"'") {
		t.Fatalf("bob's subscriptions: %s", mine)
	}

	// Access models apply; outcasts and whitelist members (§8.9).
	xmpptest.MustIQ(t, alice, wait, "set", "", `<pubsub xmlns='`+pep.NS+`'><publish node='urn:test:mood'><item id='1'>`+entry("happy")+`</item></publish></pubsub>`)
	if res := at(carol, "set", ps(`<subscribe node='urn:test:mood' jid='carol@localhost'/>`)); xmpptest.ErrorConditions(res) != "not-authorized+presence-subscription-required" {
		t.Fatalf("carol subscribes to a presence node: %s", res)
	}
	if res := xmpptest.MustIQ(t, alice, wait, "set", "", owner(`<affiliations node='`+news+`'><affiliation jid='carol@localhost' affiliation='outcast'/></affiliations>`)); res.Get("type") != "result" {
		t.Fatalf("outcast: %s", res)
	}
	if res := at(carol, "set", ps(`<subscribe node='`+news+`' jid='carol@localhost'/>`)); xmpptest.ErrorConditions(res) != "forbidden" {
		t.Fatalf("an outcast subscribes: %s", res)
	}
	if res := xmpptest.MustIQ(t, alice, wait, "set", "", owner(`<affiliations node='`+news+`'><affiliation jid='bob@localhost' affiliation='owner'/></affiliations>`)); xmpptest.ErrorConditions(res) != "not-acceptable" {
		t.Fatalf("a second PEP owner: %s", res)
	}
	xmpptest.MustIQ(t, alice, wait, "set", "", `<pubsub xmlns='`+pep.NS+`'><publish node='`+secret+`'><item id='1'>`+entry("hush")+`</item></publish>`+publishOptions("whitelist")+`</pubsub>`)
	if res := at(carol, "get", ps(`<items node='`+secret+`'/>`)); xmpptest.ErrorConditions(res) != "not-allowed+closed-node" {
		t.Fatalf("carol reads the whitelist node: %s", res)
	}
	xmpptest.MustIQ(t, alice, wait, "set", "", owner(`<affiliations node='`+secret+`'><affiliation jid='carol@localhost' affiliation='member'/></affiliations>`))
	if res := at(carol, "get", ps(`<items node='`+secret+`'/>`)); !strings.Contains(res.String(), "hush") {
		t.Fatalf("a member reads the whitelist node: %s", res)
	}
	affs := xmpptest.MustIQ(t, alice, wait, "get", "", owner(`<affiliations node='`+secret+`'/>`)).String()
	if !strings.Contains(affs, "jid='alice@localhost' affiliation='owner'") || !strings.Contains(affs, "jid='carol@localhost' affiliation='member'") {
		t.Fatalf("affiliations: %s", affs)
	}

	// §8.8, §8.5, §8.4.
	if subs := xmpptest.MustIQ(t, alice, wait, "get", "", owner(`<subscriptions node='`+news+`'/>`)).String(); !strings.Contains(subs, "jid='bob@localhost' subscription='subscribed'") {
		t.Fatalf("owner's subscriptions: %s", subs)
	}
	if res := xmpptest.MustIQ(t, alice, wait, "set", "", owner(`<purge node='`+news+`'/>`)); res.Get("type") != "result" {
		t.Fatalf("purge: %s", res)
	}
	eventWith(bob, "<purge node='"+news+"'/>")
	if res := xmpptest.MustIQ(t, alice, wait, "get", "", ps(`<items node='`+news+`'/>`)); len(res.Child("pubsub", pep.NS).Child("items", pep.NS).Children) != 0 {
		t.Fatalf("items after purge: %s", res)
	}
	xmpptest.MustIQ(t, alice, wait, "set", "", owner(`<delete node='`+news+`'/>`))
	eventWith(bob, "<delete node='"+news+"'/>")
	if res := at(bob, "set", ps(`<unsubscribe node='`+news+`' jid='bob@localhost'/>`)); xmpptest.ErrorConditions(res) != "item-not-found" {
		t.Fatalf("unsubscribe from a deleted node: %s", res)
	}
}

// TestPEPAffiliationsNotifyOverTCP: the owner's affiliations (XEP-0060
// §8.9) decide +notify notifications and last items too: an outcast
// contact gets neither from a presence node, a whitelist member gets
// both from a whitelist node.
func TestPEPAffiliationsNotifyOverTCP(t *testing.T) {
	const mood, diary = "urn:test:mood", "urn:test:diary"
	srv := testserver.Start(t, nil)
	srv.AddUsers(t, password, "alice", "bob")
	befriend(t, srv, "alice", "bob")
	alice := login(t, srv, "alice", "desk")
	owner := func(inner string) {
		t.Helper()
		if res := xmpptest.MustIQ(t, alice, wait, "set", "", `<pubsub xmlns='`+pep.NSOwner+`'>`+inner+`</pubsub>`); res.Get("type") != "result" {
			t.Fatalf("%s: %s", inner, res)
		}
	}
	pub := func(node, text, access string) {
		t.Helper()
		if res := xmpptest.MustIQ(t, alice, wait, "set", "", `<pubsub xmlns='`+pep.NS+`'><publish node='`+node+`'><item id='current'><p xmlns='urn:test'>`+text+
			`</p></item></publish>`+publishOptions(access)+`</pubsub>`); res.Get("type") != "result" {
			t.Fatalf("publish: %s", res)
		}
	}
	pub(mood, "happy", "presence")
	pub(diary, "dear diary", "whitelist")
	owner(`<affiliations node='` + mood + `'><affiliation jid='bob@localhost' affiliation='outcast'/></affiliations>`)
	owner(`<affiliations node='` + diary + `'><affiliation jid='bob@localhost' affiliation='member'/></affiliations>`)

	bob := loginWithCaps(t, srv, "bob", "phone", "http://jabber.org/protocol/disco#info", mood+"+notify", diary+"+notify")
	if _, err := bob.Expect(wait, func(el *xmlstream.Element) bool { return isEvent(el) && strings.Contains(el.String(), "dear diary") }); err != nil {
		t.Fatalf("a member's last item: %v", err)
	}
	pub(diary, "second page", "whitelist")
	if _, err := bob.Expect(wait, func(el *xmlstream.Element) bool { return isEvent(el) && strings.Contains(el.String(), "second page") }); err != nil {
		t.Fatalf("a member's notification: %v", err)
	}
	pub(mood, "sad", "presence")
	xmpptest.MustIQ(t, bob, wait, "get", "", `<ping xmlns='urn:xmpp:ping'/>`)
	if ev, err := bob.Expect(100*time.Millisecond, func(el *xmlstream.Element) bool {
		return isEvent(el) && strings.Contains(el.String(), "node='"+mood+"'")
	}); err == nil {
		t.Fatalf("an outcast got %s", ev)
	}
}
