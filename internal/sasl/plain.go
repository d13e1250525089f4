package sasl

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"unicode/utf8"
)

// plain handles the single PLAIN message (RFC 4616 §2):
//
//	[authzid] NUL authcid NUL passwd
//
// The password is checked by deriving SCRAM keys with the stored salt and
// count and comparing StoredKey, so PLAIN needs no other credential.
func (s *Server) plain(ctx context.Context, in []byte) *Failure {
	parts := bytes.Split(in, []byte{0})
	if len(parts) != 3 || len(parts[1]) == 0 || len(parts[2]) == 0 {
		return fail(MalformedRequest, "want authzid NUL authcid NUL passwd")
	}
	for _, p := range parts {
		if !utf8.Valid(p) {
			return fail(MalformedRequest, "invalid UTF-8")
		}
	}
	authzid, authcid, passwd := string(parts[0]), string(parts[1]), string(parts[2])
	user, valid, f := s.identify(authcid, authzid)
	if f != nil {
		return f
	}
	if valid && s.cfg.CheckPassword != nil {
		err := s.cfg.CheckPassword(ctx, user, passwd)
		var lf *Failure
		switch {
		case err == nil:
			s.username = user
			return nil
		case errors.As(err, &lf):
			return lf
		case !errors.Is(err, ErrUnknownUser):
			return fail(TemporaryAuthFailure, "")
		}
	}
	// An unknown user runs the same derivation on fake keys so that
	// timing does not tell the two apart.
	keys, h, known, f := s.lookup(ctx, user, authcid, valid)
	if f != nil {
		return f
	}
	got, err := DeriveKeys(h, passwd, keys.Salt, keys.Iterations)
	if err != nil {
		return fail(NotAuthorized, "")
	}
	if subtle.ConstantTimeCompare(got.StoredKey, keys.StoredKey) != 1 || !known {
		return fail(NotAuthorized, "")
	}
	s.username = user
	return nil
}
