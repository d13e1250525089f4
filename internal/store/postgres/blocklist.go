package postgres

import (
	"context"
	"fmt"
)

// Block adds JIDs, ignoring those already blocked; store.ErrNotFound if the
// user does not exist.
func (s *Store) Block(ctx context.Context, username string, jids []string) error {
	if len(jids) == 0 {
		return nil
	}
	// ON CONFLICT covers the primary key only; a missing user still fails
	// the foreign key, and the one statement leaves nothing behind.
	_, err := s.exec(ctx, `INSERT INTO blocklist (username, jid)
		SELECT DISTINCT $1::text, j FROM unnest($2::text[]) AS j
		ON CONFLICT DO NOTHING`, username, jids)
	if err != nil {
		return fmt.Errorf("postgres: block for %q: %w", username, missingUser(err))
	}
	return nil
}

// Unblock removes JIDs; no JIDs means remove all. JIDs not blocked are
// ignored.
func (s *Store) Unblock(ctx context.Context, username string, jids []string) error {
	var err error
	if len(jids) == 0 {
		_, err = s.exec(ctx, `DELETE FROM blocklist WHERE username = $1`, username)
	} else {
		_, err = s.exec(ctx, `DELETE FROM blocklist WHERE username = $1 AND jid = ANY($2)`, username, jids)
	}
	if err != nil {
		return fmt.Errorf("postgres: unblock for %q: %w", username, err)
	}
	return nil
}
