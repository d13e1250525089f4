package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"parley/internal/store"
)

// incidentsSchema is the migration step for the supervision queue and the
// DLP policies made through the API. No foreign keys to users: incidents
// are evidence and outlive the accounts they name.
const incidentsSchema = `
CREATE TABLE incidents (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	stamp     INTEGER NOT NULL, -- Unix nanoseconds
	source    TEXT NOT NULL,
	state     TEXT NOT NULL,
	action    TEXT NOT NULL,
	policies  TEXT NOT NULL, -- JSON array
	detectors TEXT NOT NULL, -- JSON array
	field     TEXT NOT NULL,
	sender    TEXT NOT NULL,
	target    TEXT NOT NULL,
	summary   TEXT NOT NULL,
	report_id INTEGER NOT NULL,
	updated   INTEGER NOT NULL,
	stanza    BLOB NOT NULL
);
CREATE INDEX incidents_state ON incidents (state, id);
CREATE UNIQUE INDEX incidents_report ON incidents (report_id) WHERE report_id <> 0;

CREATE TABLE incident_notes (
	incident INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
	seq      INTEGER PRIMARY KEY AUTOINCREMENT,
	stamp    INTEGER NOT NULL,
	reviewer TEXT NOT NULL,
	state    TEXT NOT NULL,
	text     TEXT NOT NULL
);
CREATE INDEX incident_notes_incident ON incident_notes (incident, seq);

CREATE TABLE dlp_policies (
	name       TEXT PRIMARY KEY,
	spec       BLOB NOT NULL, -- JSON
	updated    INTEGER NOT NULL,
	updated_by TEXT NOT NULL
) WITHOUT ROWID;
`

// AddIncident stores an incident.
func (s *Store) AddIncident(ctx context.Context, in store.Incident) (int64, error) {
	in.ID, in.Notes, in.Updated = 0, nil, time.Time{}
	var id int64
	err := s.write(ctx, func(tx *sql.Tx) (err error) {
		id, err = insertIncident(tx, in)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrExists) {
		return 0, fmt.Errorf("sqlite: add incident: %w", err)
	}
	return id, err
}

// ImportIncident stores an incident under its ID with its notes.
func (s *Store) ImportIncident(ctx context.Context, in store.Incident) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := insertIncident(tx, in); err != nil {
			return err
		}
		for _, n := range in.Notes {
			if _, err := tx.Exec(`INSERT INTO incident_notes (incident, stamp, reviewer, state, text) VALUES (?, ?, ?, ?, ?)`,
				in.ID, nanos(n.Time), n.Reviewer, n.State, n.Text); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrExists) {
		return fmt.Errorf("sqlite: import incident %d: %w", in.ID, err)
	}
	return err
}

// insertIncident inserts in (with its ID unless 0; Updated zero: its
// Time) and returns its ID.
func insertIncident(tx *sql.Tx, in store.Incident) (int64, error) {
	if in.State == "" {
		in.State = store.IncidentOpen
	}
	t := unixNano(in.Time)
	u := t
	if !in.Updated.IsZero() {
		u = nanos(in.Updated)
	}
	var id any
	if in.ID != 0 {
		id = in.ID
	}
	var out int64
	err := tx.QueryRow(`INSERT INTO incidents (id, stamp, source, state, action, policies, detectors, field, sender,
		target, summary, report_id, updated, stanza) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		id, t, in.Source, in.State, in.Action, store.EncodeStrings(in.Policies), store.EncodeStrings(in.Detectors), in.Field,
		in.Sender, in.Target, in.Summary, in.ReportID, u, nonNil(in.Stanza)).Scan(&out)
	if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE) || isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return 0, store.ErrExists
	}
	return out, err
}
