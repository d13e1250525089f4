// Package supervision is the review queue of compliance incidents: what
// the DLP policies flagged, redacted or blocked (internal/dlp/enforce) and
// the abuse reports users filed (XEP-0377, internal/im/blocking). A
// reviewer with the compliance role lists the queue, opens an incident
// with the conversation around it from the archive, and resolves or
// escalates it with notes (internal/adminapi). Every step, reads
// included, is an audit record: who looked at what is itself evidence.
package supervision

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"parley/internal/audit"
	"parley/internal/defaults"
	"parley/internal/jid"
	"parley/internal/store"
)

// Store is what the queue reads and writes.
type Store interface {
	AddIncident(ctx context.Context, in store.Incident) (int64, error)
	Incidents(ctx context.Context, q store.IncidentQuery) ([]store.Incident, error)
	Incident(ctx context.Context, id int64) (store.Incident, error)
	ReviewIncident(ctx context.Context, id int64, n store.IncidentNote) error
	LastReportIncident(ctx context.Context) (int64, error)
	AbuseReports(ctx context.Context, after int64, max int) ([]store.AbuseReport, error)
	QueryArchive(ctx context.Context, owner string, q store.ArchiveQuery) (store.ArchivePage, error)
}

// Auditor is the audit log (audit.Log).
type Auditor interface{ Emit(r audit.Record) }

// DefaultContext is how many archived messages an opened incident shows
// before and after it.
const DefaultContext = 5

// MaxNote bounds a reviewer's note, in bytes.
const MaxNote = 4096

// Errors with stable identities.
var (
	ErrBadState = errors.New("supervision: the incident is already in that state")
	ErrNoteSize = fmt.Errorf("supervision: a note is at most %d bytes", MaxNote)
)

// Options configure the queue.
type Options struct {
	Store  Store
	Audit  Auditor
	Domain jid.JID // the local domain: which senders have an archive here
	// Context is how many messages an opened incident shows on each side
	// (default DefaultContext).
	Context int
	Now     func() time.Time
}

// Queue is the review queue.
type Queue struct {
	o         Options
	importing sync.Mutex // one import of abuse reports at a time
}

// New returns the queue.
func New(o Options) *Queue {
	defaults.Positive(&o.Context, DefaultContext)
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Queue{o: o}
}

// Case is an opened incident: the incident with its notes, and the
// archived messages around it, oldest first.
type Case struct {
	store.Incident
	// Archive names whose archive the context is from (a username or a
	// room's JID); empty when there is none.
	Archive string
	Context []store.ArchivedMessage
}

// List returns a page of the queue, after importing the abuse reports
// filed since the last import.
func (q *Queue) List(ctx context.Context, query store.IncidentQuery, actor string) ([]store.Incident, error) {
	if err := q.importReports(ctx); err != nil {
		return nil, err
	}
	list, err := q.o.Store.Incidents(ctx, query)
	if err != nil {
		return nil, err
	}
	q.audit(actor, "list", "", map[string]string{"state": query.State, "source": query.Source, "count": strconv.Itoa(len(list))})
	return list, nil
}

// importReports adds an incident for each abuse report not yet queued.
func (q *Queue) importReports(ctx context.Context) error {
	q.importing.Lock()
	defer q.importing.Unlock()
	after, err := q.o.Store.LastReportIncident(ctx)
	if err != nil {
		return err
	}
	for {
		reports, err := q.o.Store.AbuseReports(ctx, after, 500)
		if err != nil || len(reports) == 0 {
			return err
		}
		for _, r := range reports {
			summary := "abuse report: " + r.Reason
			if len(r.StanzaIDs) > 0 {
				summary += fmt.Sprintf(" (%d messages)", len(r.StanzaIDs))
			}
			in := store.Incident{Time: r.Time, Source: store.IncidentAbuseReport, Sender: q.bare(r.Reporter),
				Target: r.Reported, Summary: summary, ReportID: r.ID}
			if _, err := q.o.Store.AddIncident(ctx, in); err != nil && !errors.Is(err, store.ErrExists) {
				return err
			}
			after = r.ID
		}
	}
}

func (q *Queue) bare(username string) string { return username + "@" + q.o.Domain.String() }

// Open returns an incident with its context: for a DLP incident the
// conversation it was part of (the room's archive, or the sender's with
// the recipient), for an abuse report the reporter's conversation with
// the reported JID, Context messages on each side of its time.
func (q *Queue) Open(ctx context.Context, id int64, actor string) (Case, error) {
	in, err := q.o.Store.Incident(ctx, id)
	if err != nil {
		return Case{}, err
	}
	c := Case{Incident: in}
	for _, a := range q.archives(in) {
		msgs, err := q.around(ctx, a.owner, a.with, in.Time)
		if errors.Is(err, store.ErrNotFound) || err == nil && len(msgs) == 0 {
			continue
		}
		if err != nil {
			return Case{}, err
		}
		c.Archive, c.Context = a.owner, msgs
		break
	}
	q.audit(actor, "open", in, nil)
	return c, nil
}

type archiveRef struct{ owner, with string }

// archives lists where an incident's context may be, most likely first.
func (q *Queue) archives(in store.Incident) []archiveRef {
	var out []archiveRef
	target, terr := jid.Parse(in.Target)
	sender, serr := jid.Parse(in.Sender)
	local := q.o.Domain.Domain()
	if terr == nil && target.Local() != "" && strings.HasSuffix(target.Domain(), "."+local) {
		out = append(out, archiveRef{owner: target.Bare().String()}) // a room of this server's
	}
	if serr == nil && sender.Domain() == q.o.Domain.Domain() && sender.Local() != "" && terr == nil {
		out = append(out, archiveRef{owner: sender.Local(), with: target.Bare().String()})
	}
	return out
}

// around returns up to Context messages before t and as many from t on.
func (q *Queue) around(ctx context.Context, owner, with string, t time.Time) ([]store.ArchivedMessage, error) {
	before, err := q.o.Store.QueryArchive(ctx, owner, store.ArchiveQuery{With: with, End: t, Last: true, Limit: q.o.Context})
	if err != nil {
		return nil, err
	}
	after, err := q.o.Store.QueryArchive(ctx, owner, store.ArchiveQuery{With: with, Start: t.Add(time.Nanosecond), Limit: q.o.Context})
	if err != nil {
		return nil, err
	}
	return append(before.Messages, after.Messages...), nil
}

// Review adds a reviewer's note and moves the incident to state
// (store.IncidentResolved, store.IncidentEscalated, store.IncidentOpen
// to reopen, or "" for a note only). ErrBadState when it is in that state
// already; store.ErrNotFound for no incident.
func (q *Queue) Review(ctx context.Context, id int64, state, note, actor string) (store.Incident, error) {
	if len(note) > MaxNote {
		return store.Incident{}, ErrNoteSize
	}
	in, err := q.o.Store.Incident(ctx, id)
	if err != nil {
		return store.Incident{}, err
	}
	if state != "" && in.State == state {
		return store.Incident{}, ErrBadState
	}
	if err := q.o.Store.ReviewIncident(ctx, id, store.IncidentNote{Time: q.o.Now(), Reviewer: actor, State: state, Text: note}); err != nil {
		return store.Incident{}, err
	}
	step := map[string]string{store.IncidentResolved: "resolve", store.IncidentEscalated: "escalate",
		store.IncidentOpen: "reopen", "": "note"}[state]
	q.audit(actor, step, in, map[string]string{"from": in.State})
	return q.o.Store.Incident(ctx, id)
}

// audit records a step; in is the incident (a store.Incident) or "".
func (q *Queue) audit(actor, step string, in any, details map[string]string) {
	if q.o.Audit == nil {
		return
	}
	if details == nil {
		details = map[string]string{}
	}
	details["step"] = step
	target := ""
	if inc, ok := in.(store.Incident); ok {
		target = "incident:" + strconv.FormatInt(inc.ID, 10)
		details["source"] = inc.Source
	}
	q.o.Audit.Emit(audit.Record{Action: audit.ActionIncidentReview, Actor: actor, Target: target,
		Outcome: audit.OutcomeSuccess, Details: details})
}
