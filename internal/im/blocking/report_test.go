package blocking

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/store"
)

// memReports is Reports and Auditor in memory.
type memReports struct {
	mu      sync.Mutex // guards all fields
	reports []store.AbuseReport
	records []audit.Record
}

func (s *memReports) AddAbuseReport(_ context.Context, r store.AbuseReport) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reports = append(s.reports, r)
	return int64(len(s.reports)), nil
}

func (s *memReports) CountAbuseReports(_ context.Context, reporter string, since time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.reports {
		if r.Reporter == reporter && !r.Time.Before(since) {
			n++
		}
	}
	return n, nil
}

func (s *memReports) Emit(r audit.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = append(s.records, r)
}

// TestReport: a XEP-0377 report in a block item is stored with its stanza
// ids and text, audited, and forwarded to the admin; the block happens;
// the limits cut the text and the ids and refuse reports past the daily
// count; an unknown reason is no report.
func TestReport(t *testing.T) {
	rs := &memReports{}
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	w := newWorldWith(t, func(o *Options) {
		o.Reports, o.Audit = rs, rs
		o.ForwardTo = []jid.JID{jid.MustParse("nurse@capulet.lit")}
		o.MaxReportText, o.MaxReportStanzaIDs, o.ReportsPerDay = 8, 2, 2
		o.Now = func() time.Time { return now }
	})
	if !slices.Contains(w.r.Features(), NSReporting) {
		t.Errorf("features %v lack %s", w.r.Features(), NSReporting)
	}
	w.route(`<iq type='set' id='b1' from='juliet@capulet.lit/chamber'><block xmlns='urn:xmpp:blocking'>` +
		`<item jid='spam@evil.lit'><report xmlns='urn:xmpp:reporting:1' reason='urn:xmpp:reporting:spam'>` +
		`<stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit' id='s1'/>` +
		`<stanza-id xmlns='urn:xmpp:sid:0' by='not a jid@' id='s2'/>` +
		`<stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit' id='s3'/>` +
		`<stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit' id='s4'/>` +
		`<text xmlns='urn:xmpp:reporting:1'>buy ☃☃☃ now</text></report></item>` +
		`<item jid='odd@evil.lit'><report xmlns='urn:xmpp:reporting:1' reason='urn:example:other'/></item>` +
		`<item jid='plain@evil.lit'/></block></iq>`)
	if got := w.chamber.Take(); len(got) != 1 || got[0].Type != "result" {
		t.Fatalf("chamber got %v, want the result", got)
	}
	if l := w.st.lists["juliet"]; !slices.Equal(l, []string{"spam@evil.lit", "odd@evil.lit", "plain@evil.lit"}) {
		t.Errorf("blocked %q, want all three", l)
	}
	want := store.AbuseReport{Time: now, Reporter: "juliet", Reported: "spam@evil.lit", Reason: ReasonSpam,
		Text:      "buy ☃", // 8 bytes cut on a character boundary: "buy " and one 3-byte snowman
		StanzaIDs: []store.StanzaRef{{By: "juliet@capulet.lit", ID: "s1"}, {By: "juliet@capulet.lit", ID: "s3"}}}
	if len(rs.reports) != 1 || !sameReport(rs.reports[0], want) {
		t.Fatalf("stored %+v, want only %+v", rs.reports, want)
	}
	if len(rs.records) != 1 || rs.records[0].Action != audit.ActionAbuseReport || rs.records[0].Actor != "juliet@capulet.lit" ||
		rs.records[0].Target != "spam@evil.lit" || rs.records[0].Outcome != audit.OutcomeSuccess || rs.records[0].Details["report"] != "1" {
		t.Errorf("audit %+v", rs.records)
	}
	fw := w.nurse.Take()
	if len(fw) != 1 || fw[0].Kind != stanza.Message || fw[0].From.String() != "capulet.lit" ||
		!strings.Contains(fw[0].El.ChildText("body", ""), "juliet@capulet.lit reported spam@evil.lit") {
		t.Fatalf("admin got %v, want the forwarded report", fw)
	}
	if rep := fw[0].El.Child("report", NSReporting); rep == nil || rep.Get("reason") != ReasonSpam || len(rep.Children) != 3 {
		t.Errorf("forwarded report payload %v", rep)
	}

	// Two more reports in one request: the second passes the daily
	// limit of 2, is not stored, and is audited as denied. Both JIDs are
	// blocked all the same.
	w.route(`<iq type='set' id='b2' from='juliet@capulet.lit/chamber'><block xmlns='urn:xmpp:blocking'>` +
		`<item jid='a@evil.lit'><report xmlns='urn:xmpp:reporting:1' reason='urn:xmpp:reporting:abuse'/></item>` +
		`<item jid='b@evil.lit'><report xmlns='urn:xmpp:reporting:1' reason='urn:xmpp:reporting:abuse'/></item>` +
		`</block></iq>`)
	if got := w.chamber.Take(); len(got) != 1 || got[0].Type != "result" {
		t.Fatalf("chamber got %v, want the result", got)
	}
	if len(rs.reports) != 2 || rs.reports[1].Reported != "a@evil.lit" {
		t.Errorf("stored %+v, want a's report added only", rs.reports)
	}
	if len(rs.records) != 3 || rs.records[2].Outcome != audit.OutcomeDenied || rs.records[2].Target != "b@evil.lit" {
		t.Errorf("audit %+v, want b's report denied", rs.records)
	}
	if ok, _ := w.m.Blocks(w.ctx, "juliet", jid.MustParse("b@evil.lit")); !ok {
		t.Error("b@evil.lit not blocked past the report limit")
	}
	// A day later the count starts again.
	now = now.Add(25 * time.Hour)
	w.route(`<iq type='set' id='b3' from='juliet@capulet.lit/chamber'><block xmlns='urn:xmpp:blocking'>` +
		`<item jid='c@evil.lit'><report xmlns='urn:xmpp:reporting:1' reason='urn:xmpp:reporting:spam'/></item></block></iq>`)
	if len(rs.reports) != 3 {
		t.Errorf("a day later: %d reports, want 3", len(rs.reports))
	}
}

func TestNoReportsNoFeature(t *testing.T) {
	w := newWorld(t)
	if slices.Contains(w.r.Features(), NSReporting) {
		t.Errorf("%s advertised without a report store", NSReporting)
	}
}

func sameReport(a, b store.AbuseReport) bool {
	return a.Time.Equal(b.Time) && a.Reporter == b.Reporter && a.Reported == b.Reported &&
		a.Reason == b.Reason && a.Text == b.Text && slices.Equal(a.StanzaIDs, b.StanzaIDs)
}
