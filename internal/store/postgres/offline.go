package postgres

import (
	"context"
	"fmt"

	"parley/internal/store"
)

// StoreOffline appends a message and returns once it is committed. msg.ID
// is ignored (the store assigns it); a zero Stamp means now. Concurrent
// calls share one transaction. store.ErrNotFound if the user does not
// exist.
func (s *Store) StoreOffline(ctx context.Context, username string, msg store.OfflineMessage) error {
	err := s.storeOffline(ctx, &offlineRequest{
		ctx:      ctx,
		username: username,
		stamp:    stamp(msg.Stamp),
		stanza:   nonNil(msg.Stanza),
		done:     make(chan error, 1),
	})
	if err != nil {
		return fmt.Errorf("postgres: store offline for %q: %w", username, err)
	}
	return nil
}

// DeleteOffline removes the listed messages of username; IDs that are
// unknown or belong to someone else are ignored.
func (s *Store) DeleteOffline(ctx context.Context, username string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	// One statement whatever the count: the IDs travel as one array.
	_, err := s.exec(ctx, `DELETE FROM offline WHERE username = $1 AND id = ANY($2)`, username, ids)
	if err != nil {
		return fmt.Errorf("postgres: delete offline of %q: %w", username, err)
	}
	return nil
}
