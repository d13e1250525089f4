package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
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

// DeleteOffline removes the listed messages of username; IDs that are
// unknown or belong to someone else are ignored.
func (s *Store) DeleteOffline(ctx context.Context, username string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	// One statement whatever the count: the IDs travel as a JSON array,
	// which also keeps clear of SQLite's bound-parameter limit.
	list, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("sqlite: delete offline of %q: %w", username, err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM offline WHERE username = ?
			AND id IN (SELECT value FROM json_each(?))`, username, string(list))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete offline of %q: %w", username, err)
	}
	return nil
}
