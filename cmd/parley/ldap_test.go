package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"parley/internal/directory/slapdtest"
)

// TestLDAPCommand: `parley ldap test` shows a directory user as parley
// sees it, and `parley config check` reports a bad [auth.ldap].
func TestLDAPCommand(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.LDIF)
	dir := t.TempDir()
	pw := filepath.Join(dir, "ldap.secret")
	if err := os.WriteFile(pw, []byte(slapdtest.AdminPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := func(extra string) string {
		f := filepath.Join(dir, "parley"+strconv.Itoa(len(extra))+".toml")
		body := `domain = "example.com"
data = "` + filepath.Join(dir, "data") + `"
[auth.ldap]
url = "` + s.URL + `"
start_tls = true
ca = "` + s.CA + `"
bind_dn = "` + slapdtest.AdminDN + `"
bind_password_file = "` + pw + `"
user_base = "ou=people,` + slapdtest.Suffix + `"
group_base = "ou=groups,` + slapdtest.Suffix + `"
` + extra
		if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	good := conf("")
	for i, tc := range []struct {
		args           []string
		code           int
		stdout, stderr []string // each contained
	}{
		0: {args: []string{"ldap", "test", "alice", "--config", good},
			stdout: []string{"jid         alice@example.com", "dn          uid=alice,ou=people,dc=example,dc=com",
				"groups      Engineering", "fn          Alice Archer", "title       Engineer", "phone       +1 555 0100"}},
		1: {args: []string{"ldap", "test", "Bob@example.com", "--config", good},
			stdout: []string{"jid     bob@example.com", "groups  Engineering, Sales"}},
		2: {args: []string{"ldap", "test", "*", "--config", good}, code: 1, stderr: []string{"no entry under ou=people,dc=example,dc=com matches user_filter with uid=*"}},
		3: {args: []string{"ldap", "test", "a@b@c", "--config", good}, code: 2, stderr: []string{"is not a username"}},
		4: {args: []string{"ldap", "test", "--config", good}, code: 2, stderr: []string{"ldap test takes one USER"}},
		5: {args: []string{"config", "check", conf(`user_filter = "(uid=*"` + "\n")}, code: 1,
			stdout: []string{`auth.ldap.user_filter: "(uid=*" is not an LDAP filter`}},
		6: {args: []string{"config", "check", good}, stdout: []string{"ok"}},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			code, out, errs := cmd(t, "", tc.args...)
			ok := code == tc.code
			for _, w := range tc.stdout {
				ok = ok && strings.Contains(out, w)
			}
			for _, w := range tc.stderr {
				ok = ok && strings.Contains(errs, w)
			}
			if !ok {
				t.Fatalf("%v: exit %d\nstdout %s\nstderr %s", tc.args, code, out, errs)
			}
		})
	}
	s.Stop()
	if code, _, errs := cmd(t, "", "ldap", "test", "alice", "--config", good); code != 1 || !strings.Contains(errs, "directory: unavailable") {
		t.Fatalf("slapd stopped: exit %d, stderr %s", code, errs)
	}
}
