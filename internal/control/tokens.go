package control

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"parley/internal/store"
)

// Roles. A token carries exactly one; what each may do is in roleAllows.
const (
	RoleAdmin      = "admin"      // everything
	RoleHelpdesk   = "helpdesk"   // users and sessions
	RoleCompliance = "compliance" // archives, holds, exports
	RoleAuditor    = "auditor"    // reading the audit log
)

// RoleUser is the role of a token an account's owner obtained with their
// password (the admin API's POST /api/v1/me/token): it reaches only the
// account's own data (/api/v1/me), never an operator's route. It is not in
// Roles, which are the operators'; such a token always names its account.
const RoleUser = "user"

// Roles lists the roles in the order they are documented.
var Roles = []string{RoleAdmin, RoleHelpdesk, RoleCompliance, RoleAuditor}

// ValidRole reports whether r is one of Roles.
func ValidRole(r string) bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// tokenPrefix marks parley's tokens so that secret scanners and people
// can tell one from other random strings.
const tokenPrefix = "parley_"

// Errors of token handling, with stable identities.
var (
	ErrBadToken     = errors.New("control: unknown token")
	ErrTokenExpired = errors.New("control: token expired")
	ErrBadRole      = errors.New("control: unknown role")
	ErrNoTokens     = errors.New("control: this store keeps no tokens")
)

// HashToken is what the store keeps of a token. A plain SHA-256 is
// enough here, unlike for passwords: the token is 256 bits from
// crypto/rand, so nobody can guess one from its hash however fast they
// hash (a slow, salted KDF defends low-entropy secrets against
// dictionaries, and there is no dictionary of random 256-bit strings).
// Being fast and unsalted, it also lets the store look a token up by its
// hash in one indexed query.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CreateToken creates an admin API token with role for username (""
// for an operator's token), valid until expires (zero: never), and
// returns the token itself, which exists only in this return value, and
// what the store keeps.
func (o *Ops) CreateToken(ctx context.Context, role, name, username string, expires time.Time) (string, store.APIToken, error) {
	if o.Tokens == nil {
		return "", store.APIToken{}, ErrNoTokens
	}
	if !ValidRole(role) && (role != RoleUser || username == "") {
		return "", store.APIToken{}, fmt.Errorf("%w %q (want one of %s)", ErrBadRole, role, strings.Join(Roles, ", "))
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", store.APIToken{}, err
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	hash := HashToken(token)
	t := store.APIToken{
		// The ID is public (listings, audit records, revoking): part of
		// the hash, so it reveals nothing the hash does not.
		ID:       hex.EncodeToString(hash[:8]),
		Name:     name,
		Role:     role,
		Hash:     hash,
		Username: username,
		Created:  time.Now().UTC().Truncate(time.Microsecond),
		Expires:  expires,
	}
	if err := o.Tokens.CreateToken(ctx, t); err != nil {
		return "", store.APIToken{}, err
	}
	return token, t, nil
}

// ListTokens returns every token (what the store keeps: never a token
// itself), oldest first.
func (o *Ops) ListTokens(ctx context.Context) ([]store.APIToken, error) {
	if o.Tokens == nil {
		return nil, ErrNoTokens
	}
	return o.Tokens.ListTokens(ctx)
}

// RevokeToken deletes the token with this ID; store.ErrNotFound.
func (o *Ops) RevokeToken(ctx context.Context, id string) error {
	if o.Tokens == nil {
		return ErrNoTokens
	}
	return o.Tokens.RevokeToken(ctx, id)
}

// Authenticate returns the stored token that token is, or ErrBadToken,
// or ErrTokenExpired.
func Authenticate(ctx context.Context, st store.APITokens, token string, now time.Time) (store.APIToken, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 128 {
		return store.APIToken{}, ErrBadToken
	}
	hash := HashToken(token)
	t, err := st.TokenByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return t, ErrBadToken
	}
	if err != nil {
		return t, err
	}
	// The lookup already matched the hash; comparing again in constant
	// time costs nothing and keeps the check independent of the index.
	if subtle.ConstantTimeCompare(t.Hash, hash) != 1 {
		return store.APIToken{}, ErrBadToken
	}
	if !t.Expires.IsZero() && !now.Before(t.Expires) {
		return t, ErrTokenExpired
	}
	return t, nil
}

// ParseLifetime reads a token's lifetime: a number of days ("30d") or a
// Go duration ("12h"); "" or "0" means the token never expires.
func ParseLifetime(s string) (time.Duration, error) {
	if s == "" || s == "0" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 || n > 36500 {
			return 0, fmt.Errorf("lifetime %q: want a positive number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("lifetime %q: want days (30d) or a positive duration (12h)", s)
	}
	return d, nil
}
