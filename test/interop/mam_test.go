package interop

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"parley/internal/xmpptest/testserver"
)

// TestSlixmppMAM runs slix_mam.py: slixmpp's XEP-0313 client pages
// through an archive forward and backward with RSM, checks count, fin and
// the #extended metadata.
func TestSlixmppMAM(t *testing.T) {
	requireSlixmpp(t)
	srv := testserver.Start(t, nil)
	srv.AddUser(t, "alice", password)
	srv.AddUser(t, "bob", password)
	host, port := hostPort(t, srv.C2S())
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "slix_mam.py", host, port,
		"alice@localhost", password, "bob@localhost", password)
	out, err := cmd.CombinedOutput()
	t.Logf("slix_mam.py:\n%s", out)
	if err != nil {
		t.Fatalf("slix_mam.py failed (%v):\n%s", err, out)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatalf("slix_mam.py exited 0 without PASS:\n%s", out)
	}
}
