package config

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestRetentionFile(t *testing.T) {
	tests := []struct {
		toml string
		want string // "" valid, else a fragment of the error
	}{
		{`[retention]
archive = "365d"
offline = "forever"
[[retention.policy]]
name = "desk"
users = ["alice@localhost"]
rooms = ["desk@conference.localhost"]
archive = "2555d"`, ""},
		{`[retention]
archive = "365"`, `not a period`},
		{`[retention]
archive = "0d"`, `not a period`},
		{`[retention]
uploads = "a year"`, `not a period`},
		{`[retention]
batch = -1`, "retention.batch"},
		{`[[retention.policy]]
name = "none"
archive = "30d"`, "names no users and no rooms"},
		{`[[retention.policy]]
users = ["alice@localhost"]`, "sets no period"},
		{`[[retention.policy]]
users = ["alice@elsewhere.example"]
archive = "30d"`, "retention.policy[0].users"},
		{`[[retention.policy]]
rooms = ["conference.localhost"]
archive = "30d"`, "retention.policy[0].rooms"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "parley.toml")
			if err := os.WriteFile(path, []byte(tc.toml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := load(path, noEnv)
			if err == nil {
				err = c.Validate()
			}
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one with %q", err, tc.want)
			}
			if tc.want == "" && (c.Retention.Archive != Period{Days: 365, Set: true} || c.Retention.Offline != Forever ||
				c.Retention.Uploads.Set || c.Retention.Policies[0].Archive.Keep() != 2555*24*60*60*1e9) {
				t.Errorf("read %+v", c.Retention)
			}
		})
	}
}
