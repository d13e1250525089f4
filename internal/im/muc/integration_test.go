package muc_test

import (
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/im/muc"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const (
	room     = "coven@conference.localhost"
	password = "integration pass 1"
	wait     = 10 * time.Second
)

// start starts a server configured by configure (nil: the defaults) with
// the accounts users, all with password.
func start(t *testing.T, configure func(*config.Config), users ...string) *testserver.Server {
	t.Helper()
	srv := testserver.Start(t, configure)
	srv.AddUsers(t, password, users...)
	return srv
}

// dial logs user in as resource r with initial presence.
func dial(t *testing.T, srv *testserver.Server, user string) *xmpptest.Client {
	t.Helper()
	return srv.Online(t, user, password, "r")
}

func expect(t *testing.T, c *xmpptest.Client, what string, match func(*xmlstream.Element) bool) *xmlstream.Element {
	t.Helper()
	return xmpptest.MustExpect(t, c, wait, what, match)
}

var send = xmpptest.MustSend

// selfPresence matches the self-presence (status 110) from room/nick.
func selfPresence(nick, typ string) func(*xmlstream.Element) bool {
	return func(el *xmlstream.Element) bool {
		if el.Name != "presence" || el.Get("from") != room+"/"+nick || el.Get("type") != typ {
			return false
		}
		return xmpptest.HasStatus(el, "110")
	}
}

func groupchat(from, body string) func(*xmlstream.Element) bool {
	return func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("type") == "groupchat" && el.Get("from") == room+"/"+from &&
			el.ChildText("body", "") == body
	}
}

// enter has c join the room as nick (xmpptest.JoinRoom) and returns its
// self-presence, which comes from room/nick.
func enter(t *testing.T, c *xmpptest.Client, nick string) *xmlstream.Element {
	t.Helper()
	self := xmpptest.MustJoinRoom(t, c, wait, room, nick)
	if self.Get("from") != room+"/"+nick {
		t.Fatalf("%s's self-presence: %s", nick, self)
	}
	return self
}

// createRoom has c create the room under nick and configure it with
// form (§10.1.2, §10.1.3); it returns the creation self-presence.
func createRoom(t *testing.T, c *xmpptest.Client, nick, form string) *xmlstream.Element {
	t.Helper()
	self := enter(t, c, nick)
	res, err := c.IQ(wait, "set", room, "<query xmlns='"+muc.NSOwner+"'>"+form+"</query>")
	if err != nil || res.Get("type") != "result" {
		t.Fatalf("configuring the new room: %v %v", res, err)
	}
	return self
}

// instantRoom is the empty submission that makes an instant room (§10.1.2).
const instantRoom = "<x xmlns='jabber:x:data' type='submit'/>"

// openRoom has c create the room as an instant room under nick.
func openRoom(t *testing.T, c *xmpptest.Client, nick string) {
	t.Helper()
	createRoom(t, c, nick, instantRoom)
}

// persistentRoom has c create the room and configure it persistent, so
// that it archives (XEP-0313 §5).
func persistentRoom(t *testing.T, c *xmpptest.Client, nick string) {
	t.Helper()
	createRoom(t, c, nick, muc.DataForm("submit", muc.NSRoomConfig, "muc#roomconfig_", "persistentroom=1"))
}

// aliceAndBob starts a server where alice made the room with create
// (openRoom or persistentRoom) and bob entered it.
func aliceAndBob(t *testing.T, create func(*testing.T, *xmpptest.Client, string)) (alice, bob *xmpptest.Client) {
	t.Helper()
	srv := start(t, nil, "alice", "bob")
	alice, bob = dial(t, srv, "alice"), dial(t, srv, "bob")
	create(t, alice, "alice")
	enter(t, bob, "bob")
	return alice, bob
}

// archivedInRoom queries the room's archive for the message with a
// stanza-id, or with text, and returns the archived <message/>s.
func archivedInRoom(t *testing.T, c *xmpptest.Client, field, value string) ([]*xmlstream.Element, error) {
	t.Helper()
	a, err := c.QueryArchive(wait, room, xmpptest.MAMForm("<field var='"+field+"'><value>"+value+"</value></field>"))
	if err != nil {
		return nil, err
	}
	return a.Messages(), nil
}

// TestIntegration drives the service over real TCP connections: disco
// finds the service, two users join, talk, a third gets history on join,
// the owner kicks one.
func TestIntegration(t *testing.T) {
	srv := start(t, nil, "alice", "bob", "carol")
	alice, bob := dial(t, srv, "alice"), dial(t, srv, "bob")

	items, err := alice.IQ(wait, "get", "localhost", "<query xmlns='http://jabber.org/protocol/disco#items'/>")
	if err != nil || !strings.Contains(items.String(), "conference.localhost") {
		t.Fatalf("the domain's disco#items do not list the MUC service: %v %v", items, err)
	}

	if self := createRoom(t, alice, "alice", instantRoom); !strings.Contains(self.String(), "code='201'") {
		t.Fatalf("no 201 on creation: %s", self)
	}

	enter(t, bob, "bob")
	expect(t, alice, "bob's presence", xmpptest.Stanza("presence", "", room+"/bob"))

	send(t, bob, "<message type='groupchat' to='"+room+"'><body>hello coven</body></message>")
	for _, c := range []*xmpptest.Client{alice, bob} {
		m := expect(t, c, "bob's message", groupchat("bob", "hello coven"))
		if m.Child("stanza-id", muc.NSStanzaID) == nil {
			t.Fatalf("no stanza-id: %s", m)
		}
	}
	send(t, alice, "<message type='groupchat' to='"+room+"'><body>welcome bob</body></message>")
	expect(t, bob, "alice's message", groupchat("alice", "welcome bob"))

	carol := dial(t, srv, "carol")
	send(t, carol, "<presence to='"+room+"/carol'><x xmlns='"+muc.NS+"'><history maxstanzas='1'/></x></presence>")
	expect(t, carol, "carol's self-presence", selfPresence("carol", ""))
	h := expect(t, carol, "history", groupchat("alice", "welcome bob"))
	if d := h.Child("delay", muc.NSDelay); d == nil || d.Get("from") != room {
		t.Fatalf("history without delay from the room: %s", h)
	}
	expect(t, carol, "subject", func(el *xmlstream.Element) bool { return el.Child("subject", "") != nil })

	res, err := alice.IQ(wait, "set", room, "<query xmlns='"+muc.NSAdmin+"'><item nick='bob' role='none'><reason>enough</reason></item></query>")
	if err != nil || res.Get("type") != "result" {
		t.Fatalf("kick: %v %v", res, err)
	}
	kicked := expect(t, bob, "bob's kick", selfPresence("bob", "unavailable"))
	if !strings.Contains(kicked.String(), "code='307'") {
		t.Fatalf("kick without 307: %s", kicked)
	}
	expect(t, carol, "bob leaving", xmpptest.Stanza("presence", "unavailable", room+"/bob"))
	res, err = bob.IQ(wait, "get", room+"/bob", "<ping xmlns='urn:xmpp:ping'/>")
	if err != nil || !strings.Contains(res.String(), "not-acceptable") {
		t.Fatalf("self-ping after the kick: %v %v", res, err)
	}

	// A session that ends leaves the room (the presence module tells it).
	carol.Close()
	expect(t, alice, "carol gone", xmpptest.Stanza("presence", "unavailable", room+"/carol"))
}
