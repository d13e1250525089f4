package interop

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/xmpptest/testserver"
)

// TestSlixmppAdmin runs slix_admin.py: slixmpp's XEP-0050 and XEP-0133
// plugins list and run the service administration commands as the site
// admin alice (add-user, get-online-users-num), bob is refused, and its
// XEP-0012 and XEP-0202 plugins read the server's uptime and time.
func TestSlixmppAdmin(t *testing.T) {
	requireSlixmpp(t)
	srv := testserver.Start(t, func(c *config.Config) { c.Admins = []string{"alice@localhost"} })
	srv.AddUser(t, "alice", password)
	srv.AddUser(t, "bob", password)
	host, port := hostPort(t, srv.C2S())
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "slix_admin.py", host, port, "alice@localhost", password, "bob@localhost", password).CombinedOutput()
	t.Logf("slix_admin.py:\n%s", out)
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("slix_admin.py failed (%v):\n%s", err, out)
	}
}
