package interop

import (
	"context"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/directory/slapdtest"
	"parley/internal/xmpptest/testserver"
)

// TestSlixmppDirectory: two slixmpp clients log in as directory users
// (Debian's slapd, started here) with PLAIN, find each other in their
// shared group with presence, and exchange messages (slix_directory.py).
func TestSlixmppDirectory(t *testing.T) {
	requireSlixmpp(t)
	s := slapdtest.Start(t, slapdtest.LDIF)
	srv := testserver.Start(t, func(c *config.Config) {
		c.Auth.LDAP = config.LDAP{URL: s.URL, StartTLS: true, CA: s.CA, BindDN: slapdtest.AdminDN,
			BindPassword: slapdtest.AdminPassword, UserBase: "ou=people," + slapdtest.Suffix,
			GroupBase: "ou=groups," + slapdtest.Suffix, SyncInterval: config.Duration{Duration: time.Hour}}
	})
	if err := srv.Directory().Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	host, port := hostPort(t, srv.C2S())
	runScript(t, "slix_directory.py", host, port, "alice@localhost", "alice-pw", "bob@localhost", "bob-pw", "Engineering")
}
