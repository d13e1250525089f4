package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDLP: [[dlp.policy]] and [dlp.groups] load from the file, and a bad
// policy is refused naming the key and the field.
func TestDLP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.toml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte("domain = 'example.com'\n"+s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`
[dlp.groups]
traders = ["t1@example.com", "t2@example.com"]

[[dlp.policy]]
name = "cards"
action = "block"
builtins = ["card", "cloud-key"]

[[dlp.policy]]
name = "falcon"
action = "redact"
keywords = ["project falcon"]
regexps = ['INV-\d{6}']
groups = ["traders"]
replacement = "***"
`)
	c, err := Load(path)
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(c.DLP.Policies) != 2 || c.DLP.Policies[1].Replacement != "***" || len(c.DLP.Groups["traders"]) != 2 {
		t.Fatalf("DLP = %+v", c.DLP)
	}
	write(`
[[dlp.policy]]
name = "falcon"
action = "redact"
groups = ["nobody"]
`)
	c, err = Load(path)
	if err == nil {
		err = c.Validate()
	}
	if err == nil || !strings.Contains(err.Error(), "dlp.policy") || !strings.Contains(err.Error(), "groups") {
		t.Errorf("Load = %v, want an error naming dlp.policy and groups", err)
	}
}
