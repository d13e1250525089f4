package store

import (
	"context"
	"time"
)

// APITokens keeps the admin API's bearer tokens (internal/adminapi). Only
// a hash of each token is kept: the token itself is shown once, when it is
// created, and cannot be read back.
type APITokens interface {
	// CreateToken adds a token; ErrExists if its ID or hash is taken,
	// ErrNotFound if t.Username is set and no such account exists.
	CreateToken(ctx context.Context, t APIToken) error
	// TokenByHash returns the token with this hash; ErrNotFound.
	TokenByHash(ctx context.Context, hash []byte) (APIToken, error)
	// ListTokens returns every token, oldest first.
	ListTokens(ctx context.Context) ([]APIToken, error)
	// RevokeToken deletes the token with this ID; ErrNotFound.
	RevokeToken(ctx context.Context, id string) error
	// RevokeUserTokens deletes every token of an account and returns how
	// many there were.
	RevokeUserTokens(ctx context.Context, username string) (int, error)
}

// APIToken is one bearer token of the admin API.
type APIToken struct {
	ID   string // public identifier (listing, revoking, audit); not a secret
	Name string // the operator's label; may be ""
	Role string // admin, helpdesk, compliance, auditor
	Hash []byte // SHA-256 of the token
	// Username is the account the token belongs to, "" for an operator's
	// token. An account's tokens go with it (deleted or suspended).
	Username string
	Created  time.Time
	Expires  time.Time // zero: never
}

// Written beside the interface (measure.go's rule: one method each).

// CreateToken adds a token.
func (m StmtMethods) CreateToken(ctx context.Context, t APIToken) error {
	var owner any // NULL: an operator's token
	if t.Username != "" {
		owner = t.Username
	}
	p := m.DB.Param
	_, err := m.DB.Exec(ctx, `INSERT INTO api_tokens (id, name, role, hash, username, created, expires)
		VALUES (`+p(1)+`, `+p(2)+`, `+p(3)+`, `+p(4)+`, `+p(5)+`, `+p(6)+`, `+p(7)+`)`,
		t.ID, t.Name, t.Role, nonNilBytes(t.Hash), owner, m.DB.Stamp(t.Created), m.DB.OptionalTime(t.Expires))
	return m.fail(m.DB.MissingUser(m.DB.Duplicate(err)), "create token %q", t.ID)
}

const tokenColumns = `id, name, role, hash, COALESCE(username, ''), created, expires`

func scanToken(scan func(...any) error) (APIToken, error) {
	var t APIToken
	var created ScanTime
	var expires OptionalTime
	err := scan(&t.ID, &t.Name, &t.Role, &t.Hash, &t.Username, &created, &expires)
	t.Created, t.Expires = created.Time, expires.Time
	return t, err
}

// TokenByHash returns the token with this hash; ErrNotFound, as it is.
func (m StmtMethods) TokenByHash(ctx context.Context, hash []byte) (APIToken, error) {
	ts, err := QueryRows(ctx, m.DB, scanToken, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = `+m.DB.Param(1), nonNilBytes(hash))
	if err != nil {
		return APIToken{}, m.fail(err, "token by hash")
	}
	if len(ts) == 0 {
		return APIToken{}, ErrNotFound
	}
	return ts[0], nil
}

// ListTokens returns every token, oldest first.
func (m StmtMethods) ListTokens(ctx context.Context) ([]APIToken, error) {
	out, err := QueryRows(ctx, m.DB, scanToken, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY created, id`)
	return out, m.fail(err, "list tokens")
}

// RevokeToken deletes a token; ErrNotFound.
func (m StmtMethods) RevokeToken(ctx context.Context, id string) error {
	err := mustAffect(m.DB.Exec(ctx, `DELETE FROM api_tokens WHERE id = `+m.DB.Param(1), id))
	return m.fail(err, "revoke token %q", id)
}

// RevokeUserTokens deletes an account's tokens.
func (m StmtMethods) RevokeUserTokens(ctx context.Context, username string) (int, error) {
	n, err := m.DB.Exec(ctx, `DELETE FROM api_tokens WHERE username = `+m.DB.Param(1), username)
	if err != nil {
		return 0, m.fail(err, "revoke tokens of %q", username)
	}
	return int(n), nil
}
