package postgres

import (
	"context"
	"fmt"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
)

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

// TableRows counts the rows of every table of the store's schema.
func (s *Store) TableRows(ctx context.Context) (map[string]int64, error) {
	names, err := s.queryStrings(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	if err != nil {
		return nil, fmt.Errorf("postgres: tables: %w", err)
	}
	out := make(map[string]int64, len(names))
	for _, n := range names {
		var c int64
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{n}.Sanitize()).Scan(&c); err != nil {
			return nil, fmt.Errorf("postgres: rows of %s: %w", n, err)
		}
		out[n] = c
	}
	return out, nil
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

// AuditCursors returns every sink's cursor.
func (s *Store) AuditCursors(ctx context.Context) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT sink, seq FROM audit_cursors`)
	if err != nil {
		return nil, fmt.Errorf("postgres: audit cursors: %w", err)
	}
	out := map[string]int64{}
	var sink string
	var seq int64
	if _, err := pgx.ForEachRow(rows, []any{&sink, &seq}, func() error { out[sink] = seq; return nil }); err != nil {
		return nil, fmt.Errorf("postgres: audit cursors: %w", err)
	}
	return out, nil
}

// PubSubServices returns every service with nodes, in byte order.
func (s *Store) PubSubServices(ctx context.Context) ([]string, error) {
	out, err := s.queryStrings(ctx, `SELECT DISTINCT service FROM pubsub_nodes ORDER BY service`)
	if err != nil {
		return nil, fmt.Errorf("postgres: pubsub services: %w", err)
	}
	return out, nil
}

// StrangerFilters returns every recorded stranger-filter choice.
func (s *Store) StrangerFilters(ctx context.Context) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT username, refuse FROM stranger_filters`)
	if err != nil {
		return nil, fmt.Errorf("postgres: stranger filters: %w", err)
	}
	out := map[string]bool{}
	var user string
	var on bool
	if _, err := pgx.ForEachRow(rows, []any{&user, &on}, func() error { out[user] = on; return nil }); err != nil {
		return nil, fmt.Errorf("postgres: stranger filters: %w", err)
	}
	return out, nil
}
