package adminapi_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/config"
	"parley/internal/control"
	"parley/internal/directory/slapdtest"
	"parley/internal/xmpptest"
)

// userToken asks POST /api/v1/me/token for a user token with HTTP Basic.
func (e *env) userToken(t *testing.T, user, password, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.base+"/api/v1/me/token", strings.NewReader(body))
	req.SetBasicAuth(user, password)
	return send(t, e.hc, req)
}

// TestUserToken: an account's owner gets a token of role user for their
// password over HTTPS (by username or bare JID); a wrong password, an
// unknown account, no credentials or a bearer header get 401 with a Basic
// challenge, audited as failed logins; the token reaches /me and nothing
// else (every operator route: 403, nothing done), operator tokens do not
// reach /me; a suspension revokes it; a disabled account gets none.
func TestUserToken(t *testing.T) {
	e := start(t)
	e.srv.AddUser(t, "alice", "pw-alice")
	e.srv.AddUser(t, "bob", "pw-bob")
	for i, c := range []struct{ user, pw string }{{"alice", "wrong"}, {"nobody", "pw-alice"}, {"alice@other.example", "pw-alice"}, {"", ""}} {
		resp, body := e.userToken(t, c.user, c.pw, "")
		if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("%d: %d %s, WWW-Authenticate %q", i, resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"))
		}
	}
	if resp, body := e.do(t, e.tokens[control.RoleAdmin], "POST", "/api/v1/me/token", ""); resp.StatusCode != 401 {
		t.Errorf("with a bearer token: %d %s", resp.StatusCode, body)
	}
	resp, body := e.userToken(t, "alice@localhost", "pw-alice", `{"name":"laptop","expires":"2h"}`)
	if resp.StatusCode != 201 {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	tok := decode[struct{ Token, ID, JID string }](t, body)
	if tok.JID != "alice@localhost" || !strings.HasPrefix(tok.Token, "parley_") {
		t.Fatalf("token answer %s", body)
	}
	if resp, body := e.userToken(t, "alice", "pw-alice", `{"expires":"90d"}`); resp.StatusCode != 400 {
		t.Errorf("90 days: %d %s, want 400", resp.StatusCode, body)
	}
	if resp, body := e.do(t, tok.Token, "GET", "/api/v1/me", ""); resp.StatusCode != 200 || !strings.Contains(body, `"jid":"alice@localhost"`) {
		t.Errorf("GET /me: %d %s", resp.StatusCode, body)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/users"}, {"GET", "/api/v1/users/alice"}, {"GET", "/api/v1/users/bob/sessions"},
		{"DELETE", "/api/v1/users/bob"}, {"POST", "/api/v1/users/bob/suspend"}, {"GET", "/api/v1/abuse-reports"},
		{"GET", "/api/v1/audit"}, {"GET", "/api/v1/tokens"}, {"GET", "/api/v1/server"}, {"GET", "/api/v1/rooms"},
	} {
		if resp, body := e.do(t, tok.Token, c.method, c.path, ""); resp.StatusCode != 403 {
			t.Errorf("user token, %s %s: %d %s, want 403", c.method, c.path, resp.StatusCode, body)
		}
	}
	if u, err := e.srv.Store().GetUser(t.Context(), "bob"); err != nil || u.Disabled {
		t.Fatalf("bob after the refused calls: %+v %v", u, err)
	}
	for _, role := range control.Roles {
		for _, p := range []string{"/api/v1/me", "/api/v1/me/export"} {
			if resp, body := e.do(t, e.tokens[role], "GET", p, ""); resp.StatusCode != 403 {
				t.Errorf("%s token, GET %s: %d %s, want 403", role, p, resp.StatusCode, body)
			}
		}
	}

	if resp, body := e.do(t, e.tokens[control.RoleHelpdesk], "POST", "/api/v1/users/alice/suspend", ""); resp.StatusCode != 200 ||
		!strings.Contains(body, `"tokens_revoked":1`) {
		t.Fatalf("suspend: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.do(t, tok.Token, "GET", "/api/v1/me", ""); resp.StatusCode != 401 {
		t.Errorf("alice's token after the suspension: %d, want 401", resp.StatusCode)
	}
	if resp, body := e.userToken(t, "alice", "pw-alice", ""); resp.StatusCode != 403 {
		t.Errorf("a token for the suspended account: %d %s, want 403", resp.StatusCode, body)
	}
	e.waitAudit(t, "", func(recs []audit.Record) error {
		var failed, created int
		for _, r := range recs {
			switch {
			case r.Action == audit.ActionLoginFailed && r.Details["mechanism"] == "api-basic" && r.IP == "127.0.0.1":
				failed++
			case r.Action == audit.ActionTokenCreated && r.Actor == "alice@localhost" && r.Details["role"] == "user":
				created++
			}
		}
		// 4 bad credentials, the bearer header, the suspended account.
		if failed != 6 || created != 1 {
			return fmt.Errorf("%d failed logins, %d user tokens audited; want 6, 1", failed, created)
		}
		return nil
	})
}

// TestUserExport: alice's export holds her vCard, roster, blocklist,
// archived messages, PEP bookmarks, private XML and uploaded file with
// its bytes, and nothing of bob's (his roster, his messages with carol,
// his upload); bob's token exports bob's. The export is audited as
// alice's.
func TestUserExport(t *testing.T) {
	e := start(t)
	for _, u := range []string{"alice", "bob", "carol"} {
		e.srv.AddUser(t, u, "pw-"+u)
	}
	alice := e.srv.Online(t, "alice", "pw-alice", "desk")
	bob := e.srv.Online(t, "bob", "pw-bob", "desk")
	carol := e.srv.Online(t, "carol", "pw-carol", "desk")
	set := func(c *xmpptest.Client, to, payload string) {
		t.Helper()
		if r, err := c.IQ(wait, "set", to, payload); err != nil || r.Get("type") != "result" {
			t.Fatalf("%s: %v %v", payload, r, err)
		}
	}
	set(alice, "", `<vCard xmlns='vcard-temp'><FN>Alice Liddell</FN></vCard>`)
	set(alice, "", `<query xmlns='jabber:iq:roster'><item jid='bob@localhost' name='Bobby'><group>Friends</group></item></query>`)
	set(alice, "", `<block xmlns='urn:xmpp:blocking'><item jid='mallory@evil.example'/></block>`)
	set(alice, "", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:bookmarks:1'><item id='tea@conference.localhost'>`+
		`<conference xmlns='urn:xmpp:bookmarks:1' name='Tea party' autojoin='true'/></item></publish>`+
		`<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>`+
		`<field var='pubsub#persist_items'><value>true</value></field><field var='pubsub#access_model'><value>whitelist</value></field></x></publish-options></pubsub>`)
	set(alice, "", `<query xmlns='jabber:iq:private'><notes xmlns='storage:rosternotes'><note jid='bob@localhost'>met at the tea party</note></notes></query>`)
	set(bob, "", `<query xmlns='jabber:iq:roster'><item jid='carol@localhost' name='Carol secret'/></query>`)
	for _, m := range []struct {
		from *xmpptest.Client
		to   *xmpptest.Client
		jid  string
		body string
	}{{bob, alice, "alice@localhost", "hello alice"}, {alice, bob, "bob@localhost", "hello bob"}, {bob, carol, "carol@localhost", "bob to carol only"}} {
		if err := m.from.Send(`<message type='chat' to='` + m.jid + `'><body>` + m.body + `</body></message>`); err != nil {
			t.Fatal(err)
		}
		if _, err := m.to.Expect(wait, xmpptest.MessageBody(m.body)); err != nil {
			t.Fatal(err)
		}
	}
	aliceFile := e.upload(t, alice, "cat.txt", "a picture of a cat")
	e.upload(t, bob, "bob.txt", "bob's private file")

	export := func(user string) map[string]string {
		t.Helper()
		resp, body := e.userToken(t, user, "pw-"+user, "")
		if resp.StatusCode != 201 {
			t.Fatalf("token: %d %s", resp.StatusCode, body)
		}
		tok := decode[struct{ Token string }](t, body).Token
		req, _ := http.NewRequest("GET", e.base+"/api/v1/me/export", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, b := send(t, e.hc, req)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
			t.Fatalf("export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		zr, err := zip.NewReader(strings.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("the export is no ZIP: %v", err)
		}
		files := map[string]string{}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			c, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
			files[f.Name] = string(c)
		}
		return files
	}
	files := export("alice")
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	fileID := strings.Split(aliceFile, "/")[len(strings.Split(aliceFile, "/"))-2]
	want := []string{"account.json", "blocklist.json", "messages.jsonl", "pep.json", "private.json", "roster.json",
		"uploads.json", "uploads/" + fileID + "/cat.txt", "vcard.xml"}
	if !slices.Equal(names, want) {
		t.Fatalf("entries %q, want %q", names, want)
	}
	for _, c := range []struct{ file, has string }{
		{"account.json", `"jid": "alice@localhost"`},
		{"vcard.xml", "Alice Liddell"},
		{"roster.json", `"name": "Bobby"`},
		{"roster.json", `"Friends"`},
		{"blocklist.json", "mallory@evil.example"},
		{"messages.jsonl", "hello alice"},
		{"messages.jsonl", "hello bob"},
		{"pep.json", "Tea party"},
		{"private.json", "met at the tea party"},
		{"uploads.json", `"name": "cat.txt"`},
		{"uploads/" + fileID + "/cat.txt", "a picture of a cat"},
	} {
		if !strings.Contains(files[c.file], c.has) {
			t.Errorf("%s lacks %q:\n%s", c.file, c.has, files[c.file])
		}
	}
	for name, content := range files {
		for _, bobs := range []string{"Carol secret", "bob to carol only", "bob.txt", "bob's private file"} {
			if strings.Contains(content, bobs) {
				t.Errorf("alice's %s holds bob's %q", name, bobs)
			}
		}
	}
	var msgs int
	for _, line := range strings.Split(strings.TrimSpace(files["messages.jsonl"]), "\n") {
		var m struct{ ID, With, Stanza string }
		if err := json.Unmarshal([]byte(line), &m); err != nil || m.ID == "" || m.With != "bob@localhost" || !strings.HasPrefix(m.Stanza, "<message") {
			t.Errorf("messages.jsonl line %q: %v", line, err)
		}
		msgs++
	}
	if msgs != 2 {
		t.Errorf("%d archived messages exported, want 2", msgs)
	}
	if bobs := export("bob"); !strings.Contains(bobs["messages.jsonl"], "bob to carol only") || strings.Contains(bobs["vcard.xml"], "Alice") {
		t.Errorf("bob's export: %q", bobs["messages.jsonl"])
	}
	e.waitAudit(t, audit.ActionExport, func(recs []audit.Record) error {
		var got []string
		for _, r := range recs {
			got = append(got, r.Actor+" "+r.Target+" "+r.Outcome)
		}
		if !slices.Equal(got, []string{"alice@localhost alice@localhost success", "bob@localhost bob@localhost success"}) {
			return fmt.Errorf("export records %q", got)
		}
		return nil
	})
}

// TestUserTokenDirectory: a directory (LDAP) account gets a user token
// for its directory password, checked by a bind as for SASL PLAIN: a
// wrong one is 401 and counts towards the back-off, a user the directory
// disables or removes is 403, a stopped directory is 503 (not counted),
// and local accounts go on with their stored keys.
func TestUserTokenDirectory(t *testing.T) {
	slapd := slapdtest.Start(t, slapdtest.LDIF)
	e := startWith(t, func(c *config.Config) {
		c.Auth.LDAP = config.LDAP{URL: slapd.URL, StartTLS: true, CA: slapd.CA, BindDN: slapdtest.AdminDN,
			BindPassword: slapdtest.AdminPassword, UserBase: "ou=people," + slapdtest.Suffix,
			UserFilter: "(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))",
			GroupBase:  "ou=groups," + slapdtest.Suffix, SyncInterval: config.Duration{Duration: time.Hour}}
	})
	e.srv.AddUser(t, "local", "local-pw")
	sync := func() {
		t.Helper()
		if err := e.srv.Directory().Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	sync()
	status := func(user, pw string) int {
		t.Helper()
		resp, _ := e.userToken(t, user, pw, "")
		return resp.StatusCode
	}
	for i, c := range []struct {
		user, pw string
		want     int
	}{
		0: {"alice", "alice-pw", 201},
		1: {"carol@localhost", "carol-pw", 201},
		2: {"alice", "wrong", 401},
		3: {"alice", "", 401},       // an unauthenticated bind would "succeed"
		4: {"dave", "dave-pw", 401}, // left out by the filter, no account here
		5: {"*", "alice-pw", 401},
		6: {"local", "local-pw", 201},
		7: {"local", "wrong", 401},
	} {
		if got := status(c.user, c.pw); got != c.want {
			t.Errorf("%d: %s: %d, want %d", i, c.user, got, c.want)
		}
	}
	// The token works like any user token.
	resp, body := e.userToken(t, "bob", "bob-pw", "")
	tok := decode[struct{ Token string }](t, body)
	if resp.StatusCode != 201 {
		t.Fatalf("bob: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do(t, tok.Token, "GET", "/api/v1/me", ""); resp.StatusCode != 200 || !strings.Contains(body, `"jid":"bob@localhost"`) {
		t.Fatalf("GET /me with bob's token: %d %s", resp.StatusCode, body)
	}

	// alice is disabled in the directory, bob removed: the directory's
	// answer is enough, before any sync.
	slapd.Replace("uid=alice,ou=people,dc=example,dc=com", "employeeType", "disabled")
	slapd.Delete("uid=bob,ou=people,dc=example,dc=com")
	for _, user := range []string{"alice", "bob"} {
		if got := status(user, user+"-pw"); got != 403 {
			t.Errorf("%s after leaving the directory: %d, want 403", user, got)
		}
	}

	// The directory down: 503 for its accounts, local ones go on.
	slapd.Stop()
	if got := status("carol", "carol-pw"); got != 503 {
		t.Errorf("carol with slapd stopped: %d, want 503", got)
	}
	if got := status("local", "local-pw"); got != 201 {
		t.Errorf("local with slapd stopped: %d, want 201", got)
	}
	slapd.Restart()

	// Failed binds count towards the address's back-off, as failed
	// SASL logins do: past the free failures the route answers 429.
	for i := 0; ; i++ {
		got := status("carol", "wrong")
		if got == 429 {
			break
		}
		if got != 401 || i > 20 {
			t.Fatalf("failure %d: %d", i, got)
		}
	}
	if got := status("carol", "carol-pw"); got != 429 {
		t.Errorf("right password while backed off: %d, want 429", got)
	}
}
