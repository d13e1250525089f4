package blocking

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"parley/internal/audit"
	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// XEP-0377 (Spam Reporting, v0.4): a <report/> in an <item/> of a block
// request tells the server why the user blocks that JID.
const (
	NSReporting = "urn:xmpp:reporting:1"
	ReasonSpam  = "urn:xmpp:reporting:spam"
	ReasonAbuse = "urn:xmpp:reporting:abuse"
	nsStanzaID  = "urn:xmpp:sid:0" // XEP-0359
)

// Report limits, defaults of the Options of the same names. Beyond them
// the block still happens (XEP-0377 §4: the server blocks "just as it
// would if no report were present"); only the report is cut or refused.
const (
	DefaultMaxReportText      = 4096 // bytes of the user's text; longer is cut
	DefaultMaxReportStanzaIDs = 20   // stanza ids kept per report; further ones are ignored
	DefaultReportsPerDay      = 10   // reports one user may file in 24 hours; further ones are not stored
	maxStanzaIDBytes          = 256  // an id longer than this is not an id we assigned: ignored
)

// Reports keeps abuse reports; store.AbuseReports provides it.
type Reports interface {
	AddAbuseReport(ctx context.Context, r store.AbuseReport) (int64, error)
	CountAbuseReports(ctx context.Context, reporter string, since time.Time) (int, error)
}

// Auditor records audit events; *audit.Log provides it.
type Auditor interface {
	Emit(audit.Record)
}

// reportFor parses the XEP-0377 report in a block item, within the limits;
// ok is false when there is none or it has no reason this server knows.
func (m *Module) reportFor(item *xmlstream.Element) (r store.AbuseReport, ok bool) {
	rep := item.Child("report", NSReporting)
	if rep == nil {
		return r, false
	}
	// §4: a report MUST carry a reason; this server knows the two
	// defined by the XEP (and advertises exactly those with the feature).
	r.Reason = rep.Get("reason")
	if r.Reason != ReasonSpam && r.Reason != ReasonAbuse {
		return r, false
	}
	for _, c := range rep.Children {
		switch {
		case c.Name == "text" && c.Space == NSReporting && r.Text == "":
			r.Text = xmlstream.CutText(c.Text, m.maxReportText)
		case c.Name == "stanza-id" && c.Space == nsStanzaID && len(r.StanzaIDs) < m.maxReportIDs:
			id, by := c.Get("id"), c.Get("by")
			if id == "" || len(id) > maxStanzaIDBytes {
				continue
			}
			if _, err := jid.Parse(by); err != nil {
				continue
			}
			r.StanzaIDs = append(r.StanzaIDs, store.StanzaRef{By: by, ID: id})
		}
	}
	return r, true
}

// report files the reports attached to the items of a block that
// succeeded: stored, audited, forwarded to the admins. Failures are logged:
// the block is done and answered.
func (m *Module) report(ctx context.Context, from jid.JID, q *xmlstream.Element) {
	if m.reports == nil {
		return
	}
	user := from.Local()
	counted, filed := false, 0
	for _, c := range q.Children {
		if c.Name != "item" || c.Space != NS {
			continue
		}
		r, ok := m.reportFor(c)
		if !ok {
			continue
		}
		target, err := jid.Parse(c.Get("jid"))
		if err != nil {
			continue // items() refused the block already
		}
		r.Reporter, r.Reported, r.Time = user, target.String(), m.now()
		rec := audit.Record{Actor: from.Bare().String(), Action: audit.ActionAbuseReport, Target: r.Reported,
			Outcome: audit.OutcomeSuccess, Details: map[string]string{"reason": r.Reason,
				"stanza_ids": strconv.Itoa(len(r.StanzaIDs))}}
		if !counted {
			n, err := m.reports.CountAbuseReports(ctx, user, r.Time.Add(-24*time.Hour))
			if err != nil {
				m.log.Error("abuse report not stored", "user", user, "err", err)
				return
			}
			filed, counted = n, true
		}
		if filed >= m.reportsPerDay {
			rec.Outcome = audit.OutcomeDenied
			rec.Details["limit"] = "reports per day " + strconv.Itoa(m.reportsPerDay)
			m.emit(rec)
			continue
		}
		id, err := m.reports.AddAbuseReport(ctx, r)
		if err != nil {
			m.log.Error("abuse report not stored", "user", user, "err", err)
			continue
		}
		filed++
		rec.Details["report"] = strconv.FormatInt(id, 10)
		m.emit(rec)
		m.forward(ctx, id, from.Bare(), r)
	}
}

func (m *Module) emit(r audit.Record) {
	if m.audit != nil {
		m.audit.Emit(r)
	}
}

// forward tells each admin of a report in a message from the server: a
// body for any client, and the report itself (XEP-0377 payload) for
// clients that understand it.
func (m *Module) forward(ctx context.Context, id int64, reporter jid.JID, r store.AbuseReport) {
	for _, admin := range m.forwardTo {
		msg := stanza.New(stanza.Message, m.router.Domain(), admin, "normal", stanza.NewID())
		msg.AddChild(xmlstream.NewText("subject", stanza.NSClient, "Abuse report "+strconv.FormatInt(id, 10)))
		body := fmt.Sprintf("%s reported %s (%s)", reporter, r.Reported, r.Reason)
		if r.Text != "" {
			body += ": " + r.Text
		}
		msg.AddChild(xmlstream.NewText("body", stanza.NSClient, body))
		rep := xmlstream.New("report", NSReporting, "reason", r.Reason)
		for _, s := range r.StanzaIDs {
			rep.Add(xmlstream.New("stanza-id", nsStanzaID, "by", s.By, "id", s.ID))
		}
		if r.Text != "" {
			rep.Add(xmlstream.NewText("text", NSReporting, r.Text))
		}
		msg.AddChild(rep)
		m.router.Send(ctx, msg)
	}
}
