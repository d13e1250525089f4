package store

import (
	"context"
	"encoding/json"
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
