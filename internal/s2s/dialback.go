package s2s

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"parley/internal/durable"
)

// DialbackKey is the XEP-0185 §3 key: HMAC-SHA256 keyed with SHA-256 of
// the secret, over "receiving originating streamID", in hex. The
// authoritative server recomputes it from the same secret, so it needs no
// state per stream.
func DialbackKey(secret []byte, receiving, originating, streamID string) string {
	k := sha256.Sum256(secret)
	m := hmac.New(sha256.New, k[:])
	m.Write([]byte(receiving + " " + originating + " " + streamID))
	return hex.EncodeToString(m.Sum(nil))
}

// validKey compares in constant time.
func validKey(secret []byte, receiving, originating, streamID, key string) bool {
	want := DialbackKey(secret, receiving, originating, streamID)
	return hmac.Equal([]byte(want), []byte(key))
}

// LoadOrCreateSecret reads the dialback secret at path, or creates 32
// random bytes there (mode 0600), so keys handed out before a restart
// still verify after it (XEP-0185 §3: the secret must be stable).
func LoadOrCreateSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) < 16 {
			return nil, fmt.Errorf("s2s: %s holds %d bytes, want at least 16", path, len(b))
		}
		return b, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("s2s: %w", err)
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	created, err := durable.CreateOnce(path, 0o600, b)
	if err != nil {
		return nil, fmt.Errorf("s2s: %w", err)
	}
	if !created { // another process won the race
		return LoadOrCreateSecret(path)
	}
	return b, nil
}
