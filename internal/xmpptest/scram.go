package xmpptest

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"slices"
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

// scramClient is the client side of RFC 5802, with channel binding when
// gs2 is "p=<type>,," (the -PLUS mechanisms) and cbData holds the data.
type scramClient struct {
	gs2         string // "n,," unless set
	cbData      []byte
	sasl2       bool // exchanged in XEP-0388's profile
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
	switch strings.TrimSuffix(mech, "-PLUS") {
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
	return &scramClient{gs2: "n,,", newHash: h, user: user, pass: p, clientNonce: base64.RawStdEncoding.EncodeToString(nonce),
		keys: keys, mech: mech}, nil
}

// saslName escapes ',' and '=' (RFC 5802 §5.1).
func saslName(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

// first is the client-first-message.
func (c *scramClient) first() []byte {
	c.clientFirstBare = "n=" + saslName(c.user) + ",r=" + c.clientNonce
	return []byte(c.gs2 + c.clientFirstBare)
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
	withoutProof := "c=" + base64.StdEncoding.EncodeToString(append([]byte(c.gs2), c.cbData...)) + ",r=" + nonce
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

// Channel-binding types (RFC 9266, RFC 5929).
const (
	TLSExporter       = "tls-exporter"
	TLSServerEndPoint = "tls-server-end-point"
)

// ChannelBindingData computes, from the client's side of a TLS
// connection, the binding data of type typ: the RFC 9266 exporter, or
// the RFC 5929 §4.1 hash of the server's certificate (SHA-256 for
// certificates signed with SHA-256 or weaker, as the test servers' are).
// Written from the RFCs apart from the server's code, so that a test
// compares two implementations.
func ChannelBindingData(cs *tls.ConnectionState, typ string) ([]byte, error) {
	if cs == nil {
		return nil, errors.New("xmpptest: channel binding without TLS")
	}
	switch typ {
	case TLSExporter:
		return cs.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
	case TLSServerEndPoint:
		if len(cs.PeerCertificates) == 0 {
			return nil, errors.New("xmpptest: no server certificate")
		}
		switch cs.PeerCertificates[0].SignatureAlgorithm {
		case x509.ECDSAWithSHA256, x509.SHA256WithRSA, x509.ECDSAWithSHA1, x509.SHA1WithRSA:
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			return sum[:], nil
		}
		return nil, fmt.Errorf("xmpptest: certificate signature %v", cs.PeerCertificates[0].SignatureAlgorithm)
	}
	return nil, fmt.Errorf("xmpptest: channel binding type %q", typ)
}

// ErrDowngrade is a XEP-0474 hash that does not match what the client
// was offered: someone changed the mechanisms or binding types it saw.
var ErrDowngrade = errors.New("xmpptest: XEP-0474 hash does not match the offered mechanisms")

// checkSSDP verifies the "h" attribute of a server-first-message against
// the SASL mechanisms and XEP-0440 binding types in c.Offered (XEP-0474
// §5.2); without the attribute there is nothing to check.
func (c *Client) checkSSDP(sc *scramClient, serverFirst []byte) error {
	attrs, err := scramAttrs(string(serverFirst))
	if err != nil || attrs["h"] == "" || c.Offered == nil {
		return err
	}
	var mechs, types []string
	// XEP-0474 §5.1: the list of the profile in use.
	list := c.Offered.Child("mechanisms", NSSASL)
	if sc.sasl2 {
		list = c.Offered.Child("authentication", NSSASL2)
	}
	if list != nil {
		for _, e := range list.Children {
			if e.Name == "mechanism" {
				mechs = append(mechs, strings.TrimSpace(e.Text))
			}
		}
	}
	cb := c.Offered.Child("sasl-channel-binding", "urn:xmpp:sasl-cb:0")
	if cb != nil {
		for _, e := range cb.Children {
			types = append(types, e.Get("type"))
		}
	}
	slices.Sort(mechs)
	slices.Sort(types)
	s := strings.Join(mechs, "\x1e")
	if cb != nil {
		s += "\x1f" + strings.Join(types, "\x1e")
	}
	h := sc.newHash()
	h.Write([]byte(s))
	if attrs["h"] != base64.StdEncoding.EncodeToString(h.Sum(nil)) {
		return ErrDowngrade
	}
	c.SSDP = true
	return nil
}
