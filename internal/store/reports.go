package store

import (
	"context"
	"time"
)

// AbuseReports keeps the abuse reports users attach to a block
// (XEP-0377), for the admins (internal/im/blocking stores them,
// internal/adminapi lists them). A report outlives the accounts it names:
// it is evidence, and removing an account must not remove it.
type AbuseReports interface {
	// AddAbuseReport stores a report (its ID is ignored) and returns the
	// ID given to it.
	AddAbuseReport(ctx context.Context, r AbuseReport) (int64, error)
	// AbuseReports returns at most max reports with an ID greater than
	// after, oldest first: a page of the listing (after 0: from the
	// start). max <= 0 means every one.
	AbuseReports(ctx context.Context, after int64, max int) ([]AbuseReport, error)
	// CountAbuseReports returns how many reports reporter made at or
	// after since (the per-user daily limit).
	CountAbuseReports(ctx context.Context, reporter string, since time.Time) (int, error)
}

// AbuseReport is one report (XEP-0377 §4): who reported whom, why, and
// which of the messages they received they point at.
type AbuseReport struct {
	ID       int64
	Time     time.Time
	Reporter string // the reporting account's username
	Reported string // the reported JID, as blocked
	Reason   string // the reason URN, e.g. urn:xmpp:reporting:spam
	Text     string // the user's explanation; may be ""
	// StanzaIDs point at the reported messages (XEP-0359 <stanza-id/>).
	StanzaIDs []StanzaRef
}

// StanzaRef is one XEP-0359 stanza id: the id, and the JID of the entity
// that assigned it (for a message in a user's archive, the user's bare
// JID).
type StanzaRef struct {
	By string `json:"by"`
	ID string `json:"id"`
}

// Written beside the interface (measure.go's rule: one method each).

// AddAbuseReport stores a report.
func (m StmtMethods) AddAbuseReport(ctx context.Context, r AbuseReport) (int64, error) {
	ids, err := EncodeStanzaRefs(r.StanzaIDs)
	if err != nil {
		return 0, m.fail(err, "add abuse report")
	}
	p := m.DB.Param
	var id int64
	err = m.DB.Tx(ctx, func(tx Execer) error {
		return tx.Query(`INSERT INTO abuse_reports (stamp, reporter, reported, reason, text, stanza_ids)
			VALUES (`+p(1)+`, `+p(2)+`, `+p(3)+`, `+p(4)+`, `+p(5)+`, `+p(6)+`) RETURNING id`,
			[]any{m.DB.Stamp(r.Time), r.Reporter, r.Reported, r.Reason, r.Text, ids},
			func(scan func(...any) error) error { return scan(&id) })
	})
	if err != nil {
		return 0, m.fail(err, "add abuse report by %q", r.Reporter)
	}
	return id, nil
}

// AbuseReports returns a page of reports, oldest first.
func (m StmtMethods) AbuseReports(ctx context.Context, after int64, max int) ([]AbuseReport, error) {
	q, args := m.limit(`SELECT id, stamp, reporter, reported, reason, text, CAST(stanza_ids AS text)
		FROM abuse_reports WHERE id > `+m.DB.Param(1)+` ORDER BY id`, []any{after}, max)
	out, err := QueryRows(ctx, m.DB, func(scan func(...any) error) (AbuseReport, error) {
		var t ScanTime
		return ScanAbuseReport(scan, &t, func() time.Time { return t.Time })
	}, q, args...)
	if err != nil {
		return nil, m.fail(err, "abuse reports")
	}
	return out, nil
}

// CountAbuseReports counts a reporter's reports since a time.
func (m StmtMethods) CountAbuseReports(ctx context.Context, reporter string, since time.Time) (int, error) {
	n, err := queryValue[int](ctx, m.DB, `SELECT count(*) FROM abuse_reports WHERE reporter = `+m.DB.Param(1)+
		` AND stamp >= `+m.DB.Param(2), reporter, m.DB.Time(since))
	return n, m.fail(err, "count abuse reports of %q", reporter)
}
