package sqlite

import (
	"context"
	"database/sql"
	"errors"
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

const fastColumns = `user_agent, software, name, mechanism, cur_verifier, cur_responder, cur_expires,
	next_verifier, next_responder, next_expires, created, used`

func scanFastDevice(scan func(...any) error) (store.FastDevice, error) {
	var d store.FastDevice
	var ce, ne, created, used int64
	err := scan(&d.UserAgent, &d.Software, &d.Name, &d.Mechanism, &d.Current.Verifier, &d.Current.Responder, &ce,
		&d.Next.Verifier, &d.Next.Responder, &ne, &created, &used)
	d.Current.Expires, d.Next.Expires, d.Created = fromUnixNano(ce), fromUnixNano(ne), fromUnixNano(created)
	if used != 0 {
		d.Used = fromUnixNano(used)
	}
	return d, err
}

// FastDevices returns an account's devices, oldest first.
func (s *Store) FastDevices(ctx context.Context, username string) ([]store.FastDevice, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+fastColumns+` FROM fast_tokens WHERE username = ? ORDER BY created, user_agent`, username)
	if err != nil {
		return nil, fmt.Errorf("sqlite: devices of %q: %w", username, err)
	}
	defer rows.Close()
	var out []store.FastDevice
	for rows.Next() {
		d, err := scanFastDevice(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("sqlite: devices of %q: %w", username, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: devices of %q: %w", username, err)
	}
	return out, nil
}

// FastDevice returns one device; store.ErrNotFound if there is none.
func (s *Store) FastDevice(ctx context.Context, username, userAgent string) (store.FastDevice, error) {
	d, err := scanFastDevice(s.r.QueryRowContext(ctx, `SELECT `+fastColumns+` FROM fast_tokens
		WHERE username = ? AND user_agent = ?`, username, userAgent).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return store.FastDevice{}, store.ErrNotFound
	}
	if err != nil {
		return store.FastDevice{}, fmt.Errorf("sqlite: device of %q: %w", username, err)
	}
	return d, nil
}

// SaveFastDevice adds or replaces a device; store.ErrNotFound without the
// account.
func (s *Store) SaveFastDevice(ctx context.Context, username string, d store.FastDevice) error {
	var used int64
	if !d.Used.IsZero() {
		used = nanos(d.Used)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT OR REPLACE INTO fast_tokens (username, `+fastColumns+`)
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

// DeleteFastDevice removes a device; store.ErrNotFound if there is none.
func (s *Store) DeleteFastDevice(ctx context.Context, username, userAgent string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return mustAffect(tx.Exec(`DELETE FROM fast_tokens WHERE username = ? AND user_agent = ?`, username, userAgent))
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("sqlite: delete device of %q: %w", username, err)
	}
	return err
}
