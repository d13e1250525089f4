package main

import (
	"context"
	"strings"
	"testing"

	"parley/internal/audit"
	"parley/internal/store"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// TestSuspendThroughControlSocket: `parley user suspend` on a running
// server ends the account's live session with <not-authorized/>, refuses
// its logins, revokes its API tokens (and no one else's), and is audited
// by the server; `parley user resume` lets it log in again.
func TestSuspendThroughControlSocket(t *testing.T) {
	srv := testserver.Start(t, nil)
	srv.AddUser(t, "alice", "pw-alice")
	srv.AddUser(t, "bob", "pw-bob")
	cli := func(args ...string) string {
		t.Helper()
		return serverCmdExit(t, srv, 0, args...)
	}
	cli("token", "create", "--role", "helpdesk", "--user", "alice", "--name", "alice's")
	cli("token", "create", "--role", "admin", "--name", "operator")
	alice := srv.Online(t, "alice", "pw-alice", "phone")
	bob := srv.Online(t, "bob", "pw-bob", "desk")

	out := cli("user", "suspend", "alice")
	if !strings.Contains(out, "suspended alice@localhost: logins refused, 1 sessions ended, 1 API tokens revoked") {
		t.Errorf("suspend output %q", out)
	}
	expectStreamError(t, alice, "not-authorized")
	if _, err := xmpptest.Dial(context.Background(), srv.C2S(), xmpptest.Options{User: "alice", Password: "pw-alice"}); err == nil {
		t.Error("a suspended account logged in")
	}
	if _, err := bob.IQ(ctlWait, "get", "localhost", "<ping xmlns='urn:xmpp:ping'/>"); err != nil {
		t.Errorf("another account's session was ended: %v", err)
	}
	if out := cli("token", "list"); strings.Contains(out, "alice's") || !strings.Contains(out, "operator") {
		t.Errorf("token list after suspend %q: want the operator's token only", out)
	}
	waitCLIRecords(t, srv, audit.ActionAccountSuspended, "no account-suspended record for alice by cli", func(recs []store.AuditRecord) bool {
		return len(recs) == 1 && recs[0].Target == "alice@localhost"
	})

	if out := cli("user", "resume", "alice"); !strings.Contains(out, "resumed alice@localhost") {
		t.Errorf("resume output %q", out)
	}
	srv.Online(t, "alice", "pw-alice", "again")
}
