package store

import "context"

// StrangerFilters keeps each account's choice to refuse messages and
// subscription requests from JIDs not in its roster (internal/im/spam).
// The choice goes with the account.
type StrangerFilters interface {
	// StrangerFilter reports whether the account refuses strangers;
	// false for an unknown account.
	StrangerFilter(ctx context.Context, username string) (bool, error)
	// SetStrangerFilter records the choice; ErrNotFound if no such
	// account exists.
	SetStrangerFilter(ctx context.Context, username string, on bool) error
}

// Written beside the interface (measure.go's rule: one method each).
