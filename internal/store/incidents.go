package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Incidents keeps the supervision review queue (internal/supervision):
// what DLP policies flagged, redacted or blocked (internal/dlp), and the
// abuse reports users filed, each with its reviewers' notes; and the DLP
// policies made through the admin API. Like abuse reports, an incident
// outlives the accounts it names: it is evidence.
type Incidents interface {
	// AddIncident stores an incident (ID, Notes and Updated are ignored;
	// State "" means open) and returns its ID. ErrExists if ReportID is
	// not 0 and an incident for that abuse report exists.
	AddIncident(ctx context.Context, in Incident) (int64, error)
	// Incidents returns at most q.Max incidents (without their Stanza
	// and Notes) with an ID greater than q.After, oldest first,
	// filtered by q.State and q.Source when set.
	Incidents(ctx context.Context, q IncidentQuery) ([]Incident, error)
	// Incident returns one incident with its stanza and notes (oldest
	// first); ErrNotFound if there is none.
	Incident(ctx context.Context, id int64) (Incident, error)
	// ReviewIncident adds a reviewer's note and, when n.State is set,
	// moves the incident to that state. ErrNotFound for no incident.
	ReviewIncident(ctx context.Context, id int64, n IncidentNote) error
	// LastReportIncident returns the highest ReportID of any incident (0:
	// none), from which the queue imports newer abuse reports.
	LastReportIncident(ctx context.Context) (int64, error)

	// DLPPolicies returns the policies made through the API, by name.
	DLPPolicies(ctx context.Context) ([]DLPPolicy, error)
	// PutDLPPolicy creates or replaces the policy of that name.
	PutDLPPolicy(ctx context.Context, p DLPPolicy) error
	// DeleteDLPPolicy removes it; ErrNotFound if there is none.
	DeleteDLPPolicy(ctx context.Context, name string) error
}

// Incident sources and states.
const (
	IncidentDLP         = "dlp"
	IncidentAbuseReport = "abuse-report"

	IncidentOpen      = "open"
	IncidentResolved  = "resolved"
	IncidentEscalated = "escalated"
)

// Incident is one entry of the review queue.
type Incident struct {
	ID     int64
	Time   time.Time
	Source string // IncidentDLP or IncidentAbuseReport
	State  string // IncidentOpen, IncidentResolved or IncidentEscalated
	// DLP: the action taken (flag, redact, block), the policies and
	// detectors that matched, and where (body, correction, subject,
	// upload-filename, upload-content-type, vcard).
	Action    string
	Policies  []string
	Detectors []string
	Field     string
	Sender    string // full JID of the sender (abuse report: the reporter's bare JID)
	Target    string // bare JID the stanza was addressed to (abuse report: the reported JID)
	Summary   string // one line for the listing, never the sensitive text
	// Stanza is the original stanza as sent (DLP), kept for review only.
	Stanza   []byte
	ReportID int64 // the abuse report (0: none)
	Updated  time.Time
	Notes    []IncidentNote
}

// IncidentNote is one review step.
type IncidentNote struct {
	Time     time.Time
	Reviewer string // the API token's actor, e.g. admin-token:ID
	State    string // the state it moved to; "" for a note only
	Text     string
}

// IncidentQuery filters and pages Incidents.
type IncidentQuery struct {
	State, Source string
	After         int64
	Max           int // <= 0: every one
}

// DLPPolicy is a DLP policy made through the admin API: Spec is its JSON
// (internal/dlp.Policy), which the store keeps as given.
type DLPPolicy struct {
	Name      string
	Spec      []byte
	Updated   time.Time
	UpdatedBy string
}

// EncodeStrings stores a string list as both backends do: a JSON array.
func EncodeStrings(list []string) string {
	if list == nil {
		list = []string{}
	}
	b, _ := json.Marshal(list) // strings always encode
	return string(b)
}

// ScanIncident reads one row of (id, stamp, source, state, action,
// policies, detectors, field, sender, target, summary, report_id,
// updated) and, with stanza set, the stanza column after them. stamp and
// updated are the backend's destinations; when converts them after.
func ScanIncident(scan func(dest ...any) error, stamp, updated any, when func() (time.Time, time.Time), stanza bool) (Incident, error) {
	var in Incident
	var policies, detectors string
	dest := []any{&in.ID, stamp, &in.Source, &in.State, &in.Action, &policies, &detectors, &in.Field,
		&in.Sender, &in.Target, &in.Summary, &in.ReportID, updated}
	if stanza {
		dest = append(dest, &in.Stanza)
	}
	if err := scan(dest...); err != nil {
		return Incident{}, err
	}
	in.Time, in.Updated = when()
	if err := json.Unmarshal([]byte(policies), &in.Policies); err != nil {
		return Incident{}, fmt.Errorf("incident %d: %w", in.ID, err)
	}
	if err := json.Unmarshal([]byte(detectors), &in.Detectors); err != nil {
		return Incident{}, fmt.Errorf("incident %d: %w", in.ID, err)
	}
	return in, nil
}

// Written beside the interface (measure.go's rule: one method each).

// IncidentColumns are an incidents row but its stanza, in ScanIncident's
// order.
const IncidentColumns = `id, stamp, source, state, action, CAST(policies AS text), CAST(detectors AS text),
	field, sender, target, summary, report_id, updated`

// scanIncident reads a row of IncidentColumns, and the stanza after them
// when stanza is true.
func scanIncident(stanza bool) func(func(...any) error) (Incident, error) {
	return func(scan func(...any) error) (Incident, error) {
		var t, u ScanTime
		return ScanIncident(scan, &t, &u, func() (time.Time, time.Time) { return t.Time, u.Time }, stanza)
	}
}

// Incidents returns a page of the queue, oldest first.
func (m StmtMethods) Incidents(ctx context.Context, q IncidentQuery) ([]Incident, error) {
	p := m.DB.Param
	query, args := m.limit(`SELECT `+IncidentColumns+` FROM incidents
		WHERE id > `+p(1)+` AND (`+p(2)+` = '' OR state = `+p(3)+`) AND (`+p(4)+` = '' OR source = `+p(5)+`) ORDER BY id`,
		[]any{q.After, q.State, q.State, q.Source, q.Source}, q.Max)
	out, err := QueryRows(ctx, m.DB, scanIncident(false), query, args...)
	return out, m.fail(err, "incidents")
}

// Incident returns one incident with its stanza and notes.
func (m StmtMethods) Incident(ctx context.Context, id int64) (Incident, error) {
	ins, err := QueryRows(ctx, m.DB, scanIncident(true), `SELECT `+IncidentColumns+`, stanza FROM incidents WHERE id = `+m.DB.Param(1), id)
	if err != nil {
		return Incident{}, m.fail(err, "incident %d", id)
	}
	if len(ins) == 0 {
		return Incident{}, ErrNotFound
	}
	in := ins[0]
	in.Notes, err = QueryRows(ctx, m.DB, func(scan func(...any) error) (IncidentNote, error) {
		var n IncidentNote
		var t ScanTime
		err := scan(&t, &n.Reviewer, &n.State, &n.Text)
		n.Time = t.Time
		return n, err
	}, `SELECT stamp, reviewer, state, text FROM incident_notes WHERE incident = `+m.DB.Param(1)+` ORDER BY seq`, id)
	if err != nil {
		return Incident{}, m.fail(err, "incident %d notes", id)
	}
	return in, nil
}

// ReviewIncident adds a note and moves the state; ErrNotFound, as it is.
func (m StmtMethods) ReviewIncident(ctx context.Context, id int64, n IncidentNote) error {
	p := m.DB.Param
	t := m.DB.Stamp(n.Time)
	err := m.DB.Tx(ctx, func(tx Execer) error {
		if err := mustAffect(tx.Exec(`UPDATE incidents SET state = CASE WHEN `+p(1)+` = '' THEN state ELSE `+p(2)+` END,
			updated = `+p(3)+` WHERE id = `+p(4), n.State, n.State, t, id)); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO incident_notes (incident, stamp, reviewer, state, text)
			VALUES (`+p(1)+`, `+p(2)+`, `+p(3)+`, `+p(4)+`, `+p(5)+`)`, id, t, n.Reviewer, n.State, n.Text)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return err
	}
	return m.fail(err, "review incident %d", id)
}

// LastReportIncident returns the highest imported abuse report id.
func (m StmtMethods) LastReportIncident(ctx context.Context) (int64, error) {
	id, err := queryValue[int64](ctx, m.DB, `SELECT coalesce(max(report_id), 0) FROM incidents`)
	return id, m.fail(err, "last report incident")
}

// DLPPolicies returns the API's policies by name.
func (m StmtMethods) DLPPolicies(ctx context.Context) ([]DLPPolicy, error) {
	out, err := QueryRows(ctx, m.DB, func(scan func(...any) error) (DLPPolicy, error) {
		var p DLPPolicy
		var t ScanTime
		err := scan(&p.Name, &p.Spec, &t, &p.UpdatedBy)
		p.Updated = t.Time
		return p, err
	}, `SELECT name, spec, updated, updated_by FROM dlp_policies ORDER BY name`)
	if err != nil {
		return nil, m.fail(err, "dlp policies")
	}
	return out, nil
}

// PutDLPPolicy creates or replaces a policy.
func (m StmtMethods) PutDLPPolicy(ctx context.Context, p DLPPolicy) error {
	ph := m.DB.Param
	_, err := m.DB.Exec(ctx, `INSERT INTO dlp_policies (name, spec, updated, updated_by) VALUES (`+ph(1)+`, `+ph(2)+`, `+ph(3)+`, `+ph(4)+`)
		ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated = excluded.updated, updated_by = excluded.updated_by`,
		p.Name, nonNilBytes(p.Spec), m.DB.Stamp(p.Updated), p.UpdatedBy)
	return m.fail(err, "put dlp policy %q", p.Name)
}

// DeleteDLPPolicy removes a policy; ErrNotFound, as it is (callers
// compare it, internal/dlp/enforce).
func (m StmtMethods) DeleteDLPPolicy(ctx context.Context, name string) error {
	err := mustAffect(m.DB.Exec(ctx, `DELETE FROM dlp_policies WHERE name = `+m.DB.Param(1), name))
	if errors.Is(err, ErrNotFound) {
		return err
	}
	return m.fail(err, "delete dlp policy %q", name)
}
