package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/internal/store"
)

// fastSchema is the migration step for XEP-0484 tokens: one row per
// account and device with its two slots, verifiers only (store/fast.go).
const fastSchema = `
CREATE TABLE fast_tokens (
	username   text COLLATE "C" NOT NULL REFERENCES users(username) ON DELETE CASCADE,
	user_agent text COLLATE "C" NOT NULL,
	software   text NOT NULL,
	name       text NOT NULL,
	mechanism  text NOT NULL,
	cur_verifier  bytea NOT NULL, -- empty: no token
	cur_responder bytea NOT NULL,
	cur_expires   timestamptz NOT NULL,
	next_verifier  bytea NOT NULL,
	next_responder bytea NOT NULL,
	next_expires   timestamptz NOT NULL,
	created    timestamptz NOT NULL,
	used       timestamptz, -- NULL: never
	PRIMARY KEY (username, user_agent)
);
`

const fastColumns = `user_agent, software, name, mechanism, cur_verifier, cur_responder, cur_expires,
	next_verifier, next_responder, next_expires, created, used`

func scanFastDevice(row pgx.Row) (store.FastDevice, error) {
	var d store.FastDevice
	var used *time.Time
	err := row.Scan(&d.UserAgent, &d.Software, &d.Name, &d.Mechanism, &d.Current.Verifier, &d.Current.Responder,
		&d.Current.Expires, &d.Next.Verifier, &d.Next.Responder, &d.Next.Expires, &d.Created, &used)
	d.Current.Expires, d.Next.Expires, d.Created = d.Current.Expires.UTC(), d.Next.Expires.UTC(), d.Created.UTC()
	if used != nil {
		d.Used = used.UTC()
	}
	return d, err
}

// FastDevices returns an account's devices, oldest first.
func (s *Store) FastDevices(ctx context.Context, username string) ([]store.FastDevice, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+fastColumns+` FROM fast_tokens WHERE username = $1 ORDER BY created, user_agent`, username)
	if err != nil {
		return nil, fmt.Errorf("postgres: devices of %q: %w", username, err)
	}
	defer rows.Close()
	var out []store.FastDevice
	for rows.Next() {
		d, err := scanFastDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: devices of %q: %w", username, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: devices of %q: %w", username, err)
	}
	return out, nil
}

// FastDevice returns one device; store.ErrNotFound if there is none.
func (s *Store) FastDevice(ctx context.Context, username, userAgent string) (store.FastDevice, error) {
	d, err := scanFastDevice(s.pool.QueryRow(ctx, `SELECT `+fastColumns+` FROM fast_tokens
		WHERE username = $1 AND user_agent = $2`, username, userAgent))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.FastDevice{}, store.ErrNotFound
	}
	if err != nil {
		return store.FastDevice{}, fmt.Errorf("postgres: device of %q: %w", username, err)
	}
	return d, nil
}

// SaveFastDevice adds or replaces a device; store.ErrNotFound without the
// account.
func (s *Store) SaveFastDevice(ctx context.Context, username string, d store.FastDevice) error {
	var used *time.Time
	if !d.Used.IsZero() {
		u := stamp(d.Used)
		used = &u
	}
	_, err := s.exec(ctx, `INSERT INTO fast_tokens (username, `+fastColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (username, user_agent) DO UPDATE SET software = excluded.software, name = excluded.name,
			mechanism = excluded.mechanism, cur_verifier = excluded.cur_verifier, cur_responder = excluded.cur_responder,
			cur_expires = excluded.cur_expires, next_verifier = excluded.next_verifier,
			next_responder = excluded.next_responder, next_expires = excluded.next_expires,
			created = excluded.created, used = excluded.used`,
		username, d.UserAgent, d.Software, d.Name, d.Mechanism,
		nonNil(d.Current.Verifier), nonNil(d.Current.Responder), stamp(d.Current.Expires),
		nonNil(d.Next.Verifier), nonNil(d.Next.Responder), stamp(d.Next.Expires), stamp(d.Created), used)
	if err := missingUser(err); err != nil {
		return fmt.Errorf("postgres: save device of %q: %w", username, err)
	}
	return nil
}

// DeleteFastDevice removes a device; store.ErrNotFound if there is none.
func (s *Store) DeleteFastDevice(ctx context.Context, username, userAgent string) error {
	err := mustAffect(s.exec(ctx, `DELETE FROM fast_tokens WHERE username = $1 AND user_agent = $2`, username, userAgent))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("postgres: delete device of %q: %w", username, err)
	}
	return err
}
