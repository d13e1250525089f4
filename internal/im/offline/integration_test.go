package offline_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const (
	wait     = 30 * time.Second // generous: megabytes move under -race on a shared machine
	password = "offline pass 1"
	nsSM     = "urn:xmpp:sm:3"
)

func dial(t *testing.T, srv *testserver.Server, user, resource string) *xmpptest.Client {
	t.Helper()
	c, err := xmpptest.Dial(context.Background(), srv.C2S(), xmpptest.Options{User: user, Password: password, Resource: resource})
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func send(t *testing.T, c *xmpptest.Client, raw string) {
	t.Helper()
	if err := c.Send(raw); err != nil {
		t.Fatal(err)
	}
}

// bigBody is a body of about n bytes that names message i.
func bigBody(i, n int) string {
	return fmt.Sprintf("m%03d ", i) + strings.Repeat("x", n)
}

func bodyIndex(t *testing.T, el *xmlstream.Element) int {
	t.Helper()
	b := el.ChildText("body", "")
	i, err := strconv.Atoi(strings.TrimPrefix(strings.Fields(b + " ")[0], "m"))
	if err != nil {
		t.Fatalf("unexpected message %.80s", el)
	}
	return i
}

// fillOffline has alice send n messages of size bytes to bob, who is
// offline, and waits until every one is stored (acknowledged by XEP-0198).
func fillOffline(t *testing.T, srv *testserver.Server, n, size int) {
	t.Helper()
	alice := dial(t, srv, "alice", "a")
	send(t, alice, "<enable xmlns='"+nsSM+"'/>")
	if _, err := alice.Expect(wait, func(el *xmlstream.Element) bool { return el.Name == "enabled" }); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		send(t, alice, "<message to='bob@localhost' type='chat'><body>"+bigBody(i, size)+"</body></message>")
	}
	send(t, alice, "<r xmlns='"+nsSM+"'/>")
	if _, err := alice.Expect(wait, func(el *xmlstream.Element) bool { return el.Name == "a" && el.Get("h") == strconv.Itoa(n) }); err != nil {
		t.Fatal(err)
	}
	stored, err := srv.Store().CountOffline(context.Background(), "bob")
	if err != nil || stored != n {
		t.Fatalf("%d stored (%v), want %d", stored, err, n)
	}
}

func newServer(t *testing.T) *testserver.Server {
	srv := testserver.Start(t, nil)
	srv.AddUsers(t, password, "alice", "bob")
	return srv
}

// receiveBacklog makes c available and expects the stored messages from
// m<from> to m<n-1>, in order, before any stream error.
func receiveBacklog(t *testing.T, c *xmpptest.Client, from, n int) {
	t.Helper()
	send(t, c, "<presence/>")
	for i := from; i < n; i++ {
		el, err := c.Expect(wait, func(el *xmlstream.Element) bool { return el.Name == "message" || xmpptest.IsStreamError(el) })
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if got := bodyIndex(t, el); got != i {
			t.Fatalf("message %d is m%03d", i, got)
		}
	}
}

// waitStored waits until bob has n messages stored.
func waitStored(t *testing.T, srv *testserver.Server, n int) {
	t.Helper()
	xmpptest.Eventually(t, wait, func() error {
		got, err := srv.Store().CountOffline(context.Background(), "bob")
		if err == nil && got != n {
			err = fmt.Errorf("bob has %d messages stored, want %d", got, n)
		}
		return err
	})
}

// Issue 10 item 1: sixty 200 KB messages (12 MB, three times the outbox
// bound) all reach a user who logs in, in order, and only then leave
// offline storage.
func TestLargeBacklogDelivered(t *testing.T) {
	const n, size = 60, 200 << 10
	srv := newServer(t)
	fillOffline(t, srv, n, size)
	bob := dial(t, srv, "bob", "b")
	receiveBacklog(t, bob, 0, n)
	waitStored(t, srv, 0)
}

// With stream management, a stored message is deleted only once the
// client acknowledged it: a client that acknowledges late loses nothing,
// and one that goes away finds the unacknowledged rest at its next login.
// Sixty messages of 10 KB with a 432,000-byte queue bound: delivery
// batches of a quarter of it (108,000 bytes) hold exactly ten of them
// whatever the few hundred bytes of addresses, stanza-id and delay, so
// the first batch is the ten messages bob reads before acknowledging.
func TestOfflineAckedOnly(t *testing.T) {
	const n, size, first = 60, 10000, 10
	srv := testserver.Start(t, func(c *config.Config) { c.Limits.MaxQueue = 432000 })
	srv.AddUsers(t, password, "alice", "bob")
	fillOffline(t, srv, n, size)
	bob := dial(t, srv, "bob", "b")
	send(t, bob, "<enable xmlns='"+nsSM+"'/>")
	if _, err := bob.Expect(wait, func(el *xmlstream.Element) bool { return el.Name == "enabled" }); err != nil {
		t.Fatal(err)
	}
	send(t, bob, "<presence/>")
	// Read the first messages without acknowledging anything, then
	// acknowledge exactly the stanzas read so far.
	handled := 0
	for got := 0; got < first; {
		el, err := bob.Recv(wait)
		if err != nil {
			t.Fatalf("after %d messages: %v", got, err)
		}
		switch {
		case el.Name == "r" || el.Name == "enabled":
		case el.Name == "message":
			if i := bodyIndex(t, el); i != got {
				t.Fatalf("message %d is m%03d", got, i)
			}
			got++
			handled++
		default:
			handled++ // the own presence
		}
	}
	send(t, bob, "<a xmlns='"+nsSM+"' h='"+strconv.Itoa(handled)+"'/>")
	waitStored(t, srv, n-first)
	bob.Kill() // gone without closing the stream: nothing more is acknowledged
	waitStored(t, srv, n-first)

	// At the next login (no stream management), exactly the rest.
	bob = dial(t, srv, "bob", "b2")
	receiveBacklog(t, bob, first, n)
	waitStored(t, srv, 0)
}

// Issue 10 item 2: a hibernated session (XEP-0198, waiting for its client
// to resume) whose unacknowledged stanzas outgrow the outbound bound ends,
// and everything sent to it goes to offline storage: the messages behind
// the bound too, never nowhere. An IQ that cannot be stored is answered
// with an error.
func TestHibernatedOverflowStored(t *testing.T) {
	const big, size, small = 25, 200 << 10, 5 // 5 MB: beyond the 4 MiB bound
	srv := newServer(t)
	bob := dial(t, srv, "bob", "b")
	send(t, bob, "<enable xmlns='"+nsSM+"' resume='true'/>")
	if _, err := bob.Expect(wait, func(el *xmlstream.Element) bool { return el.Name == "enabled" }); err != nil {
		t.Fatal(err)
	}
	send(t, bob, "<presence/>")
	if _, err := bob.Expect(wait, func(el *xmlstream.Element) bool { return el.Name == "presence" }); err != nil {
		t.Fatal(err)
	}
	bob.Kill() // the session waits for a resumption

	alice := dial(t, srv, "alice", "a")
	send(t, alice, "<iq type='get' id='v1' to='bob@localhost/b'><query xmlns='jabber:iq:version'/></iq>")
	for i := range big {
		send(t, alice, "<message to='bob@localhost' type='chat'><body>"+bigBody(i, size)+"</body></message>")
	}
	for i := big; i < big+small; i++ {
		send(t, alice, "<message to='bob@localhost' type='chat'><body>"+bigBody(i, 10)+"</body></message>")
	}
	iq, err := alice.Expect(wait, func(el *xmlstream.Element) bool { return el.Name == "iq" && el.Get("id") == "v1" })
	if err != nil || iq.Get("type") != "error" || xmpptest.StanzaErrorCondition(iq) != "service-unavailable" {
		t.Fatalf("iq to the hibernated session: %v %s", err, iq)
	}
	waitStored(t, srv, big+small)

	bob = dial(t, srv, "bob", "b2")
	send(t, bob, "<presence/>")
	seen := make(map[int]bool)
	for len(seen) < big+small {
		el, err := bob.Expect(wait, func(el *xmlstream.Element) bool { return el.Name == "message" || xmpptest.IsStreamError(el) })
		if err != nil {
			t.Fatalf("after %d messages: %v", len(seen), err)
		}
		seen[bodyIndex(t, el)] = true
	}
	waitStored(t, srv, 0)
}

// Issue 9 item 8: offline_max = 0 disables offline storage, as documented:
// a message for an unavailable user bounces with service-unavailable
// (RFC 6121 §8.5.2.1.1) and is not stored, and msgoffline is not
// advertised.
func TestOfflineDisabled(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) { c.Limits.OfflineMax = 0 })
	srv.AddUsers(t, password, "alice", "bob")
	alice := dial(t, srv, "alice", "a")
	send(t, alice, "<message to='bob@localhost' type='chat' id='m1'><body>nobody keeps this</body></message>")
	el, err := alice.Expect(wait, func(el *xmlstream.Element) bool { return el.Name == "message" && el.Get("id") == "m1" })
	if err != nil || el.Get("type") != "error" || xmpptest.StanzaErrorCondition(el) != "service-unavailable" {
		t.Fatalf("answer: %v %s, want service-unavailable", err, el)
	}
	waitStored(t, srv, 0)
	info, err := alice.IQ(wait, "get", "localhost", "<query xmlns='http://jabber.org/protocol/disco#info'/>")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range info.Child("query", "http://jabber.org/protocol/disco#info").Children {
		if f.Name == "feature" && f.Get("var") == "msgoffline" {
			t.Fatal("msgoffline advertised with offline storage disabled")
		}
	}
}

// Issue 10 item 8: offline storage is bounded in bytes per user, not only
// in messages: past offline_bytes a message bounces with
// service-unavailable (XEP-0160 §3) and is not stored.
func TestOfflineBytesQuota(t *testing.T) {
	const size = 200 << 10
	srv := testserver.Start(t, func(c *config.Config) { c.Limits.OfflineBytes = 1 << 20 })
	srv.AddUsers(t, password, "alice", "bob")
	alice := dial(t, srv, "alice", "a")
	for i := range 6 {
		send(t, alice, "<message to='bob@localhost' type='chat' id='m"+strconv.Itoa(i)+"'><body>"+bigBody(i, size)+"</body></message>")
	}
	el, err := alice.Expect(wait, func(el *xmlstream.Element) bool { return el.Name == "message" && el.Get("type") == "error" })
	if err != nil || el.Get("id") != "m5" || xmpptest.StanzaErrorCondition(el) != "service-unavailable" {
		t.Fatalf("bounce: %v %.200s, want m5 with service-unavailable", err, el)
	}
	waitStored(t, srv, 5)
}
