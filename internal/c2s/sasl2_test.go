package c2s_test

import (
	"bufio"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"parley/internal/c2s"
	"parley/internal/im/carbons"
	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/c2stest"
)

// The user-agent of XEP-0474 §5.3's example.
const phoneUA = "d4565fa7-4d72-4749-b3d3-740edbf87770"

// startWithCarbons serves c2s with the carbons module as a Bind 2 inline
// feature, as the whole server wires it.
func startWithCarbons(t *testing.T) (*c2stest.Server, *carbons.Module) {
	cm := carbons.New(carbons.Options{})
	srv := c2stest.Start(t, func(c *c2s.Config) {
		c.BindInline = map[string]c2s.BindInline{carbons.NS: cm.HandleIQ}
	})
	cm.Register(srv.Router)
	srv.AddUser(t, "alice", "pw-alice")
	srv.AddUser(t, "bob", "pw-bob")
	return srv, cm
}

// TestSASL2Features: before authentication the stream features offer
// XEP-0388's <authentication/> with the same mechanisms as <mechanisms/>,
// Bind 2 with its inline features, and inline XEP-0198 (XEP-0386 §3.1's
// example).
func TestSASL2Features(t *testing.T) {
	srv, _ := startWithCarbons(t)
	conn, err := srv.DialRaw()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"))
	r := xmlstream.NewReader(bufio.NewReader(conn), xmlstream.Limits{})
	var features *xmlstream.Element
	for features == nil {
		tok, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if tok.Kind == xmlstream.StreamElement {
			features = tok.El
		}
	}
	auth := features.Child("authentication", "urn:xmpp:sasl:2")
	if auth == nil {
		t.Fatalf("no <authentication/>: %s", features)
	}
	var mechs, sasl1 []string
	for _, m := range auth.Children {
		if m.Name == "mechanism" {
			mechs = append(mechs, m.Text)
		}
	}
	for _, m := range features.Child("mechanisms", xmpptest.NSSASL).Children {
		sasl1 = append(sasl1, m.Text)
	}
	if strings.Join(mechs, " ") != strings.Join(sasl1, " ") || len(mechs) == 0 {
		t.Errorf("SASL2 mechanisms %v, SASL1 %v", mechs, sasl1)
	}
	inline := auth.Child("inline", "urn:xmpp:sasl:2")
	bind := inline.Child("bind", "urn:xmpp:bind:0")
	if bind == nil || inline.Child("sm", "urn:xmpp:sm:3") == nil {
		t.Fatalf("inline: %s", inline)
	}
	var vars []string
	for _, f := range bind.Child("inline", "urn:xmpp:bind:0").Children {
		vars = append(vars, f.Get("var"))
	}
	for _, want := range []string{"urn:xmpp:carbons:2", "urn:xmpp:csi:0", "urn:xmpp:sm:3"} {
		if !strings.Contains(strings.Join(vars, " "), want) {
			t.Errorf("Bind 2 inline features %v lack %s", vars, want)
		}
	}
	// XEP-0388 §2.6.2's failure, for a mechanism not offered; then
	// PLAIN, which needs TLS (this connection has none).
	for _, tc := range []struct{ mech, want string }{
		{"DIGEST-MD5", "invalid-mechanism"},
		{"SCRAM-SHA-256-PLUS", "invalid-mechanism"},
		{"PLAIN", "encryption-required"},
	} {
		conn.Write([]byte("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='" + tc.mech + "'><initial-response>AGFsaWNlAHB3LWFsaWNl</initial-response></authenticate>"))
		tok, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		f := tok.El
		if f.Name != "failure" || f.Space != "urn:xmpp:sasl:2" || f.Child(tc.want, xmpptest.NSSASL) == nil {
			t.Fatalf("%s: %s, want %s", tc.mech, f, tc.want)
		}
	}
}

// TestSASL2Bind2: one <authenticate/> as in XEP-0386 §3.2's example
// (tag, carbons, stream management, inactive) authenticates, binds
// "AwesomeXMPP/<id>", enables all three and answers with <success/>
// holding the full JID and <bound/> with <enabled/>, then the stream
// features without a restart. The same user-agent id gets the same
// resource next time and its old session is replaced (RFC 6120
// §7.7.2.2); another device gets another one.
func TestSASL2Bind2(t *testing.T) {
	srv, cm := startWithCarbons(t)
	login := func(ua string) (*xmpptest.Client, error) {
		return srv.Dial(t, xmpptest.Options{User: "alice", Password: "pw-alice", SASL2: &xmpptest.SASL2{
			UserAgent: ua, Software: "AwesomeXMPP", Device: "Kiva's Phone", Bind: true, Tag: "AwesomeXMPP",
			Inline: "<enable xmlns='urn:xmpp:carbons:2'/><enable xmlns='urn:xmpp:sm:3' resume='true'/><inactive xmlns='urn:xmpp:csi:0'/>",
		}})
	}
	a, err := login(phoneUA)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.JID, "alice@localhost/AwesomeXMPP/") || strings.Contains(a.JID, phoneUA) {
		t.Fatalf("bound %q", a.JID)
	}
	bound := a.Success().Child("bound", "urn:xmpp:bind:0")
	if bound == nil || bound.Child("enabled", "urn:xmpp:sm:3") == nil || bound.Child("enabled", "urn:xmpp:sm:3").Get("id") == "" {
		t.Fatalf("success: %s", a.Success())
	}
	if a.Features.Child("bind", xmpptest.NSBind) != nil || a.Features.Child("sm", "urn:xmpp:sm:3") != nil {
		t.Errorf("features after Bind 2 offer binding or stream management again: %s", a.Features)
	}
	if !cm.Enabled(jid.MustParse(a.JID)) {
		t.Error("carbons not enabled")
	}
	// Inactive (XEP-0352): a chat state without a body is dropped, the
	// message with a body arrives first.
	b := srv.Login(t, "bob", "pw-bob", "desk")
	b.Send("<message to='" + a.JID + "' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>")
	b.Send("<message to='" + a.JID + "' type='chat'><body>hi</body></message>")
	m, err := a.Expect(wait, xmpptest.Stanza("message", "", "bob@localhost"))
	if err != nil || m.ChildText("body", xmpptest.NSClient) != "hi" {
		t.Fatalf("first message %s, %v", m, err)
	}
	// Stream management counts from the inline enable.
	a.Send("<r xmlns='urn:xmpp:sm:3'/>")
	if _, err := a.Expect(wait, isSM("a")); err != nil {
		t.Fatal(err)
	}

	// The same device again: the same resource; the old session goes.
	a2, err := login(phoneUA)
	if err != nil {
		t.Fatal(err)
	}
	if a2.JID != a.JID {
		t.Fatalf("same device bound %q, then %q", a.JID, a2.JID)
	}
	if _, err := a.Expect(wait, xmpptest.IsStreamError); err != nil {
		t.Fatalf("old session not replaced: %v", err)
	}
	other, err := login("0b6a3b8e-6d7f-4a53-9d0a-3b1f1c9e2a77")
	if err != nil {
		t.Fatal(err)
	}
	if other.JID == a.JID {
		t.Fatal("another device got the same resource")
	}
}

// TestSASL2Outcomes: the other ends of XEP-0388 §2.6 and the rules
// around them.
func TestSASL2Outcomes(t *testing.T) {
	srv, _ := startWithCarbons(t)
	for i, tc := range []struct {
		mech, password string
		s2             xmpptest.SASL2
		want           string // failure condition, "" for success
		jid            string // authorization-identifier wanted
	}{
		// Syntactic equivalence (§7.1): no bind, a bare JID, then the
		// client binds the RFC 6120 way.
		0: {"SCRAM-SHA-256", "pw-alice", xmpptest.SASL2{}, "", "alice@localhost/r"},
		1: {"SCRAM-SHA-1", "pw-alice", xmpptest.SASL2{}, "", "alice@localhost/r"},
		2: {"SCRAM-SHA-256", "wrong", xmpptest.SASL2{}, "not-authorized", ""},
		3: {"SCRAM-SHA-1", "wrong", xmpptest.SASL2{Bind: true}, "not-authorized", ""},
		4: {"SCRAM-SHA-256", "pw-alice", xmpptest.SASL2{UserAgent: strings.Repeat("x", 200)}, "malformed-request", ""},
		// A tag longer than a short name is left out of the resource.
		5: {"SCRAM-SHA-256", "pw-alice", xmpptest.SASL2{Bind: true, Tag: strings.Repeat("T", 40)}, "", ""},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			c, err := srv.Dial(t, xmpptest.Options{User: "alice", Password: tc.password, Mechanism: tc.mech, Resource: "r", SASL2: &tc.s2})
			var ae *xmpptest.AuthError
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (!errors.As(err, &ae) || ae.Condition != tc.want):
				t.Fatalf("err %v, want %s", err, tc.want)
			case tc.want != "":
				return
			}
			if strings.Contains(c.JID, "TTT") || tc.jid != "" && c.JID != tc.jid {
				t.Fatalf("JID %q, want %q", c.JID, tc.jid)
			}
			if got := c.Success().ChildText("authorization-identifier", "urn:xmpp:sasl:2"); got != "alice@localhost" && c.Success().Child("bound", "urn:xmpp:bind:0") == nil {
				t.Fatalf("authorization-identifier %q", got)
			}
			// The session works.
			if _, err := c.IQ(wait, "get", "localhost", "<ping xmlns='urn:xmpp:ping'/>"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSASL2InlineResume: a client whose connection died resumes its
// session inside <authenticate/> (XEP-0198 with XEP-0388): <success/>
// holds <resumed/> with the full JID, the message that waited is sent
// again, and the bind request beside it is ignored (XEP-0386 §3.2 note).
// A resumption that fails is reported by <failed/> in <success/>, and
// the bind request then makes a new session.
func TestSASL2InlineResume(t *testing.T) {
	srv, _ := startWithCarbons(t)
	// The router tells of a message that waits for a session without a
	// connection: the sign that the server has seen the loss and detached
	// the session (a resumption before that finds nothing to resume, and
	// its bind would replace the session of the same device).
	unattended := make(chan string, 10)
	srv.Router.OnUnattended(func(_ context.Context, msgs []*stanza.Stanza) {
		for _, st := range msgs {
			unattended <- st.El.ChildText("body", "")
		}
	})
	o := xmpptest.Options{User: "alice", Password: "pw-alice", SASL2: &xmpptest.SASL2{UserAgent: phoneUA, Bind: true, Tag: "Phone",
		Inline: "<enable xmlns='urn:xmpp:sm:3' resume='true'/>"}}
	a, err := srv.Dial(t, o)
	if err != nil {
		t.Fatal(err)
	}
	id := a.Success().Child("bound", "urn:xmpp:bind:0").Child("enabled", "urn:xmpp:sm:3").Get("id")
	a.Kill()
	b := srv.Login(t, "bob", "pw-bob", "desk")
	b.Send("<message to='" + a.JID + "' type='chat' id='w'><body>while away</body></message>")
	expectBody(t, unattended, "while away", "the message the detached session holds")

	resume := o
	resume.SASL2 = &xmpptest.SASL2{UserAgent: phoneUA, Bind: true, Tag: "Phone",
		Extra: "<resume xmlns='urn:xmpp:sm:3' previd='" + id + "' h='0'/>"}
	a2, err := srv.Dial(t, resume)
	if err != nil {
		t.Fatal(err)
	}
	if a2.Success().Child("resumed", "urn:xmpp:sm:3") == nil || a2.JID != a.JID || a2.Success().Child("bound", "urn:xmpp:bind:0") != nil {
		t.Fatalf("resumed as %q: %s", a2.JID, a2.Success())
	}
	if _, err := a2.Expect(wait, xmpptest.MessageBody("while away")); err != nil {
		t.Fatal(err)
	}

	// The id is used up: <failed/>, and a new session is bound.
	c, err := srv.Dial(t, resume)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Success()
	if s.Child("failed", "urn:xmpp:sm:3") == nil || s.Child("bound", "urn:xmpp:bind:0") == nil {
		t.Fatalf("second resumption: %s", s)
	}
}
