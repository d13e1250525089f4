package muc_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/internal/config"
	"parley/internal/im/muc"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// readOnly makes the test database refuse every write, as a full disk or
// a failed-over read-only replica would, and ends the server's
// connections so that it reconnects into read-only transactions (as
// internal/server's durability tests do).
func readOnly(t *testing.T, dsn string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		"ALTER DATABASE " + strings.TrimPrefix(u.Path, "/") + " SET default_transaction_read_only = on",
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

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
	send(t, bob, "<presence to='"+room+"/bob'><x xmlns='"+muc.NS+"'/></presence>")
	expect(t, bob, "bob's self-presence", selfPresence("bob", ""))
	send(t, bob, "<message type='groupchat' to='"+room+"' id='ok'><body>archived first</body></message>")
	expect(t, alice, "the archived message", groupchat("bob", "archived first"))
	xmpptest.Eventually(t, wait, func() error {
		if got, err := archivedInRoom(t, alice, "with", room+"/bob"); err != nil || len(got) != 1 {
			return fmt.Errorf("archived before the failure: %d %v", len(got), err)
		}
		return nil
	})

	readOnly(t, dsn)
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
