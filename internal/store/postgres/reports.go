package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"parley/internal/store"
)

var _ store.AbuseReports = (*Store)(nil)

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
	refs := r.StanzaIDs
	if refs == nil {
		refs = []store.StanzaRef{}
	}
	ids, err := json.Marshal(refs)
	if err != nil {
		return 0, fmt.Errorf("postgres: add abuse report: %w", err)
	}
	var id int64
	err = s.pool.QueryRow(ctx, `INSERT INTO abuse_reports (stamp, reporter, reported, reason, text, stanza_ids)
		VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING id`,
		stamp(r.Time), r.Reporter, r.Reported, r.Reason, r.Text, string(ids)).Scan(&id)
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
	var out []store.AbuseReport
	for rows.Next() {
		var r store.AbuseReport
		var ids string
		if err := rows.Scan(&r.ID, &r.Time, &r.Reporter, &r.Reported, &r.Reason, &r.Text, &ids); err != nil {
			return nil, fmt.Errorf("postgres: abuse reports: %w", err)
		}
		r.Time = r.Time.UTC()
		if err := json.Unmarshal([]byte(ids), &r.StanzaIDs); err != nil {
			return nil, fmt.Errorf("postgres: abuse report %d: %w", r.ID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
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
