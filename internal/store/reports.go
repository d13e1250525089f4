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
