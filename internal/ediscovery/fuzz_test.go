package ediscovery

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fuzzKey signs the seed export, so that the fuzzer starts from a zip
// that verifies.
var fuzzKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// seedExport is a small export as pack writes it, signed by fuzzKey.
func seedExport(t testing.TB) []byte {
	man := Manifest{Format: FormatVersion, Job: "00112233445566778899aabbccddeeff", Server: domain, Actor: "fuzz",
		Created: t0, Completed: t0.Add(time.Minute), Counts: Counts{Messages: 1, EML: 1},
		PublicKey: base64.StdEncoding.EncodeToString(fuzzKey.Public().(ed25519.PublicKey))}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range []struct{ name, data string }{
		{MessagesFile, `{"archive":"alice@example.com","id":"a1","stamp":"2025-03-04T09:00:00Z","body":"hi","stanza":"<message/>"}` + "\n"},
		{"eml/2025-03-04_alice@example.com_bob@example.com_00000000.eml", "From: <alice@example.com>\r\n\r\nhi\r\n"},
	} {
		w, done, err := addFile(zw, f.name, &man)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(w, f.data)
		done()
	}
	if err := writeManifest(zw, fuzzKey, man); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestSeedExportCorpus keeps the fuzz seed in testdata equal to what
// seedExport makes (PARLEY_WRITE_SEEDS=1 rewrites it).
func TestSeedExportCorpus(t *testing.T) {
	seed := seedExport(t)
	path := filepath.Join("testdata", "fuzz", "FuzzVerify", "export")
	corpus := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", seed)
	if os.Getenv("PARLEY_WRITE_SEEDS") != "" {
		if err := os.WriteFile(path, []byte(corpus), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if rep, err := Verify(bytes.NewReader(seed), int64(len(seed)), fuzzKey.Public().(ed25519.PublicKey)); err != nil || !rep.OK() {
		t.Fatalf("the seed export does not verify: %v %v", err, rep.Problems)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != corpus {
		t.Fatalf("%s is stale (%v): run with PARLEY_WRITE_SEEDS=1", path, err)
	}
}

// FuzzVerify: any bytes give an error or a report, never a panic; a
// report that says OK has a manifest that names only files it checked.
func FuzzVerify(f *testing.F) {
	f.Add(seedExport(f))
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	pub := fuzzKey.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := Verify(bytes.NewReader(b), int64(len(b)), pub)
		if err != nil {
			return
		}
		if rep.OK() {
			if rep.Files != len(rep.Manifest.Files) {
				t.Fatalf("OK with %d of %d files checked", rep.Files, len(rep.Manifest.Files))
			}
			if _, err := json.Marshal(rep); err != nil {
				t.Fatal(err)
			}
		}
	})
}
