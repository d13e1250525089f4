package server_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/config"
	"parley/internal/directory/slapdtest"
	"parley/internal/store"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// ldapServer is a server whose [auth.ldap] is a slapd started for the
// test (StartTLS, its CA), with dave disabled by the user filter.
func ldapServer(t *testing.T) (*testserver.Server, *slapdtest.Slapd) {
	t.Helper()
	s := slapdtest.Start(t, slapdtest.LDIF)
	srv := testserver.Start(t, func(c *config.Config) {
		c.Auth.LDAP = config.LDAP{URL: s.URL, StartTLS: true, CA: s.CA, BindDN: slapdtest.AdminDN,
			BindPassword: slapdtest.AdminPassword, UserBase: "ou=people," + slapdtest.Suffix,
			UserFilter: "(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))",
			GroupBase:  "ou=groups," + slapdtest.Suffix, SyncInterval: config.Duration{Duration: time.Hour}}
	})
	if err := srv.Directory().Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	return srv, s
}

// plain logs in with SASL PLAIN over STARTTLS.
func plain(user, password, resource string) xmpptest.Options {
	return xmpptest.Options{User: user, Password: password, Resource: resource, Mechanism: xmpptest.Plain}
}

// authFailure is the SASL condition a login gets ("" on success).
func authFailure(t *testing.T, addr string, o xmpptest.Options) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := xmpptest.Dial(ctx, addr, o)
	if err == nil {
		c.Close()
		return ""
	}
	var ae *xmpptest.AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("login %s: %v", o.User, err)
	}
	return ae.Condition
}

func TestDirectoryLogin(t *testing.T) {
	srv, slapd := ldapServer(t)
	srv.AddUser(t, "local", "local-pw")
	for i, tc := range []struct {
		o    xmpptest.Options
		want string
	}{
		0: {plain("alice", "alice-pw", "a"), ""},
		1: {plain("Alice", "alice-pw", "a"), ""}, // PRECIS first
		2: {plain("alice", "wrong", "a"), "not-authorized"},
		3: {xmpptest.Options{User: "alice", Password: "alice-pw"}, "not-authorized"}, // no SCRAM keys: PLAIN only
		4: {plain("dave", "dave-pw", "a"), "not-authorized"},                         // disabled in the directory
		5: {plain("*", "alice-pw", "a"), "not-authorized"},
		6: {plain("*)(uid=*", "alice-pw", "a"), "not-authorized"},
		7: {plain("alice)(|(uid=*", "alice-pw", "a"), "not-authorized"},
		8: {plain("local", "local-pw", "a"), ""},
		9: {xmpptest.Options{User: "local", Password: "local-pw"}, ""},
		// SASL2 (XEP-0388) PLAIN goes to the directory too.
		10: {xmpptest.Options{User: "alice", Password: "alice-pw", Mechanism: xmpptest.Plain, SASL2: &xmpptest.SASL2{Bind: true}}, ""},
		11: {xmpptest.Options{User: "alice", Password: "wrong", Mechanism: xmpptest.Plain, SASL2: &xmpptest.SASL2{Bind: true}}, "not-authorized"},
	} {
		if got := authFailure(t, srv.C2S(), tc.o); got != tc.want {
			t.Errorf("%d: login %q (%s): %q, want %q", i, tc.o.User, tc.o.Mechanism, got, tc.want)
		}
	}

	// The directory down: its logins fail for now, local ones go on.
	slapd.Stop()
	if got := authFailure(t, srv.C2S(), plain("alice", "alice-pw", "a")); got != "temporary-auth-failure" {
		t.Fatalf("directory login with slapd stopped: %q, want temporary-auth-failure", got)
	}
	if got := authFailure(t, srv.C2S(), plain("local", "local-pw", "a")); got != "" {
		t.Fatalf("local login with slapd stopped: %q", got)
	}
	if err := srv.Directory().Sync(context.Background()); err == nil {
		t.Fatal("sync with slapd stopped succeeded")
	}
	slapd.Restart()
	if got := authFailure(t, srv.C2S(), plain("alice", "alice-pw", "a")); got != "" {
		t.Fatalf("directory login after slapd restarted: %q", got)
	}
}

// rosterOf returns a client's roster as "jid subscription groups".
func rosterOf(t *testing.T, c *xmpptest.Client) []string {
	t.Helper()
	res, err := c.IQ(10*time.Second, "get", "", "<query xmlns='jabber:iq:roster'/>")
	if err != nil || res.Get("type") != "result" {
		t.Fatalf("roster get: %v %v", res, err)
	}
	var out []string
	for _, it := range res.FirstChild().Children {
		var groups []string
		for _, g := range it.Children {
			groups = append(groups, g.Text)
		}
		out = append(out, it.Get("jid")+" "+it.Get("subscription")+" "+strings.Join(groups, ","))
	}
	return out
}

func presenceFrom(from, typ string) func(*xmlstream.Element) bool {
	return func(el *xmlstream.Element) bool {
		return el.Name == "presence" && strings.HasPrefix(el.Get("from"), from) && el.Get("type") == typ
	}
}

// Directory groups are shared roster groups: members see each other
// without subscribing; a user removed from the directory loses the
// session at the next sync, and the others see it go.
func TestDirectoryGroups(t *testing.T) {
	srv, slapd := ldapServer(t)
	alice := xmpptest.Login(t, srv.C2S(), plain("alice", "alice-pw", "a"))
	bob := xmpptest.Login(t, srv.C2S(), plain("bob", "bob-pw", "b"))
	carol := xmpptest.Login(t, srv.C2S(), plain("carol", "carol-pw", "c"))
	if got, want := rosterOf(t, alice), []string{"bob@localhost both Engineering"}; !slices.Equal(got, want) {
		t.Fatalf("alice's roster %v, want %v", got, want)
	}
	if got, want := rosterOf(t, bob), []string{"alice@localhost both Engineering", "carol@localhost both Sales"}; !slices.Equal(got, want) {
		t.Fatalf("bob's roster %v, want %v", got, want)
	}
	xmpptest.MustSend(t, bob, "<presence/>")
	xmpptest.MustSend(t, alice, "<presence/>")
	xmpptest.MustSend(t, carol, "<presence/>")
	xmpptest.MustExpect(t, alice, 10*time.Second, "bob's presence", presenceFrom("bob@localhost/b", ""))
	xmpptest.MustExpect(t, bob, 10*time.Second, "alice's presence", presenceFrom("alice@localhost/a", ""))
	xmpptest.MustExpect(t, bob, 10*time.Second, "carol's presence", presenceFrom("carol@localhost/c", ""))

	// A subscription request between shared contacts is answered by the
	// server (RFC 6121 §3.1.3: the contact already has the presence),
	// and bob is not asked.
	xmpptest.MustSend(t, alice, "<presence type='subscribe' to='bob@localhost' id='sub1'/>")
	xmpptest.MustExpect(t, alice, 10*time.Second, "subscribed from bob", presenceFrom("bob@localhost", "subscribed"))
	if _, err := bob.IQ(10*time.Second, "get", "", "<ping xmlns='urn:xmpp:ping'/>"); err != nil {
		t.Fatal(err)
	}
	if el, err := bob.Expect(0, presenceFrom("alice@localhost", "subscribe")); err == nil {
		t.Fatalf("bob was asked: %s", xmlstream.Append(nil, el))
	}

	// alice's vCard comes from her entry.
	res, err := bob.IQ(10*time.Second, "get", "alice@localhost", "<vCard xmlns='vcard-temp'/>")
	if err != nil || res.Get("type") != "result" {
		t.Fatalf("vCard: %v %v", res, err)
	}
	v := res.FirstChild()
	if v.ChildText("FN", "vcard-temp") != "Alice Archer" || v.ChildText("TITLE", "vcard-temp") != "Engineer" {
		t.Fatalf("alice's vCard: %s", xmlstream.Append(nil, v))
	}

	// The password is the directory's: no in-band change (XEP-0077 §3.3).
	res, err = alice.IQ(10*time.Second, "set", "", "<query xmlns='jabber:iq:register'><username>alice</username><password>mine now</password></query>")
	if err != nil || xmpptest.StanzaErrorCondition(res) != "not-allowed" {
		t.Fatalf("in-band password change of a directory account: %v %v", res, err)
	}
	if got := authFailure(t, srv.C2S(), xmpptest.Options{User: "alice", Password: "mine now"}); got != "not-authorized" {
		t.Fatalf("SCRAM with the refused password: %q", got)
	}

	// carol joins Engineering: alice gets her as a contact, with presence.
	slapd.Replace("cn=Engineering,ou=groups,dc=example,dc=com", "member",
		"uid=alice,ou=people,dc=example,dc=com", "uid=bob,ou=people,dc=example,dc=com", "uid=carol,ou=people,dc=example,dc=com")
	if err := srv.Directory().Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	xmpptest.MustExpect(t, alice, 10*time.Second, "roster push of carol", func(el *xmlstream.Element) bool {
		it := el.FirstChild()
		return el.Name == "iq" && el.Get("type") == "set" && it != nil && it.FirstChild() != nil &&
			it.FirstChild().Get("jid") == "carol@localhost" && it.FirstChild().Get("subscription") == "both"
	})
	xmpptest.MustExpect(t, alice, 10*time.Second, "carol's presence", presenceFrom("carol@localhost/c", ""))

	// bob leaves the company mid-session.
	slapd.Delete("uid=bob,ou=people,dc=example,dc=com")
	if err := srv.Directory().Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	el := xmpptest.MustExpect(t, bob, 10*time.Second, "stream error", func(el *xmlstream.Element) bool {
		return xmpptest.StreamErrorCondition(el) != ""
	})
	if got := xmpptest.StreamErrorCondition(el); got != "not-authorized" {
		t.Fatalf("bob's stream ended with %q", got)
	}
	xmpptest.MustExpect(t, alice, 10*time.Second, "bob's unavailable", presenceFrom("bob@localhost", "unavailable"))
	if got := authFailure(t, srv.C2S(), plain("bob", "bob-pw", "b")); got != "account-disabled" && got != "not-authorized" {
		t.Fatalf("bob's login after removal: %q", got)
	}
	// The lockout is in the audit log (written behind: wait for it).
	xmpptest.Eventually(t, 10*time.Second, func() error {
		recs, err := srv.Store().AuditRecords(context.Background(), store.AuditQuery{Actor: "directory"})
		if err != nil {
			return err
		}
		for _, r := range recs {
			if r.Action == audit.ActionAccountDisabled && r.Target == "bob@localhost" && r.Details["sessions_ended"] == "1" {
				return nil
			}
		}
		return fmt.Errorf("no lockout record for bob in %v", recs)
	})
}

// TestDirectoryFAST: a FAST token (XEP-0484) of a directory user stops
// working once the directory disables or removes the user, as the
// password does: a token login never reaches the directory's bind.
func TestDirectoryFAST(t *testing.T) {
	srv, slapd := ldapServer(t)
	const phone = "2d7a1b4e-9c3f-4f7e-8a61-0f4b5f0c1d2e"
	requestToken := "<request-token xmlns='urn:xmpp:fast:0' mechanism='" + xmpptest.HTSHA256None + "'/>"
	tokenOf := func(user string) string {
		t.Helper()
		c := xmpptest.Login(t, srv.C2S(), xmpptest.Options{User: user, Password: user + "-pw", Mechanism: xmpptest.Plain,
			SASL2: &xmpptest.SASL2{UserAgent: phone, Bind: true, Extra: requestToken}})
		defer c.Close()
		tok := c.Success().Child("token", xmpptest.NSFAST)
		if tok == nil {
			t.Fatalf("%s got no token: %s", user, c.Success())
		}
		return tok.Get("token")
	}
	withToken := func(user, token string) xmpptest.Options {
		return xmpptest.Options{User: user, Mechanism: xmpptest.HTSHA256None,
			SASL2: &xmpptest.SASL2{UserAgent: phone, Bind: true, Token: token}}
	}
	alice, bob := tokenOf("alice"), tokenOf("bob")
	for _, user := range []string{"alice", "bob"} {
		tok := map[string]string{"alice": alice, "bob": bob}[user]
		if got := authFailure(t, srv.C2S(), withToken(user, tok)); got != "" {
			t.Fatalf("%s's token login while listed: %q", user, got)
		}
	}

	// alice is disabled in the directory (the user filter leaves her
	// out), bob is removed.
	slapd.Replace("uid=alice,ou=people,dc=example,dc=com", "employeeType", "disabled")
	slapd.Delete("uid=bob,ou=people,dc=example,dc=com")
	if err := srv.Directory().Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"alice", "bob"} {
		tok := map[string]string{"alice": alice, "bob": bob}[user]
		if got := authFailure(t, srv.C2S(), withToken(user, tok)); got != "account-disabled" {
			t.Errorf("%s's token login after leaving the directory: %q, want account-disabled", user, got)
		}
	}

	// Listed again: the token works again, as the password would.
	slapd.Replace("uid=alice,ou=people,dc=example,dc=com", "employeeType", "staff")
	if err := srv.Directory().Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := authFailure(t, srv.C2S(), withToken("alice", alice)); got != "" {
		t.Fatalf("alice's token login once listed again: %q", got)
	}
}
