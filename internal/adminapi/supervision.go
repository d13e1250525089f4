package adminapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"parley/internal/audit"
	"parley/internal/dlp"
	"parley/internal/dlp/enforce"
	"parley/internal/store"
	"parley/internal/supervision"
)

// Supervision is the incident review queue (supervision.Queue).
type Supervision interface {
	List(ctx context.Context, q store.IncidentQuery, actor string) ([]store.Incident, error)
	Open(ctx context.Context, id int64, actor string) (supervision.Case, error)
	Review(ctx context.Context, id int64, state, note, actor string) (store.Incident, error)
}

// DLPPolicies are the DLP policies (enforce.Module).
type DLPPolicies interface {
	Policies() []enforce.Listed
	PutPolicy(ctx context.Context, p dlp.Policy, actor string) (bool, error)
	DeletePolicy(ctx context.Context, name string) error
}

var errNoSupervision = errors.New("adminapi: this server has no review queue")

// supervisionRoutes are the review queue (reads are audited by the queue
// itself, step by step) and the DLP policies.
var supervisionRoutes = []route{
	{"GET", "/api/v1/incidents", compliance, "", listIncidents},
	{"GET", "/api/v1/incidents/{id}", compliance, "", openIncident},
	{"POST", "/api/v1/incidents/{id}/resolve", compliance, "", reviewIncident(store.IncidentResolved)},
	{"POST", "/api/v1/incidents/{id}/escalate", compliance, "", reviewIncident(store.IncidentEscalated)},
	{"POST", "/api/v1/incidents/{id}/reopen", compliance, "", reviewIncident(store.IncidentOpen)},
	{"POST", "/api/v1/incidents/{id}/notes", compliance, "", reviewIncident("")},
	{"GET", "/api/v1/dlp/policies", compliance, "", listDLPPolicies},
	{"PUT", "/api/v1/dlp/policies/{name}", compliance, audit.ActionDLPPolicyChanged, putDLPPolicy},
	{"DELETE", "/api/v1/dlp/policies/{name}", compliance, audit.ActionDLPPolicyChanged, deleteDLPPolicy},
}

// incident is an incident as the API lists it.
type incident struct {
	ID        int64     `json:"id"`
	Time      time.Time `json:"time"`
	Source    string    `json:"source"`
	State     string    `json:"state"`
	Action    string    `json:"action,omitempty"`
	Policies  []string  `json:"policies"`
	Detectors []string  `json:"detectors"`
	Field     string    `json:"field,omitempty"`
	Sender    string    `json:"sender"`
	Target    string    `json:"target"`
	Summary   string    `json:"summary"`
	ReportID  int64     `json:"report_id,omitempty"`
	Updated   time.Time `json:"updated"`
}

// openedIncident adds what opening it shows.
type openedIncident struct {
	incident
	Stanza  string         `json:"stanza,omitempty"` // the original stanza as sent
	Notes   []incidentNote `json:"notes"`
	Archive string         `json:"archive,omitempty"`
	Context []contextMsg   `json:"context"`
}

type incidentNote struct {
	Time     time.Time `json:"time"`
	Reviewer string    `json:"reviewer"`
	State    string    `json:"state,omitempty"`
	Text     string    `json:"text"`
}

type contextMsg struct {
	ID     string    `json:"id"`
	Time   time.Time `json:"time"`
	With   string    `json:"with"`
	Stanza string    `json:"stanza"`
}

func incidentOf(in store.Incident) incident {
	nonNil := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	return incident{ID: in.ID, Time: in.Time.UTC(), Source: in.Source, State: in.State, Action: in.Action,
		Policies: nonNil(in.Policies), Detectors: nonNil(in.Detectors), Field: in.Field, Sender: in.Sender,
		Target: in.Target, Summary: in.Summary, ReportID: in.ReportID, Updated: in.Updated.UTC()}
}

func openedOf(c supervision.Case) openedIncident {
	out := openedIncident{incident: incidentOf(c.Incident), Stanza: string(c.Stanza), Archive: c.Archive,
		Notes: []incidentNote{}, Context: []contextMsg{}}
	for _, n := range c.Notes {
		out.Notes = append(out.Notes, incidentNote{Time: n.Time.UTC(), Reviewer: n.Reviewer, State: n.State, Text: n.Text})
	}
	for _, m := range c.Context {
		out.Context = append(out.Context, contextMsg{ID: m.ID, Time: m.Stamp.UTC(), With: m.With, Stanza: string(m.Stanza)})
	}
	return out
}

// listIncidents pages the queue oldest first (?state= ?source=); the
// cursor is the last ID.
func listIncidents(a *API, w http.ResponseWriter, r *http.Request) error {
	if a.o.Supervision == nil {
		return errNoSupervision
	}
	limit, after, err := seqPageParams(r)
	if err != nil {
		return err
	}
	q := store.IncidentQuery{State: r.URL.Query().Get("state"), Source: r.URL.Query().Get("source"), Max: limit + 1, After: after}
	switch q.State {
	case "", store.IncidentOpen, store.IncidentResolved, store.IncidentEscalated:
	default:
		return badRequest("state: open, resolved or escalated")
	}
	switch q.Source {
	case "", store.IncidentDLP, store.IncidentAbuseReport:
	default:
		return badRequest("source: dlp or abuse-report")
	}
	list, err := a.o.Supervision.List(r.Context(), q, actorOf(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, seqPage(list, limit, func(in store.Incident) int64 { return in.ID }, incidentOf))
}

func pathIncident(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound("no incident " + r.PathValue("id"))
	}
	setTarget(r, "incident:"+strconv.FormatInt(id, 10))
	return id, nil
}

func openIncident(a *API, w http.ResponseWriter, r *http.Request) error {
	if a.o.Supervision == nil {
		return errNoSupervision
	}
	id, err := pathIncident(r)
	if err != nil {
		return err
	}
	c, err := a.o.Supervision.Open(r.Context(), id, actorOf(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, openedOf(c))
}

// reviewIncident moves an incident to state ("" adds a note only); the
// body is {"note": "..."}, required for a note only.
func reviewIncident(state string) func(a *API, w http.ResponseWriter, r *http.Request) error {
	return func(a *API, w http.ResponseWriter, r *http.Request) error {
		if a.o.Supervision == nil {
			return errNoSupervision
		}
		id, err := pathIncident(r)
		if err != nil {
			return err
		}
		var body struct {
			Note string `json:"note"`
		}
		if r.ContentLength != 0 {
			if err := readJSON(r, &body); err != nil {
				return err
			}
		}
		if state == "" && body.Note == "" {
			return badRequest("note: a note needs text")
		}
		in, err := a.o.Supervision.Review(r.Context(), id, state, body.Note, actorOf(r))
		switch {
		case errors.Is(err, supervision.ErrBadState):
			return &httpError{status: http.StatusConflict, title: "conflict", detail: "the incident is " + state + " already"}
		case errors.Is(err, supervision.ErrNoteSize):
			return badRequest(err.Error())
		case err != nil:
			return err
		}
		return writeJSON(w, http.StatusOK, incidentOf(in))
	}
}

func listDLPPolicies(a *API, w http.ResponseWriter, r *http.Request) error {
	if a.o.DLP == nil {
		return errNoSupervision
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": a.o.DLP.Policies()})
}

// putDLPPolicy creates (201) or replaces (200) the API policy {name}.
func putDLPPolicy(a *API, w http.ResponseWriter, r *http.Request) error {
	if a.o.DLP == nil {
		return errNoSupervision
	}
	name := r.PathValue("name")
	setTarget(r, "dlp-policy:"+name)
	var p dlp.Policy
	if err := readJSON(r, &p); err != nil {
		return err
	}
	if p.Name != "" && p.Name != name {
		return badRequest("name: the body names " + p.Name + ", the path " + name)
	}
	p.Name = name
	created, err := a.o.DLP.PutPolicy(r.Context(), p, actorOf(r))
	switch {
	case errors.Is(err, enforce.ErrConfigPolicy):
		return &httpError{status: http.StatusConflict, title: "conflict", detail: err.Error()}
	case errors.Is(err, enforce.ErrInvalidPolicy):
		return badRequest(err.Error())
	case err != nil:
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return writeJSON(w, status, p)
}

func deleteDLPPolicy(a *API, w http.ResponseWriter, r *http.Request) error {
	if a.o.DLP == nil {
		return errNoSupervision
	}
	name := r.PathValue("name")
	setTarget(r, "dlp-policy:"+name)
	err := a.o.DLP.DeletePolicy(r.Context(), name)
	if errors.Is(err, enforce.ErrConfigPolicy) {
		return &httpError{status: http.StatusConflict, title: "conflict", detail: err.Error()}
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
