package sasl

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf8"

	"parley/internal/store"
)

// scramState is what SCRAM keeps between the two client messages.
type scramState struct {
	gs2Header       string // "n,," etc., checked against c= (RFC 5802 §7)
	cbData          []byte // the channel's binding data for p=, else nil
	clientFirstBare string
	serverFirst     string
	nonce           string // client nonce + server nonce
	keys            store.ScramKeys
	known           bool // false: keys are fake, the exchange cannot succeed
	user            string
}

// clientFirst handles client-first-message (RFC 5802 §7):
//
//	gs2-header = gs2-cbind-flag "," [ authzid ] ","
//	client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
func (s *Server) clientFirst(ctx context.Context, in []byte) ([]byte, *Failure) {
	msg := string(in)
	flag, rest, ok := strings.Cut(msg, ",")
	if !ok {
		return nil, fail(MalformedRequest, "no gs2 header")
	}
	var cbData []byte
	switch cbType, isP := strings.CutPrefix(flag, "p="); {
	case s.plus && isP:
		d, ok := s.offer.Channel.Bindings[cbType]
		if !ok {
			return nil, fail(MalformedRequest, "channel binding type not offered")
		}
		cbData = d
	case s.plus:
		return nil, fail(MalformedRequest, "a -PLUS mechanism needs p=<type>")
	case isP:
		return nil, fail(MalformedRequest, "channel binding needs a -PLUS mechanism")
	case flag == "y" && s.offer.plusOffered():
		// RFC 5802 §6: the client could bind but thinks we cannot, while
		// we offered -PLUS: someone removed it from what it saw.
		return nil, fail(NotAuthorized, "server does support channel binding")
	case flag == "n", flag == "y":
	default:
		return nil, fail(MalformedRequest, "bad gs2-cbind-flag")
	}
	az, bare, ok := strings.Cut(rest, ",")
	if !ok {
		return nil, fail(MalformedRequest, "bad gs2 header")
	}
	var authzid string
	if az != "" {
		v, found := strings.CutPrefix(az, "a=")
		if !found {
			return nil, fail(MalformedRequest, "bad authzid")
		}
		if authzid, ok = decodeSaslname(v); !ok {
			return nil, fail(MalformedRequest, "bad authzid")
		}
	}
	attrs := strings.Split(bare, ",")
	if len(attrs) < 2 {
		return nil, fail(MalformedRequest, "missing username or nonce")
	}
	if strings.HasPrefix(attrs[0], "m=") {
		return nil, fail(MalformedRequest, "mandatory extension not supported")
	}
	v, found := strings.CutPrefix(attrs[0], "n=")
	authcid, ok := decodeSaslname(v)
	if !found || !ok {
		return nil, fail(MalformedRequest, "bad username")
	}
	cnonce, found := strings.CutPrefix(attrs[1], "r=")
	if !found || !printable(cnonce) {
		return nil, fail(MalformedRequest, "bad nonce")
	}
	if !extensions(attrs[2:]) {
		return nil, fail(MalformedRequest, "bad extension")
	}

	user, valid, f := s.identify(authcid, authzid)
	if f != nil {
		return nil, f
	}
	keys, _, known, f := s.lookup(ctx, user, authcid, valid)
	if f != nil {
		return nil, f
	}
	snonce, err := s.nonce()
	if err != nil || snonce == "" {
		return nil, fail(TemporaryAuthFailure, "")
	}
	sc := &s.scram
	sc.gs2Header = msg[:len(flag)+1+len(az)+1]
	sc.cbData = cbData
	sc.clientFirstBare = bare
	sc.nonce = cnonce + snonce
	sc.keys, sc.known, sc.user = keys, known, user
	sc.serverFirst = "r=" + sc.nonce + ",s=" + base64.StdEncoding.EncodeToString(keys.Salt) +
		",i=" + strconv.Itoa(keys.Iterations)
	if len(s.offer.Mechanisms) > 0 {
		// XEP-0474 §5.1: what we advertised, signed by the proofs.
		sc.serverFirst += ",h=" + ssdp(s.hash, s.offer)
	}
	return []byte(sc.serverFirst), nil
}

// clientFinal handles client-final-message (RFC 5802 §7):
//
//	channel-binding "," nonce ["," extensions] "," proof
//
// and answers server-final-message "v=" ServerSignature.
func (s *Server) clientFinal(in []byte) ([]byte, *Failure) {
	sc := &s.scram
	msg := string(in)
	i := strings.LastIndex(msg, ",p=")
	if i < 0 {
		return nil, fail(MalformedRequest, "no proof")
	}
	withoutProof, proofB64 := msg[:i], msg[i+3:]
	attrs := strings.Split(withoutProof, ",")
	if len(attrs) < 2 {
		return nil, fail(MalformedRequest, "missing channel binding or nonce")
	}
	cb, found := strings.CutPrefix(attrs[0], "c=")
	if !found {
		return nil, fail(MalformedRequest, "no channel binding")
	}
	// c= is the gs2 header and, with -PLUS, the channel's binding data
	// (RFC 5802 §7). Without -PLUS a mismatch means someone altered the
	// first message (e.g. "y" to "n"); with it, that the client's TLS
	// channel is not ours (a man in the middle) or its binding is wrong.
	cbInput, err := base64.StdEncoding.Strict().DecodeString(cb)
	if err != nil || !strings.HasPrefix(string(cbInput), sc.gs2Header) {
		return nil, fail(MalformedRequest, "channel binding mismatch")
	}
	if subtle.ConstantTimeCompare(cbInput[len(sc.gs2Header):], sc.cbData) != 1 {
		return nil, fail(NotAuthorized, "channel binding mismatch")
	}
	r, found := strings.CutPrefix(attrs[1], "r=")
	if !found || r != sc.nonce {
		return nil, fail(MalformedRequest, "nonce mismatch")
	}
	if !extensions(attrs[2:]) {
		return nil, fail(MalformedRequest, "bad extension")
	}
	proof, err := base64.StdEncoding.Strict().DecodeString(proofB64)
	if err != nil || len(proof) != s.hash.size() {
		return nil, fail(MalformedRequest, "bad proof")
	}

	authMessage := sc.clientFirstBare + "," + sc.serverFirst + "," + withoutProof
	// ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); the proof
	// holds iff H(ClientKey) == StoredKey.
	sig := hmacSum(s.hash, sc.keys.StoredKey, authMessage)
	subtle.XORBytes(sig, sig, proof)
	h := s.hash.new()()
	h.Write(sig)
	ok := subtle.ConstantTimeCompare(h.Sum(nil), sc.keys.StoredKey) == 1
	if !ok || !sc.known {
		return nil, fail(NotAuthorized, "")
	}
	s.username = sc.user
	ss := hmacSum(s.hash, sc.keys.ServerKey, authMessage)
	return []byte("v=" + base64.StdEncoding.EncodeToString(ss)), nil
}

// decodeSaslname undoes RFC 5802 §5.1 escaping: "=2C" is ',' and "=3D" is
// '='; any other '=' is malformed, as are NUL, invalid UTF-8 and "".
func decodeSaslname(s string) (string, bool) {
	if s == "" || !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return "", false
	}
	if strings.IndexByte(s, '=') < 0 {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", false
		}
		i += 2
	}
	return b.String(), true
}

// printable is RFC 5802's nonce alphabet: %x21-2B / %x2D-7E, at least one.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == ',' {
			return false
		}
	}
	return s != ""
}

// extensions checks optional attr-val pairs (RFC 5802 §7, "extensions"),
// which we do not understand and, not being mandatory, ignore.
func extensions(attrs []string) bool {
	for _, a := range attrs {
		if len(a) < 2 || a[1] != '=' || !('a' <= a[0] && a[0] <= 'z' || 'A' <= a[0] && a[0] <= 'Z') {
			return false
		}
	}
	return true
}
