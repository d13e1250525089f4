package main

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/store"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const ctlWait = 10 * time.Second

// expectStreamError waits for c's stream to end with condition.
func expectStreamError(t *testing.T, c *xmpptest.Client, condition string) {
	t.Helper()
	el, err := c.Expect(ctlWait, xmpptest.IsStreamError)
	if err != nil {
		t.Fatalf("%s: no stream error: %v", c.JID, err)
	}
	if got := xmpptest.StreamErrorCondition(el); got != condition {
		t.Fatalf("%s: stream error %s, want <%s/>", c.JID, el, condition)
	}
}

// serverCmd runs a command line on srv's data directory and domain and
// returns its exit status and output.
func serverCmd(t *testing.T, srv *testserver.Server, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return cmd(t, "", append(args, "--data", srv.Config.Data, "--domain", "localhost")...)
}

// serverCmdExit is serverCmd for a command line that must exit with
// status code; it returns its stdout.
func serverCmdExit(t *testing.T, srv *testserver.Server, code int, args ...string) string {
	t.Helper()
	got, out, errs := serverCmd(t, srv, args...)
	if got != code {
		t.Fatalf("parley %s: exit %d, want %d: %s%s", strings.Join(args, " "), got, code, out, errs)
	}
	return out
}

// waitCLIRecords waits for srv's audit log, which the server writes
// beside its answers, to hold records of action by the command line that
// ok accepts; missing says what is missing until then.
func waitCLIRecords(t *testing.T, srv *testserver.Server, action, missing string, ok func([]store.AuditRecord) bool) {
	t.Helper()
	xmpptest.Eventually(t, ctlWait, func() error {
		recs, err := srv.Store().(store.Audit).AuditRecords(context.Background(), store.AuditQuery{Actor: "cli", Action: action})
		if err != nil {
			return err
		}
		if !ok(recs) {
			return errors.New(missing)
		}
		return nil
	})
}

// With a server running on the data directory, `parley user` and
// `parley room` act through its control socket (issue 9 item 10): a
// deleted account's sessions end with <not-authorized/>, a password change
// ends the account's sessions, a destroyed room that is loaded tells its
// occupants.
func TestCLIThroughControlSocket(t *testing.T) {
	srv := testserver.Start(t, nil)
	srv.AddUsers(t, "pw", "alice", "bob", "carol")
	cli := func(args ...string) string {
		t.Helper()
		return serverCmdExit(t, srv, 0, args...)
	}

	t.Run("user del", func(t *testing.T) {
		alice := srv.Online(t, "alice", "pw", "phone")
		bob := srv.Online(t, "bob", "pw", "desk")
		if out := cli("user", "del", "alice"); !strings.Contains(out, "deleted alice@localhost (1 sessions ended)") {
			t.Errorf("output %q", out)
		}
		expectStreamError(t, alice, "not-authorized")
		if _, err := srv.Store().GetUser(context.Background(), "alice"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("alice still stored: %v", err)
		}
		if _, err := bob.IQ(ctlWait, "get", "localhost", "<ping xmlns='urn:xmpp:ping'/>"); err != nil {
			t.Errorf("another account's session was ended: %v", err)
		}
		// The server, the audit log's one writer while it runs, records it.
		waitCLIRecords(t, srv, audit.ActionAccountDeleted, "no account-deleted record for alice by cli", func(recs []store.AuditRecord) bool {
			return slices.ContainsFunc(recs, func(r store.AuditRecord) bool { return r.Target == "alice@localhost" })
		})
	})

	t.Run("user passwd", func(t *testing.T) {
		b1 := srv.Online(t, "bob", "pw", "one")
		b2 := srv.Online(t, "bob", "pw", "two")
		cli("user", "passwd", "bob", "--password", "new-bob")
		expectStreamError(t, b1, "not-authorized")
		expectStreamError(t, b2, "not-authorized")
		if _, err := xmpptest.Dial(context.Background(), srv.C2S(), xmpptest.Options{User: "bob", Password: "pw"}); err == nil {
			t.Error("the old password still logs in")
		}
		srv.Online(t, "bob", "new-bob", "three")
	})

	t.Run("room destroy", func(t *testing.T) {
		carol := srv.Online(t, "carol", "pw", "r")
		carol.Send("<presence to='lounge@conference.localhost/carol'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
		if _, err := carol.Expect(ctlWait, xmpptest.Stanza("presence", "", "lounge@conference.localhost/carol")); err != nil {
			t.Fatalf("join: %v", err)
		}
		if out := cli("room", "destroy", "lounge"); !strings.Contains(out, "destroyed lounge@conference.localhost") {
			t.Errorf("output %q", out)
		}
		if _, err := carol.Expect(ctlWait, func(el *xmlstream.Element) bool {
			x := el.Child("x", "http://jabber.org/protocol/muc#user")
			return el.Name == "presence" && el.Get("type") == "unavailable" && x != nil && x.Child("destroy", "") != nil
		}); err != nil {
			t.Fatalf("the occupant was not told of the destruction: %v", err)
		}
	})

	t.Run("user add and list", func(t *testing.T) {
		cli("user", "add", "dave", "--password", "pw-dave")
		srv.Online(t, "dave", "pw-dave", "r")
		if out := cli("user", "list"); !strings.Contains(out, "dave@localhost") || strings.Contains(out, "alice@") {
			t.Errorf("list %q", out)
		}
	})
}

// Without a server the CLI writes the store as before: the socket of a
// stopped server is gone or answers nobody.
func TestCLIWithoutServer(t *testing.T) {
	data := t.TempDir()
	if code, _, errs := cmd(t, "", "user", "add", "erin", "--password", "x", "--data", data); code != 0 {
		t.Fatalf("add: %s", errs)
	}
	if code, out, errs := cmd(t, "", "user", "del", "erin", "--data", data); code != 0 || !strings.Contains(out, "deleted erin@localhost\n") {
		t.Fatalf("del: %d %q %s", code, out, errs)
	}
}
