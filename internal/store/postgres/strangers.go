package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// strangersSchema is the migration step for the accounts' choice to
// refuse strangers (internal/im/spam); it goes with the account.
const strangersSchema = `
CREATE TABLE stranger_filters (
	username text COLLATE "C" PRIMARY KEY REFERENCES users (username) ON DELETE CASCADE,
	refuse   boolean NOT NULL
);
`

// StrangerFilter reports an account's choice; false if none is stored.
func (s *Store) StrangerFilter(ctx context.Context, username string) (bool, error) {
	var on bool
	err := s.pool.QueryRow(ctx, `SELECT refuse FROM stranger_filters WHERE username = $1`, username).Scan(&on)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("postgres: stranger filter of %q: %w", username, err)
	}
	return on, nil
}

// SetStrangerFilter records an account's choice; store.ErrNotFound for no
// such account.
func (s *Store) SetStrangerFilter(ctx context.Context, username string, on bool) error {
	_, err := s.exec(ctx, `INSERT INTO stranger_filters (username, refuse) VALUES ($1, $2)
		ON CONFLICT (username) DO UPDATE SET refuse = excluded.refuse`, username, on)
	if err := missingUser(err); err != nil {
		return fmt.Errorf("postgres: set stranger filter of %q: %w", username, err)
	}
	return nil
}
