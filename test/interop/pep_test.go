package interop

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"parley/internal/xmpptest/testserver"
)

// TestSlixmppPEP runs slix_pep.py: slixmpp's entity capabilities must
// verify on the server (XEP-0115 §5), and a +notify in them must bring
// PEP notifications and the last published item on login (XEP-0163).
func TestSlixmppPEP(t *testing.T) {
	requireSlixmpp(t)
	srv := testserver.Start(t, nil)
	srv.AddUser(t, "alice", password)
	srv.AddUser(t, "bob", password)
	host, port := hostPort(t, srv.C2S())
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "slix_pep.py", host, port,
		"alice@localhost", password, "bob@localhost", password)
	out, err := cmd.CombinedOutput()
	t.Logf("slix_pep.py:\n%s", out)
	if err != nil {
		t.Fatalf("slix_pep.py failed (%v):\n%s", err, out)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatalf("slix_pep.py exited 0 without PASS:\n%s", out)
	}
}
