package postgres

import (
	"context"
	"fmt"

	"parley/internal/store"
)

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

// ImportAbuseReport stores a report under its ID and moves the identity
// sequence past the highest ID, so later reports do not collide.
func (s *Store) ImportAbuseReport(ctx context.Context, r store.AbuseReport) error {
	ids, err := store.EncodeStanzaRefs(r.StanzaIDs)
	if err == nil {
		_, err = s.exec(ctx, `WITH ins AS (
				INSERT INTO abuse_reports (id, stamp, reporter, reported, reason, text, stanza_ids)
				OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING id)
			SELECT setval(pg_get_serial_sequence('abuse_reports', 'id'),
				greatest((SELECT id FROM ins), (SELECT coalesce(max(id), 0) FROM abuse_reports)))`,
			r.ID, stamp(r.Time), r.Reporter, r.Reported, r.Reason, r.Text, ids)
		if isCode(err, uniqueViolation) {
			err = store.ErrExists
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: import abuse report %d: %w", r.ID, err)
	}
	return nil
}
