package sasl

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"parley/internal/durable"
)

// secretSize is the length of a generated Config.Secret (HMAC-SHA-256 key).
const secretSize = 32

// LoadOrCreateSecret returns the secret kept in the file at path, creating
// the file (mode 0600, with its directory 0700) with a random secret on
// first use. A secret that persists keeps the fake salt of an unknown
// account the same across restarts, as a real account's salt is (a salt
// that changed at every restart would tell an attacker the account does
// not exist). Every node of a cluster must be given the same file.
func LoadOrCreateSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if len(b) < secretSize {
			return nil, fmt.Errorf("sasl: secret %s: %d bytes, want %d (delete it to make a new one)", path, len(b), secretSize)
		}
		return b, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("sasl: secret: %w", err)
	}
	b = make([]byte, secretSize)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("sasl: secret: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sasl: secret: %w", err)
	}
	// Of two processes starting at once, one writes and the other reads
	// what was written.
	created, err := durable.CreateOnce(path, 0o600, b)
	if err != nil {
		return nil, fmt.Errorf("sasl: secret: %w", err)
	}
	if !created {
		return LoadOrCreateSecret(path)
	}
	return b, nil
}
