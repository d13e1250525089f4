package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"parley/internal/store"

	sqlite3 "modernc.org/sqlite/lib"
)

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

// TableRows counts the rows of every table of the schema (SQLite's own
// tables left out; FTS5's shadow tables included).
func (s *Store) TableRows(ctx context.Context) (map[string]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: tables: %w", err)
	}
	names, err := store.ScanRows(rows, func(scan func(...any) error) (string, error) {
		var n string
		return n, scan(&n)
	})
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("sqlite: tables: %w", err)
	}
	out := make(map[string]int64, len(names))
	for _, n := range names {
		var c int64
		// The names come from the schema itself, quoted as identifiers.
		q := `SELECT count(*) FROM "` + strings.ReplaceAll(n, `"`, `""`) + `"`
		if err := s.r.QueryRowContext(ctx, q).Scan(&c); err != nil {
			return nil, fmt.Errorf("sqlite: rows of %s: %w", n, err)
		}
		out[n] = c
	}
	return out, nil
}

// ImportAbuseReport stores a report under its ID; AUTOINCREMENT then
// numbers later reports after the highest.
func (s *Store) ImportAbuseReport(ctx context.Context, r store.AbuseReport) error {
	ids, err := store.EncodeStanzaRefs(r.StanzaIDs)
	if err == nil {
		err = s.write(ctx, func(tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO abuse_reports (id, stamp, reporter, reported, reason, text, stanza_ids)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, r.ID, nanos(r.Time), r.Reporter, r.Reported, r.Reason, r.Text, ids)
			if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
				return store.ErrExists
			}
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("sqlite: import abuse report %d: %w", r.ID, err)
	}
	return nil
}

// AuditCursors returns every sink's cursor.
func (s *Store) AuditCursors(ctx context.Context) (map[string]int64, error) {
	type cursor struct {
		sink string
		seq  int64
	}
	list, err := queryAll(ctx, s, func(scan func(...any) error) (cursor, error) {
		var c cursor
		return c, scan(&c.sink, &c.seq)
	}, `SELECT sink, seq FROM audit_cursors`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit cursors: %w", err)
	}
	out := make(map[string]int64, len(list))
	for _, c := range list {
		out[c.sink] = c.seq
	}
	return out, nil
}

// PubSubServices returns every service with nodes, in byte order.
func (s *Store) PubSubServices(ctx context.Context) ([]string, error) {
	out, err := queryAll(ctx, s, func(scan func(...any) error) (string, error) {
		var v string
		return v, scan(&v)
	}, `SELECT DISTINCT service FROM pubsub_nodes ORDER BY service`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: pubsub services: %w", err)
	}
	return out, nil
}

// StrangerFilters returns every recorded stranger-filter choice.
func (s *Store) StrangerFilters(ctx context.Context) (map[string]bool, error) {
	type choice struct {
		user string
		on   bool
	}
	list, err := queryAll(ctx, s, func(scan func(...any) error) (choice, error) {
		var c choice
		return c, scan(&c.user, &c.on)
	}, `SELECT username, refuse FROM stranger_filters`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: stranger filters: %w", err)
	}
	out := make(map[string]bool, len(list))
	for _, c := range list {
		out[c.user] = c.on
	}
	return out, nil
}
