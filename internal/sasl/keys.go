package sasl

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"

	"parley/internal/store"
)

// Hash selects the SCRAM hash function.
type Hash int

// The hashes of SCRAM-SHA-1 and SCRAM-SHA-256.
const (
	SHA1 Hash = iota + 1
	SHA256
)

func (h Hash) new() func() hash.Hash {
	switch h {
	case SHA1:
		return sha1.New
	case SHA256:
		return sha256.New
	}
	return nil
}

func (h Hash) size() int {
	switch h {
	case SHA1:
		return sha1.Size
	case SHA256:
		return sha256.Size
	}
	return 0
}

const (
	// DefaultIterations is the PBKDF2 count for new keys; RFC 7677 §4
	// recommends at least 4096.
	DefaultIterations = 4096
	// MinIterations is the lowest count NewKeys, DeriveKeys and the
	// servers accept: stored keys below it are treated as unusable.
	MinIterations = 4096
	// SaltSize is the length of the random salt NewKeys draws.
	SaltSize = 16
)

// Errors of key derivation.
var (
	ErrUnknownHash   = errors.New("sasl: unknown hash")
	ErrIterations    = fmt.Errorf("sasl: iteration count below %d", MinIterations)
	ErrEmptySalt     = errors.New("sasl: empty salt")
	ErrPasswordPrep  = errors.New("sasl: password rejected by PRECIS OpaqueString")
	ErrEmptyPassword = errors.New("sasl: empty password")
)

// NewKeys computes the stored keys for a new password with a random salt.
func NewKeys(h Hash, password string, iterations int) (store.ScramKeys, error) {
	salt := make([]byte, SaltSize)
	// crypto/rand.Read cannot fail (it crashes the program instead).
	_, _ = rand.Read(salt)
	return DeriveKeys(h, password, salt, iterations)
}

// DeriveKeys computes the keys of RFC 5802 §3 for password, salt and
// iteration count: StoredKey = H(HMAC(SaltedPassword, "Client Key")) and
// ServerKey = HMAC(SaltedPassword, "Server Key"). It returns an error
// because PRECIS can reject a password and the parameters can be too weak.
func DeriveKeys(h Hash, password string, salt []byte, iterations int) (store.ScramKeys, error) {
	salted, err := saltedPassword(h, password, salt, iterations)
	if err != nil {
		return store.ScramKeys{}, err
	}
	ck := hmacSum(h, salted, "Client Key")
	H := h.new()()
	H.Write(ck)
	return store.ScramKeys{
		Salt:       append([]byte(nil), salt...),
		Iterations: iterations,
		StoredKey:  H.Sum(nil),
		ServerKey:  hmacSum(h, salted, "Server Key"),
	}, nil
}

func saltedPassword(h Hash, password string, salt []byte, iterations int) ([]byte, error) {
	switch {
	case h.new() == nil:
		return nil, ErrUnknownHash
	case iterations < MinIterations:
		return nil, ErrIterations
	case len(salt) == 0:
		return nil, ErrEmptySalt
	}
	p, err := preparePassword(password)
	if err != nil {
		return nil, err
	}
	return pbkdf2.Key(h.new(), p, salt, iterations, h.size())
}

// preparePassword applies OpaqueString (RFC 8265 §4.2), the successor of
// SASLprep that RFC 5802 names.
func preparePassword(p string) (string, error) {
	if p == "" {
		return "", ErrEmptyPassword
	}
	if !utf8.ValidString(p) {
		return "", ErrPasswordPrep
	}
	n, err := precis.OpaqueString.String(p)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrPasswordPrep, err)
	}
	return n, nil
}

func hmacSum(h Hash, key []byte, msg string) []byte {
	m := hmac.New(h.new(), key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// usable reports whether k can verify anything for hash h.
func usable(h Hash, k store.ScramKeys) bool {
	return k.Iterations >= MinIterations && len(k.Salt) > 0 &&
		len(k.StoredKey) == h.size() && len(k.ServerKey) == h.size()
}
