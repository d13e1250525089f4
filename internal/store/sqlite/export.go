package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"parley/internal/store"
)

var _ store.Transfers = (*Store)(nil)

// PrivateXMLKeys returns a user's private XML keys in ascending byte order.
func (s *Store) PrivateXMLKeys(ctx context.Context, username string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT key FROM private_xml WHERE username = ? ORDER BY key`, username)
	if err != nil {
		return nil, fmt.Errorf("sqlite: private xml keys of %q: %w", username, err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("sqlite: private xml keys of %q: %w", username, err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: private xml keys of %q: %w", username, err)
	}
	return keys, nil
}

// RosterVersions returns every recorded roster version, deleted accounts'
// included.
func (s *Store) RosterVersions(ctx context.Context) (map[string]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT username, version FROM roster_versions`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: roster versions: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var u string
		var v int64
		if err := rows.Scan(&u, &v); err != nil {
			return nil, fmt.Errorf("sqlite: roster versions: %w", err)
		}
		out[u] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: roster versions: %w", err)
	}
	return out, nil
}

// RaiseRosterVersion raises a username's roster version to at least
// version.
func (s *Store) RaiseRosterVersion(ctx context.Context, username string, version int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO roster_versions (username, version) VALUES (?, ?)
			ON CONFLICT (username) DO UPDATE SET version = max(version, excluded.version)`, username, version)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: raise roster version of %q: %w", username, err)
	}
	return nil
}

// SchemaVersion returns how many migration steps the database has run
// (PRAGMA user_version); after Open it is the schema this build knows.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.r.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite: schema version: %w", err)
	}
	return v, nil
}
