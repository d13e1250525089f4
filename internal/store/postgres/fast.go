package postgres

import (
	"context"
	"fmt"
	"time"

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

// SaveFastDevice adds or replaces a device; store.ErrNotFound without the
// account.
func (s *Store) SaveFastDevice(ctx context.Context, username string, d store.FastDevice) error {
	var used *time.Time
	if !d.Used.IsZero() {
		u := stamp(d.Used)
		used = &u
	}
	_, err := s.exec(ctx, `INSERT INTO fast_tokens (username, `+store.FastColumns+`)
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
