package interop

import (
	"testing"

	"parley/internal/config"
)

// TestSlixmppAdmin runs slix_admin.py: slixmpp's XEP-0050 and XEP-0133
// plugins list and run the service administration commands as the site
// admin alice (add-user, get-online-users-num), bob is refused, and its
// XEP-0012 and XEP-0202 plugins read the server's uptime and time.
func TestSlixmppAdmin(t *testing.T) {
	runPair(t, startPair(t, func(c *config.Config) { c.Admins = []string{"alice@localhost"} }), "slix_admin.py")
}
