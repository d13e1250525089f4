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

const incidentColumns = `id, stamp, source, state, action, policies, detectors, field, sender, target, summary, report_id, updated`

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

func scanIncident(stanza bool) func(func(...any) error) (store.Incident, error) {
	return func(scan func(...any) error) (store.Incident, error) {
		var t, u int64
		return store.ScanIncident(scan, &t, &u, func() (time.Time, time.Time) { return fromUnixNano(t), fromUnixNano(u) }, stanza)
	}
}

// Incidents returns a page of the queue, oldest first.
func (s *Store) Incidents(ctx context.Context, q store.IncidentQuery) ([]store.Incident, error) {
	limit := int64(q.Max)
	if q.Max <= 0 {
		limit = -1
	}
	out, err := queryAll(ctx, s, scanIncident(false), `SELECT `+incidentColumns+` FROM incidents
		WHERE id > ? AND (? = '' OR state = ?) AND (? = '' OR source = ?) ORDER BY id LIMIT ?`,
		q.After, q.State, q.State, q.Source, q.Source, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: incidents: %w", err)
	}
	return out, nil
}

// Incident returns one incident with its stanza and notes.
func (s *Store) Incident(ctx context.Context, id int64) (store.Incident, error) {
	in, err := scanIncident(true)(s.r.QueryRowContext(ctx, `SELECT `+incidentColumns+`, stanza FROM incidents WHERE id = ?`, id).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Incident{}, store.ErrNotFound
	}
	if err != nil {
		return store.Incident{}, fmt.Errorf("sqlite: incident %d: %w", id, err)
	}
	in.Notes, err = queryAll(ctx, s, func(scan func(...any) error) (store.IncidentNote, error) {
		var n store.IncidentNote
		var t int64
		err := scan(&t, &n.Reviewer, &n.State, &n.Text)
		n.Time = fromUnixNano(t)
		return n, err
	}, `SELECT stamp, reviewer, state, text FROM incident_notes WHERE incident = ? ORDER BY seq`, id)
	if err != nil {
		return store.Incident{}, fmt.Errorf("sqlite: incident %d notes: %w", id, err)
	}
	return in, nil
}

// ReviewIncident adds a note and moves the state.
func (s *Store) ReviewIncident(ctx context.Context, id int64, n store.IncidentNote) error {
	t := unixNano(n.Time)
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := mustAffect(tx.Exec(`UPDATE incidents SET state = CASE WHEN ? = '' THEN state ELSE ? END, updated = ?
			WHERE id = ?`, n.State, n.State, t, id)); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO incident_notes (incident, stamp, reviewer, state, text) VALUES (?, ?, ?, ?, ?)`,
			id, t, n.Reviewer, n.State, n.Text)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("sqlite: review incident %d: %w", id, err)
	}
	return err
}

// LastReportIncident returns the highest imported abuse report id.
func (s *Store) LastReportIncident(ctx context.Context) (int64, error) {
	var id int64
	if err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(report_id), 0) FROM incidents`).Scan(&id); err != nil {
		return 0, fmt.Errorf("sqlite: last report incident: %w", err)
	}
	return id, nil
}

// DLPPolicies returns the API's policies by name.
func (s *Store) DLPPolicies(ctx context.Context) ([]store.DLPPolicy, error) {
	out, err := queryAll(ctx, s, func(scan func(...any) error) (store.DLPPolicy, error) {
		var p store.DLPPolicy
		var t int64
		err := scan(&p.Name, &p.Spec, &t, &p.UpdatedBy)
		p.Updated = fromUnixNano(t)
		return p, err
	}, `SELECT name, spec, updated, updated_by FROM dlp_policies ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: dlp policies: %w", err)
	}
	return out, nil
}

// PutDLPPolicy creates or replaces a policy.
func (s *Store) PutDLPPolicy(ctx context.Context, p store.DLPPolicy) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO dlp_policies (name, spec, updated, updated_by) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated = excluded.updated, updated_by = excluded.updated_by`,
			p.Name, nonNil(p.Spec), unixNano(p.Updated), p.UpdatedBy)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: put dlp policy %q: %w", p.Name, err)
	}
	return nil
}

// DeleteDLPPolicy removes a policy.
func (s *Store) DeleteDLPPolicy(ctx context.Context, name string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		return mustAffect(tx.Exec(`DELETE FROM dlp_policies WHERE name = ?`, name))
	})
}
