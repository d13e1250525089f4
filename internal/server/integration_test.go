package server_test

// Integration tests: the whole server, in process, over real TCP, TLS and
// WebSocket connections on loopback ports chosen by the kernel, driven by
// the xmpptest client.

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// wait bounds every expectation; generous for -race on 2 busy cores.
const wait = 10 * time.Second

const password = "correct horse battery staple"

// newServer starts a server with users alice, bob and carol.
func newServer(t *testing.T, configure func(*config.Config)) *testserver.Server {
	t.Helper()
	srv := testserver.Start(t, configure)
	srv.AddUsers(t, password, "alice", "bob", "carol")
	return srv
}

// login connects user with resource over STARTTLS with SCRAM-SHA-256; the
// stream is closed when the test ends.
func login(t *testing.T, srv *testserver.Server, user, resource string) *xmpptest.Client {
	t.Helper()
	return xmpptest.Login(t, srv.C2S(), xmpptest.Options{User: user, Password: password, Resource: resource})
}

// online logs in and sends initial presence.
func online(t *testing.T, srv *testserver.Server, user, resource string) *xmpptest.Client {
	t.Helper()
	return srv.Online(t, user, password, resource)
}

func expect(t *testing.T, c *xmpptest.Client, what string, match func(*xmlstream.Element) bool) *xmlstream.Element {
	t.Helper()
	return xmpptest.MustExpect(t, c, wait, what, match)
}

var send = xmpptest.MustSend

// ping checks that c's session still works end to end.
func ping(t *testing.T, c *xmpptest.Client) {
	t.Helper()
	res, err := c.IQ(wait, "get", "localhost", "<ping xmlns='urn:xmpp:ping'/>")
	if err != nil {
		t.Fatalf("ping: %v", err)
	}
	if res.Get("type") != "result" {
		t.Fatalf("ping answered %s", res)
	}
}

func authCondition(err error) string {
	var ae *xmpptest.AuthError
	if errors.As(err, &ae) {
		return ae.Condition
	}
	return ""
}

func TestLoginOverStartTLS(t *testing.T) {
	srv := newServer(t, nil)
	for _, mech := range []string{xmpptest.ScramSHA256, xmpptest.ScramSHA1, xmpptest.Plain} {
		t.Run(mech, func(t *testing.T) {
			c, err := xmpptest.Dial(context.Background(), srv.C2S(), xmpptest.Options{
				User: "alice", Password: password, Resource: "desk", Mechanism: mech})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.TLS == nil || c.TLS.Version < tls.VersionTLS12 {
				t.Fatalf("TLS state %+v, want TLS 1.2 or later", c.TLS)
			}
			if c.JID != "alice@localhost/desk" {
				t.Fatalf("bound %q, want alice@localhost/desk", c.JID)
			}
			ping(t, c)
		})
	}
}

// XEP-0368: TLS from the first byte, with ALPN "xmpp-client".
func TestDirectTLSWithALPN(t *testing.T) {
	srv := newServer(t, nil)
	c, err := xmpptest.Dial(context.Background(), srv.C2STLS(), xmpptest.Options{
		User: "alice", Password: password, Resource: "tls", DirectTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.TLS == nil || c.TLS.NegotiatedProtocol != "xmpp-client" {
		t.Fatalf("TLS state %+v, want ALPN xmpp-client", c.TLS)
	}
	if c.Features.Child("starttls", xmpptest.NSTLS) != nil {
		t.Error("STARTTLS offered on a direct TLS stream")
	}
	ping(t, c)
}

// RFC 6120 §6.5.10: a wrong password or an unknown account is
// not-authorized, with nothing that tells the two apart.
func TestWrongCredentials(t *testing.T) {
	srv := newServer(t, nil)
	tests := []struct{ user, pass, mech string }{
		{"alice", "wrong", xmpptest.ScramSHA256},
		{"alice", "wrong", xmpptest.ScramSHA1},
		{"alice", "wrong", xmpptest.Plain},
		{"nobody", password, xmpptest.ScramSHA256},
		{"nobody", password, xmpptest.Plain},
	}
	for _, tc := range tests {
		_, err := xmpptest.Dial(context.Background(), srv.C2S(), xmpptest.Options{User: tc.user, Password: tc.pass, Mechanism: tc.mech})
		if got := authCondition(err); got != "not-authorized" {
			t.Errorf("%s %s/%q: err = %v, want <failure><not-authorized/>", tc.mech, tc.user, tc.pass, err)
		}
	}
	login(t, srv, "alice", "after") // the right password still works
}

// RFC 6120 §5.3.1, §6.4.2: where TLS is mandatory, SASL before STARTTLS is
// refused with <encryption-required/>, and the features said so.
func TestAuthBeforeStartTLSRefused(t *testing.T) {
	srv := newServer(t, nil)
	for _, mech := range []string{xmpptest.ScramSHA256, xmpptest.Plain} {
		_, err := xmpptest.Dial(context.Background(), srv.C2S(), xmpptest.Options{
			User: "alice", Password: password, Mechanism: mech, NoTLS: true})
		if got := authCondition(err); got != "encryption-required" {
			t.Errorf("%s without TLS: err = %v, want <failure><encryption-required/>", mech, err)
		}
	}
	conn, err := xmpptest.DialRaw(context.Background(), srv.C2S(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	toks := rawStream(t, conn, streamHeader("localhost"), 1)
	f := toks[len(toks)-1]
	st := f.Child("starttls", xmpptest.NSTLS)
	if st == nil || st.Child("required", "") == nil {
		t.Fatalf("features before TLS = %s, want <starttls><required/></starttls>", f)
	}
	if f.Child("mechanisms", xmpptest.NSSASL) != nil {
		t.Errorf("mechanisms offered before mandatory TLS: %s", f)
	}
}

// Even where plaintext is allowed (loopback), PLAIN must not send a
// password in the clear (RFC 6120 §13.8), while SCRAM may run.
func TestPlainBeforeTLSRefused(t *testing.T) {
	srv := newServer(t, func(c *config.Config) { c.AllowPlaintext = true })
	_, err := xmpptest.Dial(context.Background(), srv.C2S(), xmpptest.Options{
		User: "alice", Password: password, Mechanism: xmpptest.Plain, NoTLS: true})
	if got := authCondition(err); got != "encryption-required" {
		t.Errorf("PLAIN without TLS: err = %v, want <failure><encryption-required/>", err)
	}
	c, err := xmpptest.Dial(context.Background(), srv.C2S(), xmpptest.Options{
		User: "alice", Password: password, NoTLS: true, Resource: "plain"})
	if err != nil {
		t.Fatalf("SCRAM on plaintext loopback: %v", err)
	}
	defer c.Close()
	if c.TLS != nil {
		t.Error("TLS negotiated although NoTLS was asked")
	}
	ping(t, c)
}

// RFC 6120 §7.7.2.2: a second session for the same full JID replaces the
// first, which gets <conflict/>.
func TestResourceConflict(t *testing.T) {
	srv := newServer(t, nil)
	first := login(t, srv, "alice", "phone")
	second := login(t, srv, "alice", "phone")
	el := expect(t, first, "a conflict stream error", xmpptest.IsStreamError)
	if got := xmpptest.StreamErrorCondition(el); got != "conflict" {
		t.Fatalf("first session got %s, want <conflict/>", el)
	}
	if _, err := first.Recv(wait); err == nil {
		t.Fatal("the replaced stream stayed open")
	}
	if second.JID != "alice@localhost/phone" {
		t.Fatalf("second session bound %q", second.JID)
	}
	ping(t, second)
	// The new session is the one that receives.
	bob := login(t, srv, "bob", "x")
	send(t, bob, "<message to='alice@localhost/phone' type='chat'><body>hi</body></message>")
	expect(t, second, "bob's message", xmpptest.MessageBody("hi"))
}

// RFC 6120 §7.6: bind without a resource gets one from the server.
func TestServerGeneratedResource(t *testing.T) {
	srv := newServer(t, nil)
	a := login(t, srv, "alice", "")
	b := login(t, srv, "alice", "")
	for _, c := range []*xmpptest.Client{a, b} {
		bare, res, ok := strings.Cut(c.JID, "/")
		if bare != "alice@localhost" || !ok || res == "" {
			t.Fatalf("bound %q, want alice@localhost/<generated>", c.JID)
		}
	}
	if a.JID == b.JID {
		t.Fatalf("two sessions got the same generated resource %q", a.JID)
	}
	ping(t, a)
	ping(t, b)
}
