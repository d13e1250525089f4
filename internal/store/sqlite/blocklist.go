package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// Block adds JIDs, ignoring those already blocked; store.ErrNotFound if the
// user does not exist.
func (s *Store) Block(ctx context.Context, username string, jids []string) error {
	if len(jids) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, j := range jids {
			// ON CONFLICT covers the primary key only; a missing user
			// still fails the foreign key.
			_, err := tx.Exec(`INSERT INTO blocklist (username, jid) VALUES (?, ?)
				ON CONFLICT DO NOTHING`, username, j)
			if err != nil {
				return missingUser(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: block for %q: %w", username, err)
	}
	return nil
}

// Unblock removes JIDs; no JIDs means remove all. JIDs not blocked are
// ignored.
func (s *Store) Unblock(ctx context.Context, username string, jids []string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if len(jids) == 0 {
			_, err := tx.Exec(`DELETE FROM blocklist WHERE username = ?`, username)
			return err
		}
		for _, j := range jids {
			if _, err := tx.Exec(`DELETE FROM blocklist WHERE username = ? AND jid = ?`, username, j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: unblock for %q: %w", username, err)
	}
	return nil
}
