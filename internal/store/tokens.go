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
