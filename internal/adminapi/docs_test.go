package adminapi_test

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"parley/internal/control"
)

// TestAdminDocExamples runs every ```sh block of docs/admin.md, in order,
// with curl against a real server: $BASE its HTTPS address, $TOKEN an
// admin token, its self-signed certificate trusted through
// CURL_CA_BUNDLE. curl -f fails a block on any HTTP error.
func TestAdminDocExamples(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl not installed (CI=true: .ci/run installs it)")
		}
		t.Skip("no curl")
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "admin.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	var cur []string
	in := false
	for _, line := range strings.Split(string(doc), "\n") {
		switch {
		case !in && strings.TrimSpace(line) == "```sh":
			in, cur = true, nil
		case in && strings.TrimSpace(line) == "```":
			in = false
			blocks = append(blocks, strings.Join(cur, "\n"))
		case in:
			cur = append(cur, line)
		}
	}
	if len(blocks) < 7 {
		t.Fatalf("%d sh blocks in docs/admin.md", len(blocks))
	}
	e := start(t)
	dir := t.TempDir()
	for i, b := range blocks {
		cmd := exec.Command("sh", "-e", "-c", b)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(),
			"BASE=https://localhost:"+port(e.srv.HTTPS()),
			"TOKEN="+e.tokens[control.RoleAdmin],
			"CURL_CA_BUNDLE="+filepath.Join(e.srv.Config.Data, "tls", "localhost.crt"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("block %d:\n%s\n%v: %s", i, b, err, out)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "audit.jsonl")); err != nil || !strings.Contains(string(b), `"action":"account-suspended"`) {
		t.Errorf("the exported audit log %q, %v: want the suspension", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "export.zip")); err != nil || !bytes.HasPrefix(b, []byte("PK\x03\x04")) {
		t.Errorf("the e-discovery export %.20q, %v: want a zip", b, err)
	}
	if zr, err := zip.OpenReader(filepath.Join(dir, "alice.zip")); err != nil {
		t.Errorf("the doc's export: %v", err)
	} else {
		zr.Close()
	}
	if _, err := e.srv.Store().GetUser(t.Context(), "alice"); err == nil {
		t.Error("alice still exists after the doc's deletion")
	}
}

func port(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }
