package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// digestsSchema is the migration step for the addresses of accounts that
// get missed-message digests by email (internal/im/digest).
const digestsSchema = `
CREATE TABLE digest_addresses (
	username TEXT PRIMARY KEY REFERENCES users(username) ON DELETE CASCADE,
	address  TEXT NOT NULL
) WITHOUT ROWID;
`

// DigestAddress is an account's digest address; "" if none is stored.
func (s *Store) DigestAddress(ctx context.Context, username string) (string, error) {
	var addr string
	err := s.r.QueryRowContext(ctx, `SELECT address FROM digest_addresses WHERE username = ?`, username).Scan(&addr)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: digest address of %q: %w", username, err)
	}
	return addr, nil
}

// SetDigestAddress records an account's digest address, or forgets it for
// ""; store.ErrNotFound for an address to no such account.
func (s *Store) SetDigestAddress(ctx context.Context, username, address string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if address == "" {
			_, err := tx.Exec(`DELETE FROM digest_addresses WHERE username = ?`, username)
			return err
		}
		_, err := tx.Exec(`INSERT INTO digest_addresses (username, address) VALUES (?, ?)
			ON CONFLICT (username) DO UPDATE SET address = excluded.address`, username, address)
		return missingUser(err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: set digest address of %q: %w", username, err)
	}
	return nil
}
