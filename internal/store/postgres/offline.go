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
