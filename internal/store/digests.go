package store

import "context"

// DigestAddresses keeps the email address to which each account that
// opted in gets digests of the messages it missed (internal/im/digest).
// The address goes with the account.
type DigestAddresses interface {
	// DigestAddress is the account's address; "" when the account did
	// not opt in or does not exist.
	DigestAddress(ctx context.Context, username string) (string, error)
	// SetDigestAddress records the address, or forgets it for "" (the
	// account opts out); ErrNotFound when an address is given for no
	// such account.
	SetDigestAddress(ctx context.Context, username, address string) error
}

// Written beside the interface (measure.go's rule: one method each).
