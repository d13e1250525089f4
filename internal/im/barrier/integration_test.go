package barrier_test

import (
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const (
	wait = 10 * time.Second
	room = "desk@conference.localhost"
)

func policyViolation(el *xmlstream.Element) bool {
	return el.Get("type") == "error" && strings.Contains(el.String(), "policy-violation") && strings.Contains(el.String(), "research/trading")
}

// TestBarrierOverTCP: with [[barrier]] between alice and bob, alice's
// message and subscription request to bob bounce with policy-violation
// and never reach him; with alice in a room, bob's join is refused, and
// carol, on neither side, talks to both and joins.
func TestBarrierOverTCP(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) {
		c.Barriers = []config.Barrier{{Name: "research/trading", A: []string{"alice@localhost"}, B: []string{"bob@localhost"}}}
	})
	c := srv.OnlineUsers(t, "pw", "desk", "alice", "bob", "carol")
	alice, bob, carol := c[0], c[1], c[2]
	send := func(c *xmpptest.Client, raw string) {
		t.Helper()
		if err := c.Send(raw); err != nil {
			t.Fatal(err)
		}
	}
	refused := func(c *xmpptest.Client, what, id string) {
		t.Helper()
		el, err := c.Expect(wait, func(el *xmlstream.Element) bool { return el.Get("id") == id })
		if err != nil || !policyViolation(el) {
			t.Fatalf("%s: got %v %v, want policy-violation naming the barrier", what, el, err)
		}
	}

	send(alice, "<message type='chat' id='m1' to='bob@localhost'><body>the deal</body></message>")
	refused(alice, "message", "m1")
	send(alice, "<presence type='subscribe' id='s1' to='bob@localhost'/>")
	refused(alice, "subscription request", "s1")

	send(alice, "<presence to='"+room+"/alice'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
	if _, err := alice.Expect(wait, func(el *xmlstream.Element) bool {
		return el.Name == "presence" && el.Get("from") == room+"/alice" && strings.Contains(el.String(), "code='110'")
	}); err != nil {
		t.Fatal(err)
	}
	if res, err := alice.IQ(wait, "set", room, "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query>"); err != nil || res.Get("type") != "result" {
		t.Fatalf("instant room: %v %v", res, err)
	}
	send(bob, "<presence id='j1' to='"+room+"/bob'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
	refused(bob, "join", "j1")
	send(carol, "<presence id='j2' to='"+room+"/carol'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
	if _, err := carol.Expect(wait, func(el *xmlstream.Element) bool {
		return el.Name == "presence" && el.Get("from") == room+"/carol" && el.Get("type") != "error"
	}); err != nil {
		t.Fatalf("carol's join: %v", err)
	}

	// carol reaches bob; bob's first message is hers, none of alice's came.
	send(carol, "<message type='chat' id='c1' to='bob@localhost'><body>from carol</body></message>")
	el, err := bob.Expect(wait, func(el *xmlstream.Element) bool {
		return el.Name == "message" || (el.Name == "presence" && el.Get("type") == "subscribe")
	})
	if err != nil || el.ChildText("body", "") != "from carol" {
		t.Fatalf("bob got %v %v, want carol's message first", el, err)
	}
}
