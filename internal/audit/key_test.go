package audit

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"
)

// TestKey: the checkpoint key is made once, 0600, and read back the same;
// its public half verifies what it signs.
func TestKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	k1, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(dir)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load: %v, same key %v", err, bytes.Equal(k1, k2))
	}
	pub, err := LoadPublicKey(dir)
	if err != nil || !bytes.Equal(pub, k1.Public().(ed25519.PublicKey)) {
		t.Fatalf("public key: %v", err)
	}
	os.Remove(filepath.Join(dir, PublicKeyFile))
	if pub2, err := LoadPublicKey(dir); err != nil || !bytes.Equal(pub2, pub) {
		t.Fatalf("public key from the private one: %v", err)
	}
	if _, err := LoadPublicKey(t.TempDir()); err == nil {
		t.Fatal("LoadPublicKey of a directory without keys succeeded")
	}
	os.WriteFile(filepath.Join(dir, KeyFile), []byte("garbage"), 0o600)
	if _, err := LoadOrCreateKey(dir); err == nil {
		t.Fatal("a garbled key file was accepted")
	}
}
