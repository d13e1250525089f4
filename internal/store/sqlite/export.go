package sqlite

import (
	"context"
	"database/sql"
	"fmt"

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
