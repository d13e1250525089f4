package muc_test

import (
	"strings"
	"testing"

	"parley/internal/xmpptest"
)

// TestExitToBareJIDOverTCP: an exit addressed to the room's bare JID (as
// aioxmpp sends it) is an exit like one to room/nick (XEP-0045 §7.14): the
// leaver gets its own unavailable presence with status 110, the others
// see it leave.
func TestExitToBareJIDOverTCP(t *testing.T) {
	alice, bob := aliceAndBob(t, openRoom)
	expect(t, alice, "bob's presence", xmpptest.Stanza("presence", "", room+"/bob"))

	send(t, bob, "<presence type='unavailable' to='"+room+"'/>")
	self := expect(t, bob, "bob's own exit", selfPresence("bob", "unavailable"))
	if !strings.Contains(self.String(), "role='none'") {
		t.Fatalf("exit self-presence without role none: %s", self)
	}
	expect(t, alice, "bob leaving", xmpptest.Stanza("presence", "unavailable", room+"/bob"))
	res, err := bob.IQ(wait, "get", room+"/bob", "<ping xmlns='urn:xmpp:ping'/>")
	if err != nil || !strings.Contains(res.String(), "not-acceptable") {
		t.Fatalf("bob is still an occupant after leaving: %v %v", res, err)
	}
}

// TestErrorPresenceOverTCP: an occupant whose client answers the room
// with an error presence is removed as kicked because of an error:
// unavailable presence with 307 and 333 to the others and to itself.
func TestErrorPresenceOverTCP(t *testing.T) {
	alice, bob := aliceAndBob(t, openRoom)
	expect(t, alice, "bob's presence", xmpptest.Stanza("presence", "", room+"/bob"))

	// Bob's client bounces alice's presence, as one that lost its state.
	send(t, bob, "<presence type='error' to='"+room+"/alice'><error type='cancel'>"+
		"<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>")
	for _, c := range []*xmpptest.Client{bob, alice} {
		gone := expect(t, c, "bob removed", xmpptest.Stanza("presence", "unavailable", room+"/bob"))
		s := gone.String()
		if !strings.Contains(s, "code='333'") || !strings.Contains(s, "code='307'") || !strings.Contains(s, "role='none'") {
			t.Fatalf("%s: removal without 307 and 333: %s", c.JID, s)
		}
		if self := strings.Contains(s, "code='110'"); self != (c == bob) {
			t.Fatalf("%s: status 110 wrong: %s", c.JID, s)
		}
	}
	res, err := bob.IQ(wait, "get", room+"/bob", "<ping xmlns='urn:xmpp:ping'/>")
	if err != nil || !strings.Contains(res.String(), "not-acceptable") {
		t.Fatalf("bob is still an occupant: %v %v", res, err)
	}
}
