package server_test

import (
	"testing"

	"parley/internal/config"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// TestOnPostgres runs the server on the PostgreSQL store end to end:
// nothing above the store may know which backend it has. (`make test` also
// runs every integration suite with PARLEY_TEST_BACKEND=postgres.)
func TestOnPostgres(t *testing.T) {
	dsn := testserver.FreshPostgres(t)
	srv := newServer(t, func(c *config.Config) { c.Store = dsn })
	alice := online(t, srv, "alice", "desk")
	send(t, alice, "<iq type='set' id='r1'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' name='Bob'/></query></iq>")
	expect(t, alice, "the roster set result", xmpptest.Stanza("iq", "result", ""))
	send(t, alice, "<message to='bob@localhost' type='chat' id='pg1'><body>stored in PostgreSQL</body></message>")
	ping(t, alice)
	bob := online(t, srv, "bob", "phone")
	expect(t, bob, "the offline message", xmpptest.MessageBody("stored in PostgreSQL"))
}
