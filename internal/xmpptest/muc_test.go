package xmpptest_test

import (
	"strings"
	"testing"

	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// TestJoinRoom: the first occupant gets the self-presence that says the
// room was created (110 and 201); a join without the room's password, or
// with a nick taken, comes back as the refusal with its condition; with
// the password (a child of the MUC <x/>) the second occupant's
// self-presence carries 110 and not 201.
func TestJoinRoom(t *testing.T) {
	const room = "lounge@conference.localhost"
	srv := testserver.Start(t, nil)
	cs := srv.OnlineUsers(t, "pw", "r", "alice", "bob")
	alice, bob := cs[0], cs[1]

	self := xmpptest.MustJoinRoom(t, alice, wait, room, "alice")
	if self.Get("from") != room+"/alice" || !xmpptest.HasStatus(self, "110") || !xmpptest.HasStatus(self, "201") {
		t.Fatalf("creator's self-presence %s", self)
	}
	xmpptest.MustResult(t, alice, wait, "set", room, "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'>"+
		"<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>"+
		"<field var='muc#roomconfig_passwordprotectedroom'><value>1</value></field>"+
		"<field var='muc#roomconfig_roomsecret'><value>sesame</value></field></x></query>")

	for _, tc := range []struct{ nick, password, cond string }{
		{"bob", "", "not-authorized"},
		{"alice", "<password>sesame</password>", "conflict"},
	} {
		el, err := bob.JoinRoom(wait, room, tc.nick, tc.password)
		if err == nil || el == nil || xmpptest.ErrorConditions(el) != tc.cond || !strings.Contains(err.Error(), tc.cond) {
			t.Errorf("join as %s with %q: %v %v, want %s", tc.nick, tc.password, el, err, tc.cond)
		}
	}
	self = xmpptest.MustJoinRoom(t, bob, wait, room, "bob", "<password>sesame</password>")
	if self.Get("from") != room+"/bob" || xmpptest.HasStatus(self, "201") {
		t.Fatalf("second occupant's self-presence %s", self)
	}
	// alice's presence in the room, which bob got before his own, is not
	// taken for his (it has no 110): it is still there to read.
	xmpptest.MustExpect(t, bob, wait, "alice's presence in the room", xmpptest.Stanza("presence", "", room+"/alice"))
}
