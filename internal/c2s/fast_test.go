package c2s_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"parley/internal/config"
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
		2: {xmpptest.Options{SASL2: &xmpptest.SASL2{UserAgent: phoneUA, Extra: "<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-UNIQ'/>"}}, "malformed-request"},
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

// fastOffered is the list of mechanisms in the <fast/> a client was
// offered.
func fastOffered(c *xmpptest.Client) []string {
	var m []string
	f := c.Offered.Child("authentication", xmpptest.NSSASL2).Child("inline", xmpptest.NSSASL2).Child("fast", xmpptest.NSFAST)
	for _, e := range f.Children {
		m = append(m, e.Text)
	}
	return m
}

// TestFASTChannelBinding, over TLS with the whole server: HT-SHA-256-EXPR
// (tls-exporter) and -ENDP (tls-server-end-point) are offered where the
// connection has the binding (XEP-0484 §4.1, draft-schmaus-kitten-sasl-ht
// §4); a token is issued for the mechanism asked and only that mechanism
// accepts it, over this connection's binding only (a proof made for
// another connection fails); rotation keeps the mechanism; a token asked
// for another mechanism replaces the device's; the store holds no token.
func TestFASTChannelBinding(t *testing.T) {
	// The refused logins are meant: no back-off between them.
	srv := testserver.Quiet(t, func(c *config.Config) { c.Limits.AuthFailuresBeforeBackoff = 100 })
	srv.AddUser(t, "alice", "pw-alice")
	ctx := context.Background()
	tls12 := &tls.Config{ServerName: "localhost", InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12}
	login := func(mech, token string, o xmpptest.Options) (*xmpptest.Client, error) {
		o.User, o.Password = "alice", "pw-alice"
		o.SASL2 = &xmpptest.SASL2{UserAgent: phoneUA, Bind: true, Token: token}
		if token == "" {
			o.SASL2.Extra = "<request-token xmlns='urn:xmpp:fast:0' mechanism='" + mech + "'/>"
		} else {
			o.Mechanism = mech
		}
		c, err := xmpptest.Dial(ctx, srv.C2S(), o)
		if err == nil {
			t.Cleanup(func() { c.Kill() })
		}
		return c, err
	}
	condition := func(err error) string {
		var ae *xmpptest.AuthError
		if errors.As(err, &ae) {
			return ae.Condition
		}
		if err != nil {
			return err.Error()
		}
		return ""
	}
	all := []string{xmpptest.HTSHA256Expr, xmpptest.HTSHA256Endp, xmpptest.HTSHA256None}
	for _, mech := range all[:2] {
		t.Run(mech, func(t *testing.T) {
			c, err := login(mech, "", xmpptest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := fastOffered(c); !slices.Equal(got, all) {
				t.Fatalf("offered over TLS 1.3: %v", got)
			}
			token := tokenOf(c).Get("token")
			d, err := srv.Store().FastDevice(ctx, "alice", phoneUA)
			sum := sha256.Sum256([]byte(token))
			if err != nil || d.Mechanism != mech || d.Next.Empty() || string(d.Next.Verifier) == token || string(d.Next.Verifier) == string(sum[:]) {
				t.Fatalf("device %+v, %v", d, err)
			}
			if _, err := login(mech, token, xmpptest.Options{}); err != nil {
				t.Fatalf("token login: %v", err)
			}
			for _, other := range all {
				if other != mech {
					if got := condition(fastErr(login(other, token, xmpptest.Options{}))); got != "not-authorized" {
						t.Errorf("token of %s with %s: %q", mech, other, got)
					}
				}
			}
			// A proof over another connection's binding (relayed).
			if got := condition(fastErr(login(mech, token, xmpptest.Options{ChannelBindingData: make([]byte, 32)}))); got != "not-authorized" {
				t.Errorf("proof over another channel: %q", got)
			}
			// Rotation near the expiry keeps the mechanism.
			d, _ = srv.Store().FastDevice(ctx, "alice", phoneUA)
			d.Current.Expires = time.Now().Add(time.Hour)
			srv.Store().SaveFastDevice(ctx, "alice", d)
			c, err = login(mech, token, xmpptest.Options{})
			if err != nil || tokenOf(c) == nil {
				t.Fatalf("rotation: %v", err)
			}
			if _, err := login(mech, tokenOf(c).Get("token"), xmpptest.Options{}); err != nil {
				t.Fatalf("rotated token: %v", err)
			}
		})
	}

	// A token asked for -NONE replaces the device's -EXPR one.
	c, err := login(xmpptest.HTSHA256Expr, "", xmpptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	expr := tokenOf(c).Get("token")
	before, _ := srv.Store().FastDevice(ctx, "alice", phoneUA)
	if _, err := login(xmpptest.HTSHA256None, "", xmpptest.Options{}); err != nil {
		t.Fatal(err)
	}
	if d, _ := srv.Store().FastDevice(ctx, "alice", phoneUA); !d.Created.Equal(before.Created) || d.Mechanism != xmpptest.HTSHA256None {
		t.Errorf("device after a -NONE token: %+v, created %v before", d, before.Created)
	}
	if got := condition(fastErr(login(xmpptest.HTSHA256Expr, expr, xmpptest.Options{}))); got != "not-authorized" {
		t.Errorf("-EXPR token after a -NONE one was issued: %q", got)
	}

	// TLS 1.2 has no tls-exporter: -EXPR is neither offered nor issued.
	c, err = login(xmpptest.HTSHA256Endp, "", xmpptest.Options{TLSConfig: tls12})
	if err != nil {
		t.Fatal(err)
	}
	if got := fastOffered(c); !slices.Equal(got, all[1:]) {
		t.Fatalf("offered over TLS 1.2: %v", got)
	}
	if got := condition(fastErr(login(xmpptest.HTSHA256Expr, "", xmpptest.Options{TLSConfig: tls12}))); got != "malformed-request" {
		t.Errorf("-EXPR token asked over TLS 1.2: %q", got)
	}
	if got := condition(fastErr(login(xmpptest.HTSHA256Expr, expr, xmpptest.Options{TLSConfig: tls12}))); got != "invalid-mechanism" {
		t.Errorf("-EXPR login over TLS 1.2: %q", got)
	}
}

// fastErr keeps the error of a login.
func fastErr(_ *xmpptest.Client, err error) error { return err }
