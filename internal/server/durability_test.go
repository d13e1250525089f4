package server_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// readsWork waits until the server's store answers reads again after its
// connections were ended (each pooled connection fails once): ten reads
// in a row succeed.
func readsWork(t *testing.T, srv *testserver.Server, c *xmpptest.Client) {
	t.Helper()
	ok := 0
	for i := 0; ok < 10; i++ {
		res, err := c.IQ(wait, "get", "", "<query xmlns='jabber:iq:roster'/>")
		if err != nil {
			t.Fatal(err)
		}
		code, _ := httpGet(t, srv, "/healthz") // reads the store too
		if res.Get("type") == "result" && code == http.StatusOK {
			ok++
		} else {
			ok = 0
		}
		if i == 100 {
			t.Fatalf("the store does not answer reads: %s", res)
		}
	}
}

// bounced waits for the error answer to the message with id and checks
// that it is resource-constraint, type wait (docs/design/06).
func bounced(t *testing.T, c *xmpptest.Client, id string) {
	t.Helper()
	el := expect(t, c, "the bounce of "+id, func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("id") == id
	})
	if el.Get("type") != "error" || xmpptest.StanzaErrorCondition(el) != "resource-constraint" || el.Child("error", "").Get("type") != "wait" {
		t.Fatalf("answer to %s: %s, want a resource-constraint (wait) error", id, el)
	}
}

func httpGet(t *testing.T, srv *testserver.Server, path string) (int, string) {
	t.Helper()
	res, err := http.Get("http://" + srv.HTTP() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// degraded checks that /healthz names the store's error and that the
// failure was counted.
func degraded(t *testing.T, srv *testserver.Server) {
	t.Helper()
	code, body := httpGet(t, srv, "/healthz")
	if code != http.StatusOK || !strings.HasPrefix(body, "degraded: ") || !strings.Contains(body, "read-only") {
		t.Errorf("/healthz = %d %q, want degraded naming the store's error", code, body)
	}
	res, err := http.Get("http://" + srv.Addr("metrics").String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	metrics := string(b)
	for _, line := range strings.Split(metrics, "\n") {
		if v, ok := strings.CutPrefix(line, "parley_durable_write_failures_total "); ok {
			if n, _ := strconv.ParseFloat(v, 64); n < 1 {
				t.Errorf("failures counted: %s", line)
			}
			return
		}
	}
	t.Error("no parley_durable_write_failures_total in /metrics")
}

// notDelivered checks that c has not received the message with body:
// whatever arrived before the stanza that match accepts (sent after the
// message on the same session) is in c's backlog.
func notDelivered(t *testing.T, c *xmpptest.Client, body string, after func(*xmlstream.Element) bool) {
	t.Helper()
	expect(t, c, "the stanza sent after "+body, after)
	if el, err := c.Expect(time.Millisecond, xmpptest.MessageBody(body)); err == nil {
		t.Fatalf("%s received %s", c.JID, el)
	}
}

// TestComplianceArchiveFails (issue 9, compliance mode): with
// [archive] required, a message the archive cannot hold reaches nobody,
// online or offline, and its sender gets resource-constraint; the failure
// shows in /healthz and the metrics. PostgreSQL is made read-only under
// the running server, with clients on both ends over real sockets.
func TestComplianceArchiveFails(t *testing.T) {
	dsn := testserver.FreshPostgres(t)
	srv := newServer(t, func(c *config.Config) { c.Store = dsn; c.Archive.Required = true })
	alice := online(t, srv, "alice", "desk")
	bob := online(t, srv, "bob", "phone")
	send(t, alice, "<message to='bob@localhost' type='chat' id='ok'><body>archived first</body></message>")
	expect(t, bob, "the archived message", xmpptest.MessageBody("archived first"))
	if code, body := httpGet(t, srv, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("/healthz = %d %q before the failure", code, body)
	}

	send(t, alice, "<enable xmlns='urn:xmpp:sm:3'/>")
	expect(t, alice, "stream management", func(el *xmlstream.Element) bool { return el.Name == "enabled" })

	testserver.ReadOnlyPostgres(t, dsn)
	readsWork(t, srv, alice)
	send(t, alice, "<message to='bob@localhost' type='chat' id='online'><body>for bob</body></message>")
	// The ack that covers the message comes only after its bounce: it is
	// never acknowledged as if it were stored.
	send(t, alice, "<r xmlns='urn:xmpp:sm:3'/>")
	expect(t, alice, "the ack", func(el *xmlstream.Element) bool { return el.Name == "a" })
	el, err := alice.Expect(time.Millisecond, func(el *xmlstream.Element) bool { return el.Get("id") == "online" })
	if err != nil {
		t.Fatal("acknowledged before the message was answered with its failure")
	}
	if el.Get("type") != "error" || xmpptest.StanzaErrorCondition(el) != "resource-constraint" || el.Child("error", "").Get("type") != "wait" {
		t.Fatalf("answer to the message: %s, want a resource-constraint (wait) error", el)
	}
	send(t, alice, "<presence to='bob@localhost/phone'/>")
	notDelivered(t, bob, "for bob", xmpptest.Stanza("presence", "", "alice@localhost/desk"))

	// carol is offline: not stored either.
	send(t, alice, "<message to='carol@localhost' type='chat' id='offline'><body>for carol</body></message>")
	bounced(t, alice, "offline")
	degraded(t, srv)
	if n, err := srv.Store().CountOffline(context.Background(), "carol"); err != nil || n != 0 {
		t.Fatalf("carol has %d offline messages (%v)", n, err)
	}
}

// TestStoreFailureVisible: outside compliance mode a message whose archive
// write fails is still delivered, and the failure is visible; a message
// for an offline user that offline storage cannot keep bounces with
// resource-constraint (wait) instead of being lost.
func TestStoreFailureVisible(t *testing.T) {
	dsn := testserver.FreshPostgres(t)
	srv := newServer(t, func(c *config.Config) { c.Store = dsn })
	alice := online(t, srv, "alice", "desk")
	bob := online(t, srv, "bob", "phone")
	testserver.ReadOnlyPostgres(t, dsn)
	readsWork(t, srv, alice)
	send(t, alice, "<message to='bob@localhost' type='chat' id='online'><body>for bob</body></message>")
	expect(t, bob, "the message", xmpptest.MessageBody("for bob"))
	send(t, alice, "<message to='carol@localhost' type='chat' id='offline'><body>for carol</body></message>")
	bounced(t, alice, "offline")
	degraded(t, srv)
}
