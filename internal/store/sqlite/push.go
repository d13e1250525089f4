package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"parley/internal/store"
)

// pushSchema is the migration step for push notification registrations
// (XEP-0357), one per account, app server and node.
const pushSchema = `
CREATE TABLE push_registrations (
	username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
	service  TEXT NOT NULL,
	node     TEXT NOT NULL,
	options  BLOB NOT NULL, -- the publish-options form; empty: none
	created  INTEGER NOT NULL, -- Unix nanoseconds
	PRIMARY KEY (username, service, node)
) WITHOUT ROWID;
`

// PushRegistrations returns an account's registrations, oldest first.
func (s *Store) PushRegistrations(ctx context.Context, username string) ([]store.PushRegistration, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT service, node, options, created FROM push_registrations
		WHERE username = ? ORDER BY created, service, node`, username)
	if err != nil {
		return nil, fmt.Errorf("sqlite: push registrations of %q: %w", username, err)
	}
	defer rows.Close()
	var out []store.PushRegistration
	for rows.Next() {
		var r store.PushRegistration
		var created int64
		if err := rows.Scan(&r.Service, &r.Node, &r.Options, &created); err != nil {
			return nil, fmt.Errorf("sqlite: push registrations of %q: %w", username, err)
		}
		if len(r.Options) == 0 {
			r.Options = nil
		}
		r.Created = fromUnixNano(created)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: push registrations of %q: %w", username, err)
	}
	return out, nil
}

// EnablePush adds or replaces a registration; store.ErrNotFound without
// the account.
func (s *Store) EnablePush(ctx context.Context, username string, r store.PushRegistration) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO push_registrations (username, service, node, options, created)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (username, service, node) DO UPDATE SET options = excluded.options, created = excluded.created`,
			username, r.Service, r.Node, nonNil(r.Options), unixNano(r.Created))
		return missingUser(err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: enable push for %q: %w", username, err)
	}
	return nil
}

// DisablePush removes the registration of service and node, or all of
// service's when node is "".
func (s *Store) DisablePush(ctx context.Context, username, service, node string) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.Exec(`DELETE FROM push_registrations WHERE username = ? AND service = ? AND (? = '' OR node = ?)`,
			username, service, node, node)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: disable push for %q: %w", username, err)
	}
	return int(n), nil
}
