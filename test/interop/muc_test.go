package interop

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"parley/internal/xmpptest/testserver"
)

// TestSlixmppMUC runs slix_muc.py: a slixmpp user creates an instant room
// (XEP-0045 §10.1.2), another joins with history on join, both talk.
func TestSlixmppMUC(t *testing.T) {
	requireSlixmpp(t)
	srv := testserver.Start(t, nil)
	srv.AddUser(t, "alice", password)
	srv.AddUser(t, "bob", password)
	host, port := hostPort(t, srv.C2S())
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "slix_muc.py", host, port,
		"alice@localhost", password, "bob@localhost", password, "coven@conference.localhost")
	out, err := cmd.CombinedOutput()
	t.Logf("slix_muc.py:\n%s", out)
	if err != nil {
		t.Fatalf("slix_muc.py failed (%v):\n%s", err, out)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatalf("slix_muc.py exited 0 without PASS:\n%s", out)
	}
}
