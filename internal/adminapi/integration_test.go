package adminapi_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/control"
	"parley/internal/jid"
	"parley/internal/store"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
)

const wait = 10 * time.Second

// TestRoutesByRole calls every route over HTTPS with a token of each role:
// the roles allowed get the route's answer, the others 403, and nothing
// was done for a refused call.
func TestRoutesByRole(t *testing.T) {
	e := start(t)
	type tc struct {
		method, path, body string
		roles              []string // besides admin
		want               int
		session            bool // {user} has a live session with resource "r1"
		room               bool // room {room} exists, owned by {user}
		device             bool // {user} has the FAST device "phone"
	}
	hd := []string{control.RoleHelpdesk}
	cases := []tc{
		{method: "GET", path: "/api/v1/users", roles: hd, want: 200},
		{method: "POST", path: "/api/v1/users", body: `{"username":"new-{n}","password":"pw-new"}`, roles: hd, want: 201},
		{method: "GET", path: "/api/v1/users/{user}", roles: hd, want: 200},
		{method: "DELETE", path: "/api/v1/users/{user}", roles: hd, want: 200, session: true},
		{method: "POST", path: "/api/v1/users/{user}/disable", roles: hd, want: 200, session: true},
		{method: "POST", path: "/api/v1/users/{user}/enable", roles: hd, want: 200},
		{method: "POST", path: "/api/v1/users/{user}/password", body: `{"password":"changed"}`, roles: hd, want: 200, session: true},
		{method: "POST", path: "/api/v1/users/{user}/suspend", roles: hd, want: 200, session: true},
		{method: "POST", path: "/api/v1/users/{user}/resume", roles: hd, want: 200},
		{method: "GET", path: "/api/v1/users/{user}/sessions", roles: hd, want: 200, session: true},
		{method: "DELETE", path: "/api/v1/users/{user}/sessions", roles: hd, want: 200, session: true},
		{method: "DELETE", path: "/api/v1/users/{user}/sessions/r1", roles: hd, want: 200, session: true},
		{method: "GET", path: "/api/v1/sessions", roles: hd, want: 200},
		{method: "GET", path: "/api/v1/users/{user}/devices", roles: hd, want: 200, device: true},
		{method: "DELETE", path: "/api/v1/users/{user}/devices/phone", roles: hd, want: 200, device: true},
		{method: "GET", path: "/api/v1/rooms", want: 200},
		{method: "POST", path: "/api/v1/rooms", body: `{"room":"{room}","owner":"{user}"}`, want: 201},
		{method: "GET", path: "/api/v1/rooms/{room}", want: 200, room: true},
		{method: "DELETE", path: "/api/v1/rooms/{room}", want: 204, room: true},
		{method: "GET", path: "/api/v1/rooms/{room}/affiliations", want: 200, room: true},
		{method: "GET", path: "/api/v1/tokens", want: 200},
		{method: "DELETE", path: "/api/v1/tokens/{token}", want: 204},
		{method: "GET", path: "/api/v1/server", want: 200},
		{method: "GET", path: "/api/v1/webhooks/dead-letters", want: 200},
		{method: "GET", path: "/api/v1/audit", roles: []string{control.RoleAuditor}, want: 200},
		{method: "GET", path: "/api/v1/audit/export", roles: []string{control.RoleAuditor}, want: 200},
		{method: "GET", path: "/api/v1/abuse-reports", roles: []string{control.RoleHelpdesk, control.RoleCompliance}, want: 200},
	}
	n := 0
	// Besides the operators' roles, a user token of the very account the
	// route acts on: refused everywhere.
	roles := append(slices.Clone(control.Roles), control.RoleUser)
	for _, c := range cases {
		for _, role := range roles {
			n++
			name := fmt.Sprintf("u%d", n)
			t.Run(c.method+" "+c.path+" as "+role, func(t *testing.T) {
				e.srv.AddUser(t, name, "pw-"+name)
				var cl *xmpptest.Client
				if c.session {
					cl = e.srv.Online(t, name, "pw-"+name, "r1")
				}
				roomJID := "room-" + name + "@conference.localhost"
				if c.room {
					owner, _ := jid.Parse(name + "@localhost")
					room, _ := jid.Parse(roomJID)
					if err := e.ops().CreateRoom(context.Background(), room, owner, "", "", false, true); err != nil {
						t.Fatal(err)
					}
				}
				if c.device {
					d := store.FastDevice{UserAgent: "phone", Mechanism: "HT-SHA-256-NONE", Next: store.FastToken{Verifier: []byte{1}}}
					if err := e.srv.Store().SaveFastDevice(context.Background(), name, d); err != nil {
						t.Fatal(err)
					}
				}
				_, tk, err := e.ops().CreateToken(context.Background(), control.RoleAuditor, "victim", name, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				repl := strings.NewReplacer("{user}", name+"@localhost", "{room}", roomJID, "{n}", name, "{token}", tk.ID)
				path, body := repl.Replace(c.path), repl.Replace(c.body)
				token := e.tokens[role]
				if role == control.RoleUser {
					token = e.issue(t, control.RoleUser, name)
				}
				resp, got := e.do(t, token, c.method, path, body)
				allowed := role == control.RoleAdmin || slices.Contains(c.roles, role)
				if !allowed {
					if resp.StatusCode != http.StatusForbidden {
						t.Fatalf("%d %s, want 403", resp.StatusCode, got)
					}
					// Refused means nothing happened: the account is there
					// and enabled, its session alive.
					u, err := e.srv.Store().GetUser(context.Background(), name)
					if err != nil || u.Disabled {
						t.Fatalf("after a refused call: %+v, %v", u, err)
					}
					if _, err := e.srv.Store().TokenByHash(context.Background(), tk.Hash); err != nil {
						t.Fatalf("token gone after a refused call: %v", err)
					}
					if c.device {
						if _, err := e.srv.Store().FastDevice(context.Background(), name, "phone"); err != nil {
							t.Fatalf("device gone after a refused call: %v", err)
						}
					}
					if c.room {
						if _, err := e.srv.Store().GetRoom(context.Background(), roomJID); err != nil {
							t.Fatalf("room gone after a refused call: %v", err)
						}
					}
					if cl != nil {
						if _, err := cl.IQ(wait, "get", "localhost", "<ping xmlns='urn:xmpp:ping'/>"); err != nil {
							t.Fatalf("session ended by a refused call: %v", err)
						}
					}
					return
				}
				if resp.StatusCode != c.want {
					t.Fatalf("%d %s, want %d", resp.StatusCode, got, c.want)
				}
			})
		}
	}
}

// TestAuthentication: no token, a malformed, unknown, revoked or expired
// one get 401 with a Bearer challenge (RFC 6750 §3), and each refusal is
// audited, as are 403s and changes, with the token as the actor.
func TestAuthentication(t *testing.T) {
	e := start(t)
	e.srv.AddUser(t, "alice", "pw-alice")
	ops := e.ops()
	revoked, tk, err := ops.CreateToken(context.Background(), control.RoleAdmin, "gone", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ops.RevokeToken(context.Background(), tk.ID); err != nil {
		t.Fatal(err)
	}
	expired, _, err := ops.CreateToken(context.Background(), control.RoleAdmin, "old", "", time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct{ header, challenge string }{
		{"", `Bearer realm="parley"`},
		{"Basic YWxpY2U6cHc=", `Bearer realm="parley", error="invalid_token"`},
		{"Bearer parley_notatoken", `Bearer realm="parley", error="invalid_token"`},
		{"Bearer " + revoked, `Bearer realm="parley", error="invalid_token"`},
		{"Bearer " + expired, `Bearer realm="parley", error="invalid_token"`},
		{"Bearer " + e.tokens[control.RoleAdmin] + "x", `Bearer realm="parley", error="invalid_token"`},
	} {
		req, _ := http.NewRequest("GET", e.base+"/api/v1/users", nil)
		if c.header != "" {
			req.Header.Set("Authorization", c.header)
		}
		if resp, _ := send(t, e.hc, req); resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != c.challenge {
			t.Errorf("%d: %d, WWW-Authenticate %q; want 401, %q", i, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), c.challenge)
		}
	}
	if resp, body := e.do(t, e.tokens[control.RoleAuditor], "DELETE", "/api/v1/users/alice", ""); resp.StatusCode != 403 {
		t.Fatalf("auditor deleting: %d %s", resp.StatusCode, body)
	}
	resp, _ := e.do(t, e.tokens[control.RoleHelpdesk], "POST", "/api/v1/users/alice/disable", "")
	if resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") == "" {
		t.Fatalf("disable: %d, request id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
	}
	reqID := resp.Header.Get("X-Request-Id")
	e.waitAudit(t, "", func(recs []audit.Record) error {
		var denied401, denied403, disabled int
		for _, r := range recs {
			switch {
			case r.Outcome == audit.OutcomeDenied && r.Details["status"] == "401":
				denied401++
			case r.Outcome == audit.OutcomeDenied && r.Details["status"] == "403" && r.Details["role"] == "auditor":
				denied403++
			case r.Action == audit.ActionAccountDisabled && r.Target == "alice@localhost" && r.RequestID == reqID &&
				strings.HasPrefix(r.Actor, "admin-token:") && r.Outcome == audit.OutcomeSuccess && r.IP == "127.0.0.1":
				disabled++
			}
		}
		if denied401 != 6 || denied403 != 1 || disabled != 1 {
			return fmt.Errorf("audit: %d 401s, %d 403s, %d disables; want 6, 1, 1", denied401, denied403, disabled)
		}
		return nil
	})
}

// TestSuspendLiveClient: POST /suspend ends a live client's stream with
// <not-authorized/>, its contacts get its unavailable presence, it cannot
// log in again, the account's token stops
// working; POST /resume lets it log in again.
func TestSuspendLiveClient(t *testing.T) {
	e := start(t)
	e.srv.AddUser(t, "alice", "pw-alice")
	e.srv.AddUser(t, "bob", "pw-bob")
	alicesToken := e.issue(t, control.RoleHelpdesk, "alice")
	// Alice and bob see each other's presence (RFC 6121 §3: both).
	for _, p := range [][2]string{{"alice", "bob@localhost"}, {"bob", "alice@localhost"}} {
		if _, err := e.srv.Store().PutRosterItem(context.Background(), p[0], store.RosterItem{JID: p[1], Subscription: store.SubBoth}); err != nil {
			t.Fatal(err)
		}
	}
	bob := e.srv.Online(t, "bob", "pw-bob", "desk")
	bob.SendPresence()
	alice := e.srv.Online(t, "alice", "pw-alice", "phone")
	alice.SendPresence()
	if _, err := bob.Expect(wait, xmpptest.Stanza("presence", "", "alice@localhost/phone")); err != nil {
		t.Fatalf("bob does not see alice: %v", err)
	}
	if resp, _ := e.do(t, alicesToken, "GET", "/api/v1/users/bob", ""); resp.StatusCode != 200 {
		t.Fatalf("alice's token before: %d", resp.StatusCode)
	}
	// A file alice shared (XEP-0363), served until she is suspended.
	fileURL := e.upload(t, alice, "note.txt", "hello bob")
	if resp, _ := e.getURL(t, fileURL); resp.StatusCode != 200 {
		t.Fatalf("GET of alice's file before: %d", resp.StatusCode)
	}

	resp, body := e.do(t, e.tokens[control.RoleHelpdesk], "POST", "/api/v1/users/alice@localhost/suspend", "")
	if resp.StatusCode != 200 || body != `{"sessions_ended":1,"tokens_revoked":1}`+"\n" {
		t.Fatalf("suspend: %d %s", resp.StatusCode, body)
	}
	el, err := alice.Expect(wait, xmpptest.IsStreamError)
	if err != nil || xmpptest.StreamErrorCondition(el) != "not-authorized" {
		t.Fatalf("alice's stream: %v, %v; want <not-authorized/>", el, err)
	}
	if _, err := xmpptest.Dial(context.Background(), e.srv.C2S(), xmpptest.Options{User: "alice", Password: "pw-alice"}); err == nil {
		t.Fatal("a suspended account logged in")
	}
	// Her presence is withdrawn (RFC 6121 §4.6.1: the session ended).
	if _, err := bob.Expect(wait, xmpptest.Stanza("presence", "unavailable", "alice@localhost/phone")); err != nil {
		t.Fatalf("bob was not told alice went away: %v", err)
	}
	if resp, _ := e.do(t, alicesToken, "GET", "/api/v1/users/bob", ""); resp.StatusCode != 401 {
		t.Fatalf("alice's token after suspension: %d, want 401", resp.StatusCode)
	}
	if _, err := bob.IQ(wait, "get", "localhost", "<ping xmlns='urn:xmpp:ping'/>"); err != nil {
		t.Fatalf("bob's session: %v", err)
	}
	resp, body = e.do(t, e.tokens[control.RoleAdmin], "GET", "/api/v1/users/alice", "")
	if u := decode[map[string]any](t, body); resp.StatusCode != 200 || u["disabled"] != true || u["sessions"] != 0.0 {
		t.Fatalf("alice after suspension: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.getURL(t, fileURL); resp.StatusCode != 404 {
		t.Fatalf("GET of alice's file while suspended: %d, want 404", resp.StatusCode)
	}

	if resp, body := e.do(t, e.tokens[control.RoleHelpdesk], "POST", "/api/v1/users/alice/resume", ""); resp.StatusCode != 200 ||
		!strings.Contains(body, `"disabled":false`) {
		t.Fatalf("resume: %d %s", resp.StatusCode, body)
	}
	e.srv.Online(t, "alice", "pw-alice", "again")
	if resp, body := e.getURL(t, fileURL); resp.StatusCode != 200 || body != "hello bob" {
		t.Fatalf("GET of alice's file after resume: %d %q", resp.StatusCode, body)
	}
	e.waitAudit(t, audit.ActionAccountSuspended, func(recs []audit.Record) error {
		if len(recs) != 1 || recs[0].Target != "alice@localhost" {
			return errors.New("no account-suspended record for alice")
		}
		return nil
	})
}

// TestUsersAndSessions: create, get, paging with cursors, search, the
// sessions' client address and transport, ending one, errors as problems.
func TestUsersAndSessions(t *testing.T) {
	e := start(t)
	admin := e.tokens[control.RoleAdmin]
	for _, n := range []string{"ann", "bea", "cid", "dan", "eve"} {
		if resp, body := e.do(t, admin, "POST", "/api/v1/users", `{"username":"`+n+`","password":"pw-`+n+`"}`); resp.StatusCode != 201 ||
			resp.Header.Get("Location") != "/api/v1/users/"+n+"@localhost" {
			t.Fatalf("create %s: %d %s", n, resp.StatusCode, body)
		}
	}
	type userPage struct {
		Items []struct {
			JID string `json:"jid"`
		} `json:"items"`
		Next string `json:"next"`
	}
	var all []string
	cursor := ""
	for i := 0; ; i++ {
		_, body := e.do(t, admin, "GET", "/api/v1/users?limit=2&cursor="+cursor, "")
		p := decode[userPage](t, body)
		for _, u := range p.Items {
			all = append(all, u.JID)
		}
		if p.Next == "" {
			break
		}
		if i > 5 {
			t.Fatal("paging does not end")
		}
		cursor = p.Next
	}
	if strings.Join(all, " ") != "ann@localhost bea@localhost cid@localhost dan@localhost eve@localhost" {
		t.Fatalf("paged listing %v", all)
	}
	if _, body := e.do(t, admin, "GET", "/api/v1/users?q=E", ""); len(decode[userPage](t, body).Items) != 2 {
		t.Errorf("search for e: %s", body)
	}

	e.srv.Online(t, "ann", "pw-ann", "laptop")
	e.srv.Online(t, "ann", "pw-ann", "phone")
	_, body := e.do(t, admin, "GET", "/api/v1/users/ann/sessions", "")
	type sessionPage struct {
		Items []struct {
			JID, Resource, IP, Transport string
			Since                        time.Time
		} `json:"items"`
	}
	sp := decode[sessionPage](t, body)
	if len(sp.Items) != 2 || sp.Items[0].Resource != "laptop" || sp.Items[0].IP != "127.0.0.1" ||
		sp.Items[0].Transport != "tls" || time.Since(sp.Items[0].Since) > time.Minute {
		t.Fatalf("ann's sessions %s", body)
	}
	if resp, body := e.do(t, admin, "DELETE", "/api/v1/users/ann/sessions/laptop", ""); resp.StatusCode != 200 {
		t.Fatalf("end laptop: %d %s", resp.StatusCode, body)
	}
	xmpptest.Eventually(t, wait, func() error {
		_, body := e.do(t, admin, "GET", "/api/v1/sessions", "")
		if sp := decode[sessionPage](t, body); len(sp.Items) != 1 || sp.Items[0].JID != "ann@localhost/phone" {
			return fmt.Errorf("sessions %s", body)
		}
		return nil
	})

	for i, c := range []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/api/v1/users", `{"username":"ann","password":"x"}`, 409},
		{"POST", "/api/v1/users", `{"username":"zed","password":"x","admin":true}`, 400},
		{"POST", "/api/v1/users", `{"username":"zed"`, 400},
		{"POST", "/api/v1/users", `{"username":"zed","password":""}`, 400},
		{"POST", "/api/v1/users", `{"username":"zed@elsewhere","password":"x"}`, 404},
		{"POST", "/api/v1/users", `{"username":"zed","password":"` + strings.Repeat("x", 70<<10) + `"}`, 413},
		{"GET", "/api/v1/users/nobody", "", 404},
		{"GET", "/api/v1/users?limit=0", "", 400},
		{"GET", "/api/v1/users?cursor=garbage", "", 400},
		{"DELETE", "/api/v1/users/ann/sessions/gone", "", 404},
		{"PUT", "/api/v1/users", "", 405},
		{"GET", "/api/v1/nothing", "", 404},
		{"GET", "/api/v1/audit?since=yesterday", "", 400},
	} {
		if resp, body := e.do(t, admin, c.method, c.path, c.body); resp.StatusCode != c.status ||
			decode[map[string]any](t, body)["status"] != float64(c.status) {
			t.Errorf("%d: %s %s: %d %s, want %d", i, c.method, c.path, resp.StatusCode, body, c.status)
		}
	}
	if _, err := e.srv.Store().GetUser(context.Background(), "zed"); !errors.Is(err, store.ErrNotFound) {
		t.Error("zed was created by a refused request")
	}
}

// TestNoSecretsInResponses: across every route's answers (admin token), no
// password, SCRAM key, token or token hash appears, in any encoding the
// store or a client might use.
func TestNoSecretsInResponses(t *testing.T) {
	e := start(t)
	admin := e.tokens[control.RoleAdmin]
	e.do(t, admin, "POST", "/api/v1/users", `{"username":"sam","password":"s3cret-pass"}`)
	e.do(t, admin, "POST", "/api/v1/users/sam/password", `{"password":"n3w-s3cret"}`)
	e.srv.Online(t, "sam", "n3w-s3cret", "r")
	for _, p := range []string{"/api/v1/tokens", "/api/v1/users", "/api/v1/users/sam", "/api/v1/users/sam/sessions", "/api/v1/sessions",
		"/api/v1/server", "/api/v1/audit", "/api/v1/audit/export"} {
		if resp, body := e.do(t, admin, "GET", p, ""); resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", p, resp.StatusCode, body)
		}
	}
	// Tokens page in creation order: the four of start, two by two.
	type tokenPage struct {
		Items []struct{ ID, Role string } `json:"items"`
		Next  string                      `json:"next"`
	}
	_, body := e.do(t, admin, "GET", "/api/v1/tokens?limit=2", "")
	p1 := decode[tokenPage](t, body)
	_, body = e.do(t, admin, "GET", "/api/v1/tokens?limit=2&cursor="+p1.Next, "")
	p2 := decode[tokenPage](t, body)
	if len(p1.Items) != 2 || p1.Next == "" || len(p2.Items) != 2 || p2.Next != "" ||
		p1.Items[0].Role != "admin" || p2.Items[1].Role != "auditor" {
		t.Fatalf("token pages %+v %+v", p1, p2)
	}
	secrets := []string{"s3cret-pass", "n3w-s3cret"}
	u, err := e.srv.Store().GetUser(context.Background(), "sam")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []store.ScramKeys{u.SHA1, u.SHA256} {
		for _, b := range [][]byte{k.StoredKey, k.ServerKey, k.Salt} {
			secrets = append(secrets, hex.EncodeToString(b), base64.StdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b))
		}
	}
	tokens, err := e.srv.Store().ListTokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tokens {
		secrets = append(secrets, hex.EncodeToString(tk.Hash), base64.StdEncoding.EncodeToString(tk.Hash), base64.RawURLEncoding.EncodeToString(tk.Hash))
	}
	for _, tok := range e.tokens {
		secrets = append(secrets, tok, strings.TrimPrefix(tok, "parley_"))
	}
	if len(e.bodies) < 9 {
		t.Fatalf("only %d bodies", len(e.bodies))
	}
	for _, b := range e.bodies {
		for _, s := range secrets {
			if strings.Contains(b, s) {
				t.Errorf("a response contains the secret %q: %s", s, b)
			}
		}
	}
}

// TestDescribedRoutesAnswer: every operation openapi.json describes, as
// served at /api/v1/openapi.json, answers (an admin's call reaches a
// route: neither the catch-all 404 nor a 405).
func TestDescribedRoutesAnswer(t *testing.T) {
	e := start(t)
	e.srv.AddUser(t, "alice", "pw-alice")
	resp, body := e.do(t, "", "GET", "/api/v1/openapi.json", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	doc := decode[struct {
		Paths map[string]map[string]any `json:"paths"`
	}](t, body)
	n := 0
	for p, ops := range doc.Paths {
		for m := range ops {
			n++
			path := strings.NewReplacer("{user}", "alice", "{resource}", "none", "{room}", "none", "{id}", "none").Replace(p)
			body := ""
			if m == "post" && strings.HasSuffix(p, "/password") {
				body = `{"password":"x"}`
			}
			resp, got := e.do(t, e.tokens[control.RoleAdmin], strings.ToUpper(m), path, body)
			if resp.StatusCode == 405 || strings.Contains(got, `"title":"no such route"`) || resp.StatusCode >= 500 {
				t.Errorf("%s %s: %d %s", m, path, resp.StatusCode, got)
			}
		}
	}
	// TestOpenAPIMatchesRoutes holds the description equal to the routes;
	// this only makes sure the served document was read.
	if n < 25 {
		t.Errorf("%d operations described, want at least 25", n)
	}
}

// TestRooms: a room created through the API is served by the running MUC
// service (an occupant joins it), is listed with its owner, its password
// never shown; destroying it tells the occupant.
func TestRooms(t *testing.T) {
	e := start(t)
	e.srv.AddUser(t, "alice", "pw-alice")
	admin := e.tokens[control.RoleAdmin]
	resp, body := e.do(t, admin, "POST", "/api/v1/rooms", `{"room":"lounge","owner":"alice@localhost","name":"Lounge"}`)
	if resp.StatusCode != 201 || !strings.Contains(body, `"owners":["alice@localhost"]`) || !strings.Contains(body, `"name":"Lounge"`) {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.do(t, admin, "POST", "/api/v1/rooms", `{"room":"lounge@conference.localhost","owner":"alice@localhost"}`); resp.StatusCode != 409 {
		t.Fatalf("create again: %d, want 409", resp.StatusCode)
	}
	if resp, _ := e.do(t, admin, "GET", "/api/v1/rooms/lounge@elsewhere.example", ""); resp.StatusCode != 404 {
		t.Fatalf("a room of another service: %d, want 404", resp.StatusCode)
	}
	_, body = e.do(t, admin, "GET", "/api/v1/rooms/lounge/affiliations", "")
	if !strings.Contains(body, `{"jid":"alice@localhost","affiliation":"owner"}`) {
		t.Fatalf("affiliations %s", body)
	}
	alice := e.srv.Online(t, "alice", "pw-alice", "r")
	alice.Send("<presence to='lounge@conference.localhost/alice'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
	if _, err := alice.Expect(wait, xmpptest.Stanza("presence", "", "lounge@conference.localhost/alice")); err != nil {
		t.Fatalf("join: %v", err)
	}
	_, body = e.do(t, admin, "GET", "/api/v1/rooms", "")
	if !strings.Contains(body, `"jid":"lounge@conference.localhost"`) {
		t.Fatalf("list %s", body)
	}
	if resp, body := e.do(t, admin, "DELETE", "/api/v1/rooms/lounge?reason=closing", ""); resp.StatusCode != 204 {
		t.Fatalf("destroy: %d %s", resp.StatusCode, body)
	}
	if _, err := alice.Expect(wait, func(el *xmlstream.Element) bool {
		x := el.Child("x", "http://jabber.org/protocol/muc#user")
		return el.Name == "presence" && el.Get("type") == "unavailable" && x != nil && x.Child("destroy", "") != nil
	}); err != nil {
		t.Fatalf("the occupant was not told: %v", err)
	}
	if resp, _ := e.do(t, admin, "GET", "/api/v1/rooms/lounge", ""); resp.StatusCode != 404 {
		t.Fatalf("destroyed room: %d, want 404", resp.StatusCode)
	}
}
