package muc_test

import (
	"testing"

	"parley/internal/config"
	"parley/internal/im/muc"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// TestCreateAdminsOverTCP: with [muc] create = "admins", only the listed
// admins create rooms; anyone else's join of a room that does not exist
// gets not-allowed (XEP-0045 §10.1.1), and may join a room an admin made.
func TestCreateAdminsOverTCP(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) {
		c.MUC = config.MUC{Create: config.MUCCreateAdmins, Admins: []string{"alice@localhost"}}
	})
	for _, u := range []string{"alice", "bob"} {
		srv.AddUser(t, u, password)
	}
	alice, bob := dial(t, srv, "alice"), dial(t, srv, "bob")

	send(t, bob, "<presence to='"+room+"/bob'><x xmlns='"+muc.NS+"'/></presence>")
	refused := expect(t, bob, "refusal", xmpptest.Stanza("presence", "error", room+"/bob"))
	if c := xmpptest.StanzaErrorCondition(refused); c != "not-allowed" {
		t.Fatalf("creation by a non-admin: %s", refused)
	}
	openRoom(t, alice, "alice")
	enter(t, bob, "bob")
}
