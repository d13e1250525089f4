package muc_test

import (
	"testing"

	"parley/internal/config"
	"parley/internal/im/muc"
	"parley/internal/xmpptest"
)

// TestCreateAdminsOverTCP: with [muc] create = "admins", only the listed
// admins create rooms; anyone else's join of a room that does not exist
// gets not-allowed (XEP-0045 §10.1.1), and may join a room an admin made.
func TestCreateAdminsOverTCP(t *testing.T) {
	srv := start(t, func(c *config.Config) {
		c.MUC = config.MUC{Create: config.MUCCreateAdmins, Admins: []string{"alice@localhost"}}
	}, "alice", "bob")
	alice, bob := dial(t, srv, "alice"), dial(t, srv, "bob")

	send(t, bob, "<presence to='"+room+"/bob'><x xmlns='"+muc.NS+"'/></presence>")
	refused := expect(t, bob, "refusal", xmpptest.Stanza("presence", "error", room+"/bob"))
	if c := xmpptest.StanzaErrorCondition(refused); c != "not-allowed" {
		t.Fatalf("creation by a non-admin: %s", refused)
	}
	openRoom(t, alice, "alice")
	enter(t, bob, "bob")
}
