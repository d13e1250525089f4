package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"parley/internal/config"
	"parley/internal/sasl"
	"parley/internal/store"
	"parley/internal/store/sqlite"
)

// cmd runs one command line in-process and returns its exit status and
// output. The PARLEY_* environment is cleared so the machine running the
// tests cannot change their outcome.
func cmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	for _, k := range []string{config.EnvConfig, config.EnvData, config.EnvDomain, config.EnvStore, config.EnvLogLevel} {
		t.Setenv(k, "")
	}
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// keysMatch reports whether the stored keys were derived from password.
func keysMatch(t *testing.T, h sasl.Hash, k store.ScramKeys, password string) bool {
	t.Helper()
	d, err := sasl.DeriveKeys(h, password, k.Salt, k.Iterations)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(d.StoredKey, k.StoredKey) && bytes.Equal(d.ServerKey, k.ServerKey)
}

func getUser(t *testing.T, data, username string) store.User {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(data, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.GetUser(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestUserLifecycle(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	const pw1, pw2 = "correct horse", "battery staple"

	code, out, errs := cmd(t, "", "user", "add", "alice@localhost", "--data", data, "--password", pw1)
	if code != 0 || out != "added alice@localhost\n" {
		t.Fatalf("add: %d %q %q", code, out, errs)
	}
	if strings.Contains(out+errs, pw1) {
		t.Error("add printed the password")
	}
	if fi, err := os.Stat(data); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir: %v %v, want mode 0700", fi, err)
	}
	u := getUser(t, data, "alice")
	if u.SHA1.Iterations != 4096 || u.SHA256.Iterations != 4096 {
		t.Errorf("iterations %d/%d, want 4096", u.SHA1.Iterations, u.SHA256.Iterations)
	}
	if !keysMatch(t, sasl.SHA1, u.SHA1, pw1) || !keysMatch(t, sasl.SHA256, u.SHA256, pw1) {
		t.Error("stored keys do not match the password")
	}

	if u.Bot {
		t.Error("alice added as a bot")
	}
	if code, out, errs := cmd(t, "", "user", "add", "ci", "--bot", "--data", data, "--password", pw1); code != 0 || out != "added ci@localhost\n" {
		t.Fatalf("add --bot: %d %q %q", code, out, errs)
	}
	if !getUser(t, data, "ci").Bot {
		t.Error("user add --bot: not a bot")
	}
	if code, _, errs := cmd(t, "", "user", "del", "ci", "--data", data); code != 0 {
		t.Fatalf("del ci: %d %q", code, errs)
	}

	// A bare username is on the configured domain; it is normalised.
	if code, out, errs := cmd(t, pw1+"\n", "user", "add", "Bob", "--data", data); code != 0 || out != "added bob@localhost\n" {
		t.Fatalf("add bob: %d %q %q", code, out, errs)
	}
	if code, out, _ := cmd(t, "", "user", "list", "--data", data); code != 0 || out != "alice@localhost\nbob@localhost\n" {
		t.Fatalf("list: %d %q", code, out)
	}
	if code, _, errs := cmd(t, "", "user", "add", "alice", "--data", data, "--password", "x"); code != 1 || !strings.Contains(errs, "already exists") {
		t.Fatalf("second add: %d %q", code, errs)
	}

	// passwd reads the password from stdin when --password is absent.
	if code, out, errs := cmd(t, pw2+"\r\n", "user", "passwd", "alice@localhost", "--data", data); code != 0 || out != "password changed for alice@localhost\n" {
		t.Fatalf("passwd: %d %q %q", code, out, errs)
	}
	u2 := getUser(t, data, "alice")
	if !keysMatch(t, sasl.SHA1, u2.SHA1, pw2) || !keysMatch(t, sasl.SHA256, u2.SHA256, pw2) {
		t.Error("keys do not match the new password")
	}
	if keysMatch(t, sasl.SHA256, u2.SHA256, pw1) || bytes.Equal(u.SHA256.Salt, u2.SHA256.Salt) {
		t.Error("old password still works or salt was reused")
	}

	if code, out, _ := cmd(t, "", "user", "del", "alice@localhost", "--data", data); code != 0 || out != "deleted alice@localhost\n" {
		t.Fatalf("del: %d %q", code, out)
	}
	if code, out, _ := cmd(t, "", "user", "list", "--data", data); code != 0 || out != "bob@localhost\n" {
		t.Fatalf("list after del: %d %q", code, out)
	}
	if code, _, errs := cmd(t, "", "user", "del", "alice", "--data", data); code != 1 || !strings.Contains(errs, "no user alice@localhost") {
		t.Fatalf("del again: %d %q", code, errs)
	}
	if code, _, errs := cmd(t, "", "user", "passwd", "alice", "--data", data, "--password", "p"); code != 1 || !strings.Contains(errs, "no user alice@localhost") {
		t.Fatalf("passwd of deleted user: %d %q", code, errs)
	}
}

func TestUserDomainFromConfig(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "parley.toml", "domain = \"example.com\"\ndata = \""+filepath.Join(dir, "d")+"\"\n")
	if code, out, errs := cmd(t, "", "user", "add", "carol@example.com", "--config", file, "--password", "pw"); code != 0 || out != "added carol@example.com\n" {
		t.Fatalf("add: %d %q %q", code, out, errs)
	}
	code, _, errs := cmd(t, "", "user", "add", "dave@localhost", "--config", file, "--password", "pw")
	if code != 2 || !strings.Contains(errs, `"dave@localhost" is not on this server's domain "example.com"`) {
		t.Fatalf("wrong domain: %d %q", code, errs)
	}
	// --domain overrides the file.
	code, _, errs = cmd(t, "", "user", "list", "--config", file, "--domain", "other.example")
	if code != 0 || errs != "" {
		t.Fatalf("list: %d %q", code, errs)
	}
}

func TestCommandErrors(t *testing.T) {
	data := t.TempDir()
	if code, _, errs := cmd(t, "", "user", "add", "eve", "--data", data, "--password", "pw"); code != 0 {
		t.Fatalf("setup: %q", errs)
	}
	badConfig := writeFile(t, t.TempDir(), "bad.toml", "[limits]\nmax_depth = 1\n")
	tests := []struct {
		stdin   string
		args    []string
		code    int
		stdout  string // substring
		stderr  string // substring
		noStore bool   // the command must not create a database
	}{
		0:  {args: nil, code: 2, stderr: "usage: parley"},
		1:  {args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`},
		2:  {args: []string{"help"}, code: 0, stdout: "user add JID"},
		3:  {args: []string{"version"}, code: 0, stdout: "parley "},
		4:  {args: []string{"version", "x"}, code: 2},
		5:  {args: []string{"user"}, code: 2, stderr: "usage: parley user"},
		6:  {args: []string{"user", "rename", "x"}, code: 2, stderr: `unknown subcommand "rename"`},
		7:  {args: []string{"user", "add", "--data", data, "--password", "p"}, code: 2, stderr: "takes one JID"},
		8:  {args: []string{"user", "add", "a", "b", "--data", data, "--password", "p"}, code: 2, stderr: "takes one JID"},
		9:  {args: []string{"user", "list", "x", "--data", data}, code: 2, stderr: "takes no arguments"},
		10: {args: []string{"user", "add", "frank@example.com", "--data", data, "--password", "p"}, code: 2, stderr: "not on this server's domain"},
		11: {args: []string{"user", "add", "frank@localhost/phone", "--data", data, "--password", "p"}, code: 2, stderr: "has a resource"},
		12: {args: []string{"user", "add", "@localhost", "--data", data, "--password", "p"}, code: 2, stderr: "not a valid JID"},
		13: {args: []string{"user", "add", "localhost/x", "--data", data, "--password", "p"}, code: 2, stderr: "has no username"},
		14: {stdin: "", args: []string{"user", "add", "frank", "--data", data}, code: 2, stderr: "empty password"},
		15: {stdin: "\n", args: []string{"user", "passwd", "eve", "--data", data}, code: 2, stderr: "empty password"},
		16: {args: []string{"user", "list", "--data", filepath.Join(data, "nope")}, code: 1, stderr: "no database at", noStore: true},
		17: {args: []string{"user", "list", "--config", badConfig, "--data", data}, code: 1, stderr: "limits.max_depth"},
		18: {args: []string{"user", "list", "--bogus"}, code: 2, stderr: "flag provided but not defined"},
		19: {args: []string{"user", "add", "-h"}, code: 0, stderr: "-password"},
		20: {args: []string{"user", "list", "--data", data, "--store", "postgres://parley:secret@127.0.0.1:1/x"}, code: 1, stderr: "store:"},
		21: {args: []string{"config"}, code: 2, stderr: `only subcommand is "check"`},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			code, out, errs := cmd(t, tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.stdout) || !strings.Contains(errs, tc.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout ~ %q, stderr ~ %q",
					code, out, errs, tc.code, tc.stdout, tc.stderr)
			}
			if tc.noStore {
				if _, err := os.Stat(filepath.Join(data, "nope")); !os.IsNotExist(err) {
					t.Error("a data directory was created")
				}
			}
		})
	}
	// None of the failed commands changed the accounts.
	if code, out, _ := cmd(t, "", "user", "list", "--data", data); code != 0 || out != "eve@localhost\n" {
		t.Errorf("list after errors: %d %q", code, out)
	}
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.toml", "domain = \"example.com\"\n[listen]\nhttp = \"off\"\n")
	unknown := writeFile(t, dir, "unknown.toml", "domain = \"example.com\"\n[listen]\nc2ss = \":5222\"\n")
	invalid := writeFile(t, dir, "invalid.toml", "allow_plaintext = true\n[listen]\nc2s = \"x:y:z\"\n[limits]\nkeepalive = \"10m\"\n")
	tests := []struct {
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		0: {args: []string{"config", "check", good}, code: 0, stdout: []string{"ok\n"}},
		1: {args: []string{"config", "check", "--config", good}, code: 0, stdout: []string{"ok\n"}},
		2: {args: []string{"config", "check"}, code: 0, stdout: []string{"ok\n"}},
		3: {args: []string{"config", "check", filepath.Join("..", "..", "parley.example.toml")}, code: 0, stdout: []string{"ok\n"}},
		4: {args: []string{"config", "check", unknown}, code: 1, stdout: []string{"unknown.toml:3: listen.c2ss: unknown key"}},
		5: {args: []string{"config", "check", invalid}, code: 1, stdout: []string{
			`invalid.toml: listen.c2s: "x:y:z" is not a host:port or "off"`,
			`invalid.toml: allow_plaintext: is true but listen.http ":5280" is not a loopback`,
			"invalid.toml: limits.keepalive: 10m0s must be shorter",
		}},
		// Flags apply on top of the file, as for serve.
		6:  {args: []string{"config", "check", good, "--c2s", "nope"}, code: 1, stdout: []string{"listen.c2s:"}},
		7:  {args: []string{"config", "check", "--c2s", "nope", good}, code: 1, stdout: []string{"listen.c2s:"}},
		8:  {args: []string{"config", "check", filepath.Join(dir, "missing.toml")}, code: 1, stderr: "does not exist"},
		9:  {args: []string{"config", "check", good, "--config", invalid}, code: 2, stderr: "both FILE"},
		10: {args: []string{"config", "check", good, invalid}, code: 2},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			code, out, errs := cmd(t, "", tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d, ~%q", code, errs, tc.code, tc.stderr)
			}
			for _, w := range tc.stdout {
				if !strings.Contains(out, w) {
					t.Errorf("stdout %q lacks %q", out, w)
				}
			}
		})
	}
}
