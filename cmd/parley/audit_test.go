package main

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestAuditCommands: user and room commands leave audit records that
// `parley audit export` selects and `parley audit verify` checks; an edit
// in the database fails verify and names the record.
func TestAuditCommands(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	steps := []struct {
		args   []string
		code   int
		stdout string // contained
		stderr string
		lines  int // JSON lines in stdout, for export; -1 to skip
	}{
		0:  {args: []string{"user", "add", "alice", "--password", "pw1"}, stdout: "added", lines: -1},
		1:  {args: []string{"user", "passwd", "alice", "--password", "pw2"}, stdout: "password changed", lines: -1},
		2:  {args: []string{"room", "create", "lobby", "--owner", "alice@localhost"}, stdout: "created", lines: -1},
		3:  {args: []string{"room", "destroy", "lobby"}, stdout: "destroyed", lines: -1},
		4:  {args: []string{"user", "del", "alice"}, stdout: "deleted", lines: -1},
		5:  {args: []string{"audit", "verify"}, stdout: "audit log intact: 4 records (last 4)", lines: -1},
		6:  {args: []string{"audit", "export"}, stdout: `"action":"account-created"`, lines: 4},
		7:  {args: []string{"audit", "export", "--action", "account-deleted"}, stdout: `"target":"alice@localhost"`, lines: 1},
		8:  {args: []string{"audit", "export", "--action", "room-destroyed", "--actor", "nobody"}, lines: 0},
		9:  {args: []string{"audit", "export", "--since", "2999-01-01"}, lines: 0},
		10: {args: []string{"audit", "export", "--until", "2000-01-01T00:00:00Z"}, lines: 0},
		11: {args: []string{"audit", "export", "--since", "yesterday"}, code: 2, stderr: "neither RFC 3339 nor a date", lines: -1},
		12: {args: []string{"audit", "frobnicate"}, code: 2, stderr: "unknown subcommand", lines: -1},
		13: {args: []string{"audit", "verify", "extra"}, code: 2, stderr: "takes no arguments", lines: -1},
	}
	for i, st := range steps {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			code, out, errs := cmd(t, "", append(st.args, "--data", data)...)
			if code != st.code || !strings.Contains(out, st.stdout) || !strings.Contains(errs, st.stderr) {
				t.Fatalf("%v: exit %d stdout %q stderr %q", st.args, code, out, errs)
			}
			if st.lines < 0 {
				return
			}
			n := 0
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if line == "" {
					continue
				}
				var r map[string]any
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					t.Fatalf("export line %q: %v", line, err)
				}
				n++
			}
			if n != st.lines {
				t.Fatalf("%v: %d lines, want %d:\n%s", st.args, n, st.lines, out)
			}
		})
	}

	db, err := sql.Open("sqlite", filepath.Join(data, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE audit_log SET target = 'bob@localhost' WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out, _ := cmd(t, "", "audit", "verify", "--data", data)
	if code != 1 || !strings.Contains(out, "first problem: record 2 changed") || !strings.Contains(out, "the rest holds") {
		t.Fatalf("verify after an edit: exit %d, %q", code, out)
	}
}
