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

// TestSlixmppBytestreams runs slix_proxy65.py: slixmpp's XEP-0065 plugin
// finds parley's proxy by service discovery, negotiates a bytestream
// through it between two accounts and moves 200 kB one way and an answer
// back, compared byte for byte.
func TestSlixmppBytestreams(t *testing.T) {
	requireSlixmpp(t)
	srv := testserver.Start(t, func(c *config.Config) { c.Listen.Proxy65 = "127.0.0.1:0" })
	srv.AddUser(t, "alice", password)
	srv.AddUser(t, "bob", password)
	host, port := hostPort(t, srv.C2S())
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "slix_proxy65.py", host, port,
		"alice@localhost", password, "bob@localhost", password, "proxy.localhost").CombinedOutput()
	t.Logf("slix_proxy65.py:\n%s", out)
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("slix_proxy65.py failed (%v):\n%s", err, out)
	}
}
