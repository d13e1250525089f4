package adminapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/config"
	"parley/internal/control"
	"parley/internal/oidc/oidctest"
	"parley/internal/xmpptest"
)

// ssoRedirect is the callback registered at the provider. The test's
// browser stops at the provider's redirect to it and brings the query to
// the server's real callback itself (the server listens on a port picked
// at start, after the provider's clients are fixed).
const ssoRedirect = "https://localhost:1/api/v1/sso/callback"

var ssoUsers = map[string]map[string]any{
	"alice":   {"preferred_username": "alice", "groups": []string{"staff"}},
	"bob":     {"preferred_username": "bob@localhost", "groups": []string{"staff", "xmpp-admins"}},
	"dave":    {"preferred_username": "dave"},
	"mallory": {"preferred_username": "mallory@elsewhere.example"},
	"newbie":  {"preferred_username": "newbie"},
}

func startSSO(t *testing.T, createAccounts bool) (*env, *oidctest.Provider) {
	t.Helper()
	p := oidctest.Start(t, []string{ssoRedirect}, ssoUsers)
	e := startWith(t, func(c *config.Config) {
		c.Auth.OIDC = config.OIDC{Issuer: p.Issuer, ClientID: oidctest.ClientID, ClientSecret: oidctest.ClientSecret,
			RedirectURL: ssoRedirect, Roles: map[string]string{"xmpp-admins": "admin"}, CreateAccounts: createAccounts}
	})
	return e, p
}

// sso logs account in through the provider from GET /api/v1/sso/login?query
// and returns the callback's answer, and the callback URL (its query) and
// the browser, to replay it.
func (e *env) sso(t *testing.T, account, query string) (*http.Response, string, string, *http.Client) {
	t.Helper()
	b := oidctest.Browser(ssoRedirect, e.hc.Transport)
	back := oidctest.Authorize(t, b, e.base+"/api/v1/sso/login?"+query, account, ssoRedirect)
	resp, body := e.doURL(t, b, e.base+"/api/v1/sso/callback?"+back.RawQuery, "", "GET", "")
	return resp, body, back.RawQuery, b
}

type grant struct {
	Token, ID, Role, JID string
	Expires              time.Time
	Fast                 *struct{ Device, Mechanism, Token string }
}

// TestSSOLogin: alice logs in through the provider, gets a user token that
// reads /me and a FAST token with which her XMPP client logs in over
// SASL2 on a TLS connection in one round trip; the device is listed and
// revoked like any other. Replaying the callback is refused.
func TestSSOLogin(t *testing.T) {
	e, _ := startSSO(t, false)
	e.srv.AddUser(t, "alice", "pw-alice")
	const device = "5c1ad1d5-7d5e-4bd4-b1b9-0e2d8c8a8f10"
	resp, body, query, browser := e.sso(t, "alice", "device="+device)
	if resp.StatusCode != 200 {
		t.Fatalf("callback: %d %s", resp.StatusCode, body)
	}
	g := decode[grant](t, body)
	if g.Role != control.RoleUser || g.JID != "alice@localhost" || g.Fast == nil || g.Fast.Device != device ||
		g.Fast.Mechanism != xmpptest.HTSHA256None || g.Fast.Token == "" || time.Until(g.Expires) > time.Hour {
		t.Fatalf("grant %s", body)
	}
	if resp, body := e.do(t, g.Token, "GET", "/api/v1/me", ""); resp.StatusCode != 200 || !strings.Contains(body, `"jid":"alice@localhost"`) {
		t.Fatalf("/me with the SSO token: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.do(t, g.Token, "GET", "/api/v1/users", ""); resp.StatusCode != 403 {
		t.Fatalf("an operator route with a user token: %d", resp.StatusCode)
	}

	xmpp := func() (*xmpptest.Client, error) {
		return xmpptest.Dial(context.Background(), e.srv.C2S(), xmpptest.Options{User: "alice", Mechanism: xmpptest.HTSHA256None,
			SASL2: &xmpptest.SASL2{UserAgent: device, Bind: true, Tag: "web", Token: g.Fast.Token}})
	}
	c, err := xmpp()
	if err != nil {
		t.Fatalf("XMPP login with the FAST token: %v", err)
	}
	defer c.Kill()
	if c.TLS == nil || !strings.HasPrefix(c.JID, "alice@localhost/web/") {
		t.Fatalf("session %s, TLS %v", c.JID, c.TLS)
	}
	resp, body = e.do(t, e.tokens[control.RoleHelpdesk], "GET", "/api/v1/users/alice/devices", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"id":"`+device+`"`) || !strings.Contains(body, c.JID) {
		t.Fatalf("devices: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do(t, e.tokens[control.RoleHelpdesk], "DELETE", "/api/v1/users/alice/devices/"+device, ""); resp.StatusCode != 200 {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	if el, err := c.Expect(wait, xmpptest.IsStreamError); err != nil || xmpptest.StreamErrorCondition(el) != "not-authorized" {
		t.Fatalf("the revoked device's session: %v, %v", el, err)
	}
	var ae *xmpptest.AuthError
	if _, err := xmpp(); !errors.As(err, &ae) || ae.Condition != "not-authorized" {
		t.Fatalf("a revoked token: %v, want not-authorized", err)
	}

	// The same callback again: without the cookie (cleared by the first
	// answer) and then with it, the state being used.
	if resp, body := e.doURL(t, browser, e.base+"/api/v1/sso/callback?"+query, "", "GET", ""); resp.StatusCode != 403 {
		t.Fatalf("replayed callback: %d %s, want 403", resp.StatusCode, body)
	}
	u, _ := url.Parse(e.base + "/api/v1/sso/")
	state, _ := url.ParseQuery(query)
	browser.Jar.SetCookies(u, []*http.Cookie{{Name: "parley_sso", Value: state.Get("state"), Path: "/api/v1/sso/"}})
	if resp, body := e.doURL(t, browser, e.base+"/api/v1/sso/callback?"+query, "", "GET", ""); resp.StatusCode != 400 ||
		!strings.Contains(body, "used") {
		t.Fatalf("replayed state: %d %s, want 400", resp.StatusCode, body)
	}
	e.wantSSOAudit(t, map[string]int{"cookie": 1, "state": 1}, 1)
}

// TestSSORoles: a login asks for a role and gets it only if the provider's
// groups map to it; operator tokens need no account, user tokens do (or
// create_accounts); disabled accounts and other domains are refused.
func TestSSORoles(t *testing.T) {
	e, _ := startSSO(t, false)
	e.srv.AddUser(t, "alice", "pw-alice")
	e.srv.AddUser(t, "dave", "pw-dave")
	if _, err := e.ops().SetDisabled(t.Context(), "dave", true); err != nil {
		t.Fatal(err)
	}
	resp, body, _, _ := e.sso(t, "bob", "role=admin")
	if resp.StatusCode != 200 {
		t.Fatalf("bob as admin: %d %s", resp.StatusCode, body)
	}
	g := decode[grant](t, body)
	if g.Role != control.RoleAdmin || g.JID != "bob@localhost" || g.Fast != nil {
		t.Fatalf("bob's grant %s", body)
	}
	if resp, body := e.do(t, g.Token, "GET", "/api/v1/server", ""); resp.StatusCode != 200 {
		t.Fatalf("an admin route with bob's token: %d %s", resp.StatusCode, body)
	}
	for i, tc := range []struct {
		account, query string
		status         int
		reason         string
	}{
		0: {"alice", "role=admin", 403, "role"},    // staff maps to no role
		1: {"bob", "", 403, "no-account"},          // no account, none created
		2: {"dave", "", 403, "disabled"},           //
		3: {"mallory", "", 403, "username"},        // another domain
		4: {"newbie", "role=auditor", 403, "role"}, //
	} {
		if resp, body, _, _ := e.sso(t, tc.account, tc.query); resp.StatusCode != tc.status || !strings.Contains(body, "login refused") {
			t.Errorf("%d: %d %s, want %d", i, resp.StatusCode, body, tc.status)
		}
	}
	for _, q := range []string{"role=root", "role=admin&device=x", "device=" + strings.Repeat("x", 129)} {
		if resp, body := e.do(t, "", "GET", "/api/v1/sso/login?"+q, ""); resp.StatusCode != 400 {
			t.Errorf("login?%s: %d %s, want 400", q, resp.StatusCode, body)
		}
	}
	e.wantSSOAudit(t, map[string]int{"role": 2, "no-account": 1, "disabled": 1, "username": 1}, 1)
}

// TestSSOCreatesAccounts: with create_accounts, a first login makes the
// account, without a password.
func TestSSOCreatesAccounts(t *testing.T) {
	e, _ := startSSO(t, true)
	resp, body, _, _ := e.sso(t, "newbie", "")
	if resp.StatusCode != 200 || decode[grant](t, body).JID != "newbie@localhost" {
		t.Fatalf("newbie: %d %s", resp.StatusCode, body)
	}
	u, err := e.srv.Store().GetUser(t.Context(), "newbie")
	if err != nil || len(u.SHA256.StoredKey) != 0 || len(u.SHA1.StoredKey) != 0 {
		t.Fatalf("account %+v, %v; want one without a password", u, err)
	}
	e.waitAudit(t, audit.ActionAccountCreated, func(recs []audit.Record) error {
		if len(recs) != 1 || recs[0].Target != "newbie@localhost" || recs[0].Details["via"] != "oidc" {
			return fmt.Errorf("account-created records %+v", recs)
		}
		return nil
	})
}

// wantSSOAudit waits for the refusals audited (by reason) and the
// successful SSO logins.
func (e *env) wantSSOAudit(t *testing.T, refused map[string]int, logins int) {
	t.Helper()
	e.waitAudit(t, "", func(recs []audit.Record) error {
		got, ok := map[string]int{}, 0
		for _, r := range recs {
			switch {
			case r.Action == audit.ActionLoginFailed && r.Details["mechanism"] == "oidc":
				got[r.Details["reason"]]++
			case r.Action == audit.ActionLogin && r.Details["mechanism"] == "oidc" && r.Details["subject"] != "":
				ok++
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(refused) || ok != logins {
			return fmt.Errorf("refusals %v, logins %d; want %v, %d", got, ok, refused, logins)
		}
		return nil
	})
}
