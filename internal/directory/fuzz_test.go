package directory

import (
	"io"
	"log/slog"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"parley/internal/config"
	"parley/internal/jid"
)

// FuzzUserFilter: whatever the username, the login search filter parses
// and is the configured filter ANDed with one equality match whose
// value is exactly the username's bytes: a username never adds, removes
// or widens a condition (LDAP injection, RFC 4515).
func FuzzUserFilter(f *testing.F) {
	for _, s := range []string{"alice", "*", "*)(uid=*", "alice)(|(uid=*", "\x00", "a\\2a", "(", ")", "é", "\xff"} {
		f.Add(s)
	}
	d, err := New(Options{Config: config.LDAP{URL: "ldap://127.0.0.1:1", UserBase: "dc=example,dc=com",
		UserFilter: "(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))"},
		Domain: jid.MustParse("example.com"), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, username string) {
		p, err := ldap.CompileFilter(d.userFilter(username))
		if err != nil {
			t.Fatalf("filter for %q does not parse: %v", username, err)
		}
		if p.Tag != ldap.FilterAnd || len(p.Children) != 2 {
			t.Fatalf("filter for %q is not (&configured(uid=...)): %s", username, d.userFilter(username))
		}
		eq := p.Children[1]
		if eq.Tag != ldap.FilterEqualityMatch || len(eq.Children) != 2 {
			t.Fatalf("filter for %q: the username is not one equality match: %s", username, d.userFilter(username))
		}
		if attr, val := eq.Children[0].Data.String(), eq.Children[1].Data.Bytes(); attr != "uid" || string(val) != username {
			t.Fatalf("filter for %q matches %s=%q", username, attr, val)
		}
	})
}
