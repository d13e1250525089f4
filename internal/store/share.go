package store

import "context"

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

// Do runs f in a place, waiting for one until ctx ends.
func (s *Share) Do(ctx context.Context, f func() error) error {
	if err := s.Acquire(ctx); err != nil {
		return err
	}
	defer s.Release()
	return f()
}

// Size is the number of places.
func (s *Share) Size() int { return cap(s.slots) }
