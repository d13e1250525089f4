package spam_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/config"
	"parley/internal/im/spam"
	"parley/internal/store"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const wait = 10 * time.Second

// expectRefusals waits until the audit log holds exactly the refusal
// records of policy want ("actor>target" each, in order).
func expectRefusals(t *testing.T, srv *testserver.Server, policy string, want ...string) {
	t.Helper()
	xmpptest.Eventually(t, wait, func() error {
		recs, err := audit.Query(t.Context(), srv.Store(), store.AuditQuery{Action: audit.ActionPolicy})
		if err != nil {
			return err
		}
		var got []string
		for _, r := range recs {
			if r.Details["policy"] == policy && r.Outcome == audit.OutcomeDenied {
				got = append(got, r.Actor+">"+r.Target)
			}
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("%s refusals audited: %q, want %q", policy, got, want)
		}
		return nil
	})
}

// TestServerBlocklistOverTCP: with [abuse] blocked listing a domain and
// a local account, a message to the domain bounces not-allowed (not
// remote-server-not-found: the blocklist answers before federation), the
// blocked account's message to alice bounces not-allowed and never
// arrives, alice's to it too; bob still reaches alice.
func TestServerBlocklistOverTCP(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) {
		c.Abuse.Blocked = []string{"evil.example", "spam@localhost"}
	})
	c := srv.OnlineUsers(t, "pw", "desk", "alice", "bob", "spam")
	alice, bob, sp := c[0], c[1], c[2]
	bounce := func(c *xmpptest.Client, id, to string) {
		t.Helper()
		if err := c.Send(`<message type='chat' id='` + id + `' to='` + to + `'><body>` + id + `</body></message>`); err != nil {
			t.Fatal(err)
		}
		el, err := c.Expect(wait, func(el *xmlstream.Element) bool { return el.Get("id") == id })
		if err != nil || el.Get("type") != "error" || xmpptest.StanzaErrorCondition(el) != "not-allowed" {
			t.Fatalf("%s to %s: %v %v, want not-allowed", id, to, el, err)
		}
	}
	bounce(alice, "a1", "someone@evil.example")
	bounce(alice, "a2", "muc.evil.example")
	bounce(sp, "s1", "alice@localhost")
	bounce(alice, "a3", "spam@localhost")
	if err := bob.Send(`<message type='chat' id='b1' to='alice@localhost'><body>from bob</body></message>`); err != nil {
		t.Fatal(err)
	}
	// alice's next message is bob's: the blocked account's never came.
	el, err := alice.Expect(wait, func(el *xmlstream.Element) bool { return el.Name == "message" && el.Get("type") != "error" })
	if err != nil || el.ChildText("body", "") != "from bob" {
		t.Fatalf("alice got %v %v, want bob's message first", el, err)
	}
	expectRefusals(t, srv, spam.PolicyBlocklist, "alice@localhost>someone@evil.example",
		"alice@localhost>muc.evil.example", "spam@localhost>alice@localhost", "alice@localhost>spam@localhost")
}

// TestNewAccountLimitOverTCP: with in-band registration on, a just-created account sends
// new_account_rate messages a minute to a stranger, the next bounces with
// policy-violation; to a roster contact it writes freely.
func TestNewAccountLimitOverTCP(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) { c.Abuse.NewAccountRate = 2; c.Register.Enabled = true })
	srv.AddUsers(t, "pw", "alice", "bob", "carol")
	alice := srv.Online(t, "alice", "pw", "desk")
	bob := srv.Online(t, "bob", "pw", "desk")
	if err := bob.SendPresence(); err != nil {
		t.Fatal(err)
	}
	if r, err := alice.IQ(wait, "set", "", `<query xmlns='jabber:iq:roster'><item jid='carol@localhost'/></query>`); err != nil || r.Get("type") != "result" {
		t.Fatalf("roster set: %v %v", r, err)
	}
	send := func(id, to string) {
		t.Helper()
		if err := alice.Send(`<message type='chat' id='` + id + `' to='` + to + `'><body>` + id + `</body></message>`); err != nil {
			t.Fatal(err)
		}
	}
	send("m1", "bob@localhost")
	send("m2", "bob@localhost")
	for _, id := range []string{"m1", "m2"} {
		if _, err := bob.Expect(wait, xmpptest.MessageBody(id)); err != nil {
			t.Fatalf("bob: %v", err)
		}
	}
	send("m3", "bob@localhost")
	el, err := alice.Expect(wait, func(el *xmlstream.Element) bool { return el.Get("id") == "m3" })
	if err != nil || el.Get("type") != "error" || xmpptest.StanzaErrorCondition(el) != "policy-violation" {
		t.Fatalf("third message to a stranger: %v %v, want policy-violation", el, err)
	}
	// carol is in alice's roster: no limit (carol is offline: the
	// messages are stored, no error comes back).
	for _, id := range []string{"c1", "c2", "c3"} {
		send(id, "carol@localhost")
	}
	send("m4", "bob@localhost")
	el, err = alice.Expect(wait, func(el *xmlstream.Element) bool { return el.Get("type") == "error" })
	if err != nil || el.Get("id") != "m4" {
		t.Fatalf("first error after the roster messages: %v %v, want m4's (none for carol)", el, err)
	}
	// m3 and m4 to bob within a minute: one record.
	expectRefusals(t, srv, spam.PolicyNewAccount, "alice@localhost>bob@localhost")
}

// setStrangers runs the stranger filter command (XEP-0050) as c.
func setStrangers(t *testing.T, c *xmpptest.Client, on string) {
	t.Helper()
	res, err := c.IQ(wait, "set", "localhost", `<command xmlns='http://jabber.org/protocol/commands' node='`+spam.NodeStrangers+`' action='execute'/>`)
	if err != nil || res.Get("type") != "result" || res.FirstChild().Child("x", "jabber:x:data") == nil {
		t.Fatalf("execute: %v %v", res, err)
	}
	sid := res.FirstChild().Get("sessionid")
	res, err = c.IQ(wait, "set", "localhost", `<command xmlns='http://jabber.org/protocol/commands' node='`+spam.NodeStrangers+
		`' sessionid='`+sid+`' action='complete'><x xmlns='jabber:x:data' type='submit'><field var='refuse'><value>`+on+`</value></field></x></command>`)
	if err != nil || res.Get("type") != "result" || res.FirstChild().Get("status") != "completed" {
		t.Fatalf("complete: %v %v", res, err)
	}
}

// TestStrangerFilterOverTCP: alice turns the filter on with the ad-hoc
// command; a stranger's message and subscription request get
// service-unavailable (as for an absent account) and do not arrive; a
// roster contact's message does; turned off, the stranger gets through.
func TestStrangerFilterOverTCP(t *testing.T) {
	srv := testserver.Start(t, nil)
	c := srv.OnlineUsers(t, "pw", "desk", "alice", "bob", "carol")
	alice, bob, carol := c[0], c[1], c[2]
	if err := alice.SendPresence(); err != nil {
		t.Fatal(err)
	}
	if r, err := alice.IQ(wait, "set", "", `<query xmlns='jabber:iq:roster'><item jid='carol@localhost'/></query>`); err != nil || r.Get("type") != "result" {
		t.Fatalf("roster set: %v %v", r, err)
	}
	setStrangers(t, alice, "1")

	for _, st := range []string{
		`<message type='chat' id='b1' to='alice@localhost'><body>hello stranger</body></message>`,
		`<presence type='subscribe' id='b2' to='alice@localhost'/>`,
	} {
		if err := bob.Send(st); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"b1", "b2"} {
		el, err := bob.Expect(wait, func(el *xmlstream.Element) bool { return el.Get("id") == id })
		if err != nil || el.Get("type") != "error" || xmpptest.StanzaErrorCondition(el) != "service-unavailable" {
			t.Fatalf("bob's %s: %v %v, want service-unavailable", id, el, err)
		}
	}
	if err := carol.Send(`<message type='chat' id='c1' to='alice@localhost'><body>from carol</body></message>`); err != nil {
		t.Fatal(err)
	}
	el, err := alice.Expect(wait, func(el *xmlstream.Element) bool {
		return el.Name == "message" || el.Name == "presence" && el.Get("type") == "subscribe"
	})
	if err != nil || el.ChildText("body", "") != "from carol" {
		t.Fatalf("alice got %v %v, want carol's message first", el, err)
	}

	setStrangers(t, alice, "0")
	if err := bob.Send(`<message type='chat' id='b3' to='alice@localhost'><body>hello again</body></message>`); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Expect(wait, xmpptest.MessageBody("hello again")); err != nil {
		t.Fatalf("with the filter off: %v", err)
	}
	// b1 and b2 within a minute: one record.
	expectRefusals(t, srv, spam.PolicyStrangers, "bob@localhost>alice@localhost")
}
