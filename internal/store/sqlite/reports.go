package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"parley/internal/store"
)

// reportsSchema is the migration step for abuse reports (XEP-0377). No
// foreign key to users: a report outlives the accounts it names.
const reportsSchema = `
CREATE TABLE abuse_reports (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	stamp      INTEGER NOT NULL, -- Unix nanoseconds
	reporter   TEXT NOT NULL,
	reported   TEXT NOT NULL,
	reason     TEXT NOT NULL,
	text       TEXT NOT NULL,
	stanza_ids TEXT NOT NULL -- JSON array of {"by","id"}
);
CREATE INDEX abuse_reports_reporter ON abuse_reports (reporter, stamp);
`

// AddAbuseReport stores a report.
func (s *Store) AddAbuseReport(ctx context.Context, r store.AbuseReport) (int64, error) {
	ids, err := store.EncodeStanzaRefs(r.StanzaIDs)
	if err != nil {
		return 0, fmt.Errorf("sqlite: add abuse report: %w", err)
	}
	var id int64
	err = s.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRow(`INSERT INTO abuse_reports (stamp, reporter, reported, reason, text, stanza_ids)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			unixNano(r.Time), r.Reporter, r.Reported, r.Reason, r.Text, ids).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: add abuse report by %q: %w", r.Reporter, err)
	}
	return id, nil
}

// AbuseReports returns a page of reports, oldest first.
func (s *Store) AbuseReports(ctx context.Context, after int64, max int) ([]store.AbuseReport, error) {
	limit := int64(max)
	if max <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, stamp, reporter, reported, reason, text, stanza_ids
		FROM abuse_reports WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: abuse reports: %w", err)
	}
	defer rows.Close()
	out, err := store.ScanRows(rows, func(scan func(...any) error) (store.AbuseReport, error) {
		var t int64
		return store.ScanAbuseReport(scan, &t, func() time.Time { return fromUnixNano(t) })
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: abuse reports: %w", err)
	}
	return out, nil
}

// CountAbuseReports counts a reporter's reports since a time.
func (s *Store) CountAbuseReports(ctx context.Context, reporter string, since time.Time) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM abuse_reports WHERE reporter = ? AND stamp >= ?`,
		reporter, nanos(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: count abuse reports of %q: %w", reporter, err)
	}
	return n, nil
}
