package store

import (
	"context"
	"time"
)

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

func (m *measured) StrangerFilter(ctx context.Context, username string) (bool, error) {
	defer m.observe("StrangerFilter", time.Now())
	return m.s.StrangerFilter(ctx, username)
}

func (m *measured) SetStrangerFilter(ctx context.Context, username string, on bool) error {
	defer m.observe("SetStrangerFilter", time.Now())
	return m.s.SetStrangerFilter(ctx, username, on)
}
