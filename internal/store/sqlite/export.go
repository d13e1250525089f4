package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"parley/internal/store"

	sqlite3 "modernc.org/sqlite/lib"
)

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
