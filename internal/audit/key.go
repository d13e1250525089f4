package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"parley/internal/durable"
)

// Key files in the data directory: the private key signs checkpoints
// (0600, made at the first start); the public key beside it is what an
// auditor needs to verify, and may be copied off the machine.
const (
	KeyFile       = "audit.key"
	PublicKeyFile = "audit.pub"
)

// LoadOrCreateKey returns the checkpoint signing key kept in dir, making
// it (and its public half) on first use.
func LoadOrCreateKey(dir string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, KeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKey(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("audit: read key: %w", err)
	}
	return parseKey[ed25519.PrivateKey](path, b, "PRIVATE KEY", x509.ParsePKCS8PrivateKey)
}

// parseKey parses b, read from path, as a PEM block of type typ holding
// an Ed25519 key of type K; parse is x509's parser for typ.
func parseKey[K ed25519.PrivateKey | ed25519.PublicKey](path string, b []byte, typ string, parse func([]byte) (any, error)) (K, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != typ {
		return nil, fmt.Errorf("audit: %s is not a PEM %s", path, strings.ToLower(typ))
	}
	k, err := parse(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("audit: parse %s: %w", path, err)
	}
	key, ok := k.(K)
	if !ok {
		return nil, fmt.Errorf("audit: %s is not an Ed25519 key", path)
	}
	return key, nil
}

func createKey(dir string) (ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("audit: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("audit: encode key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("audit: encode public key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	// Two processes starting together must not each write a key and sign
	// with different ones: the one that loses uses the winner's.
	created, err := durable.CreateOnce(filepath.Join(dir, KeyFile), 0o600, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		return nil, fmt.Errorf("audit: write key: %w", err)
	}
	if !created {
		return LoadOrCreateKey(dir)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	if err := os.WriteFile(filepath.Join(dir, PublicKeyFile), pubPEM, 0o644); err != nil {
		return nil, fmt.Errorf("audit: write public key: %w", err)
	}
	return priv, nil
}

// LoadPublicKey returns the checkpoint verification key from dir: the
// public key file, or the private key's public half if only that exists.
func LoadPublicKey(dir string) (ed25519.PublicKey, error) {
	path := filepath.Join(dir, PublicKeyFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		priv, err := loadExistingKey(dir)
		if err != nil {
			return nil, err
		}
		return priv.Public().(ed25519.PublicKey), nil
	}
	return LoadPublicKeyFile(path)
}

// LoadPublicKeyFile reads a PEM Ed25519 public key (audit.pub, perhaps
// copied off the server so that a compromised server cannot swap it).
func LoadPublicKeyFile(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit: read public key: %w", err)
	}
	return parseKey[ed25519.PublicKey](path, b, "PUBLIC KEY", x509.ParsePKIXPublicKey)
}

func loadExistingKey(dir string) (ed25519.PrivateKey, error) {
	if _, err := os.Stat(filepath.Join(dir, KeyFile)); err != nil {
		return nil, fmt.Errorf("audit: no checkpoint key in %s: %w", dir, err)
	}
	return LoadOrCreateKey(dir)
}

// checkpointMessage is what a checkpoint signs: a fixed context string, so
// the key's signature cannot be replayed as anything else, then the
// record's seq (8 bytes big-endian) and its hash.
func checkpointMessage(seq int64, hash []byte) []byte {
	m := append([]byte("parley audit checkpoint v1\x00"), make([]byte, 8)...)
	binary.BigEndian.PutUint64(m[len(m)-8:], uint64(seq))
	return append(m, hash...)
}
