package sasl

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
)

// Hashed Token mechanisms (draft-schmaus-kitten-sasl-ht, as XEP-0484 FAST
// uses them) with SHA-256: HT-SHA-256-<binding>. -UNIQ (tls-unique) is
// not offered: it is undefined for TLS 1.3 and unsafe over TLS 1.2
// without the extended master secret (RFC 9266 §1), and parley offers
// tls-unique nowhere (docs/design/22_sasl2.md).
const (
	HTSHA256None = "HT-SHA-256-NONE" // no channel binding
	HTSHA256Endp = "HT-SHA-256-ENDP" // tls-server-end-point (RFC 5929)
	HTSHA256Expr = "HT-SHA-256-EXPR" // tls-exporter (RFC 9266)
)

// htBinding is the channel-binding type of an HT mechanism; "" for -NONE
// and for names that are not HT mechanisms (ok false).
func htBinding(mech string) (typ string, ok bool) {
	switch mech {
	case HTSHA256None:
		return "", true
	case HTSHA256Endp:
		return TLSServerEndPoint, true
	case HTSHA256Expr:
		return TLSExporter, true
	}
	return "", false
}

// IsHT reports whether mech is one of the HT mechanisms parley knows.
func IsHT(mech string) bool {
	_, ok := htBinding(mech)
	return ok
}

// HTMechanisms returns the HT mechanisms to offer on ch, most preferred
// first: the channel-bound ones whose binding ch has, and -NONE; none
// where the stream is not secure (XEP-0484 §8: a token sent in clear is
// replayable).
func HTMechanisms(ch Channel) []string {
	if !ch.Secure {
		return nil
	}
	var m []string
	for _, mech := range []string{HTSHA256Expr, HTSHA256Endp} {
		if typ, _ := htBinding(mech); ch.Bindings[typ] != nil {
			m = append(m, mech)
		}
	}
	return append(m, HTSHA256None)
}

// htProofSize is the size of HMAC-SHA-256, the initiator's proof.
const htProofSize = sha256.Size

// Token is what verifies one token an account's device may log in with
// (store.FastToken). For -NONE, whose proof HMAC(token, "Initiator") is
// the same on every connection, that is the SHA-256 of the proof
// (Verifier) and the server's answer HMAC(token, "Responder"); for the
// channel-bound mechanisms, whose proof changes with the channel, it is
// the token itself (Key).
type Token struct {
	Verifier, Responder []byte
	Key                 []byte // the token, for channel-bound mechanisms
	Mechanism           string // the mechanism the token was issued for
	Expired             bool
}

// TokenLookup returns the tokens a user may present on this stream (the
// device's, XEP-0484 §6: at most two); ErrUnknownUser or none when there
// are none.
type TokenLookup func(ctx context.Context, username string) ([]Token, error)

// BoundToken derives the token of a channel-bound HT mechanism from the
// random seed kept in the store, keyed with Config.Secret: a copy of the
// store alone gives no token (docs/design/22_sasl2.md). The token names
// the account and the device, so a seed copied to another row is
// useless.
func BoundToken(cfg *Config, username, userAgent string, seed []byte) string {
	secret := cfg.Secret
	if len(secret) == 0 {
		secret = processSecret()
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("FAST token\x00" + username + "\x00" + userAgent + "\x00"))
	m.Write(seed)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// htMAC is HMAC-SHA-256(key, label || cb-data), the initiator's proof and
// the responder's answer of draft-schmaus-kitten-sasl-ht §3.
func htMAC(key []byte, label string, cb []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	m.Write(cb)
	return m.Sum(nil)
}

// hashedToken checks the single HT message (draft-schmaus-kitten-sasl-ht
// §3.1): authcid NUL HMAC(token, "Initiator" || cb-data), cb-data being
// the channel's binding of the mechanism's type, empty for -NONE. It
// answers HMAC(token, "Responder" || cb-data), the additional data of
// the success.
func (s *Server) hashedToken(ctx context.Context, in []byte) ([]byte, *Failure) {
	authcid, proof, ok := bytes.Cut(in, []byte{0})
	if !ok || len(authcid) == 0 || len(proof) != htProofSize {
		return nil, fail(MalformedRequest, "want authcid NUL HMAC-SHA-256")
	}
	user, valid, f := s.identify(string(authcid), "")
	if f != nil {
		return nil, f
	}
	if !valid {
		return nil, fail(NotAuthorized, "")
	}
	tokens, err := s.offer.Tokens(ctx, user)
	if err != nil && !errors.Is(err, ErrUnknownUser) {
		return nil, fail(TemporaryAuthFailure, "")
	}
	cb := s.htChannel()
	sum := sha256.Sum256(proof)
	match := -1
	for i, t := range tokens {
		// Every slot is compared, in constant time (XEP-0484 §7); a
		// token counts only for the mechanism it was issued for.
		var eq int
		if t.Key != nil {
			eq = subtle.ConstantTimeCompare(htMAC(t.Key, "Initiator", cb), proof)
		} else {
			eq = subtle.ConstantTimeCompare(sum[:], t.Verifier)
		}
		if eq == 1 && t.Mechanism == s.mech {
			match = i
		}
	}
	if match < 0 {
		return nil, fail(NotAuthorized, "")
	}
	if f := s.tokenAccount(ctx, user); f != nil {
		return nil, f
	}
	t := tokens[match]
	if t.Expired {
		// XEP-0484 §5.2: a token no longer trusted is credentials-expired;
		// the client falls back to its password.
		return nil, fail(CredentialsExpired, "token expired")
	}
	s.username, s.token = user, match
	if t.Key != nil {
		return htMAC(t.Key, "Responder", cb), nil
	}
	return t.Responder, nil
}

// htChannel is the cb-data of the exchange's HT mechanism: nil for -NONE.
func (s *Server) htChannel() []byte {
	typ, _ := htBinding(s.mech)
	if typ == "" {
		return nil
	}
	return s.offer.Channel.Bindings[typ]
}

// tokenAccount checks that the account a token proved itself for may
// still log in, as a password login would: Lookup refuses a disabled
// account, and Config.TokenRefused one kept in a directory that no
// longer lists it. It runs after the proof, so it tells only a token's
// holder whether the account is disabled.
func (s *Server) tokenAccount(ctx context.Context, user string) *Failure {
	k1, k256, err := s.cfg.Lookup(ctx, user)
	var lf *Failure
	switch {
	case errors.As(err, &lf):
		return lf
	case errors.Is(err, ErrUnknownUser):
		return fail(NotAuthorized, "")
	case err != nil:
		return fail(TemporaryAuthFailure, "")
	case !usable(SHA1, k1) && !usable(SHA256, k256) && s.cfg.TokenRefused != nil && s.cfg.TokenRefused(user):
		return fail(AccountDisabled, "")
	}
	return nil
}

// TokenUsed is the index, in what the TokenLookup returned, of the token
// a successful HT exchange used; -1 for other exchanges.
func (s *Server) TokenUsed() int {
	if s.st != stDone {
		return -1
	}
	return s.token
}
