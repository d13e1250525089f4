package last_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const wait = 10 * time.Second

// TestServerInfoOverTCP: over real connections, the server's disco#info
// carries the XEP-0157 contact form from [contact]; XEP-0012 gives the
// server's uptime, an account's logout with its status to a contact
// subscribed to it, 0 while it is online, and forbidden to a stranger;
// XEP-0202 gives the server's time.
func TestServerInfoOverTCP(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) {
		c.Contact.Abuse = []string{"mailto:abuse@localhost", "xmpp:abuse@localhost"}
		c.Contact.Security = []string{"https://localhost/security.txt"}
	})
	srv.AddUsers(t, "last pass 1", "alice", "bob", "eve")
	alice := srv.Online(t, "alice", "last pass 1", "a")
	bob := srv.Online(t, "bob", "last pass 1", "b")
	eve := srv.Online(t, "eve", "last pass 1", "e")

	res, err := alice.IQ(wait, "get", "localhost", `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	if err != nil {
		t.Fatal(err)
	}
	x := res.FirstChild().Child("x", "jabber:x:data")
	if x == nil || len(x.Children) != 3 || x.Children[0].ChildText("value", "") != "http://jabber.org/network/serverinfo" ||
		x.Children[1].Get("var") != "abuse-addresses" || len(x.Children[1].Children) != 2 ||
		x.Children[2].Get("var") != "security-addresses" {
		t.Fatalf("contact form: %s", res)
	}

	res, err = alice.IQ(wait, "get", "localhost", `<time xmlns='urn:xmpp:time'/>`)
	if err != nil {
		t.Fatal(err)
	}
	utc, err := time.Parse(time.RFC3339, res.FirstChild().ChildText("utc", "urn:xmpp:time"))
	if err != nil || time.Since(utc).Abs() > time.Minute || res.FirstChild().ChildText("tzo", "urn:xmpp:time") == "" {
		t.Fatalf("time: %s %v", res, err)
	}

	last := func(c *xmpptest.Client, to string) (string, string) {
		t.Helper()
		res, err := c.IQ(wait, "get", to, `<query xmlns='jabber:iq:last'/>`)
		if err != nil {
			t.Fatal(err)
		}
		if res.Get("type") != "result" {
			return "error " + xmpptest.StanzaErrorCondition(res), ""
		}
		return res.FirstChild().Get("seconds"), res.FirstChild().Text
	}
	if sec, _ := last(alice, "localhost"); sec == "" || sec[0] == 'e' {
		t.Fatalf("uptime: %s", sec)
	}
	// alice subscribes to bob's presence; bob approves.
	if err := alice.Send(`<presence to='bob@localhost' type='subscribe'/>`); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Expect(wait, xmpptest.Stanza("presence", "subscribe", "alice@localhost")); err != nil {
		t.Fatal(err)
	}
	if err := bob.Send(`<presence to='alice@localhost' type='subscribed'/>`); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Expect(wait, xmpptest.Stanza("presence", "", "bob@localhost/b")); err != nil {
		t.Fatal(err)
	}
	if sec, _ := last(alice, "bob@localhost"); sec != "0" {
		t.Fatalf("bob online: %s", sec)
	}
	if sec, _ := last(eve, "bob@localhost"); sec != "error forbidden" {
		t.Fatalf("a stranger: %s", sec)
	}
	if err := bob.Send(`<presence type='unavailable'><status>Heading Home</status></presence>`); err != nil {
		t.Fatal(err)
	}
	bob.Close()
	xmpptest.Eventually(t, wait, func() error {
		sec, status := last(alice, "bob@localhost")
		if n, err := strconv.Atoi(sec); err != nil || n > 5 || status != "Heading Home" {
			return fmt.Errorf("bob's last activity: %s %q", sec, status)
		}
		return nil
	})
	if sec, _ := last(eve, "bob@localhost"); sec != "error forbidden" {
		t.Fatalf("a stranger after logout: %s", sec)
	}
}
