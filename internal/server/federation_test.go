package server_test

// Every IM feature across the link (issue 15): two parley servers,
// a.test and b.test, federating over real s2s streams on loopback (see
// federation in s2s_test.go), with users on each side.

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"parley/internal/entitycaps"
	"parley/internal/server"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
)

const (
	nsCarbons   = "urn:xmpp:carbons:2"
	nsForward   = "urn:xmpp:forward:0"
	nsMUCUser   = "http://jabber.org/protocol/muc#user"
	nsDiscoInfo = "http://jabber.org/protocol/disco#info"
)

// presenceOf matches available (typ "") or other presence from the full
// JID from.
func presenceOf(from, typ string) func(*xmlstream.Element) bool {
	return func(el *xmlstream.Element) bool {
		return el.Name == "presence" && el.Get("from") == from && el.Get("type") == typ
	}
}

// TestFederationPresence: a subscription between alice@a.test and
// bob@b.test both ways (RFC 6121 §3.1), a probe answered across the link
// when alice logs in again (§4.3), unavailable presence when bob leaves,
// and an unsubscribe that removes the subscription on both sides (§3.3).
func TestFederationPresence(t *testing.T) {
	a, b, alice, bob := federationOnline(t, nil)
	subscribe(t, alice, bob, "to", "from")
	subscribe(t, bob, alice, "both", "both")

	// A new session of alice's probes bob's server, which answers with
	// his presence (RFC 6121 §4.3.2).
	alice2 := fedOnline(t, a, "alice", "x2")
	expect(t, alice2, "bob's presence after login (probe)", presenceOf("bob@b.test/y", ""))
	// Bob's server is told of alice's new session too.
	expect(t, bob, "alice's new session", presenceOf("alice@a.test/x2", ""))

	// A second session of bob's, then it leaves: unavailable crosses.
	bob2 := fedOnline(t, b, "bob", "y2")
	expect(t, alice, "bob's second session", presenceOf("bob@b.test/y2", ""))
	send(t, bob2, "<presence type='unavailable'/>")
	expect(t, alice, "bob's second session gone", presenceOf("bob@b.test/y2", "unavailable"))

	// RFC 6121 §3.3: alice stops seeing bob's presence.
	send(t, alice, "<presence to='bob@b.test' type='unsubscribe'/>")
	expect(t, bob, "unsubscribe", xmpptest.Stanza("presence", "unsubscribe", "alice@a.test"))
	expect(t, bob, "roster push: bob still sees alice", rosterPush("alice@a.test", subscription("to", "")))
	expect(t, alice, "bob's unavailable after unsubscribe", presenceOf("bob@b.test/y", "unavailable"))
	expect(t, alice, "roster push: alice no longer sees bob", rosterPush("bob@b.test", subscription("from", "")))
	// Bob is still subscribed to alice: her presence reaches him.
	send(t, alice, "<presence><status>still here</status></presence>")
	expect(t, bob, "alice's presence (bob still subscribed)", func(el *xmlstream.Element) bool {
		return presenceOf("alice@a.test/x", "")(el) && el.ChildText("status", "") == "still here"
	})
}

// TestFederationChatCarbonsArchive: 1:1 chat between alice@a.test and
// bob@b.test; alice's other device gets carbons (XEP-0280) of what she
// sends and receives across the link, and both archives (XEP-0313) hold
// both messages.
func TestFederationChatCarbonsArchive(t *testing.T) {
	a, _, alice, bob := federationOnline(t, nil)
	phone := fedOnline(t, a, "alice", "phone")
	if res, err := phone.IQ(wait, "set", "", "<enable xmlns='"+nsCarbons+"'/>"); err != nil || res.Get("type") != "result" {
		t.Fatalf("enable carbons: %v %v", res, err)
	}
	chat(t, alice, "bob@b.test", bob, "from a")
	sent := expect(t, phone, "sent carbon", func(el *xmlstream.Element) bool {
		s := el.Child("sent", nsCarbons)
		return el.Name == "message" && s != nil && el.Get("from") == "alice@a.test"
	})
	if m := sent.Child("sent", nsCarbons).Child("forwarded", nsForward).Child("message", ""); m == nil ||
		m.Get("to") != "bob@b.test" || m.ChildText("body", "") != "from a" {
		t.Fatalf("sent carbon: %s", sent)
	}
	chat(t, bob, "alice@a.test/x", alice, "from b")
	received := expect(t, phone, "received carbon", func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Child("received", nsCarbons) != nil
	})
	if m := received.Child("received", nsCarbons).Child("forwarded", nsForward).Child("message", ""); m == nil ||
		m.Get("from") != "bob@b.test/y" || m.ChildText("body", "") != "from b" {
		t.Fatalf("received carbon: %s", received)
	}
	want := []string{"from a", "from b"}
	for _, c := range []*xmpptest.Client{alice, bob} {
		with := "bob@b.test"
		if c == bob {
			with = "alice@a.test"
		}
		if got := archiveBodies(t, c, "", with); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s's archive: %q, want %q", c.Bare(), got, want)
		}
	}
}

// iqResult sends an IQ get and fails the test unless a result from the
// addressee comes back; it returns the result's payload.
func iqResult(t *testing.T, c *xmpptest.Client, to, payload string) *xmlstream.Element {
	t.Helper()
	res, err := c.IQ(wait, "get", to, payload)
	if err != nil {
		t.Fatalf("iq to %s: %v", to, err)
	}
	if res.Get("type") != "result" || res.Get("from") != to {
		t.Fatalf("iq to %s %s: %s", to, payload, res)
	}
	if len(res.Children) == 0 {
		return nil
	}
	return res.Children[0]
}

// TestFederationIQs: IQs to a remote account (vCard, disco#info, ping)
// answered by its server, and to the remote server itself (disco#info,
// disco#items, ping, software version) across the link; an IQ to a
// remote user's full JID reaches that client and its answer comes back.
func TestFederationIQs(t *testing.T) {
	_, _, alice, bob := federationOnline(t, nil)
	if res, err := bob.IQ(wait, "set", "", "<vCard xmlns='vcard-temp'><FN>Bob of B</FN></vCard>"); err != nil || res.Get("type") != "result" {
		t.Fatalf("vcard set: %v %v", res, err)
	}
	if v := iqResult(t, alice, "bob@b.test", "<vCard xmlns='vcard-temp'/>"); v == nil || v.ChildText("FN", "") != "Bob of B" {
		t.Errorf("bob's vCard: %v", v)
	}
	if q := iqResult(t, alice, "bob@b.test", "<query xmlns='http://jabber.org/protocol/disco#info'/>"); q == nil || !hasChild(q, "identity", "type", "registered") {
		t.Errorf("bob's disco#info: %v", q)
	}
	iqResult(t, alice, "b.test", "<ping xmlns='urn:xmpp:ping'/>")
	if q := iqResult(t, alice, "b.test", "<query xmlns='http://jabber.org/protocol/disco#info'/>"); q == nil || !hasChild(q, "identity", "category", "server") {
		t.Errorf("b.test disco#info: %v", q)
	}
	if q := iqResult(t, alice, "b.test", "<query xmlns='http://jabber.org/protocol/disco#items'/>"); q == nil || !hasChild(q, "item", "jid", "conference.b.test") {
		t.Errorf("b.test disco#items: %v", q)
	}
	if q := iqResult(t, alice, "b.test", "<query xmlns='jabber:iq:version'/>"); q == nil || q.ChildText("name", "") == "" {
		t.Errorf("b.test version: %v", q)
	}
	// Bob's own client answers a version query to his full JID.
	send(t, alice, "<iq type='get' id='v1' to='bob@b.test/y'><query xmlns='jabber:iq:version'/></iq>")
	q := expect(t, bob, "alice's version query", xmpptest.Stanza("iq", "get", "alice@a.test/x"))
	send(t, bob, "<iq type='result' id='"+q.Get("id")+"' to='alice@a.test/x'><query xmlns='jabber:iq:version'><name>bobclient</name></query></iq>")
	r := expect(t, alice, "bob's version answer", xmpptest.Stanza("iq", "result", "bob@b.test/y"))
	if r.Get("id") != "v1" || r.Child("query", "jabber:iq:version").ChildText("name", "") != "bobclient" {
		t.Errorf("version answer: %s", r)
	}
}

// hasChild reports whether el has a child named name with attr = value.
func hasChild(el *xmlstream.Element, name, attr, value string) bool {
	for _, c := range el.Children {
		if c.Name == name && c.Get(attr) == value {
			return true
		}
	}
	return false
}

// linkProxy stands between a.test and b.test's s2s listener, so that a
// test can cut the link's connections or take the peer away.
type linkProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex // guards conns
	conns  []net.Conn
}

func newLinkProxy(t *testing.T, target string) *linkProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &linkProxy{ln: ln, target: target}
	t.Cleanup(p.down)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
	return p
}

func (p *linkProxy) pipe(c net.Conn) {
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, c, u)
	p.mu.Unlock()
	go func() { io.Copy(u, c); u.Close() }()
	io.Copy(c, u)
	c.Close()
}

// cut closes the connections under way, as a network failure would.
func (p *linkProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// down cuts the link and refuses new connections: the peer is gone.
func (p *linkProxy) down() {
	p.ln.Close()
	p.cut()
}

// TestFederationLinkCut: the link from a.test to b.test is cut in the
// middle of a conversation; what alice sends next reaches bob over a new
// link. Then b.test becomes unreachable: what alice sends is bounced to
// her with remote-server-not-found (RFC 6120 §10.4.3). Every message is
// either delivered or bounced, none lost silently.
func TestFederationLinkCut(t *testing.T) {
	a, b, alice, bob := federationOnline(t, nil)
	p := newLinkProxy(t, b.Addr("s2s").String())
	server.SetS2SRoute(a.Server, "b.test", p.ln.Addr().String())
	chat(t, alice, "bob@b.test", bob, "one")
	p.cut()
	chat(t, alice, "bob@b.test", bob, "two")
	chat(t, bob, "alice@a.test/x", alice, "three")
	p.cut()
	for _, id := range []string{"c1", "c2", "c3"} {
		send(t, alice, "<message to='bob@b.test' type='chat' id='"+id+"'><body>"+id+"</body></message>")
	}
	for _, id := range []string{"c1", "c2", "c3"} {
		expect(t, bob, "message "+id, xmpptest.MessageBody(id))
	}
	p.down()
	for _, id := range []string{"d1", "d2"} {
		send(t, alice, "<message to='bob@b.test' type='chat' id='"+id+"'><body>"+id+"</body></message>")
	}
	for _, id := range []string{"d1", "d2"} {
		bouncedWith(t, alice, id, "remote-server-not-found")
	}
}

// bobCaps is the disco#info of bob's client: it wants the notifications
// of nicknames (XEP-0172) and OMEMO device lists (XEP-0384).
const bobCaps = "<query xmlns='http://jabber.org/protocol/disco#info'><identity category='client' type='pc' name='bobclient'/>" +
	"<feature var='http://jabber.org/protocol/disco#info'/><feature var='http://jabber.org/protocol/nick+notify'/>" +
	"<feature var='eu.siacs.conversations.axolotl.devicelist+notify'/></query>"

// expectAnswering waits for what match wants at c, answering the
// disco#info queries that come first with info (XEP-0115 §6.2: the
// servers verify c's caps), its node set to the query's.
func expectAnswering(t *testing.T, c *xmpptest.Client, info, what string, match func(*xmlstream.Element) bool) *xmlstream.Element {
	t.Helper()
	for {
		el := expect(t, c, what, func(el *xmlstream.Element) bool {
			return match(el) || (el.Name == "iq" && el.Get("type") == "get" && el.Child("query", nsDiscoInfo) != nil)
		})
		if match(el) {
			return el
		}
		node := el.Child("query", nsDiscoInfo).Get("node")
		send(t, c, "<iq type='result' id='"+el.Get("id")+"' to='"+el.Get("from")+"'>"+
			strings.Replace(info, "<query ", "<query node='"+node+"' ", 1)+"</iq>")
	}
}

// pepEvent matches a PEP notification (XEP-0163 §4.3.1) from owner for
// node whose item contains payload.
func pepEvent(owner, node, payload string) func(*xmlstream.Element) bool {
	return func(el *xmlstream.Element) bool {
		ev := el.Child("event", "http://jabber.org/protocol/pubsub#event")
		if el.Name != "message" || el.Get("from") != owner || ev == nil {
			return false
		}
		items := ev.Child("items", "http://jabber.org/protocol/pubsub#event")
		return items != nil && items.Get("node") == node && strings.Contains(items.String(), payload)
	}
}

// TestFederationPEP: bob@b.test, subscribed to alice@a.test's presence
// (and she to his), comes online with entity capabilities (XEP-0115) that ask for nickname
// and OMEMO device list notifications. a.test learns them across the link
// and sends him alice's last nickname (XEP-0163 §4.3.2), then her new
// device list when she publishes it.
func TestFederationPEP(t *testing.T) {
	a, b := federation(t, nil)
	alice, bob := fedOnline(t, a, "alice", "x"), fedOnline(t, b, "bob", "y")
	// Bob sees alice's presence and she his: a.test receives his caps.
	subscribe(t, bob, alice, "to", "from")
	subscribe(t, alice, bob, "both", "both")
	publish := func(node, item string) {
		t.Helper()
		res, err := alice.IQ(wait, "set", "", "<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='"+node+"'><item id='current'>"+item+"</item></publish></pubsub>")
		if err != nil || res.Get("type") != "result" {
			t.Fatalf("publish %s: %v %v", node, res, err)
		}
	}
	publish("http://jabber.org/protocol/nick", "<nick xmlns='http://jabber.org/protocol/nick'>Alice A.</nick>")

	info, err := xmlstream.Parse([]byte(bobCaps), xmlstream.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	ver, _ := entitycaps.Ver("sha-1", info)
	send(t, bob, "<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://bob.example/client' ver='"+ver+"'/></presence>")
	last := expectAnswering(t, bob, bobCaps, "alice's last nickname", pepEvent("alice@a.test", "http://jabber.org/protocol/nick", "Alice A."))
	if last.Child("delay", "urn:xmpp:delay") == nil {
		t.Errorf("last item without its publication time: %s", last)
	}
	publish("eu.siacs.conversations.axolotl.devicelist", "<list xmlns='eu.siacs.conversations.axolotl'><device id='4223'/></list>")
	expect(t, bob, "alice's device list", pepEvent("alice@a.test", "eu.siacs.conversations.axolotl.devicelist", "4223"))
}

// selfPresence matches c's own presence in room (status 110, XEP-0045
// §7.2.2) of type typ.
func selfPresence(room, typ string) func(*xmlstream.Element) bool {
	return func(el *xmlstream.Element) bool {
		return el.Name == "presence" && el.Get("type") == typ && strings.HasPrefix(el.Get("from"), room+"/") &&
			xmpptest.HasStatus(el, "110")
	}
}

// joinRoom enters room as nick and returns c's own presence; a room it
// creates is made an instant room (XEP-0045 §10.1.2).
func joinRoom(t *testing.T, c *xmpptest.Client, room, nick string) *xmlstream.Element {
	t.Helper()
	self := xmpptest.MustJoinRoom(t, c, wait, room, nick)
	if xmpptest.HasStatus(self, "201") {
		res, err := c.IQ(wait, "set", room, "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query>")
		if err != nil || res.Get("type") != "result" {
			t.Fatalf("instant room %s: %v %v", room, res, err)
		}
	}
	return self
}

// groupchat matches a room message from room/nick with body.
func groupchat(from, body string) func(*xmlstream.Element) bool {
	return func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("type") == "groupchat" && el.Get("from") == from && el.ChildText("body", "") == body
	}
}

// TestFederationMUC: bob@b.test joins a room on a.test (XEP-0045): he
// gets the occupants' presence, the history and his own presence, talks
// with alice in the room and in private, and leaves with status 110;
// then alice joins a room on b.test and talks there.
func TestFederationMUC(t *testing.T) {
	_, _, alice, bob := federationOnline(t, nil)
	room := "lounge@conference.a.test"
	joinRoom(t, alice, room, "Alice")
	send(t, alice, "<message to='"+room+"' type='groupchat'><body>before bob</body></message>")
	expect(t, alice, "her own message", groupchat(room+"/Alice", "before bob"))

	joinRoom(t, bob, room, "Bob")
	expect(t, bob, "alice's presence in the room", presenceOf(room+"/Alice", ""))
	h := expect(t, bob, "the history", groupchat(room+"/Alice", "before bob"))
	if h.Child("delay", "urn:xmpp:delay") == nil {
		t.Errorf("history without delay: %s", h)
	}
	join := expect(t, alice, "bob's join", presenceOf(room+"/Bob", ""))
	if it := join.Child("x", nsMUCUser).Child("item", nsMUCUser); it == nil || it.Get("role") != "participant" {
		t.Errorf("bob's join presence: %s", join)
	}

	send(t, alice, "<message to='"+room+"' type='groupchat'><body>hi bob</body></message>")
	expect(t, bob, "alice's message", groupchat(room+"/Alice", "hi bob"))
	send(t, bob, "<message to='"+room+"' type='groupchat'><body>hi all</body></message>")
	expect(t, alice, "bob's message", groupchat(room+"/Bob", "hi all"))
	expect(t, bob, "his own message", groupchat(room+"/Bob", "hi all"))

	// Private messages (XEP-0045 §7.5) between the occupants, both ways.
	send(t, bob, "<message to='"+room+"/Alice' type='chat'><body>psst</body><x xmlns='"+nsMUCUser+"'/></message>")
	expect(t, alice, "bob's private message", func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("from") == room+"/Bob" && el.ChildText("body", "") == "psst"
	})
	send(t, alice, "<message to='"+room+"/Bob' type='chat'><body>psst back</body><x xmlns='"+nsMUCUser+"'/></message>")
	expect(t, bob, "alice's private message", func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("from") == room+"/Alice" && el.ChildText("body", "") == "psst back"
	})

	// §7.14: leaving; the leaver's own unavailable carries 110.
	send(t, bob, "<presence to='"+room+"/Bob' type='unavailable'/>")
	expect(t, bob, "his own unavailable with 110", selfPresence(room, "unavailable"))
	expect(t, alice, "bob's leave", presenceOf(room+"/Bob", "unavailable"))

	// A parley user in a room of the other parley server.
	other := "den@conference.b.test"
	joinRoom(t, bob, other, "Bob")
	joinRoom(t, alice, other, "Alice")
	expect(t, bob, "alice's join", presenceOf(other+"/Alice", ""))
	send(t, alice, "<message to='"+other+"' type='groupchat'><body>visiting</body></message>")
	expect(t, bob, "alice's message in his room", groupchat(other+"/Alice", "visiting"))
	expect(t, alice, "her own message in bob's room", groupchat(other+"/Alice", "visiting"))
	send(t, alice, "<presence to='"+other+"/Alice' type='unavailable'/>")
	expect(t, alice, "her own unavailable with 110", selfPresence(other, "unavailable"))
	expect(t, bob, "alice's leave", presenceOf(other+"/Alice", "unavailable"))
}
