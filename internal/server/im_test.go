package server_test

import (
	"strings"
	"testing"
	"time"

	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
)

const nsRoster = "jabber:iq:roster"

// rosterPush matches a roster push (RFC 6121 §2.1.6) for contact whose
// item satisfies check.
func rosterPush(contact string, check func(item *xmlstream.Element) bool) func(*xmlstream.Element) bool {
	return func(el *xmlstream.Element) bool {
		if el.Name != "iq" || el.Get("type") != "set" {
			return false
		}
		q := el.Child("query", nsRoster)
		if q == nil {
			return false
		}
		it := q.Child("item", nsRoster)
		return it != nil && it.Get("jid") == contact && check(it)
	}
}

func subscription(sub, ask string) func(*xmlstream.Element) bool {
	return func(it *xmlstream.Element) bool {
		return it.Get("subscription") == sub && it.Get("ask") == ask
	}
}

// ackPush answers a roster push as RFC 6121 §2.1.6 asks of clients.
func ackPush(t *testing.T, c *xmpptest.Client, push *xmlstream.Element) {
	t.Helper()
	send(t, c, "<iq type='result' id='"+push.Get("id")+"'/>")
}

// subscribe runs RFC 6121 §3.1 with from asking to see to's presence.
func subscribe(t *testing.T, from, to *xmpptest.Client, fromSubAfter, toSubAfter string) {
	t.Helper()
	send(t, from, "<presence to='"+to.Bare()+"' type='subscribe'/>")
	// §3.1.2: the user's server pushes the pending item (ask='subscribe').
	p := expect(t, from, "roster push with ask='subscribe'", rosterPush(to.Bare(), func(it *xmlstream.Element) bool {
		return it.Get("ask") == "subscribe"
	}))
	ackPush(t, from, p)
	// §3.1.3: the contact gets the request from the user's bare JID.
	req := expect(t, to, "subscription request", xmpptest.Stanza("presence", "subscribe", from.Bare()))
	if req.Get("from") != from.Bare() {
		t.Errorf("subscription request from %q, want the bare JID %q", req.Get("from"), from.Bare())
	}
	send(t, to, "<presence to='"+from.Bare()+"' type='subscribed'/>")
	// §3.1.5: the contact's server pushes the approved state to the contact.
	p = expect(t, to, "roster push after approval", rosterPush(from.Bare(), subscription(toSubAfter, "")))
	ackPush(t, to, p)
	// §3.1.6: the user gets 'subscribed', a push, and the contact's presence.
	expect(t, from, "subscribed", xmpptest.Stanza("presence", "subscribed", to.Bare()))
	p = expect(t, from, "roster push after approval", rosterPush(to.Bare(), subscription(fromSubAfter, "")))
	ackPush(t, from, p)
	expect(t, from, "the contact's available presence", func(el *xmlstream.Element) bool {
		return el.Name == "presence" && el.Get("type") == "" && el.Get("from") == to.JID
	})
}

func TestSubscriptionBothWays(t *testing.T) {
	srv := newServer(t, nil)
	alice := login(t, srv, "alice", "desk")
	bob := login(t, srv, "bob", "phone")
	// RFC 6121 §2.1.6: pushes go to "interested" resources, those that
	// requested the roster; clients do that before initial presence.
	for _, c := range []*xmpptest.Client{alice, bob} {
		if res, err := c.IQ(wait, "get", "", "<query xmlns='jabber:iq:roster'/>"); err != nil || res.Get("type") != "result" {
			t.Fatalf("%s roster get: %v %s", c.JID, err, res)
		}
		if err := c.SendPresence(); err != nil {
			t.Fatal(err)
		}
	}

	// RFC 6121 §2.3: add the contact first, as clients do.
	res, err := alice.IQ(wait, "set", "", "<query xmlns='jabber:iq:roster'><item jid='bob@localhost' name='Bob'><group>Friends</group></item></query>")
	if err != nil || res.Get("type") != "result" {
		t.Fatalf("roster set: %v %s", err, res)
	}
	p := expect(t, alice, "roster push of the new item", rosterPush("bob@localhost", subscription("none", "")))
	if p.Child("query", nsRoster).Child("item", nsRoster).ChildText("group", nsRoster) != "Friends" {
		t.Errorf("push lost the group: %s", p)
	}
	ackPush(t, alice, p)

	subscribe(t, alice, bob, "to", "from")
	subscribe(t, bob, alice, "both", "both")

	for _, c := range []struct {
		cl      *xmpptest.Client
		contact string
	}{{alice, "bob@localhost"}, {bob, "alice@localhost"}} {
		res, err := c.cl.IQ(wait, "get", "", "<query xmlns='jabber:iq:roster'/>")
		if err != nil {
			t.Fatal(err)
		}
		q := res.Child("query", nsRoster)
		if q == nil {
			t.Fatalf("roster get: %s", res)
		}
		it := q.Child("item", nsRoster)
		if it == nil || it.Get("jid") != c.contact || it.Get("subscription") != "both" {
			t.Fatalf("%s roster = %s, want %s with subscription both", c.cl.JID, res, c.contact)
		}
	}

	// RFC 6121 §4.4: a presence change reaches the subscriber.
	send(t, alice, "<presence><show>away</show><status>lunch</status></presence>")
	el := expect(t, bob, "alice's away presence", xmpptest.Stanza("presence", "", alice.JID))
	for el.ChildText("show", "") != "away" {
		el = expect(t, bob, "alice's away presence", xmpptest.Stanza("presence", "", alice.JID))
	}
	// §4.5: unavailable presence reaches the subscriber when alice leaves.
	alice.Close()
	expect(t, bob, "alice's unavailable presence", xmpptest.Stanza("presence", "unavailable", alice.JID))
}

func TestMessagesBothWays(t *testing.T) {
	srv := newServer(t, nil)
	alice := online(t, srv, "alice", "desk")
	bob := online(t, srv, "bob", "phone")
	tests := []struct {
		from, to *xmpptest.Client
		addr     string
		body     string
	}{
		{alice, bob, "bob@localhost/phone", "hello bob & co <3"},
		{bob, alice, "alice@localhost/desk", "hi alice"},
		{alice, bob, "bob@localhost", "to the bare JID"},
		{bob, alice, "alice@localhost", "back to bare"},
	}
	for _, tc := range tests {
		send(t, tc.from, "<message to='"+tc.addr+"' type='chat' id='m1'><body>"+escape(tc.body)+"</body></message>")
		el := expect(t, tc.to, "message "+tc.body, xmpptest.MessageBody(tc.body))
		// RFC 6120 §8.1.2.1: the server stamps the sender's full JID.
		if el.Get("from") != tc.from.JID {
			t.Errorf("from = %q, want %q", el.Get("from"), tc.from.JID)
		}
		if el.Get("to") != tc.addr {
			t.Errorf("to = %q, want %q", el.Get("to"), tc.addr)
		}
	}
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// RFC 6121 §8.5.2.2.1 and XEP-0160: a chat message to an account with no
// session is stored and delivered at the next login with a XEP-0203 delay.
func TestOfflineMessageDelivered(t *testing.T) {
	srv := newServer(t, nil)
	alice := online(t, srv, "alice", "desk")
	send(t, alice, "<message to='bob@localhost' type='chat' id='off1'><body>while you were out</body></message>")
	// Let the store accept it before bob appears (no ack exists without SM):
	// a ping is answered only after the message was routed.
	ping(t, alice)
	bob := online(t, srv, "bob", "phone")
	el := expect(t, bob, "the offline message", xmpptest.MessageBody("while you were out"))
	d := el.Child("delay", "urn:xmpp:delay")
	if d == nil {
		t.Fatalf("offline message without <delay xmlns='urn:xmpp:delay'/>: %s", el)
	}
	stamp, err := time.Parse(time.RFC3339, d.Get("stamp"))
	if err != nil || time.Since(stamp) > time.Minute || time.Until(stamp) > time.Second {
		t.Errorf("delay stamp %q is not a recent UTC time (%v)", d.Get("stamp"), err)
	}
	if d.Get("from") != "localhost" {
		t.Errorf("delay from = %q, want localhost", d.Get("from"))
	}
	if !strings.HasPrefix(el.Get("from"), "alice@localhost") {
		t.Errorf("offline message from %q", el.Get("from"))
	}
	// Delivered once: a second login gets nothing more.
	bob.Close()
	again := online(t, srv, "bob", "phone2")
	if _, err := again.Expect(500*time.Millisecond, xmpptest.MessageBody("while you were out")); err == nil {
		t.Fatal("offline message delivered twice")
	}
}

// RFC 6121 §8.5.1: an IQ to an account that does not exist gets
// service-unavailable.
func TestIQToUnknownUser(t *testing.T) {
	srv := newServer(t, nil)
	alice := login(t, srv, "alice", "desk")
	for _, to := range []string{"nobody@localhost", "nobody@localhost/res"} {
		res, err := alice.IQ(wait, "get", to, "<query xmlns='jabber:iq:version'/>")
		if err != nil {
			t.Fatal(err)
		}
		if res.Get("type") != "error" || xmpptest.StanzaErrorCondition(res) != "service-unavailable" {
			t.Errorf("IQ to %s: %s, want error service-unavailable", to, res)
		}
		if res.Get("from") != to {
			t.Errorf("error from %q, want %q", res.Get("from"), to)
		}
	}
}

// XEP-0030 on the server's domain.
func TestDiscoInfoOnDomain(t *testing.T) {
	srv := newServer(t, nil)
	alice := login(t, srv, "alice", "desk")
	res, err := alice.IQ(wait, "get", "localhost", "<query xmlns='http://jabber.org/protocol/disco#info'/>")
	if err != nil {
		t.Fatal(err)
	}
	q := res.Child("query", "http://jabber.org/protocol/disco#info")
	if res.Get("type") != "result" || q == nil {
		t.Fatalf("disco#info: %s", res)
	}
	id := q.Child("identity", "")
	if id == nil || id.Get("category") != "server" || id.Get("type") != "im" {
		t.Errorf("identity = %v, want category server type im", id)
	}
	have := map[string]bool{}
	for _, f := range q.Children {
		if f.Name == "feature" {
			have[f.Get("var")] = true
		}
	}
	for _, want := range []string{"http://jabber.org/protocol/disco#info", "urn:xmpp:ping", "vcard-temp", "jabber:iq:version"} {
		if !have[want] {
			t.Errorf("feature %s not advertised (have %v)", want, have)
		}
	}
}

// XEP-0199: the server answers a ping; a ping to another user's full JID
// is routed to that client, which answers.
func TestPing(t *testing.T) {
	srv := newServer(t, nil)
	alice := login(t, srv, "alice", "desk")
	bob := login(t, srv, "bob", "phone")
	ping(t, alice)
	send(t, alice, "<iq type='get' id='p2' to='bob@localhost/phone'><ping xmlns='urn:xmpp:ping'/></iq>")
	req := expect(t, bob, "alice's ping", xmpptest.Stanza("iq", "get", alice.JID))
	send(t, bob, "<iq type='result' id='"+req.Get("id")+"' to='"+req.Get("from")+"'/>")
	el := expect(t, alice, "bob's pong", func(el *xmlstream.Element) bool { return el.Name == "iq" && el.Get("id") == "p2" })
	if el.Get("type") != "result" || el.Get("from") != bob.JID {
		t.Fatalf("pong = %s", el)
	}
}

// XEP-0054: set one's own vCard, read it back and read it as someone else.
func TestVCardSetGet(t *testing.T) {
	srv := newServer(t, nil)
	alice := login(t, srv, "alice", "desk")
	bob := login(t, srv, "bob", "phone")
	res, err := alice.IQ(wait, "set", "", "<vCard xmlns='vcard-temp'><FN>Alice Liddell</FN><NICKNAME>al</NICKNAME></vCard>")
	if err != nil || res.Get("type") != "result" {
		t.Fatalf("vCard set: %v %s", err, res)
	}
	for _, c := range []struct {
		cl *xmpptest.Client
		to string
	}{{alice, ""}, {bob, "alice@localhost"}} {
		res, err := c.cl.IQ(wait, "get", c.to, "<vCard xmlns='vcard-temp'/>")
		if err != nil {
			t.Fatal(err)
		}
		v := res.Child("vCard", "vcard-temp")
		if res.Get("type") != "result" || v == nil || v.ChildText("FN", "vcard-temp") != "Alice Liddell" {
			t.Fatalf("%s vCard get: %s", c.cl.JID, res)
		}
	}
	// An account without a vCard answers with an empty one or
	// item-not-found (XEP-0054 §3.1), never with another's.
	res, err = alice.IQ(wait, "get", "bob@localhost", "<vCard xmlns='vcard-temp'/>")
	if err != nil {
		t.Fatal(err)
	}
	if v := res.Child("vCard", "vcard-temp"); v != nil && v.ChildText("FN", "") != "" {
		t.Fatalf("bob's vCard = %s", res)
	}
}
