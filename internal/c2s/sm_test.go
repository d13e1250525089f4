package c2s_test

import (
	"context"
	"errors"
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

const nsSM = "urn:xmpp:sm:3"

func isSM(name string) func(*xmlstream.Element) bool {
	return func(el *xmlstream.Element) bool { return el.Space == nsSM && el.Name == name }
}

func login(t *testing.T, addr, user, resource string) *xmpptest.Client {
	t.Helper()
	c, err := xmpptest.Dial(context.Background(), addr, xmpptest.Options{User: user, Password: "pw-" + user, Resource: resource})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestStreamManagementAcks: XEP-0198 §4 counts stanzas both ways.
func TestStreamManagementAcks(t *testing.T) {
	srv := testserver.Quiet(t, nil)
	srv.AddUser(t, "alice", "pw-alice")
	c := login(t, srv.C2S(), "alice", "phone")
	defer c.Close()
	if c.Features.Child("sm", nsSM) == nil {
		t.Fatal("sm feature not offered after authentication")
	}
	c.Send("<enable xmlns='urn:xmpp:sm:3'/>")
	if _, err := c.Expect(wait, isSM("enabled")); err != nil {
		t.Fatal(err)
	}
	c.Send("<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
	c.Send("<iq type='get' id='p2' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
	c.Send("<r xmlns='urn:xmpp:sm:3'/>")
	a, err := c.Expect(wait, isSM("a"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Get("h") != "2" {
		t.Fatalf("server handled h=%s, want 2", a.Get("h"))
	}
	// The server asks for acks of what it sent (the two results).
	if _, err := c.Expect(wait, isSM("r")); err != nil {
		t.Fatal(err)
	}
	c.Send("<a xmlns='urn:xmpp:sm:3' h='7'/>") // more than the server sent
	el, err := c.Expect(wait, xmpptest.IsStreamError)
	if err != nil {
		t.Fatal(err)
	}
	if got := xmpptest.StreamErrorCondition(el); got != "undefined-condition" {
		t.Fatalf("condition %q", got)
	}
}

// resumablePhone logs alice in as alice@localhost/phone, available, with
// resumption enabled; it returns her client and the resumption id.
func resumablePhone(t *testing.T, srv *testserver.Server) (*xmpptest.Client, string) {
	t.Helper()
	a := login(t, srv.C2S(), "alice", "phone")
	a.Send("<presence/>")
	a.Send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
	enabled, err := a.Expect(wait, isSM("enabled"))
	if err != nil {
		t.Fatal(err)
	}
	id := enabled.Get("id")
	if id == "" || enabled.Get("resume") != "true" {
		t.Fatalf("resumption not offered: %s", enabled)
	}
	return a, id
}

// resume opens a new connection as user and asks to resume id (having
// received nothing); it returns the client and the server's answer,
// <resumed/> or <failed/>.
func resume(t *testing.T, srv *testserver.Server, user, password, id string) (*xmpptest.Client, *xmlstream.Element) {
	t.Helper()
	c, err := xmpptest.Dial(context.Background(), srv.C2S(), xmpptest.Options{User: user, Password: password, NoBind: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.Send("<resume xmlns='urn:xmpp:sm:3' previd='" + id + "' h='0'/>")
	el, err := c.Expect(wait, func(el *xmlstream.Element) bool { return isSM("resumed")(el) || isSM("failed")(el) })
	if err != nil {
		t.Fatal(err)
	}
	return c, el
}

// expectAnsweredTo checks that c is the session bound as full: the
// answer to a ping c sends, with 'from' if not "", goes to that full JID.
func expectAnsweredTo(t *testing.T, c *xmpptest.Client, from, full string) {
	t.Helper()
	if from != "" {
		from = " from='" + from + "'"
	}
	xmpptest.MustSend(t, c, "<iq type='get' id='p'"+from+" to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
	res, err := c.Expect(wait, xmpptest.Stanza("iq", "result", ""))
	if err != nil {
		t.Fatal(err)
	}
	if res.Get("to") != full {
		t.Fatalf("answer to %q, want %q", res.Get("to"), full)
	}
}

// TestResumeTakesOver: a client that reconnects while its old connection
// still looks alive to the server (a phone that changed networks) resumes
// at once: the server drops the old connection and hands the session to
// the new one, with the message the client had not acknowledged, instead
// of answering item-not-found. Another account cannot take it.
func TestResumeTakesOver(t *testing.T) {
	srv := testserver.Quiet(t, nil)
	srv.AddUser(t, "alice", "pw-alice")
	srv.AddUser(t, "bob", "pw-bob")
	a, id := resumablePhone(t, srv)
	b := login(t, srv.C2S(), "bob", "desk")
	defer b.Close()
	b.Send("<message to='alice@localhost/phone' type='chat' id='m1'><body>not acknowledged</body></message>")
	if _, err := a.Expect(wait, xmpptest.MessageBody("not acknowledged")); err != nil {
		t.Fatal(err)
	}

	if _, el := resume(t, srv, "bob", "pw-bob", id); el.Name != "failed" {
		t.Fatalf("bob resumed alice's session: %s", el)
	}
	a.Send("<iq type='get' id='still' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
	if _, err := a.Expect(wait, xmpptest.Stanza("iq", "result", "")); err != nil {
		t.Fatalf("alice's connection did not survive bob's attempt: %v", err)
	}

	// The old connection is still open: alice resumes on a new one.
	a2, el := resume(t, srv, "alice", "pw-alice", id)
	if el.Name != "resumed" {
		t.Fatalf("resumption of a live connection: %s", el)
	}
	if _, err := a2.Expect(wait, xmpptest.MessageBody("not acknowledged")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Expect(wait, func(*xmlstream.Element) bool { return false }); err == nil || errors.Is(err, xmpptest.ErrTimeout) {
		t.Fatalf("the old connection was not closed: %v", err)
	}
	expectAnsweredTo(t, a2, "", "alice@localhost/phone")
}

// TestStreamManagementResume: a dropped connection detaches the session;
// a message sent meanwhile arrives after <resumed/> on a new connection
// (XEP-0198 §5), and the session kept its presence.
func TestStreamManagementResume(t *testing.T) {
	srv := testserver.Quiet(t, nil)
	srv.AddUser(t, "alice", "pw-alice")
	srv.AddUser(t, "bob", "pw-bob")
	a, id := resumablePhone(t, srv)
	a.Kill() // no </stream:stream>: the connection is lost

	b := login(t, srv.C2S(), "bob", "desk")
	defer b.Close()
	// Sent before or after the server sees the loss, the message waits
	// unacknowledged in the session, and the session resumes (before the
	// loss is seen, by taking the connection over: TestResumeTakesOver).
	b.Send("<message to='alice@localhost/phone' type='chat' id='m1'><body>while you were away</body></message>")
	a2, el := resume(t, srv, "alice", "pw-alice", id)
	if el.Name != "resumed" {
		t.Fatalf("resumption failed: %s", el)
	}
	if _, err := a2.Expect(wait, xmpptest.MessageBody("while you were away")); err != nil {
		t.Fatal(err)
	}
	expectAnsweredTo(t, a2, "", "alice@localhost/phone")

	// Once the session has ended (its stream closed), its id resumes
	// nothing.
	a2.Close()
	xmpptest.Eventually(t, wait, func() error {
		if _, ok := srv.Router().Lookup(jid.MustParse("alice@localhost/phone")); ok {
			return errors.New("session still bound")
		}
		return nil
	})
	if _, el := resume(t, srv, "alice", "pw-alice", id); el.Name != "failed" {
		t.Fatalf("resumption of an ended session: %s", el)
	}
}

// TestStreamManagementExpiry: without a resumption, the session ends
// when the resume timeout has passed, and the messages its client never
// acknowledged are handed back (the server keeps them offline); the id
// cannot be resumed any more. The clock is a fake: no waiting.
func TestStreamManagementExpiry(t *testing.T) {
	srv := c2stest.Start(t, nil) // resume timeout 5 min
	srv.AddUser(t, "alice", "pw-alice")
	srv.AddUser(t, "bob", "pw-bob")
	// The router tells of the message once the session holds it (queued
	// while detached, or unacknowledged when it detached).
	held := make(chan string, 10)
	srv.Router.OnUnattended(func(_ context.Context, msgs []*stanza.Stanza) {
		for _, st := range msgs {
			held <- st.El.ChildText("body", "")
		}
	})
	a := srv.Login(t, "alice", "pw-alice", "phone")
	a.Send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
	enabled, err := a.Expect(wait, isSM("enabled"))
	if err != nil {
		t.Fatal(err)
	}
	a.Kill()
	b := srv.Login(t, "bob", "pw-bob", "desk")
	b.Send("<message to='alice@localhost/phone' type='chat' id='m2'><body>kept for later</body></message>")
	// Time moves only once the session holds the message: moved before,
	// the session could expire first and the message find no session.
	expectBody(t, held, "kept for later", "the message the session holds")
	// The session detaches when the server sees the loss, at a time the
	// test does not know: move a minute at a time until it expired.
	xmpptest.Eventually(t, wait, func() error {
		srv.Advance(t, time.Minute)
		u := srv.Unacked()
		if len(u) == 0 {
			return errors.New("nothing handed back")
		}
		if len(u) != 1 || u[0].JID.String() != "alice@localhost/phone" || len(u[0].Stanzas) != 1 ||
			!strings.Contains(u[0].Stanzas[0], "kept for later") {
			t.Fatalf("handed back %+v", u)
		}
		return nil
	})
	a2, err := srv.Dial(t, xmpptest.Options{User: "alice", Password: "pw-alice", NoBind: true})
	if err != nil {
		t.Fatal(err)
	}
	a2.Send("<resume xmlns='urn:xmpp:sm:3' previd='" + enabled.Get("id") + "' h='0'/>")
	if _, err := a2.Expect(wait, isSM("failed")); err != nil {
		t.Fatal(err)
	}
}

// TestStreamManagementExpiryOffline: through the whole server, the
// unacknowledged message of an expired session is kept offline and
// arrives at the next login.
func TestStreamManagementExpiryOffline(t *testing.T) {
	srv := testserver.Quiet(t, func(c *config.Config) {
		c.Limits.Keepalive = config.Duration{Duration: time.Second} // sweeps every 250 ms
		c.Limits.ResumeTimeout = config.Duration{Duration: time.Second}
	})
	srv.AddUser(t, "alice", "pw-alice")
	srv.AddUser(t, "bob", "pw-bob")
	a := login(t, srv.C2S(), "alice", "phone")
	a.Send("<presence/>")
	a.Send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
	if _, err := a.Expect(wait, isSM("enabled")); err != nil {
		t.Fatal(err)
	}
	a.Kill()
	b := login(t, srv.C2S(), "bob", "desk")
	defer b.Close()
	b.Send("<message to='alice@localhost/phone' type='chat' id='m2'><body>kept for later</body></message>")
	xmpptest.Eventually(t, wait, func() error {
		msgs, err := srv.Store().OfflineMessages(context.Background(), "alice")
		if err == nil && len(msgs) == 0 {
			err = errors.New("nothing stored offline")
		}
		return err
	})
	a2 := login(t, srv.C2S(), "alice", "laptop")
	defer a2.Close()
	a2.Send("<presence/>")
	if _, err := a2.Expect(wait, xmpptest.MessageBody("kept for later")); err != nil {
		t.Fatal(err)
	}
}

// TestHibernateTellsUnattended: a session with XEP-0198 that loses its
// connection holding a message its client never acknowledged hands that
// message to the router's OnUnattended (push notifications) at once,
// although it arrived while the client was connected.
func TestHibernateTellsUnattended(t *testing.T) {
	srv := testserver.Quiet(t, nil)
	srv.AddUser(t, "alice", "pw-alice")
	srv.AddUser(t, "bob", "pw-bob")
	seen := make(chan string, 10)
	srv.Router().OnUnattended(func(_ context.Context, msgs []*stanza.Stanza) {
		for _, st := range msgs {
			seen <- st.El.ChildText("body", "")
		}
	})
	a := login(t, srv.C2S(), "alice", "phone")
	a.Send("<presence/>")
	a.Send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
	if _, err := a.Expect(wait, isSM("enabled")); err != nil {
		t.Fatal(err)
	}
	b := login(t, srv.C2S(), "bob", "desk")
	defer b.Close()
	b.Send("<message to='alice@localhost/phone' type='chat' id='m1'><body>did you get this?</body></message>")
	if _, err := a.Expect(wait, xmpptest.MessageBody("did you get this?")); err != nil {
		t.Fatal(err)
	}
	select {
	case body := <-seen:
		t.Fatalf("unattended saw %q while the client was connected", body)
	default:
	}
	a.Kill() // never acknowledged
	expectBody(t, seen, "did you get this?", "the unacknowledged message hibernation tells of")
}

// expectBody waits for the message body a router hook passes on ch.
func expectBody(t *testing.T, ch <-chan string, want, what string) {
	t.Helper()
	select {
	case body := <-ch:
		if body != want {
			t.Fatalf("%s: %q, want %q", what, body, want)
		}
	case <-time.After(wait):
		t.Fatalf("%s: none within %v", what, wait)
	}
}
