package pep_test

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/im/pep"
	"parley/internal/store"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const (
	wait      = 10 * time.Second
	password  = "pep pass 1"
	bookmarks = "urn:xmpp:bookmarks:1"
	room      = "coven@conference.localhost"
)

func login(t *testing.T, srv *testserver.Server, user, resource string) *xmpptest.Client {
	t.Helper()
	return srv.Online(t, user, password, resource)
}

// befriend puts a and b in each other's roster, subscribed to each
// other's presence.
func befriend(t *testing.T, srv *testserver.Server, a, b string) {
	t.Helper()
	for _, p := range [][2]string{{a, b}, {b, a}} {
		it := store.RosterItem{JID: p[1] + "@localhost", Subscription: store.SubBoth}
		if _, err := srv.Store().PutRosterItem(t.Context(), p[0], it); err != nil {
			t.Fatal(err)
		}
	}
}

// loginWithCaps logs in and sends presence with entity capabilities
// (XEP-0115) for features, answering the server's disco#info query the
// way a client does (§6.2), so that the ver verifies.
func loginWithCaps(t *testing.T, srv *testserver.Server, user, resource string, features ...string) *xmpptest.Client {
	t.Helper()
	c, err := xmpptest.Dial(context.Background(), srv.C2S(), xmpptest.Options{User: user, Password: password, Resource: resource})
	if err != nil {
		t.Fatalf("login %s/%s: %v", user, resource, err)
	}
	t.Cleanup(func() { c.Close() })
	features = slices.Sorted(slices.Values(features))
	s := "client/phone//omemo test<"
	for _, f := range features {
		s += f + "<"
	}
	sum := sha1.Sum([]byte(s))
	ver := base64.StdEncoding.EncodeToString(sum[:])
	if err := c.Send(`<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='urn:parley:test' ver='` + ver + `'/></presence>`); err != nil {
		t.Fatal(err)
	}
	q, err := c.Expect(wait, func(el *xmlstream.Element) bool {
		return el.Name == "iq" && el.Get("type") == "get" && el.Child("query", pep.NSDiscoInfo) != nil
	})
	if err != nil {
		t.Fatalf("%s/%s: no disco#info query: %v", user, resource, err)
	}
	answer := `<iq type='result' to='` + q.Get("from") + `' id='` + q.Get("id") + `'><query xmlns='` + pep.NSDiscoInfo +
		`' node='urn:parley:test#` + ver + `'><identity category='client' type='phone' name='omemo test'/>`
	for _, f := range features {
		answer += `<feature var='` + f + `'/>`
	}
	if err := c.Send(answer + `</query></iq>`); err != nil {
		t.Fatal(err)
	}
	return c
}

func isEvent(el *xmlstream.Element) bool { return el.Child("event", pep.NSEvent) != nil }

// submit is a submitted data form of formType with "var=value" fields.
func submit(formType string, fields ...string) string {
	s := `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>` + formType + `</value></field>`
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		s += `<field var='` + k + `'><value>` + v + `</value></field>`
	}
	return s + `</x>`
}

// publishOptions is XEP-0402 §3's form (and what Conversations sends).
func publishOptions(access string) string {
	return `<publish-options>` + submit(pep.NSPublishOptions, "pubsub#persist_items=true", "pubsub#max_items=max",
		"pubsub#send_last_published_item=never", "pubsub#access_model="+access) + `</publish-options>`
}

func conference(autojoin bool, nick string) string {
	return `<conference xmlns='` + bookmarks + `' name='The Coven' autojoin='` + strconv.FormatBool(autojoin) +
		`'><nick>` + nick + `</nick></conference>`
}

// TestBookmarksOverTCP: a client stores a bookmark with autojoin in PEP
// (XEP-0402) and another session of the account reads it back at login;
// access models keep it private, while an open node (an OMEMO bundle) is
// readable by anyone.
func TestBookmarksOverTCP(t *testing.T) {
	srv := testserver.Start(t, nil)
	srv.AddUsers(t, password, "alice", "bob")
	desk := loginWithCaps(t, srv, "alice", "desk", bookmarks+"+notify")

	info := xmpptest.MustIQ(t, desk, wait, "get", "", `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	if s := info.String(); !strings.Contains(s, "category='pubsub' type='pep'") || !strings.Contains(s, pep.NS+"#publish") {
		t.Fatalf("account disco: %s", s)
	}

	res := xmpptest.MustIQ(t, desk, wait, "set", "", `<pubsub xmlns='`+pep.NS+`'><publish node='`+bookmarks+`'><item id='`+room+`'>`+
		conference(true, "crone")+`</item></publish>`+publishOptions("whitelist")+`</pubsub>`)
	if res.Get("type") != "result" || !strings.Contains(res.String(), "id='"+room+"'") {
		t.Fatalf("publish: %s", res)
	}
	// XEP-0060 §7.1.2.1: the owner's resources are notified (those that
	// asked, XEP-0163 §4.2; should the caps be learned after the
	// publish, the last item comes instead, §4.3.4).
	ev, err := desk.Expect(wait, func(el *xmlstream.Element) bool { return el.Child("event", pep.NSEvent) != nil })
	if err != nil || !strings.Contains(ev.String(), "autojoin='true'") {
		t.Fatalf("notification: %v %s", err, ev)
	}

	// A second session, as after a client restart: reads the bookmarks.
	phone := login(t, srv, "alice", "phone")
	res = xmpptest.MustIQ(t, phone, wait, "get", "", `<pubsub xmlns='`+pep.NS+`'><items node='`+bookmarks+`'/></pubsub>`)
	items := res.Child("pubsub", pep.NS).Child("items", pep.NS)
	if items == nil || len(items.Children) != 1 {
		t.Fatalf("items: %s", res)
	}
	it := items.Children[0]
	c := it.Child("conference", bookmarks)
	if it.Get("id") != room || c == nil || c.Get("autojoin") != "true" || c.ChildText("nick", bookmarks) != "crone" {
		t.Fatalf("bookmark: %s", it)
	}

	// Whitelist: nobody else reads the bookmarks, nobody else publishes.
	bob := login(t, srv, "bob", "laptop")
	if res := xmpptest.MustIQ(t, bob, wait, "get", "alice@localhost", `<pubsub xmlns='`+pep.NS+`'><items node='`+bookmarks+`'/></pubsub>`); xmpptest.ErrorConditions(res) != "not-allowed+closed-node" {
		t.Fatalf("bob reads alice's bookmarks: %s", res)
	}
	if res := xmpptest.MustIQ(t, bob, wait, "set", "alice@localhost", `<pubsub xmlns='`+pep.NS+`'><publish node='x'><item><y xmlns='y'/></item></publish></pubsub>`); xmpptest.ErrorConditions(res) != "forbidden" {
		t.Fatalf("bob publishes to alice: %s", res)
	}
	// §7.1.5: options that contradict the node's configuration.
	if res := xmpptest.MustIQ(t, desk, wait, "set", "", `<pubsub xmlns='`+pep.NS+`'><publish node='`+bookmarks+`'><item id='x'>`+
		conference(false, "x")+`</item></publish>`+publishOptions("open")+`</pubsub>`); xmpptest.ErrorConditions(res) != "conflict+precondition-not-met" {
		t.Fatalf("mismatching publish-options: %s", res)
	}

	// An OMEMO bundle is open: bob may read it.
	const bundle = "eu.siacs.conversations.axolotl.bundles:1234"
	xmpptest.MustIQ(t, desk, wait, "set", "", `<pubsub xmlns='`+pep.NS+`'><publish node='`+bundle+`'><item id='current'>`+
		`<bundle xmlns='eu.siacs.conversations.axolotl'><signedPreKeyPublic signedPreKeyId='1'>AAAA</signedPreKeyPublic></bundle>`+
		`</item></publish>`+publishOptions("open")+`</pubsub>`)
	res = xmpptest.MustIQ(t, bob, wait, "get", "alice@localhost", `<pubsub xmlns='`+pep.NS+`'><items node='`+bundle+`' max_items='1'/></pubsub>`)
	if res.Get("type") != "result" || !strings.Contains(res.String(), "signedPreKeyId='1'") {
		t.Fatalf("bob reads the bundle: %s", res)
	}

	// Retract the bookmark (XEP-0402 §3.4): gone for the next login.
	if res := xmpptest.MustIQ(t, phone, wait, "set", "", `<pubsub xmlns='`+pep.NS+`'><retract node='`+bookmarks+`' notify='true'><item id='`+room+`'/></retract></pubsub>`); res.Get("type") != "result" {
		t.Fatalf("retract: %s", res)
	}
	if _, err := desk.Expect(wait, func(el *xmlstream.Element) bool {
		return strings.Contains(el.String(), "<retract id='"+room+"'")
	}); err != nil {
		t.Fatalf("retraction notification: %v", err)
	}
	res = xmpptest.MustIQ(t, phone, wait, "get", "", `<pubsub xmlns='`+pep.NS+`'><items node='`+bookmarks+`'/></pubsub>`)
	if n := len(res.Child("pubsub", pep.NS).Child("items", pep.NS).Children); n != 0 {
		t.Fatalf("items after retraction: %s", res)
	}
	// No such node.
	if res := xmpptest.MustIQ(t, phone, wait, "get", "", `<pubsub xmlns='`+pep.NS+`'><items node='nope'/></pubsub>`); xmpptest.ErrorConditions(res) != "item-not-found" {
		t.Fatalf("unknown node: %s", res)
	}
}

// TestOMEMODeviceListOverTCP: XEP-0163 §4.2-4.3 as OMEMO clients rely on
// them. A contact's client whose caps include the device list's +notify
// gets the last device list at login and every update; a client
// without it gets neither.
func TestOMEMODeviceListOverTCP(t *testing.T) {
	const devices = "eu.siacs.conversations.axolotl.devicelist"
	srv := testserver.Start(t, nil)
	srv.AddUsers(t, password, "alice", "bob")
	befriend(t, srv, "alice", "bob")
	list := func(id string) string {
		return `<pubsub xmlns='` + pep.NS + `'><publish node='` + devices + `'><item id='current'><list xmlns='eu.siacs.conversations.axolotl'><device id='` +
			id + `'/></list></item></publish>` + publishOptions("open") + `</pubsub>`
	}
	phone := loginWithCaps(t, srv, "alice", "phone", "http://jabber.org/protocol/disco#info", devices+"+notify")
	if res := xmpptest.MustIQ(t, phone, wait, "set", "", list("1001")); res.Get("type") != "result" {
		t.Fatalf("publish: %s", res)
	}

	// Bob's OMEMO client logs in: the last device list arrives.
	omemo := loginWithCaps(t, srv, "bob", "omemo", "http://jabber.org/protocol/disco#info", devices, devices+"+notify")
	ev, err := omemo.Expect(wait, isEvent)
	if err != nil || !strings.Contains(ev.String(), "<device id='1001'/>") || ev.Get("from") != "alice@localhost" {
		t.Fatalf("last item at login: %v %s", err, ev)
	}
	// A client of bob's without the +notify feature.
	plain := loginWithCaps(t, srv, "bob", "plain", "http://jabber.org/protocol/disco#info", devices)

	if res := xmpptest.MustIQ(t, phone, wait, "set", "", list("1002")); res.Get("type") != "result" {
		t.Fatalf("publish: %s", res)
	}
	_, err = omemo.Expect(wait, func(el *xmlstream.Element) bool {
		return isEvent(el) && strings.Contains(el.String(), "<device id='1002'/>")
	})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	// The plain client got neither: a round trip after the update shows
	// nothing came before it.
	xmpptest.MustIQ(t, plain, wait, "get", "", `<ping xmlns='urn:xmpp:ping'/>`)
	if ev, err := plain.Expect(100*time.Millisecond, isEvent); err == nil {
		t.Fatalf("a client without +notify got %s", ev)
	}
}

// TestPEPNotifyOptionsOverTCP: the pubsub#notify_* options of a PEP node
// (XEP-0060 §16.4.3): every retraction is notified by default; with
// notify_config the configuration change is, with notify_retract off only
// a retraction with notify='true' is, with notify_delete off the deletion
// is not.
func TestPEPNotifyOptionsOverTCP(t *testing.T) {
	srv := testserver.Start(t, nil)
	srv.AddUser(t, "alice", password)
	desk := loginWithCaps(t, srv, "alice", "desk", bookmarks+"+notify")
	// Notifications, not the last item sent (with <delay/>) once the
	// caps are learned, which may come after the first publish.
	isNotification := func(el *xmlstream.Element) bool { return isEvent(el) && el.Child("delay", "urn:xmpp:delay") == nil }
	next := func(what string) *xmlstream.Element {
		t.Helper()
		ev, err := desk.Expect(wait, isNotification)
		if err != nil || !strings.Contains(ev.String(), what) {
			t.Fatalf("event with %q: %v %s", what, err, ev)
		}
		return ev
	}
	quiet := func() {
		t.Helper()
		xmpptest.MustIQ(t, desk, wait, "get", "", `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
		if ev, err := desk.Expect(100*time.Millisecond, isNotification); err == nil {
			t.Fatalf("unexpected event %s", ev)
		}
	}
	pub := func(id string) {
		t.Helper()
		if res := xmpptest.MustIQ(t, desk, wait, "set", "", `<pubsub xmlns='`+pep.NS+`'><publish node='`+bookmarks+`'><item id='`+id+`'>`+
			conference(false, id)+`</item></publish>`+publishOptions("whitelist")+`</pubsub>`); res.Get("type") != "result" {
			t.Fatalf("publish: %s", res)
		}
		next("<nick>" + id + "</nick>")
	}
	retract := func(id, attrs string) {
		t.Helper()
		if res := xmpptest.MustIQ(t, desk, wait, "set", "", `<pubsub xmlns='`+pep.NS+`'><retract node='`+bookmarks+`'`+attrs+`><item id='`+id+`'/></retract></pubsub>`); res.Get("type") != "result" {
			t.Fatalf("retract: %s", res)
		}
	}
	pub("a@conference.localhost")
	retract("a@conference.localhost", "")
	next("<retract id='a@conference.localhost'/>")

	res := xmpptest.MustIQ(t, desk, wait, "set", "", `<pubsub xmlns='`+pep.NSOwner+`'><configure node='`+bookmarks+`'>`+
		submit(pep.NSNodeConfig, "pubsub#notify_config=1", "pubsub#notify_retract=0", "pubsub#notify_delete=0")+`</configure></pubsub>`)
	if res.Get("type") != "result" {
		t.Fatalf("configure: %s", res)
	}
	ev := next("<configuration node='" + bookmarks + "'>")
	if !strings.Contains(ev.String(), "<field var='pubsub#notify_delete' type='boolean' label='Notify subscribers when the node is deleted'><value>0</value>") {
		t.Fatalf("configuration event: %s", ev)
	}
	pub("b@conference.localhost")
	retract("b@conference.localhost", "")
	quiet()
	pub("c@conference.localhost")
	retract("c@conference.localhost", " notify='true'")
	next("<retract id='c@conference.localhost'/>")
	if res := xmpptest.MustIQ(t, desk, wait, "set", "", `<pubsub xmlns='`+pep.NSOwner+`'><delete node='`+bookmarks+`'/></pubsub>`); res.Get("type") != "result" {
		t.Fatalf("delete: %s", res)
	}
	quiet()
}

// TestPEPAuthorizeOverTCP: the authorize access model on a PEP node
// (XEP-0060 §4.5, §6.1.2, §8.6): a subscription is pending and the
// account gets the subscribe_authorization form; its answer, a message to
// its own bare JID, approves (the subscriber is told, may read, and gets
// notifications) or denies (the subscriber is told, and stays out).
func TestPEPAuthorizeOverTCP(t *testing.T) {
	const diary = "urn:example:diary"
	srv := testserver.Start(t, nil)
	srv.AddUsers(t, password, "alice", "bob", "carol")
	alice := login(t, srv, "alice", "desk")
	bob := login(t, srv, "bob", "phone")
	carol := login(t, srv, "carol", "phone")
	entry := func(id, text string) string {
		return `<pubsub xmlns='` + pep.NS + `'><publish node='` + diary + `'><item id='` + id + `'><entry xmlns='urn:example'>` + text + `</entry></item></publish>` +
			`<publish-options>` + submit(pep.NSPublishOptions, "pubsub#access_model=authorize", "pubsub#max_items=10") + `</publish-options></pubsub>`
	}
	if res := xmpptest.MustIQ(t, alice, wait, "set", "", entry("1", "first")); res.Get("type") != "result" {
		t.Fatalf("publish: %s", res)
	}
	subscribe := func(c *xmpptest.Client, who string) string {
		t.Helper()
		res := xmpptest.MustIQ(t, c, wait, "set", "alice@localhost", `<pubsub xmlns='`+pep.NS+`'><subscribe node='`+diary+`' jid='`+who+`'/></pubsub>`)
		sub := res.Child("pubsub", pep.NS).Child("subscription", pep.NS)
		if res.Get("type") != "result" || sub == nil || sub.Get("subscription") != "pending" {
			t.Fatalf("%s subscribes: %s", who, res)
		}
		return sub.Get("subid")
	}
	request := func(who string) {
		t.Helper()
		msg, err := alice.Expect(wait, func(el *xmlstream.Element) bool {
			return el.Name == "message" && strings.Contains(el.String(), pep.NS+"#subscribe_authorization") && strings.Contains(el.String(), who)
		})
		if err != nil || msg.Get("from") != "alice@localhost" {
			t.Fatalf("approval request for %s: %v %s", who, err, msg)
		}
	}
	answer := func(who, subid, allow string) {
		t.Helper()
		if err := alice.Send(`<message to='alice@localhost'>` + submit(pep.NS+"#subscribe_authorization", "pubsub#subid="+subid,
			"pubsub#node="+diary, "pubsub#subscriber_jid="+who, "pubsub#allow="+allow) + `</message>`); err != nil {
			t.Fatal(err)
		}
	}
	told := func(c *xmpptest.Client, who, state string) {
		t.Helper()
		if _, err := c.Expect(wait, func(el *xmlstream.Element) bool {
			ev := el.Child("event", pep.NSEvent)
			if ev == nil {
				return false
			}
			s := ev.Child("subscription", pep.NSEvent)
			return s != nil && s.Get("jid") == who && s.Get("subscription") == state
		}); err != nil {
			t.Fatalf("%s not told %s: %v", who, state, err)
		}
	}
	read := func(c *xmpptest.Client) *xmlstream.Element {
		t.Helper()
		return xmpptest.MustIQ(t, c, wait, "get", "alice@localhost", `<pubsub xmlns='`+pep.NS+`'><items node='`+diary+`'/></pubsub>`)
	}

	subid := subscribe(bob, "bob@localhost")
	request("bob@localhost")
	if res := read(bob); res.Get("type") != "error" {
		t.Fatalf("a pending subscriber reads: %s", res)
	}
	answer("bob@localhost", subid, "true")
	told(bob, "bob@localhost", "subscribed")
	if res := read(bob); res.Get("type") != "result" || !strings.Contains(res.String(), "first") {
		t.Fatalf("an approved subscriber reads: %s", res)
	}
	if res := xmpptest.MustIQ(t, alice, wait, "set", "", entry("2", "second")); res.Get("type") != "result" {
		t.Fatalf("publish: %s", res)
	}
	if _, err := bob.Expect(wait, func(el *xmlstream.Element) bool { return isEvent(el) && strings.Contains(el.String(), "second") }); err != nil {
		t.Fatalf("the approved subscriber's notification: %v", err)
	}

	subid = subscribe(carol, "carol@localhost")
	request("carol@localhost")
	answer("carol@localhost", subid, "false")
	told(carol, "carol@localhost", "none")
	if res := read(carol); res.Get("type") != "error" {
		t.Fatalf("a denied subscriber reads: %s", res)
	}
	// A decision again finds nothing pending.
	answer("carol@localhost", subid, "true")
	if res := read(carol); res.Get("type") != "error" {
		t.Fatalf("after a replayed answer: %s", res)
	}
}
