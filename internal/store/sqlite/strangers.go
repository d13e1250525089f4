package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// strangersSchema is the migration step for the accounts' choice to
// refuse strangers (internal/im/spam); it goes with the account.
const strangersSchema = `
CREATE TABLE stranger_filters (
	username TEXT PRIMARY KEY REFERENCES users(username) ON DELETE CASCADE,
	refuse   INTEGER NOT NULL
) WITHOUT ROWID;
`

// StrangerFilter reports an account's choice; false if none is stored.
func (s *Store) StrangerFilter(ctx context.Context, username string) (bool, error) {
	var on bool
	err := s.r.QueryRowContext(ctx, `SELECT refuse FROM stranger_filters WHERE username = ?`, username).Scan(&on)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: stranger filter of %q: %w", username, err)
	}
	return on, nil
}

// SetStrangerFilter records an account's choice; store.ErrNotFound for no
// such account.
func (s *Store) SetStrangerFilter(ctx context.Context, username string, on bool) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO stranger_filters (username, refuse) VALUES (?, ?)
			ON CONFLICT (username) DO UPDATE SET refuse = excluded.refuse`, username, on)
		return missingUser(err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: set stranger filter of %q: %w", username, err)
	}
	return nil
}
