package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestRoomCommands runs `parley room` create/list/destroy against a data
// directory, in order.
func TestRoomCommands(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	steps := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		0:  {args: []string{"room", "create", "lobby", "--owner", "alice@localhost", "--name", "The Lobby"}, stdout: "created lobby@conference.localhost\n"},
		1:  {args: []string{"room", "list"}, stdout: "lobby@conference.localhost\tThe Lobby\towners=alice@localhost\n"},
		2:  {args: []string{"room", "create", "lobby@conference.localhost", "--owner", "alice@localhost"}, code: 1, stderr: "exists already"},
		3:  {args: []string{"room", "create", "ops", "--owner", "not a jid"}, code: 2, stderr: "--owner must be a bare JID"},
		4:  {args: []string{"room", "create", "x@conference.elsewhere.example", "--owner", "alice@localhost"}, code: 2, stderr: "not on this server's service"},
		5:  {args: []string{"room", "destroy", "lobby"}, stdout: "destroyed lobby@conference.localhost\n"},
		6:  {args: []string{"room", "destroy", "lobby"}, code: 1, stderr: "no room"},
		7:  {args: []string{"room", "list"}, stdout: ""},
		8:  {args: []string{"room", "list", "extra"}, code: 2, stderr: "takes no arguments"},
		9:  {args: []string{"room", "rename"}, code: 2, stderr: "unknown subcommand"},
		10: {args: []string{"room", "destroy"}, code: 2, stderr: "takes one room"},
	}
	for i, st := range steps {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			code, out, errs := cmd(t, "", append(st.args, "--data", data)...)
			if code != st.code || out != st.stdout || !strings.Contains(errs, st.stderr) {
				t.Fatalf("%v: exit %d stdout %q stderr %q", st.args, code, out, errs)
			}
		})
	}
}
