package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"parley/internal/store"
)

// StoreOffline appends a message and returns once it is committed. msg.ID
// is ignored (the store assigns it); a zero Stamp means now. Concurrent
// calls share one transaction. store.ErrNotFound if the user does not
// exist.
func (s *Store) StoreOffline(ctx context.Context, username string, msg store.OfflineMessage) error {
	stamp := unixNano(msg.Stamp)
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO offline (username, stamp, stanza) VALUES (?,?,?)`,
			username, stamp, nonNil(msg.Stanza))
		return missingUser(err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: store offline for %q: %w", username, err)
	}
	return nil
}
