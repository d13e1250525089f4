package postgres

import (
	"context"
	"fmt"

	"parley/internal/store"
)

// pushSchema is the migration step for push notification registrations
// (XEP-0357), one per account, app server and node.
const pushSchema = `
CREATE TABLE push_registrations (
	username text COLLATE "C" NOT NULL REFERENCES users(username) ON DELETE CASCADE,
	service  text COLLATE "C" NOT NULL,
	node     text COLLATE "C" NOT NULL,
	options  bytea NOT NULL, -- the publish-options form; empty: none
	created  timestamptz NOT NULL,
	PRIMARY KEY (username, service, node)
);
`

// PushRegistrations returns an account's registrations, oldest first.
func (s *Store) PushRegistrations(ctx context.Context, username string) ([]store.PushRegistration, error) {
	rows, err := s.pool.Query(ctx, `SELECT service, node, options, created FROM push_registrations
		WHERE username = $1 ORDER BY created, service, node`, username)
	if err != nil {
		return nil, fmt.Errorf("postgres: push registrations of %q: %w", username, err)
	}
	defer rows.Close()
	var out []store.PushRegistration
	for rows.Next() {
		var r store.PushRegistration
		if err := rows.Scan(&r.Service, &r.Node, &r.Options, &r.Created); err != nil {
			return nil, fmt.Errorf("postgres: push registrations of %q: %w", username, err)
		}
		if len(r.Options) == 0 {
			r.Options = nil
		}
		r.Created = r.Created.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: push registrations of %q: %w", username, err)
	}
	return out, nil
}

// EnablePush adds or replaces a registration; store.ErrNotFound without
// the account.
func (s *Store) EnablePush(ctx context.Context, username string, r store.PushRegistration) error {
	_, err := s.exec(ctx, `INSERT INTO push_registrations (username, service, node, options, created)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (username, service, node) DO UPDATE SET options = excluded.options, created = excluded.created`,
		username, r.Service, r.Node, nonNil(r.Options), stamp(r.Created))
	if err := missingUser(err); err != nil {
		return fmt.Errorf("postgres: enable push for %q: %w", username, err)
	}
	return nil
}

// DisablePush removes the registration of service and node, or all of
// service's when node is "".
func (s *Store) DisablePush(ctx context.Context, username, service, node string) (int, error) {
	tag, err := s.exec(ctx, `DELETE FROM push_registrations WHERE username = $1 AND service = $2 AND ($3 = '' OR node = $3)`,
		username, service, node)
	if err != nil {
		return 0, fmt.Errorf("postgres: disable push for %q: %w", username, err)
	}
	return int(tag.RowsAffected()), nil
}
