package adminapi

import (
	"crypto/tls"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"parley/internal/control"
	"parley/internal/jid"
	"parley/internal/store"
	"parley/internal/store/sqlite"
)

// TestEveryRouteRefusesOtherRoles: every route, those other files and
// helpers add included, answers a token of each role it does not allow
// (the operators' roles and user) with 403 before its handler runs, and
// audits the refusal; admin is refused only the user routes. It needs no
// knowledge of a route's body or dependencies, so a new route is covered
// the day it is added (TestRoutesByRole calls the allowed ones for real).
func TestEveryRouteRefusesOtherRoles(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.CreateUser(t.Context(), store.User{Username: "alice"}); err != nil {
		t.Fatal(err)
	}
	ops := &control.Ops{Domain: jid.MustParse("localhost"), Users: st, Tokens: st}
	roles := append(slices.Clone(control.Roles), control.RoleUser)
	tokens := map[string]string{}
	for _, role := range roles {
		user := ""
		if role == control.RoleUser {
			user = "alice"
		}
		tok, _, err := ops.CreateToken(t.Context(), role, "t", user, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		tokens[role] = tok
	}
	var recs records
	a := New(Options{Ops: ops, Tokens: st, Audit: &recs})
	wildcard := regexp.MustCompile(`\{[a-z]+\.*\}`)
	refused := 0
	for _, rt := range allRoutes() {
		if slices.Contains(rt.roles, control.RoleUser) && len(rt.roles) != 1 {
			t.Errorf("%s %s: a user route names operator roles too %q", rt.method, rt.path, rt.roles)
		}
		for _, role := range roles {
			if rt.allows(role) {
				if role == control.RoleUser && !slices.Contains(rt.roles, control.RoleUser) {
					t.Errorf("%s %s allows user tokens", rt.method, rt.path)
				}
				continue
			}
			req := httptest.NewRequest(rt.method, wildcard.ReplaceAllString(rt.path, "x"), nil)
			req.RemoteAddr = "127.0.0.1:1"
			req.Header.Set("Authorization", "Bearer "+tokens[role])
			w := httptest.NewRecorder()
			a.ServeHTTP(w, req)
			if w.Code != 403 || w.Header().Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s as %s: %d %s, want a 403 problem", rt.method, rt.path, role, w.Code, w.Body)
			}
			refused++
		}
	}
	if len(recs) != refused {
		t.Errorf("%d refusals audited, want %d", len(recs), refused)
	}
	if refused < 50 {
		t.Errorf("only %d refusals tried", refused)
	}
}

// TestUserTokenNeedsTLS: a password is taken over TLS, or in clear only
// from loopback: from elsewhere without TLS the route answers 403 before
// reading the credentials (no failure counted, nothing looked up).
func TestUserTokenNeedsTLS(t *testing.T) {
	a := New(Options{})
	for _, c := range []struct {
		remote string
		tls    bool
		want   int
	}{{"192.0.2.1:5000", false, 403}, {"[2001:db8::1]:5000", false, 403}, {"192.0.2.1:5000", true, 503}, {"127.0.0.1:5000", false, 503}} {
		req := httptest.NewRequest("POST", "/api/v1/me/token", nil)
		req.RemoteAddr = c.remote
		req.TLS = nil
		if c.tls {
			req.TLS = &tls.ConnectionState{}
		}
		req.SetBasicAuth("alice", "secret")
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		if w.Code != c.want {
			t.Errorf("from %s, TLS %v: %d %s, want %d", c.remote, c.tls, w.Code, w.Body, c.want)
		}
	}
	if d := a.limit.wait("192.0.2.1"); d != 0 {
		t.Errorf("refusals for want of TLS closed the API for %v", d)
	}
}
