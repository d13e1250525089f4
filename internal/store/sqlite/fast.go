package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"parley/internal/store"
)

// fastSchema is the migration step for XEP-0484 tokens: one row per
// account and device with its two slots, verifiers only (store/fast.go).
const fastSchema = `
CREATE TABLE fast_tokens (
	username   TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
	user_agent TEXT NOT NULL,
	software   TEXT NOT NULL,
	name       TEXT NOT NULL,
	mechanism  TEXT NOT NULL,
	cur_verifier  BLOB NOT NULL, -- empty: no token
	cur_responder BLOB NOT NULL,
	cur_expires   INTEGER NOT NULL, -- Unix nanoseconds
	next_verifier  BLOB NOT NULL,
	next_responder BLOB NOT NULL,
	next_expires   INTEGER NOT NULL,
	created    INTEGER NOT NULL,
	used       INTEGER NOT NULL, -- 0: never
	PRIMARY KEY (username, user_agent)
) WITHOUT ROWID;
`

// SaveFastDevice adds or replaces a device; store.ErrNotFound without the
// account.
func (s *Store) SaveFastDevice(ctx context.Context, username string, d store.FastDevice) error {
	var used int64
	if !d.Used.IsZero() {
		used = nanos(d.Used)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT OR REPLACE INTO fast_tokens (username, `+store.FastColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			username, d.UserAgent, d.Software, d.Name, d.Mechanism,
			nonNil(d.Current.Verifier), nonNil(d.Current.Responder), nanos(d.Current.Expires),
			nonNil(d.Next.Verifier), nonNil(d.Next.Responder), nanos(d.Next.Expires), unixNano(d.Created), used)
		return missingUser(err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: save device of %q: %w", username, err)
	}
	return nil
}
