package xmpptest

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/text/secure/precis"
)

// SASL mechanism names.
const (
	ScramSHA256 = "SCRAM-SHA-256"
	ScramSHA1   = "SCRAM-SHA-1"
	Plain       = "PLAIN"
)

// ErrServerSignature is returned when the server's SCRAM signature does not
// prove that it knows the password's keys (RFC 5802 §5.1 "v=").
var ErrServerSignature = errors.New("xmpptest: SCRAM server signature does not match")

// scramClient is the client side of RFC 5802 without channel binding
// (gs2 header "n,,").
type scramClient struct {
	newHash     func() hash.Hash
	user, pass  string
	clientNonce string

	clientFirstBare string
	authMessage     string
	saltedPassword  []byte
	keys            *KeyCache // may be nil
	mech            string
}

// KeyCache keeps SCRAM salted passwords by mechanism, user, salt and
// iteration count, as RFC 5802 §5.1 lets a client store them, so that
// many logins to the same accounts (a load generator's) spend no PBKDF2
// each and measure the server rather than the client. It is safe for
// concurrent use; the zero value is empty and ready.
type KeyCache struct {
	mu sync.Mutex // guards m
	m  map[string][]byte
}

// salted derives the salted password, or takes it from k if k is not nil.
func (k *KeyCache) salted(h func() hash.Hash, mech, user, pass string, salt []byte, iter int) ([]byte, error) {
	if k == nil {
		return pbkdf2.Key(h, pass, salt, iter, h().Size())
	}
	key := mech + "\x00" + user + "\x00" + string(salt) + "\x00" + strconv.Itoa(iter)
	k.mu.Lock()
	v, ok := k.m[key]
	k.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := pbkdf2.Key(h, pass, salt, iter, h().Size())
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	if k.m == nil {
		k.m = make(map[string][]byte)
	}
	k.m[key] = v
	k.mu.Unlock()
	return v, nil
}

func newScram(mech, user, pass string, keys *KeyCache) (*scramClient, error) {
	var h func() hash.Hash
	switch mech {
	case ScramSHA256:
		h = sha256.New
	case ScramSHA1:
		h = sha1.New
	default:
		return nil, fmt.Errorf("xmpptest: %s is not a SCRAM mechanism", mech)
	}
	// RFC 7677 §4 / RFC 8265: passwords are prepared with OpaqueString.
	p, err := precis.OpaqueString.String(pass)
	if err != nil {
		return nil, fmt.Errorf("xmpptest: password: %w", err)
	}
	nonce := make([]byte, 18)
	rand.Read(nonce)
	return &scramClient{newHash: h, user: user, pass: p, clientNonce: base64.RawStdEncoding.EncodeToString(nonce),
		keys: keys, mech: mech}, nil
}

// saslName escapes ',' and '=' (RFC 5802 §5.1).
func saslName(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

// first is the client-first-message.
func (c *scramClient) first() []byte {
	c.clientFirstBare = "n=" + saslName(c.user) + ",r=" + c.clientNonce
	return []byte("n,," + c.clientFirstBare)
}

// final answers the server-first-message with the client-final-message.
func (c *scramClient) final(serverFirst []byte) ([]byte, error) {
	attrs, err := scramAttrs(string(serverFirst))
	if err != nil {
		return nil, err
	}
	if m := attrs["m"]; m != "" {
		return nil, errors.New("xmpptest: SCRAM server requires an unknown extension")
	}
	nonce, saltB64, iterS := attrs["r"], attrs["s"], attrs["i"]
	if !strings.HasPrefix(nonce, c.clientNonce) || len(nonce) == len(c.clientNonce) {
		return nil, errors.New("xmpptest: SCRAM server nonce does not extend the client nonce")
	}
	salt, err := base64.StdEncoding.DecodeString(saltB64)
	if err != nil || len(salt) == 0 {
		return nil, errors.New("xmpptest: SCRAM salt is not base64")
	}
	iter, err := strconv.Atoi(iterS)
	if err != nil || iter < 1 {
		return nil, fmt.Errorf("xmpptest: SCRAM iteration count %q", iterS)
	}
	c.saltedPassword, err = c.keys.salted(c.newHash, c.mech, c.user, c.pass, salt, iter)
	if err != nil {
		return nil, err
	}
	withoutProof := "c=" + base64.StdEncoding.EncodeToString([]byte("n,,")) + ",r=" + nonce
	c.authMessage = c.clientFirstBare + "," + string(serverFirst) + "," + withoutProof
	clientKey := c.hmac(c.saltedPassword, "Client Key")
	h := c.newHash()
	h.Write(clientKey)
	storedKey := h.Sum(nil)
	sig := c.hmac(storedKey, c.authMessage)
	proof := make([]byte, len(clientKey))
	subtle.XORBytes(proof, clientKey, sig)
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// verify checks the server-final-message.
func (c *scramClient) verify(serverFinal []byte) error {
	attrs, err := scramAttrs(string(serverFinal))
	if err != nil {
		return err
	}
	if e := attrs["e"]; e != "" {
		return fmt.Errorf("xmpptest: SCRAM server error %q", e)
	}
	v, err := base64.StdEncoding.DecodeString(attrs["v"])
	if err != nil || len(v) == 0 {
		return ErrServerSignature
	}
	want := c.hmac(c.hmac(c.saltedPassword, "Server Key"), c.authMessage)
	if !hmac.Equal(v, want) {
		return ErrServerSignature
	}
	return nil
}

func (c *scramClient) hmac(key []byte, msg string) []byte {
	m := hmac.New(c.newHash, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// scramAttrs splits "a=x,b=y" into a map; a repeated or malformed
// attribute is an error.
func scramAttrs(s string) (map[string]string, error) {
	out := make(map[string]string)
	for part := range strings.SplitSeq(s, ",") {
		if len(part) < 2 || part[1] != '=' {
			return nil, fmt.Errorf("xmpptest: malformed SCRAM message %q", s)
		}
		k := part[:1]
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("xmpptest: repeated SCRAM attribute %q", k)
		}
		out[k] = part[2:]
	}
	return out, nil
}
