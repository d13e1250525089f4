package c2stest

import (
	"testing"
	"time"

	"parley/internal/xmpptest"
)

const wait = 5 * time.Second

// TestLogin: a client logs in over the in-memory listener, binds the
// resource it asked for, and gets its ping answered.
func TestLogin(t *testing.T) {
	srv := Start(t, nil)
	srv.AddUser(t, "alice", "pw")
	c := srv.Login(t, "alice", "pw", "desk")
	if c.JID != "alice@localhost/desk" {
		t.Fatalf("bound %q", c.JID)
	}
	res, err := c.IQ(wait, "get", "localhost", "<ping xmlns='urn:xmpp:ping'/>")
	if err != nil {
		t.Fatal(err)
	}
	if res.Get("type") != "result" {
		t.Fatalf("ping answered with %s", res)
	}
	if _, err := srv.Dial(t, xmpptest.Options{User: "alice", Password: "wrong"}); err == nil {
		t.Fatal("a wrong password logged in")
	}
}

// TestAdvance: the server's time moves only in Advance, which returns
// after the sweeps that fell due: an idle client is pinged (XEP-0199)
// after half the idle timeout of fake time, not before.
func TestAdvance(t *testing.T) {
	srv := Start(t, nil) // idle timeout 10 min
	srv.AddUser(t, "alice", "pw")
	c := srv.Login(t, "alice", "pw", "desk")
	srv.Advance(t, 4*time.Minute)
	// A ping round trip of our own: anything the sweeps sent arrived
	// before its answer.
	if _, err := c.IQ(wait, "get", "localhost", "<ping xmlns='urn:xmpp:ping'/>"); err != nil {
		t.Fatal(err)
	}
	if el, err := c.Expect(time.Millisecond, xmpptest.Stanza("iq", "get", "localhost")); err == nil {
		t.Fatalf("pinged after 4 of 10 minutes: %s", el)
	}
	srv.Advance(t, 6*time.Minute)
	if _, err := c.Expect(wait, xmpptest.Stanza("iq", "get", "localhost")); err != nil {
		t.Fatalf("not pinged after 6 idle minutes: %v", err)
	}
}
