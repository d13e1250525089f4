package sasl

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
)

// HTSHA256None is the Hashed Token mechanism (draft-schmaus-kitten-sasl-ht,
// as XEP-0484 FAST uses it) with SHA-256 and no channel binding. It is
// the only HT variant offered: see docs/design/22_sasl2.md for why.
const HTSHA256None = "HT-SHA-256-NONE"

// htProofSize is the size of HMAC-SHA-256, the initiator's proof.
const htProofSize = sha256.Size

// Token is what verifies one token an account's device may log in with
// (store.FastToken): the SHA-256 of the client's proof HMAC(token,
// "Initiator"), and the server's answer HMAC(token, "Responder").
type Token struct {
	Verifier, Responder []byte
	Mechanism           string // the mechanism the token was issued for
	Expired             bool
}

// TokenLookup returns the tokens a user may present on this stream (the
// device's, XEP-0484 §6: at most two); ErrUnknownUser or none when there
// are none.
type TokenLookup func(ctx context.Context, username string) ([]Token, error)

// hashedToken checks the single HT message (draft-schmaus-kitten-sasl-ht
// §3.1): authcid NUL HMAC(token, "Initiator" || cb-data), cb-data being
// empty for -NONE. It answers HMAC(token, "Responder" || cb-data), the
// additional data of the success.
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
	sum := sha256.Sum256(proof)
	match := -1
	for i, t := range tokens {
		// Every slot is compared, in constant time (XEP-0484 §7).
		if subtle.ConstantTimeCompare(sum[:], t.Verifier) == 1 && t.Mechanism == s.mech {
			match = i
		}
	}
	if match < 0 {
		return nil, fail(NotAuthorized, "")
	}
	if f := s.tokenAccount(ctx, user); f != nil {
		return nil, f
	}
	if tokens[match].Expired {
		// XEP-0484 §5.2: a token no longer trusted is credentials-expired;
		// the client falls back to its password.
		return nil, fail(CredentialsExpired, "token expired")
	}
	s.username, s.token = user, match
	return tokens[match].Responder, nil
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
