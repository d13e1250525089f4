package postgres

import (
	"context"
	"fmt"
	"time"

	"parley/internal/store"
)

// reportsSchema is the migration step for abuse reports (XEP-0377). No
// foreign key to users: a report outlives the accounts it names.
const reportsSchema = `
CREATE TABLE abuse_reports (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	stamp      timestamptz NOT NULL,
	reporter   text COLLATE "C" NOT NULL,
	reported   text COLLATE "C" NOT NULL,
	reason     text NOT NULL,
	text       text NOT NULL,
	stanza_ids jsonb NOT NULL -- array of {"by","id"}
);
CREATE INDEX abuse_reports_reporter ON abuse_reports (reporter, stamp);
`

// AddAbuseReport stores a report.
func (s *Store) AddAbuseReport(ctx context.Context, r store.AbuseReport) (int64, error) {
	ids, err := store.EncodeStanzaRefs(r.StanzaIDs)
	if err != nil {
		return 0, fmt.Errorf("postgres: add abuse report: %w", err)
	}
	var id int64
	err = s.pool.QueryRow(ctx, `INSERT INTO abuse_reports (stamp, reporter, reported, reason, text, stanza_ids)
		VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING id`,
		stamp(r.Time), r.Reporter, r.Reported, r.Reason, r.Text, ids).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("postgres: add abuse report by %q: %w", r.Reporter, err)
	}
	return id, nil
}

// AbuseReports returns a page of reports, oldest first.
func (s *Store) AbuseReports(ctx context.Context, after int64, max int) ([]store.AbuseReport, error) {
	var limit any // NULL: no limit
	if max > 0 {
		limit = max
	}
	rows, err := s.pool.Query(ctx, `SELECT id, stamp, reporter, reported, reason, text, stanza_ids::text
		FROM abuse_reports WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: abuse reports: %w", err)
	}
	defer rows.Close()
	out, err := store.ScanRows(rows, func(scan func(...any) error) (store.AbuseReport, error) {
		var t time.Time
		return store.ScanAbuseReport(scan, &t, func() time.Time { return t.UTC() })
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: abuse reports: %w", err)
	}
	return out, nil
}

// CountAbuseReports counts a reporter's reports since a time.
func (s *Store) CountAbuseReports(ctx context.Context, reporter string, since time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM abuse_reports WHERE reporter = $1 AND stamp >= $2`,
		reporter, since).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: count abuse reports of %q: %w", reporter, err)
	}
	return n, nil
}
