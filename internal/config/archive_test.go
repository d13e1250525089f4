package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestArchiveLimits: the [archive] query limits load from the file, zero
// (left out) keeps mam's defaults, and a negative value names its key.
func TestArchiveLimits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.toml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte("domain = \"example.com\"\n[archive]\n"+s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("search_max_bytes = 300\nsearch_max_words = 4\nquery_timeout = \"2s\"\n")
	c, err := load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Archive.SearchBytes != 300 || c.Archive.SearchWords != 4 || c.Archive.QueryTimeout.Duration != 2*time.Second {
		t.Fatalf("archive limits %+v", c.Archive)
	}
	write("default = \"always\"\n")
	if c, err = load(path, noEnv); err != nil || c.Archive.SearchBytes != 0 || c.Archive.QueryTimeout.Duration != 0 {
		t.Fatalf("left out: %+v, %v", c.Archive, err)
	}
	c.Archive.SearchWords = -1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "archive.search_max_words") {
		t.Fatalf("negative search_max_words: %v", err)
	}
}
