package postgres

import (
	"context"
	"fmt"

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
