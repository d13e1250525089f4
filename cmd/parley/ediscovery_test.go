package main

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"parley/internal/store"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// TestEdiscoveryCLI: with a server running, `parley ediscovery search`
// and `export` go through its control socket; the export is printed as
// it progresses and copied out, `verify` accepts it and refuses it once a
// file is added to the zip (exit status 1).
func TestEdiscoveryCLI(t *testing.T) {
	srv := testserver.Start(t, nil)
	for _, u := range []string{"alice", "bob"} {
		srv.AddUser(t, u, "pw-"+u)
		if err := srv.Store().SetArchivePrefs(t.Context(), u, store.ArchivePrefs{Default: store.ArchiveAlways}); err != nil {
			t.Fatal(err)
		}
	}
	alice := srv.Online(t, "alice", "pw-alice", "phone")
	bob := srv.Online(t, "bob", "pw-bob", "desk")
	for i, body := range []string{"the merger is on", "lunch?", "merger details follow"} {
		if err := alice.Send(fmt.Sprintf(`<message to='bob@localhost' type='chat' id='c%d'><body>%s</body></message>`, i, body)); err != nil {
			t.Fatal(err)
		}
		if _, err := bob.Expect(ctlWait, xmpptest.MessageBody(body)); err != nil {
			t.Fatal(err)
		}
	}
	cli := func(wantCode int, args ...string) string {
		t.Helper()
		return serverCmdExit(t, srv, wantCode, args...)
	}
	out := cli(0, "ediscovery", "search", "--participant", "bob@localhost", "--words", "Merger")
	if strings.Count(out, "alice@localhost/phone") != 2 || !strings.Contains(out, "the merger is on") || strings.Contains(out, "lunch") {
		t.Errorf("search printed:\n%s", out)
	}
	out = cli(0, "ediscovery", "search", "--participant", "bob@localhost", "--limit", "1")
	if !strings.Contains(out, "more: --cursor ") {
		t.Errorf("first page printed:\n%s", out)
	}

	zipPath := filepath.Join(t.TempDir(), "case-42.zip")
	out = cli(0, "ediscovery", "export", "--participant", "alice@localhost", "--end", "2999-12-31", "--output", zipPath)
	if !strings.Contains(out, "done: 3 messages") || !strings.Contains(out, "wrote "+zipPath) {
		t.Errorf("export printed:\n%s", out)
	}
	if out = cli(0, "ediscovery", "verify", zipPath); !strings.Contains(out, "export intact") || !strings.Contains(out, "3 messages") {
		t.Errorf("verify printed:\n%s", out)
	}
	out = cli(0, "ediscovery", "jobs")
	if !strings.Contains(out, "done") {
		t.Errorf("jobs printed:\n%s", out)
	}
	id := strings.Fields(strings.Split(out, "\n")[1])[0]
	if out = cli(0, "ediscovery", "delete", id); !strings.Contains(out, "deleted export "+id) {
		t.Errorf("delete printed:\n%s", out)
	}
	if out = cli(0, "ediscovery", "jobs"); strings.Contains(out, id) {
		t.Errorf("jobs after delete:\n%s", out)
	}

	// The same files and one more: not the export that was signed.
	tampered := filepath.Join(t.TempDir(), "tampered.zip")
	copyZip(t, zipPath, tampered, "eml/planted.eml")
	if out = cli(1, "ediscovery", "verify", tampered); !strings.Contains(out, "TAMPERED") || !strings.Contains(out, "added: eml/planted.eml") {
		t.Errorf("verify of the tampered zip printed:\n%s", out)
	}
}

// copyZip copies the zip at from to to, with one more file named extra.
func copyZip(t *testing.T, from, to, extra string) {
	t.Helper()
	zr, err := zip.OpenReader(from)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, zf := range zr.File {
		w, err := zw.Create(zf.Name)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(w, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	w, err := zw.Create(extra)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("From: someone@example.com\r\n\r\nplanted\r\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}
