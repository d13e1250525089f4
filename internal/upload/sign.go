package upload

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"

	"parley/internal/durable"
)

// SecretSize is the length of the HMAC key in bytes.
const SecretSize = 32

// sign is the PUT URL's signature: HMAC-SHA256 over everything the PUT
// must match, so that a URL cannot be changed to another slot, size, type
// or expiry. Fields are length-prefixed so that no two field lists encode
// the same.
func sign(secret []byte, id string, size int64, ctype string, expires int64) string {
	mac := hmac.New(sha256.New, secret)
	for _, f := range []string{id, strconv.FormatInt(size, 10), ctype, strconv.FormatInt(expires, 10)} {
		mac.Write([]byte(strconv.Itoa(len(f)) + ":" + f))
	}
	return hex.EncodeToString(mac.Sum(nil))
}

// validSignature compares in constant time.
func validSignature(secret []byte, sig, id string, size int64, ctype string, expires int64) bool {
	return hmac.Equal([]byte(sig), []byte(sign(secret, id, size, ctype, expires)))
}

// LoadSecret reads the HMAC key at path, creating it (mode 0600) at the
// first start. A key others may read is refused: whoever has it can write
// any slot.
func LoadSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createSecret(path)
	}
	if err != nil {
		return nil, fmt.Errorf("upload: secret: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("upload: secret: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("upload: secret %s is readable by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	if len(b) != SecretSize {
		return nil, fmt.Errorf("upload: secret %s holds %d bytes, want %d", path, len(b), SecretSize)
	}
	return b, nil
}

func createSecret(path string) ([]byte, error) {
	b := make([]byte, SecretSize)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("upload: secret: %w", err)
	}
	// Two servers starting on one data directory must not each write their
	// own key: the one that loses reads the winner's.
	created, err := durable.CreateOnce(path, 0o600, b)
	if err != nil {
		return nil, fmt.Errorf("upload: secret %s: %w", path, err)
	}
	if !created {
		return LoadSecret(path)
	}
	return b, nil
}
