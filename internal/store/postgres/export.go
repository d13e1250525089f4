package postgres

import (
	"context"
	"fmt"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
)

var _ store.Transfers = (*Store)(nil)

// PrivateXMLKeys returns a user's private XML keys in ascending byte order.
func (s *Store) PrivateXMLKeys(ctx context.Context, username string) ([]string, error) {
	keys, err := s.queryStrings(ctx, `SELECT key FROM private_xml WHERE username = $1 ORDER BY key`, username)
	if err != nil {
		return nil, fmt.Errorf("postgres: private xml keys of %q: %w", username, err)
	}
	return keys, nil
}

// RosterVersions returns every recorded roster version, deleted accounts'
// included.
func (s *Store) RosterVersions(ctx context.Context) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT username, version FROM roster_versions`)
	if err != nil {
		return nil, fmt.Errorf("postgres: roster versions: %w", err)
	}
	out := map[string]int64{}
	var u string
	var v int64
	if _, err := pgx.ForEachRow(rows, []any{&u, &v}, func() error { out[u] = v; return nil }); err != nil {
		return nil, fmt.Errorf("postgres: roster versions: %w", err)
	}
	return out, nil
}

// RaiseRosterVersion raises a username's roster version to at least
// version.
func (s *Store) RaiseRosterVersion(ctx context.Context, username string, version int64) error {
	_, err := s.exec(ctx, `INSERT INTO roster_versions AS v (username, version) VALUES ($1, $2)
		ON CONFLICT (username) DO UPDATE SET version = greatest(v.version, excluded.version)`, username, version)
	if err != nil {
		return fmt.Errorf("postgres: raise roster version of %q: %w", username, err)
	}
	return nil
}

// SchemaVersion returns how many migration steps the database has run;
// after Open it is the schema this build knows.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	return v, nil
}
