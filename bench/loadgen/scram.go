package loadgen

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
)

// keyCache keeps SCRAM salted passwords by user, salt and iteration count,
// as a real client stores them (RFC 5802 §5.1 allows it): the generator
// then spends no PBKDF2 per login and measures the server, not itself.
type keyCache struct {
	mu sync.Mutex // guards m
	m  map[string][]byte
}

func (k *keyCache) salted(h func() hash.Hash, mech, user, pass string, salt []byte, iter int) ([]byte, error) {
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

// scram is the client side of one SCRAM exchange without channel binding
// (gs2 header "n,,"). Usernames are used as given: the generator's are
// ASCII.
type scram struct {
	h           func() hash.Hash
	mech        string
	user, pass  string
	nonce       string
	first       string // client-first-message-bare
	authMessage string
	salted      []byte
	cache       *keyCache
}

func newScram(mech, user, pass string, cache *keyCache) (*scram, error) {
	var h func() hash.Hash
	switch mech {
	case "SCRAM-SHA-1":
		h = sha1.New
	case "SCRAM-SHA-256":
		h = sha256.New
	default:
		return nil, fmt.Errorf("%s is not a SCRAM mechanism", mech)
	}
	n := make([]byte, 18)
	rand.Read(n)
	s := &scram{h: h, mech: mech, user: user, pass: pass, nonce: base64.RawStdEncoding.EncodeToString(n), cache: cache}
	s.first = "n=" + strings.NewReplacer("=", "=3D", ",", "=2C").Replace(user) + ",r=" + s.nonce
	return s, nil
}

func (s *scram) clientFirst() []byte { return []byte("n,," + s.first) }

func (s *scram) clientFinal(serverFirst []byte) ([]byte, error) {
	a := scramAttrs(string(serverFirst))
	nonce := a["r"]
	if !strings.HasPrefix(nonce, s.nonce) || len(nonce) == len(s.nonce) {
		return nil, errors.New("SCRAM: server nonce does not extend ours")
	}
	salt, err := base64.StdEncoding.DecodeString(a["s"])
	if err != nil || len(salt) == 0 {
		return nil, errors.New("SCRAM: bad salt")
	}
	iter, err := strconv.Atoi(a["i"])
	if err != nil || iter < 1 {
		return nil, fmt.Errorf("SCRAM: bad iteration count %q", a["i"])
	}
	if s.salted, err = s.cache.salted(s.h, s.mech, s.user, s.pass, salt, iter); err != nil {
		return nil, err
	}
	noProof := "c=biws,r=" + nonce // biws = base64("n,,")
	s.authMessage = s.first + "," + string(serverFirst) + "," + noProof
	clientKey := s.mac(s.salted, "Client Key")
	hh := s.h()
	hh.Write(clientKey)
	sig := s.mac(hh.Sum(nil), s.authMessage)
	for i := range clientKey {
		clientKey[i] ^= sig[i]
	}
	return []byte(noProof + ",p=" + base64.StdEncoding.EncodeToString(clientKey)), nil
}

func (s *scram) verify(serverFinal []byte) error {
	a := scramAttrs(string(serverFinal))
	if e := a["e"]; e != "" {
		return fmt.Errorf("SCRAM: server error %q", e)
	}
	v, err := base64.StdEncoding.DecodeString(a["v"])
	if err != nil || !hmac.Equal(v, s.mac(s.mac(s.salted, "Server Key"), s.authMessage)) {
		return errors.New("SCRAM: server signature does not match")
	}
	return nil
}

func (s *scram) mac(key []byte, msg string) []byte {
	m := hmac.New(s.h, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func scramAttrs(msg string) map[string]string {
	out := make(map[string]string, 4)
	for part := range strings.SplitSeq(msg, ",") {
		if len(part) >= 2 && part[1] == '=' {
			out[part[:1]] = part[2:]
		}
	}
	return out
}
