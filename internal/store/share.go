package store

import (
	"context"
	"fmt"
)

// Share bounds how many queries of one kind hold a connection of a pool
// at once, so that the rest of the pool stays free for everything else:
// archive queries (full-text search above all) cannot take every
// connection and make a login wait behind them. A query beyond the share
// waits for a place, within its context. The zero Share admits nothing;
// make one with NewShare.
type Share struct {
	slots chan struct{}
}

// NewShare returns a share of n places (at least 1).
func NewShare(n int) *Share { return &Share{slots: make(chan struct{}, max(n, 1))} }

// Acquire takes a place, waiting for one until ctx ends.
func (s *Share) Acquire(ctx context.Context) error {
	select {
	case s.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Release gives back a place taken by Acquire.
func (s *Share) Release() { <-s.slots }

// Query runs query in a place of s, waiting for one until ctx ends, and
// wraps its error with what the query was, e.g. "sqlite: query archive
// of \"alice\"".
func Query[T any](ctx context.Context, s *Share, what string, query func() (T, error)) (T, error) {
	var zero T
	if err := s.Acquire(ctx); err != nil {
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	defer s.Release()
	v, err := query()
	if err != nil {
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

// Size is the number of places.
func (s *Share) Size() int { return cap(s.slots) }
