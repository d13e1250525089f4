package c2s_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// fastLogin logs in with SASL2 and Bind 2 as the phone of XEP-0474's
// example; token, if set, is presented with HT-SHA-256-NONE (XEP-0484
// §4.4), else the password with SCRAM-SHA-256.
func fastLogin(t *testing.T, srv *testserver.Server, token, extra, fastAttrs string) (*xmpptest.Client, error) {
	t.Helper()
	o := xmpptest.Options{User: "alice", Password: "pw-alice", SASL2: &xmpptest.SASL2{UserAgent: phoneUA,
		Software: "AwesomeXMPP", Device: "Kiva's Phone", Bind: true, Tag: "AwesomeXMPP", Extra: extra,
		Token: token, FastAttrs: fastAttrs}}
	if token != "" {
		o.Mechanism = xmpptest.HTSHA256None
	}
	c, err := xmpptest.Dial(context.Background(), srv.C2S(), o)
	if err == nil {
		t.Cleanup(func() { c.Kill() })
	}
	return c, err
}

// tokenOf is the <token/> of a SASL2 success, if any.
func tokenOf(c *xmpptest.Client) *xmlstream.Element {
	return c.Success().Child("token", "urn:xmpp:fast:0")
}

const requestToken = "<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/>"

// TestFAST, over TLS with the whole server and its store: a password
// login asks for a token (XEP-0484 §4.2-4.3); the next login presents it
// with HT-SHA-256-NONE and is done in one round trip, bound (the client
// checks the server's responder message); a token near its expiry is
// replaced in <success/> and the old one works until the new one is used
// (§4.5, §6); invalidate logs the token out (§4.6); an expired token is
// credentials-expired; a disabled account is refused; a device's tokens are kept only as verifiers.
func TestFAST(t *testing.T) {
	srv := testserver.Quiet(t, nil)
	srv.AddUser(t, "alice", "pw-alice")
	ctx := context.Background()

	c, err := fastLogin(t, srv, "", requestToken, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Offered.Child("authentication", xmpptest.NSSASL2).Child("inline", xmpptest.NSSASL2).Child("fast", "urn:xmpp:fast:0") == nil {
		t.Fatalf("FAST not offered: %s", c.Offered)
	}
	tok := tokenOf(c)
	if tok == nil || len(tok.Get("token")) < 64 {
		t.Fatalf("no token: %s", c.Success())
	}
	expiry, err := time.Parse(time.RFC3339, tok.Get("expiry"))
	if err != nil || expiry.Before(time.Now().Add(24*time.Hour)) {
		t.Fatalf("expiry %q: %v", tok.Get("expiry"), err)
	}
	token := tok.Get("token")
	d, err := srv.Store().FastDevice(ctx, "alice", phoneUA)
	if err != nil || d.Name != "Kiva's Phone" || d.Software != "AwesomeXMPP" || d.Next.Empty() || !d.Current.Empty() {
		t.Fatalf("stored device %+v, %v", d, err)
	}
	for _, b := range [][]byte{d.Next.Verifier, d.Next.Responder} {
		if string(b) == token {
			t.Fatal("the token itself is stored")
		}
	}
	c.Close()

	// One round trip: <authenticate/> answered by <success/> (a
	// challenge would fail the client), bound by Bind 2.
	c2, err := fastLogin(t, srv, token, "", "count='1'")
	if err != nil {
		t.Fatal(err)
	}
	if c2.Success().Child("bound", "urn:xmpp:bind:0") == nil || tokenOf(c2) != nil {
		t.Fatalf("token login: %s", c2.Success())
	}
	if _, err := c2.IQ(wait, "get", "localhost", "<ping xmlns='urn:xmpp:ping'/>"); err != nil {
		t.Fatal(err)
	}
	d, _ = srv.Store().FastDevice(ctx, "alice", phoneUA)
	if d.Current.Empty() || !d.Next.Empty() || d.Used.IsZero() {
		t.Fatalf("after the first use the new token is current: %+v", d)
	}

	// Near its expiry: the token is replaced in <success/>; the old one
	// still works until the new one has been used.
	d.Current.Expires = time.Now().Add(time.Hour)
	if err := srv.Store().SaveFastDevice(ctx, "alice", d); err != nil {
		t.Fatal(err)
	}
	c3, err := fastLogin(t, srv, token, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if tokenOf(c3) == nil || tokenOf(c3).Get("token") == token {
		t.Fatalf("no rotation: %s", c3.Success())
	}
	missed := tokenOf(c3).Get("token")
	// The client missed that <success/>: its old token still works, and
	// it gets another new one, which replaces the unused one (§4.5).
	c4, err := fastLogin(t, srv, token, "", "")
	if err != nil {
		t.Fatalf("old token before the new one was used: %v", err)
	}
	if tokenOf(c4) == nil || tokenOf(c4).Get("token") == missed {
		t.Fatalf("no new token: %s", c4.Success())
	}
	rotated := tokenOf(c4).Get("token")
	var ae *xmpptest.AuthError
	if _, err := fastLogin(t, srv, missed, "", ""); !errors.As(err, &ae) || ae.Condition != "not-authorized" {
		t.Fatalf("a replaced token that was never used: %v", err)
	}
	if _, err := fastLogin(t, srv, rotated, "", ""); err != nil {
		t.Fatalf("new token: %v", err)
	}
	if _, err := fastLogin(t, srv, token, "", ""); !errors.As(err, &ae) || ae.Condition != "not-authorized" {
		t.Fatalf("old token after the new one was used: %v", err)
	}

	// Expired: credentials-expired, and the client falls back to its
	// password.
	d, _ = srv.Store().FastDevice(ctx, "alice", phoneUA)
	d.Current.Expires = time.Now().Add(-time.Minute)
	srv.Store().SaveFastDevice(ctx, "alice", d)
	if _, err := fastLogin(t, srv, rotated, "", ""); !errors.As(err, &ae) || ae.Condition != "credentials-expired" {
		t.Fatalf("expired token: %v", err)
	}
	d.Current.Expires = time.Now().Add(time.Hour * 24 * 10)
	srv.Store().SaveFastDevice(ctx, "alice", d)

	// A disabled account (XEP-0133) is refused with its token as with
	// its password.
	if err := srv.Store().SetUserDisabled(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	if _, err := fastLogin(t, srv, rotated, "", ""); !errors.As(err, &ae) || ae.Condition != "account-disabled" {
		t.Fatalf("token of a disabled account: %v", err)
	}
	srv.Store().SetUserDisabled(ctx, "alice", false)

	// Invalidate: the login works, no new token, and the token is gone.
	c5, err := fastLogin(t, srv, rotated, "", "invalidate='true'")
	if err != nil || tokenOf(c5) != nil {
		t.Fatalf("invalidate: %v", err)
	}
	if _, err := fastLogin(t, srv, rotated, "", ""); !errors.As(err, &ae) || ae.Condition != "not-authorized" {
		t.Fatalf("invalidated token: %v", err)
	}
}

// TestFASTRefusals: FAST's rules around the exchange.
func TestFASTRefusals(t *testing.T) {
	srv := testserver.Quiet(t, nil)
	srv.AddUser(t, "alice", "pw-alice")
	for i, tc := range []struct {
		o    xmpptest.Options
		want string
	}{
		// A token needs a device (§6.1).
		0: {xmpptest.Options{SASL2: &xmpptest.SASL2{Extra: requestToken}}, "malformed-request"},
		1: {xmpptest.Options{Mechanism: xmpptest.HTSHA256None, SASL2: &xmpptest.SASL2{Token: "made-up"}}, "malformed-request"},
		// A mechanism not offered for tokens.
		2: {xmpptest.Options{SASL2: &xmpptest.SASL2{UserAgent: phoneUA, Extra: "<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-ENDP'/>"}}, "malformed-request"},
		// A token never issued.
		3: {xmpptest.Options{Mechanism: xmpptest.HTSHA256None, SASL2: &xmpptest.SASL2{UserAgent: phoneUA, Token: "made-up"}}, "not-authorized"},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			tc.o.User, tc.o.Password = "alice", "pw-alice"
			_, err := xmpptest.Dial(context.Background(), srv.C2S(), tc.o)
			var ae *xmpptest.AuthError
			if !errors.As(err, &ae) || ae.Condition != tc.want {
				t.Fatalf("err %v, want %s", err, tc.want)
			}
		})
	}
}

// TestBind2ArchiveMetadata: <bound/> carries the XEP-0313 metadata of the
// account's archive at binding (XEP-0386 §3.2's example): empty before
// any message, then the first and last archived ids.
func TestBind2ArchiveMetadata(t *testing.T) {
	srv := testserver.Quiet(t, nil)
	srv.AddUser(t, "alice", "pw-alice")
	srv.AddUser(t, "bob", "pw-bob")
	metadata := func() *xmlstream.Element {
		c, err := fastLogin(t, srv, "", "", "")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		md := c.Success().Child("bound", "urn:xmpp:bind:0").Child("metadata", "urn:xmpp:mam:2")
		if md == nil {
			t.Fatalf("no metadata: %s", c.Success())
		}
		return md
	}
	if md := metadata(); len(md.Children) != 0 {
		t.Fatalf("empty archive: %s", md)
	}
	b := srv.Online(t, "bob", "pw-bob", "desk")
	for _, body := range []string{"one", "two"} {
		xmpptest.MustSend(t, b, "<message to='alice@localhost' type='chat'><body>"+body+"</body></message>")
	}
	if _, err := b.IQ(wait, "get", "localhost", "<ping xmlns='urn:xmpp:ping'/>"); err != nil {
		t.Fatal(err)
	}
	var md *xmlstream.Element
	xmpptest.Eventually(t, wait, func() error {
		md = metadata()
		if md.Child("start", "urn:xmpp:mam:2") == nil {
			return errors.New("archive still empty")
		}
		return nil
	})
	start, end := md.Child("start", "urn:xmpp:mam:2"), md.Child("end", "urn:xmpp:mam:2")
	if start.Get("id") == "" || end.Get("id") == "" || start.Get("id") == end.Get("id") || end.Get("timestamp") == "" {
		t.Fatalf("metadata %s", md)
	}
}
