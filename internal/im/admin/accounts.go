package admin

import (
	"context"
	"fmt"
	"time"

	"parley/internal/sasl"
	"parley/internal/store"
)

// StoreAccounts carries out account changes on the store; passwords
// become SCRAM keys (only those are stored).
type StoreAccounts struct {
	Users store.Users
	// Iterations is the PBKDF2 count of new keys; 0 means
	// sasl.DefaultIterations.
	Iterations int
}

func (a StoreAccounts) keys(password string) (sha1, sha256 store.ScramKeys, err error) {
	it := a.Iterations
	if it == 0 {
		it = sasl.DefaultIterations
	}
	if sha1, err = sasl.NewKeys(sasl.SHA1, password, it); err == nil {
		sha256, err = sasl.NewKeys(sasl.SHA256, password, it)
	}
	if err != nil {
		// Never the password itself in an error.
		return sha1, sha256, fmt.Errorf("%w: %w", errBadPassword, err)
	}
	return sha1, sha256, nil
}

// CreateUser implements Accounts.
func (a StoreAccounts) CreateUser(ctx context.Context, username, password string) error {
	k1, k256, err := a.keys(password)
	if err != nil {
		return err
	}
	return a.Users.CreateUser(ctx, store.User{Username: username, SHA1: k1, SHA256: k256, Created: time.Now()})
}

// SetPassword implements Accounts.
func (a StoreAccounts) SetPassword(ctx context.Context, username, password string) error {
	k1, k256, err := a.keys(password)
	if err != nil {
		return err
	}
	return a.Users.SetUserKeys(ctx, username, k1, k256)
}

// DeleteUser implements Accounts.
func (a StoreAccounts) DeleteUser(ctx context.Context, username string) error {
	return a.Users.DeleteUser(ctx, username)
}

// SetUserDisabled implements Accounts.
func (a StoreAccounts) SetUserDisabled(ctx context.Context, username string, disabled bool) error {
	return a.Users.SetUserDisabled(ctx, username, disabled)
}
