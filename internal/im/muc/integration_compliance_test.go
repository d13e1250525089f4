package muc_test

import (
	"fmt"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// TestComplianceRoomArchiveFails (compliance mode, docs/design/06): with
// [archive] required, a message to a persistent room whose archive write
// fails reaches no occupant, and its sender gets resource-constraint
// (wait); before the failure messages are archived and broadcast. Over
// real sockets, PostgreSQL made read-only under the running server.
func TestComplianceRoomArchiveFails(t *testing.T) {
	dsn := testserver.FreshPostgres(t)
	srv := start(t, func(c *config.Config) { c.Store = dsn; c.Archive.Required = true }, "alice", "bob")
	alice, bob := dial(t, srv, "alice"), dial(t, srv, "bob")
	persistentRoom(t, alice, "alice")
	enter(t, bob, "bob")
	send(t, bob, "<message type='groupchat' to='"+room+"' id='ok'><body>archived first</body></message>")
	expect(t, alice, "the archived message", groupchat("bob", "archived first"))
	xmpptest.Eventually(t, wait, func() error {
		if got, err := archivedInRoom(t, alice, "with", room+"/bob"); err != nil || len(got) != 1 {
			return fmt.Errorf("archived before the failure: %d %v", len(got), err)
		}
		return nil
	})

	testserver.ReadOnlyPostgres(t, dsn)
	// Reads work again once every pooled connection failed once.
	for ok, i := 0, 0; ok < 10; i++ {
		if _, err := archivedInRoom(t, alice, "with", room+"/bob"); err == nil {
			ok++
		} else {
			ok = 0
		}
		if i == 100 {
			t.Fatal("the store does not answer reads")
		}
	}
	send(t, bob, "<message type='groupchat' to='"+room+"' id='lost'><body>not archived</body></message>")
	el := expect(t, bob, "the answer to the message", func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("id") == "lost"
	})
	if el.Get("type") != "error" || xmpptest.StanzaErrorCondition(el) != "resource-constraint" || el.Child("error", "").Get("type") != "wait" {
		t.Fatalf("answer to the message: %s, want a resource-constraint (wait) error", el)
	}
	// Anything the room broadcast was queued to alice before bob's
	// directed presence, sent after the bounce.
	send(t, bob, "<presence to='alice@localhost/r'/>")
	expect(t, alice, "bob's directed presence", xmpptest.Stanza("presence", "", "bob@localhost/r"))
	for _, c := range []*xmpptest.Client{alice, bob} {
		if el, err := c.Expect(time.Millisecond, xmpptest.MessageBody("not archived")); err == nil {
			t.Fatalf("%s received %s", c.JID, el)
		}
	}
}
