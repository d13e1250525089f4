package muc_test

import (
	"fmt"
	"strings"
	"testing"

	"parley/internal/im/muc"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
)

// TestModerationV0OverTCP: a moderator's request in the earlier form of
// XEP-0425 (v0.2: urn:xmpp:message-moderate:0 inside a urn:xmpp:fasten:0
// <apply-to/>, as slixmpp 1.8 sends it) retracts the message; everyone
// gets the retraction in that form and in the current one (v0.3,
// urn:xmpp:message-moderate:1), and the room advertises both.
func TestModerationV0OverTCP(t *testing.T) {
	alice, bob := aliceAndBob(t, openRoom)

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

// TestModerationTombstoneOverTCP: after a moderation the room's archive
// keeps the message under its id, sender and metadata, without its body
// and payloads, with the moderation marker (XEP-0425 §5), and a search
// for its words no longer finds it.
func TestModerationTombstoneOverTCP(t *testing.T) {
	alice, bob := aliceAndBob(t, persistentRoom)

	send(t, bob, "<message type='groupchat' to='"+room+"'><body>potions</body>"+
		"<x xmlns='jabber:x:oob'><url>https://spam.example/</url></x></message>")
	spam := expect(t, alice, "bob's spam", groupchat("bob", "potions"))
	id := spam.Child("stanza-id", muc.NSStanzaID).Get("id")
	// The room archives a message after delivering it: wait for it.
	xmpptest.Eventually(t, wait, func() error {
		got, err := archivedInRoom(t, alice, "ids", id)
		if err != nil || len(got) != 1 || got[0].ChildText("body", "") != "potions" {
			return fmt.Errorf("before moderation: %v %v", got, err)
		}
		return nil
	})

	res, err := alice.IQ(wait, "set", room, "<moderate xmlns='urn:xmpp:message-moderate:1' id='"+id+"'>"+
		"<retract xmlns='urn:xmpp:message-retract:1'/><reason>spam</reason></moderate>")
	if err != nil || res.Get("type") != "result" {
		t.Fatalf("moderation: %v %v", res, err)
	}
	expect(t, bob, "the retraction", func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Child("retract", "urn:xmpp:message-retract:1") != nil
	})
	// The tombstone is written after the broadcast: wait for it.
	var tomb *xmlstream.Element
	xmpptest.Eventually(t, wait, func() error {
		got, err := archivedInRoom(t, alice, "ids", id)
		if err != nil || len(got) != 1 || got[0].Child("retracted", "urn:xmpp:message-retract:1") == nil {
			return fmt.Errorf("no tombstone yet: %v %v", got, err)
		}
		tomb = got[0]
		return nil
	})
	if tomb.Get("from") != room+"/bob" || tomb.Child("body", "") != nil || tomb.Child("x", "jabber:x:oob") != nil ||
		tomb.Child("stanza-id", muc.NSStanzaID).Get("id") != id || tomb.Child("occupant-id", muc.NSOccupantID) == nil {
		t.Fatalf("tombstone: %s", tomb)
	}
	mod := tomb.Child("retracted", "urn:xmpp:message-retract:1").Child("moderated", "urn:xmpp:message-moderate:1")
	if mod == nil || mod.Get("by") != room+"/alice" {
		t.Fatalf("tombstone without the moderation marker: %s", tomb)
	}
	if got, err := archivedInRoom(t, alice, "withtext", "potions"); err != nil || len(got) != 0 {
		t.Fatalf("a search still finds the moderated words: %v %v", got, err)
	}
}

// TestSenderRetractionTombstoneOverTCP: an occupant's retraction of its
// own message (XEP-0424, naming the room's stanza-id) turns the archived
// message into a tombstone with the retraction marker; a retraction of
// someone else's message leaves it as it was (XEP-0424 §7).
func TestSenderRetractionTombstoneOverTCP(t *testing.T) {
	alice, bob := aliceAndBob(t, persistentRoom)
	say := func(body string) string {
		send(t, bob, "<message type='groupchat' to='"+room+"'><body>"+body+"</body></message>")
		return expect(t, bob, "echo", groupchat("bob", body)).Child("stanza-id", muc.NSStanzaID).Get("id")
	}
	oops, keep := say("oops, wrong room"), say("kept")
	archived := func(id string) *xmlstream.Element {
		t.Helper()
		var el *xmlstream.Element
		xmpptest.Eventually(t, wait, func() error {
			got, err := archivedInRoom(t, alice, "ids", id)
			if err != nil || len(got) != 1 {
				return fmt.Errorf("%s not archived: %v %v", id, got, err)
			}
			el = got[0]
			return nil
		})
		return el
	}
	archived(keep)

	send(t, bob, "<message type='groupchat' to='"+room+"'><retract xmlns='urn:xmpp:message-retract:1' id='"+oops+"'/>"+
		"<body>/me retracted a message</body><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/></message>")
	send(t, alice, "<message type='groupchat' to='"+room+"'><retract xmlns='urn:xmpp:message-retract:1' id='"+keep+"'/></message>")
	expect(t, bob, "alice's attempt", func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("from") == room+"/alice" && el.Child("retract", "urn:xmpp:message-retract:1") != nil
	})
	xmpptest.Eventually(t, wait, func() error {
		if tomb := archived(oops); tomb.Child("retracted", "urn:xmpp:message-retract:1") == nil || tomb.Child("body", "") != nil {
			return fmt.Errorf("no tombstone: %s", tomb)
		}
		return nil
	})
	// Alice's retraction was judged before bob saw it broadcast.
	if kept := archived(keep); kept.ChildText("body", "") != "kept" || kept.Child("retracted", "urn:xmpp:message-retract:1") != nil {
		t.Fatalf("another's retraction changed the message: %s", kept)
	}
}
