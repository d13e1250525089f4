package c2s_test

import (
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/c2stest"
	"parley/internal/xmpptest/testserver"
)

const nsCSI = "urn:xmpp:csi:0"

// TestClientStateIndication (XEP-0352) over a c2s session with stream
// management: csi is offered after authentication; while inactive,
// presence is held (the latest per contact), chat states are dropped,
// other stanzas that can wait are held, and nothing is written (no <r/>
// either); a message with a body flushes everything held in order before
// it (a contact's presence before its following message); room chatter
// waits until the nickname the session joined with is mentioned;
// <active/> flushes too.
func TestClientStateIndication(t *testing.T) {
	srv := c2stest.Start(t, nil)
	srv.AddUser(t, "alice", "pw-alice")
	phone := srv.Login(t, "alice", "pw-alice", "phone")
	if phone.Features.Child("csi", nsCSI) == nil {
		t.Fatalf("csi not offered: %s", phone.Features)
	}
	phone.Send("<enable xmlns='urn:xmpp:sm:3'/>")
	if _, err := phone.Expect(wait, isSM("enabled")); err != nil {
		t.Fatal(err)
	}
	phone.Send("<inactive xmlns='" + nsCSI + "'/>")
	// An IQ round trip: the server has read <inactive/> once it answers.
	if a, err := phone.IQ(wait, "get", "localhost", "<ping xmlns='urn:xmpp:ping'/>"); err != nil || a.Get("type") != "result" {
		t.Fatalf("ping: %v %s", err, a)
	}
	drain(phone)
	full := jid.MustParse("alice@localhost/phone")
	deliver := func(raw string) {
		t.Helper()
		el, err := xmlstream.ParseIn([]byte(raw), xmlstream.Limits{}, xmlstream.NewScope(stanza.NSClient))
		if err != nil {
			t.Fatal(err)
		}
		st, err := stanza.Parse(el)
		if err != nil {
			t.Fatal(err)
		}
		if !srv.Router.DeliverTo(full, st) {
			t.Fatal("not delivered")
		}
	}
	deliver("<presence from='c1@localhost/a' to='alice@localhost/phone'/>")
	deliver("<presence from='c2@localhost/b' to='alice@localhost/phone'><show>away</show></presence>")
	deliver("<message from='c1@localhost/a' to='alice@localhost/phone' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>")
	deliver("<message from='c1@localhost/a' to='alice@localhost/phone' type='chat'><received xmlns='urn:xmpp:receipts' id='r1'/></message>")
	deliver("<presence from='c1@localhost/a' to='alice@localhost/phone'><show>dnd</show></presence>")
	if el, err := phone.Recv(50 * time.Millisecond); err == nil {
		t.Fatalf("an inactive session was sent %s", el)
	}
	deliver("<message from='c1@localhost/a' to='alice@localhost/phone' type='chat'><body>wake up</body></message>")
	want := []string{"presence c2 away", "message c1 receipt", "presence c1 dnd", "message c1 wake up", "r"}
	if got := recvN(t, phone, len(want)); strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("flushed %q, want %q", got, want)
	}

	// In a room joined as "ally", chatter waits and a mention does not.
	phone.Send("<presence to='room@conference.localhost/ally'/>")
	if a, err := phone.IQ(wait, "get", "localhost", "<ping xmlns='urn:xmpp:ping'/>"); err != nil || a.Get("type") != "result" {
		t.Fatalf("ping: %v %s", err, a)
	}
	drain(phone)
	deliver("<message from='room@conference.localhost/bob' to='alice@localhost/phone' type='groupchat'><body>chatter</body></message>")
	if el, err := phone.Recv(50 * time.Millisecond); err == nil {
		t.Fatalf("room chatter was sent to an inactive session: %s", el)
	}
	deliver("<message from='room@conference.localhost/bob' to='alice@localhost/phone' type='groupchat'><body>ally: you there?</body></message>")
	want = []string{"message room chatter", "message room ally: you there?", "r"}
	if got := recvN(t, phone, len(want)); strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("mention: %q, want %q", got, want)
	}

	deliver("<presence from='c3@localhost/c' to='alice@localhost/phone' type='unavailable'/>")
	if el, err := phone.Recv(50 * time.Millisecond); err == nil {
		t.Fatalf("an inactive session was sent %s", el)
	}
	phone.Send("<active xmlns='" + nsCSI + "'/>")
	want = []string{"presence c3 unavailable", "r"}
	if got := recvN(t, phone, len(want)); strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("after <active/>: %q, want %q", got, want)
	}
	// Active again: a chat state goes out at once.
	deliver("<message from='c1@localhost/a' to='alice@localhost/phone' type='chat'><paused xmlns='http://jabber.org/protocol/chatstates'/></message>")
	if got := recvN(t, phone, 1); got[0] != "message c1 chatstate" {
		t.Fatalf("active session got %q", got)
	}
}

// drain discards what a client has received so far (acks, requests).
func drain(c *xmpptest.Client) {
	for {
		if _, err := c.Recv(20 * time.Millisecond); err != nil {
			return
		}
	}
}

// recvN receives n elements and summarises each: kind, sender's local
// part, and what it carries; <a/> answers are skipped.
func recvN(t *testing.T, c *xmpptest.Client, n int) []string {
	t.Helper()
	var out []string
	for len(out) < n {
		el, err := c.Recv(wait)
		if err != nil {
			t.Fatalf("after %q: %v", out, err)
		}
		from, _ := jid.Parse(el.Get("from"))
		s := el.Name + " " + from.Local()
		switch {
		case el.Name == "r" || el.Name == "a":
			if el.Name == "a" {
				continue
			}
			s = "r"
		case el.Name == "presence" && el.Get("type") != "":
			s += " " + el.Get("type")
		case el.Name == "presence":
			s += " " + el.ChildText("show", "")
		case el.ChildText("body", "") != "":
			s += " " + el.ChildText("body", "")
		case el.Child("received", "urn:xmpp:receipts") != nil:
			s += " receipt"
		default:
			s += " chatstate"
		}
		out = append(out, s)
	}
	return out
}

// TestCSIContactsKey: limits.csi_contacts bounds the contacts an inactive
// session holds presence of, in a server built from the configuration:
// with 2, a third contact's presence flushes all three at once, in order.
func TestCSIContactsKey(t *testing.T) {
	srv := testserver.Quiet(t, func(c *config.Config) { c.Limits.CSIContacts = 2 })
	phone := srv.OnlineUsers(t, "pw-alice", "phone", "alice")[0]
	phone.Send("<inactive xmlns='" + nsCSI + "'/>")
	if a, err := phone.IQ(wait, "get", "localhost", "<ping xmlns='urn:xmpp:ping'/>"); err != nil || a.Get("type") != "result" {
		t.Fatalf("ping: %v %s", err, a)
	}
	drain(phone)
	full := jid.MustParse("alice@localhost/phone")
	for i, from := range []string{"c1@localhost/a", "c2@localhost/b", "c3@localhost/c"} {
		st := stanza.New(stanza.Presence, jid.MustParse(from), full, "", "")
		if !srv.Router().DeliverTo(full, st) {
			t.Fatal("not delivered")
		}
		if i == 1 {
			if el, err := phone.Recv(50 * time.Millisecond); err == nil {
				t.Fatalf("two contacts: an inactive session was sent %s", el)
			}
		}
	}
	want := []string{"presence c1 ", "presence c2 ", "presence c3 "}
	if got := recvN(t, phone, len(want)); strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("flushed %q, want %q", got, want)
	}
}
