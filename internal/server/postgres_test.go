package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"parley/internal/config"
	"parley/internal/xmpptest"
)

// freshPostgres creates an empty database on the test PostgreSQL server
// (PARLEY_TEST_POSTGRES, default the local one) and drops it at the end.
// Without a server the test skips, except under CI, where it fails.
func freshPostgres(t *testing.T) string {
	t.Helper()
	base := os.Getenv("PARLEY_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL unreachable under CI: %v", err)
		}
		t.Skipf("SKIP: PostgreSQL unreachable (%v); set PARLEY_TEST_POSTGRES", err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "parley_server_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		conn.Close(context.Background())
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// TestOnPostgres runs the server on the PostgreSQL store end to end:
// nothing above the store may know which backend it has.
func TestOnPostgres(t *testing.T) {
	dsn := freshPostgres(t)
	srv := newServer(t, func(c *config.Config) { c.Store = dsn })
	alice := online(t, srv, "alice", "desk")
	send(t, alice, "<iq type='set' id='r1'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' name='Bob'/></query></iq>")
	expect(t, alice, "the roster set result", xmpptest.Stanza("iq", "result", ""))
	send(t, alice, "<message to='bob@localhost' type='chat' id='pg1'><body>stored in PostgreSQL</body></message>")
	ping(t, alice)
	bob := online(t, srv, "bob", "phone")
	expect(t, bob, "the offline message", xmpptest.MessageBody("stored in PostgreSQL"))
}
