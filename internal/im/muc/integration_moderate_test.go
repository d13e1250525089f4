package muc_test

import (
	"strings"
	"testing"

	"parley/internal/im/muc"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// TestModerationV0OverTCP: a moderator's request in the earlier form of
// XEP-0425 (v0.2: urn:xmpp:message-moderate:0 inside a urn:xmpp:fasten:0
// <apply-to/>, as slixmpp 1.8 sends it) retracts the message; everyone
// gets the retraction in that form and in the current one (v0.3,
// urn:xmpp:message-moderate:1), and the room advertises both.
func TestModerationV0OverTCP(t *testing.T) {
	srv := testserver.Start(t, nil)
	for _, u := range []string{"alice", "bob"} {
		srv.AddUser(t, u, password)
	}
	alice, bob := dial(t, srv, "alice"), dial(t, srv, "bob")
	openRoom(t, alice, "alice")
	enter(t, bob, "bob")

	info, err := bob.IQ(wait, "get", room, "<query xmlns='http://jabber.org/protocol/disco#info'/>")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"urn:xmpp:message-moderate:0", "urn:xmpp:message-moderate:1"} {
		if !strings.Contains(info.String(), "var='"+f+"'") {
			t.Fatalf("room does not advertise %s: %s", f, info)
		}
	}

	send(t, bob, "<message type='groupchat' to='"+room+"'><body>DM me for free magic potions!</body></message>")
	spam := expect(t, alice, "bob's spam", groupchat("bob", "DM me for free magic potions!"))
	id := spam.Child("stanza-id", muc.NSStanzaID).Get("id")

	res, err := alice.IQ(wait, "set", room, "<apply-to xmlns='urn:xmpp:fasten:0' id='"+id+"'>"+
		"<moderate xmlns='urn:xmpp:message-moderate:0'><retract xmlns='urn:xmpp:message-retract:0'/>"+
		"<reason>spam</reason></moderate></apply-to>")
	if err != nil || res.Get("type") != "result" {
		t.Fatalf("v0 moderation: %v %v", res, err)
	}
	for _, c := range []*xmpptest.Client{alice, bob} {
		m := expect(t, c, "the retraction", func(el *xmlstream.Element) bool {
			return el.Name == "message" && el.Get("from") == room && el.Child("apply-to", "urn:xmpp:fasten:0") != nil
		})
		old := m.Child("apply-to", "urn:xmpp:fasten:0")
		mod := old.Child("moderated", "urn:xmpp:message-moderate:0")
		if old.Get("id") != id || mod == nil || mod.Get("by") != room+"/alice" ||
			mod.Child("retract", "urn:xmpp:message-retract:0") == nil || mod.ChildText("reason", "") != "spam" {
			t.Fatalf("%s: v0 retraction: %s", c.JID, m)
		}
		cur := m.Child("retract", "urn:xmpp:message-retract:1")
		if cur == nil || cur.Get("id") != id || cur.Child("moderated", "urn:xmpp:message-moderate:1") == nil {
			t.Fatalf("%s: no current (v1) retraction beside v0: %s", c.JID, m)
		}
	}
}
