package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// digestsSchema is the migration step for the addresses of accounts that
// get missed-message digests by email (internal/im/digest).
const digestsSchema = `
CREATE TABLE digest_addresses (
	username text COLLATE "C" PRIMARY KEY REFERENCES users (username) ON DELETE CASCADE,
	address  text NOT NULL
);
`

// DigestAddress is an account's digest address; "" if none is stored.
func (s *Store) DigestAddress(ctx context.Context, username string) (string, error) {
	var addr string
	err := s.pool.QueryRow(ctx, `SELECT address FROM digest_addresses WHERE username = $1`, username).Scan(&addr)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("postgres: digest address of %q: %w", username, err)
	}
	return addr, nil
}

// SetDigestAddress records an account's digest address, or forgets it for
// ""; store.ErrNotFound for an address to no such account.
func (s *Store) SetDigestAddress(ctx context.Context, username, address string) error {
	var err error
	if address == "" {
		_, err = s.exec(ctx, `DELETE FROM digest_addresses WHERE username = $1`, username)
	} else {
		_, err = s.exec(ctx, `INSERT INTO digest_addresses (username, address) VALUES ($1, $2)
			ON CONFLICT (username) DO UPDATE SET address = excluded.address`, username, address)
	}
	if err := missingUser(err); err != nil {
		return fmt.Errorf("postgres: set digest address of %q: %w", username, err)
	}
	return nil
}
