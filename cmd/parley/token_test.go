package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley/internal/control"
	"parley/internal/store/sqlite"
)

// TestTokenCommands: token create prints a token once that authenticates
// against what the store keeps (only its hash), list shows it without the
// token, revoke removes it, and each change is audited.
func TestTokenCommands(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	code, out, errs := cmd(t, "", "token", "create", "--role", "helpdesk", "--name", "desk", "--expires", "30d", "--data", data)
	if code != 0 || !strings.Contains(errs, "cannot be shown again") {
		t.Fatalf("create: exit %d stdout %q stderr %q", code, out, errs)
	}
	token := strings.TrimSpace(out)
	if !strings.HasPrefix(token, "parley_") || len(token) != len("parley_")+43 {
		t.Fatalf("token %q: want parley_ and 43 base64url characters (256 bits)", token)
	}

	st, err := sqlite.Open(context.Background(), filepath.Join(data, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	tk, err := control.Authenticate(context.Background(), st, token, time.Now())
	if err != nil || tk.Role != "helpdesk" || tk.Name != "desk" {
		t.Fatalf("Authenticate = %+v, %v", tk, err)
	}
	if d := time.Until(tk.Expires); d < 29*24*time.Hour || d > 31*24*time.Hour {
		t.Errorf("expires in %v, want 30 days", d)
	}
	if _, err := control.Authenticate(context.Background(), st, token, tk.Expires); err != control.ErrTokenExpired {
		t.Errorf("Authenticate at expiry: %v, want ErrTokenExpired", err)
	}
	list, err := st.ListTokens(context.Background())
	if err != nil || len(list) != 1 || strings.Contains(string(list[0].Hash), token) {
		t.Fatalf("ListTokens = %+v, %v", list, err)
	}
	st.Close()

	steps := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		0: {args: []string{"token", "list"}, stdout: tk.ID + "  helpdesk  desk"},
		1: {args: []string{"token", "create", "--role", "root"}, code: 2, stderr: "--role must be one of"},
		2: {args: []string{"token", "create", "--role", "admin", "--expires", "soon"}, code: 2, stderr: "lifetime"},
		3: {args: []string{"token", "create", "--role", "admin", "--user", "nobody"}, code: 1, stderr: "no user nobody@localhost"},
		4: {args: []string{"token", "revoke"}, code: 2, stderr: "takes one token ID"},
		5: {args: []string{"token", "revoke", tk.ID}, stdout: "revoked " + tk.ID},
		6: {args: []string{"token", "revoke", tk.ID}, code: 1, stderr: "no token " + tk.ID},
		7: {args: []string{"token", "frobnicate"}, code: 2, stderr: "unknown subcommand"},
		8: {args: []string{"audit", "export", "--action", "token-created"}, stdout: `"target":"token:` + tk.ID},
		9: {args: []string{"audit", "export", "--action", "token-revoked"}, stdout: `"target":"token:` + tk.ID},
	}
	for i, s := range steps {
		code, out, errs := cmd(t, "", append(s.args, "--data", data)...)
		if code != s.code || !strings.Contains(out, s.stdout) || !strings.Contains(errs, s.stderr) {
			t.Fatalf("step %d %v: exit %d stdout %q stderr %q", i, s.args, code, out, errs)
		}
		if strings.Contains(out, token) || strings.Contains(errs, token) {
			t.Fatalf("step %d printed the token again", i)
		}
	}
	code, out, _ = cmd(t, "", "token", "list", "--data", data)
	if code != 0 || strings.Contains(out, tk.ID) {
		t.Fatalf("list after revoke: exit %d %q", code, out)
	}
}
