package muc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/im/muc"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// requestForm is a muc#request form submission with "var=value" fields.
func requestForm(fields ...string) string {
	return "<message to='" + room + "'>" + muc.DataForm("submit", "", "", fields...) + "</message>"
}

func iqOK(t *testing.T, c *xmpptest.Client, typ, to, payload string) *xmlstream.Element {
	t.Helper()
	res, err := c.IQ(wait, typ, to, payload)
	if err != nil || res.Get("type") != "result" {
		t.Fatalf("%s: %s %s: %v %v", c.JID, typ, payload, res, err)
	}
	return res
}

func iqCondition(t *testing.T, c *xmpptest.Client, typ, to, payload string) string {
	t.Helper()
	res, err := c.IQ(wait, typ, to, payload)
	if err != nil {
		t.Fatal(err)
	}
	return xmpptest.StanzaErrorCondition(res)
}

const reservedNickQuery = "<query xmlns='" + muc.NSDiscoInfo + "' node='x-roomuser-item'/>"

func registration(nick string) string {
	return "<query xmlns='" + muc.NSIQRegister + "'>" + muc.DataForm("submit", muc.NSRegister, "muc#register_", "roomnick="+nick) + "</query>"
}

// TestIntegrationVoiceAndRegistration drives voice requests (§7.13, §8.6)
// and nickname registration (§7.10, §7.12) over real TCP connections, and
// finds the registration intact after a restart (both store backends).
func TestIntegrationVoiceAndRegistration(t *testing.T) {
	data := t.TempDir()
	configure := func(c *config.Config) { c.Data = data }
	srv := start(t, configure, "alice", "bob", "carol")
	alice, bob, carol := dial(t, srv, "alice"), dial(t, srv, "bob"), dial(t, srv, "carol")

	createRoom(t, alice, "alice", muc.DataForm("submit", muc.NSRoomConfig, "muc#roomconfig_", "moderatedroom=1", "persistentroom=1"))

	// A visitor asks for voice; the moderator approves.
	if self := enter(t, bob, "bob"); !strings.Contains(self.String(), "role='visitor'") {
		t.Fatalf("bob is not a visitor: %s", self)
	}
	send(t, bob, requestForm("FORM_TYPE="+muc.NSRequest, "muc#role=lord"))
	if e := expect(t, bob, "malformed request refused", xmpptest.Stanza("message", "error", room)); xmpptest.StanzaErrorCondition(e) != "bad-request" {
		t.Fatalf("malformed request: %s", e)
	}
	send(t, bob, requestForm("FORM_TYPE="+muc.NSRequest, "muc#role=participant"))
	req := expect(t, alice, "the approval form", func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("from") == room && el.Child("x", muc.NSData) != nil
	})
	if s := req.String(); !strings.Contains(s, muc.NSRequest) || !strings.Contains(s, "<value>bob</value>") ||
		!strings.Contains(s, "<value>bob@localhost/r</value>") {
		t.Fatalf("approval form: %s", s)
	}
	// Only a moderator's answer counts.
	enter(t, carol, "carol")
	answer := requestForm("FORM_TYPE="+muc.NSRequest, "muc#role=participant", "muc#jid=bob@localhost/r",
		"muc#roomnick=bob", "muc#request_allow=true")
	send(t, carol, answer)
	if e := expect(t, carol, "visitor's approval refused", xmpptest.Stanza("message", "error", room)); xmpptest.StanzaErrorCondition(e) != "forbidden" {
		t.Fatalf("approval by a visitor: %s", e)
	}
	send(t, alice, answer)
	if self := expect(t, bob, "voice granted", selfPresence("bob", "")); !strings.Contains(self.String(), "role='participant'") {
		t.Fatalf("voice not granted: %s", self)
	}
	send(t, bob, "<message type='groupchat' to='"+room+"'><body>thank you</body></message>")
	expect(t, alice, "bob heard", groupchat("bob", "thank you"))

	// carol registers a nickname; bob cannot take it.
	res := iqOK(t, carol, "get", room, "<query xmlns='"+muc.NSIQRegister+"'/>")
	if !strings.Contains(res.String(), muc.NSRegister) || strings.Contains(res.String(), "registered") {
		t.Fatalf("registration form: %s", res)
	}
	iqOK(t, carol, "set", room, registration("thirdwitch"))
	expect(t, alice, "carol now a member", func(el *xmlstream.Element) bool {
		return el.Name == "presence" && el.Get("from") == room+"/carol" && strings.Contains(el.String(), "affiliation='member'")
	})
	if c := iqCondition(t, bob, "set", room, registration("ThirdWitch")); c != "conflict" {
		t.Fatalf("bob registers carol's nick: %q", c)
	}
	if c := iqCondition(t, bob, "set", room, "<query xmlns='"+muc.NSIQRegister+"'><x xmlns='jabber:x:data' type='submit'/></query>"); c != "bad-request" {
		t.Fatalf("empty registration form: %q", c)
	}

	// After a restart the reservation holds.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	srv2 := testserver.Start(t, configure)
	carol2, bob2 := dial(t, srv2, "carol"), dial(t, srv2, "bob")
	if res := iqOK(t, carol2, "get", room, reservedNickQuery); !strings.Contains(res.String(), "name='thirdwitch'") {
		t.Fatalf("reserved nick after restart: %s", res)
	}
	if res := iqOK(t, bob2, "get", room, reservedNickQuery); strings.Contains(res.String(), "identity") {
		t.Fatalf("bob has no reserved nick: %s", res)
	}
	send(t, bob2, "<presence to='"+room+"/thirdwitch'><x xmlns='"+muc.NS+"'/></presence>")
	if e := expect(t, bob2, "reserved nick refused", xmpptest.Stanza("presence", "error", room)); xmpptest.StanzaErrorCondition(e) != "conflict" {
		t.Fatalf("join with another's reserved nick: %s", e)
	}
	if self := enter(t, carol2, "thirdwitch"); !strings.Contains(self.String(), "affiliation='member'") {
		t.Fatalf("carol after restart: %s", self)
	}
}
