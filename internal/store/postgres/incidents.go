package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/internal/store"
)

// incidentsSchema is the migration step for the supervision queue and the
// DLP policies made through the API. No foreign keys to users: incidents
// are evidence and outlive the accounts they name.
const incidentsSchema = `
CREATE TABLE incidents (
	id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	stamp     timestamptz NOT NULL,
	source    text NOT NULL,
	state     text NOT NULL,
	action    text NOT NULL,
	policies  jsonb NOT NULL,
	detectors jsonb NOT NULL,
	field     text NOT NULL,
	sender    text COLLATE "C" NOT NULL,
	target    text COLLATE "C" NOT NULL,
	summary   text NOT NULL,
	report_id bigint NOT NULL,
	updated   timestamptz NOT NULL,
	stanza    bytea NOT NULL
);
CREATE INDEX incidents_state ON incidents (state, id);
CREATE UNIQUE INDEX incidents_report ON incidents (report_id) WHERE report_id <> 0;

CREATE TABLE incident_notes (
	incident bigint NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
	seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	stamp    timestamptz NOT NULL,
	reviewer text NOT NULL,
	state    text NOT NULL,
	text     text NOT NULL
);
CREATE INDEX incident_notes_incident ON incident_notes (incident, seq);

CREATE TABLE dlp_policies (
	name       text COLLATE "C" PRIMARY KEY,
	spec       bytea NOT NULL, -- JSON, as given
	updated    timestamptz NOT NULL,
	updated_by text NOT NULL
);
`

const incidentColumns = `id, stamp, source, state, action, policies::text, detectors::text, field, sender, target, summary, report_id, updated`

// AddIncident stores an incident.
func (s *Store) AddIncident(ctx context.Context, in store.Incident) (int64, error) {
	if in.State == "" {
		in.State = store.IncidentOpen
	}
	t := stamp(in.Time)
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO incidents (stamp, source, state, action, policies, detectors, field, sender,
		target, summary, report_id, updated, stanza) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9, $10, $11, $1, $12)
		RETURNING id`,
		t, in.Source, in.State, in.Action, store.EncodeStrings(in.Policies), store.EncodeStrings(in.Detectors), in.Field,
		in.Sender, in.Target, in.Summary, in.ReportID, nonNil(in.Stanza)).Scan(&id)
	if isCode(err, uniqueViolation) {
		return 0, store.ErrExists
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: add incident: %w", err)
	}
	return id, nil
}

// ImportIncident stores an incident under its ID with its notes.
func (s *Store) ImportIncident(ctx context.Context, in store.Incident) error {
	t := stamp(in.Time)
	u := t
	if !in.Updated.IsZero() {
		u = stamp(in.Updated)
	}
	if in.State == "" {
		in.State = store.IncidentOpen
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `WITH ins AS (
				INSERT INTO incidents (id, stamp, source, state, action, policies, detectors, field, sender,
					target, summary, report_id, updated, stanza)
				OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9, $10, $11, $12, $13, $14) RETURNING id)
			SELECT setval(pg_get_serial_sequence('incidents', 'id'),
				greatest((SELECT id FROM ins), (SELECT coalesce(max(id), 0) FROM incidents)))`,
			in.ID, t, in.Source, in.State, in.Action, store.EncodeStrings(in.Policies), store.EncodeStrings(in.Detectors),
			in.Field, in.Sender, in.Target, in.Summary, in.ReportID, u, nonNil(in.Stanza))
		if err != nil {
			return err
		}
		for _, n := range in.Notes {
			if _, err := tx.Exec(ctx, `INSERT INTO incident_notes (incident, stamp, reviewer, state, text) VALUES ($1, $2, $3, $4, $5)`,
				in.ID, stamp(n.Time), n.Reviewer, n.State, n.Text); err != nil {
				return err
			}
		}
		return nil
	})
	if isCode(err, uniqueViolation) {
		return store.ErrExists
	}
	if err != nil {
		return fmt.Errorf("postgres: import incident %d: %w", in.ID, err)
	}
	return nil
}

func scanIncident(scan func(...any) error, stanza bool) (store.Incident, error) {
	var t, u time.Time
	return store.ScanIncident(scan, &t, &u, func() (time.Time, time.Time) { return t.UTC(), u.UTC() }, stanza)
}

// Incidents returns a page of the queue, oldest first.
func (s *Store) Incidents(ctx context.Context, q store.IncidentQuery) ([]store.Incident, error) {
	var limit any // NULL: no limit
	if q.Max > 0 {
		limit = q.Max
	}
	rows, err := s.pool.Query(ctx, `SELECT `+incidentColumns+` FROM incidents
		WHERE id > $1 AND ($2 = '' OR state = $2) AND ($3 = '' OR source = $3) ORDER BY id LIMIT $4`,
		q.After, q.State, q.Source, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: incidents: %w", err)
	}
	defer rows.Close()
	out, err := store.ScanRows(rows, func(scan func(...any) error) (store.Incident, error) { return scanIncident(scan, false) })
	if err != nil {
		return nil, fmt.Errorf("postgres: incidents: %w", err)
	}
	return out, nil
}

// Incident returns one incident with its stanza and notes.
func (s *Store) Incident(ctx context.Context, id int64) (store.Incident, error) {
	in, err := scanIncident(s.pool.QueryRow(ctx, `SELECT `+incidentColumns+`, stanza FROM incidents WHERE id = $1`, id).Scan, true)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Incident{}, store.ErrNotFound
	}
	if err != nil {
		return store.Incident{}, fmt.Errorf("postgres: incident %d: %w", id, err)
	}
	rows, err := s.pool.Query(ctx, `SELECT stamp, reviewer, state, text FROM incident_notes WHERE incident = $1 ORDER BY seq`, id)
	if err != nil {
		return store.Incident{}, fmt.Errorf("postgres: incident %d notes: %w", id, err)
	}
	defer rows.Close()
	in.Notes, err = store.ScanRows(rows, func(scan func(...any) error) (store.IncidentNote, error) {
		var n store.IncidentNote
		err := scan(&n.Time, &n.Reviewer, &n.State, &n.Text)
		n.Time = n.Time.UTC()
		return n, err
	})
	if err != nil {
		return store.Incident{}, fmt.Errorf("postgres: incident %d notes: %w", id, err)
	}
	return in, nil
}

// ReviewIncident adds a note and moves the state.
func (s *Store) ReviewIncident(ctx context.Context, id int64, n store.IncidentNote) error {
	t := stamp(n.Time)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := mustAffect(tx.Exec(ctx, `UPDATE incidents SET state = CASE WHEN $1 = '' THEN state ELSE $1 END, updated = $2
			WHERE id = $3`, n.State, t, id)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO incident_notes (incident, stamp, reviewer, state, text) VALUES ($1, $2, $3, $4, $5)`,
			id, t, n.Reviewer, n.State, n.Text)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("postgres: review incident %d: %w", id, err)
	}
	return err
}

// LastReportIncident returns the highest imported abuse report id.
func (s *Store) LastReportIncident(ctx context.Context) (int64, error) {
	var id int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(report_id), 0) FROM incidents`).Scan(&id); err != nil {
		return 0, fmt.Errorf("postgres: last report incident: %w", err)
	}
	return id, nil
}

// DLPPolicies returns the API's policies by name.
func (s *Store) DLPPolicies(ctx context.Context) ([]store.DLPPolicy, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, spec, updated, updated_by FROM dlp_policies ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("postgres: dlp policies: %w", err)
	}
	defer rows.Close()
	out, err := store.ScanRows(rows, func(scan func(...any) error) (store.DLPPolicy, error) {
		var p store.DLPPolicy
		err := scan(&p.Name, &p.Spec, &p.Updated, &p.UpdatedBy)
		p.Updated = p.Updated.UTC()
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: dlp policies: %w", err)
	}
	return out, nil
}

// PutDLPPolicy creates or replaces a policy.
func (s *Store) PutDLPPolicy(ctx context.Context, p store.DLPPolicy) error {
	_, err := s.exec(ctx, `INSERT INTO dlp_policies (name, spec, updated, updated_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated = excluded.updated, updated_by = excluded.updated_by`,
		p.Name, nonNil(p.Spec), stamp(p.Updated), p.UpdatedBy)
	if err != nil {
		return fmt.Errorf("postgres: put dlp policy %q: %w", p.Name, err)
	}
	return nil
}

// DeleteDLPPolicy removes a policy.
func (s *Store) DeleteDLPPolicy(ctx context.Context, name string) error {
	if err := mustAffect(s.exec(ctx, `DELETE FROM dlp_policies WHERE name = $1`, name)); err != nil {
		return fmt.Errorf("postgres: delete dlp policy %q: %w", name, err)
	}
	return nil
}
