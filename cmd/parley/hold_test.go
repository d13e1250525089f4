package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/store"
	"parley/internal/store/sqlite"
	"parley/internal/xmpptest/testserver"
)

// TestHoldThroughControlSocket: `parley hold create|list|release` on a
// running server places, lists and lifts a hold (its record stays, with
// who released it), refuses bad input with a usage error, and the server
// audits each change.
func TestHoldThroughControlSocket(t *testing.T) {
	srv := testserver.Start(t, nil)
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return serverCmd(t, srv, args...)
	}
	code, out, errs := cli("hold", "create", "--name", "matter 17", "--reason", "litigation", "--user", "alice,bob@localhost",
		"--room", "desk@conference.localhost", "--from", "2026-01-01", "--to", "2026-03-31")
	if code != 0 || !strings.Contains(out, "hold 1 placed: alice@localhost, bob@localhost, desk@conference.localhost "+
		"(2026-01-01T00:00:00Z to 2026-03-31T23:59:59Z)") {
		t.Fatalf("hold create: %d %q %q", code, out, errs)
	}
	h, err := srv.Store().Hold(context.Background(), 1)
	if err != nil || h.CreatedBy != "cli" || !h.To.Equal(time.Date(2026, 3, 31, 23, 59, 59, 999999999, time.UTC)) {
		t.Errorf("stored hold %+v, %v", h, err)
	}
	for i, bad := range [][]string{
		{"hold", "create", "--user", "alice"},                      // no name
		{"hold", "create", "--name", "x"},                          // nothing held
		{"hold", "create", "--name", "x", "--user", "a@elsewhere"}, // not our domain
		{"hold", "create", "--name", "x", "--user", "a", "--from", "yesterday"},
		{"hold", "create", "--name", "x", "--user", "a", "--from", "2026-02-01", "--to", "2026-01-01"},
		{"hold", "release", "zero"},
	} {
		if code, _, errs := cli(bad...); code == 0 || errs == "" {
			t.Errorf("%d: %v: exit %d, want an error", i, bad, code)
		}
	}
	if code, out, _ := cli("hold", "release", "1"); code != 0 || !strings.Contains(out, "hold 1 released") {
		t.Errorf("release: %d %q", code, out)
	}
	if code, _, errs := cli("hold", "release", "1"); code == 0 || !strings.Contains(errs, "no active hold 1") {
		t.Errorf("release again: %d %q", code, errs)
	}
	_, out, _ = cli("hold", "list")
	if !strings.Contains(out, "matter 17") || !strings.Contains(out, "released ") || !strings.Contains(out, "by cli") ||
		!strings.Contains(out, "litigation") {
		t.Errorf("hold list %q: want the released hold kept", out)
	}
	waitCLIRecords(t, srv, audit.ActionHold, "want the hold's create and release records", func(recs []store.AuditRecord) bool {
		return len(recs) == 2 && recs[0].Details["op"] == "create" && recs[0].Details["users"] == "[alice bob]" &&
			recs[1].Details["op"] == "release" && recs[1].Target == "hold:1"
	})
}

// TestHoldWithoutServer: with no server running the CLI writes the store
// and the audit log itself.
func TestHoldWithoutServer(t *testing.T) {
	data := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(data, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	code, out, errs := cmd(t, "", "hold", "create", "--name", "m", "--room", "desk@conference.localhost", "--data", data, "--domain", "localhost")
	if code != 0 || !strings.Contains(out, "hold 1 placed: desk@conference.localhost (all dates)") {
		t.Fatalf("hold create: %d %q %q", code, out, errs)
	}
	st, err = sqlite.Open(context.Background(), filepath.Join(data, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.AuditRecords(context.Background(), store.AuditQuery{Action: audit.ActionHold})
	if err != nil || len(recs) != 1 || recs[0].Actor != "cli" || recs[0].Details["rooms"] != "[desk@conference.localhost]" {
		t.Errorf("audit records %+v, %v", recs, err)
	}
}
