package directory

import (
	"io"
	"log/slog"
	"strconv"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"parley/internal/config"
	"parley/internal/directory/slapdtest"
	"parley/internal/jid"
)

// TestInjection searches slapd with usernames that would be filter
// syntax unescaped: every one matches no entry (the equality value is a
// literal), while the control names match theirs.
func TestInjection(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.LDIF)
	d, err := New(Options{Config: config.LDAP{URL: s.URL, BindDN: slapdtest.AdminDN, BindPassword: slapdtest.AdminPassword,
		UserBase: "ou=people," + slapdtest.Suffix, UserFilter: "(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))"},
		Domain: jid.MustParse("example.com"), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for i, tc := range []struct {
		user string
		want int
	}{
		0:  {"alice", 1},
		1:  {"dave", 0}, // disabled by the filter
		2:  {"*", 0},
		3:  {"a*", 0},
		4:  {"*)(uid=*", 0},
		5:  {"alice)(|(uid=*", 0},
		6:  {"x)(|(objectClass=*", 0},
		7:  {"*)(employeeType=disabled", 0},
		8:  {"dave)(|(employeeType=*", 0},
		9:  {"alice\x00", 0},
		10: {"\x00*", 0},
		11: {"alice\\2a", 0},
		12: {"\\2a", 0},
		13: {"(uid=*)", 0},
		14: {"bob))(|(uid=*", 0},
		15: {"ALICE", 1}, // the directory's rule ignores case; find then insists on the exact localpart
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			var n int
			err := d.pool.do(func(c *ldap.Conn) error {
				entries, err := d.search(c, tc.user, false)
				n = len(entries)
				return err
			})
			if err != nil || n != tc.want {
				t.Fatalf("search %q (filter %s) = %d entries, %v; want %d", tc.user, d.userFilter(tc.user), n, err, tc.want)
			}
		})
	}
}
