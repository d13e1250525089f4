package adminapi

import (
	"net/http"
	"time"

	"parley/internal/control"
	"parley/internal/store"
)

// reportRoutes list the abuse reports users file with a block (XEP-0377).
// Helpdesk acts on them (it may suspend or disable the reported account)
// and compliance keeps them as evidence; an auditor reads the audit log,
// where each report is recorded too (action abuse-report).
var reportRoutes = []route{
	{"GET", "/api/v1/abuse-reports", []string{control.RoleHelpdesk, control.RoleCompliance}, "", listReports},
}

// report is an abuse report as the API shows it.
type report struct {
	ID       int64     `json:"id"`
	Time     time.Time `json:"time"`
	Reporter string    `json:"reporter"` // bare JID
	Reported string    `json:"reported"` // the JID as blocked
	Reason   string    `json:"reason"`
	Text     string    `json:"text,omitempty"`
	// StanzaIDs point at the reported messages in the reporter's archive
	// (XEP-0359).
	StanzaIDs []store.StanzaRef `json:"stanza_ids"`
}

// listReports pages the reports oldest first; the cursor is the last ID.
func listReports(a *API, w http.ResponseWriter, r *http.Request) error {
	if a.o.Reports == nil {
		return errNoReports
	}
	limit, from, err := seqPageParams(r)
	if err != nil {
		return err
	}
	// One more than a page tells whether there is a next one.
	list, err := a.o.Reports.AbuseReports(r.Context(), from, limit+1)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, seqPage(list, limit, func(rep store.AbuseReport) int64 { return rep.ID }, func(rep store.AbuseReport) report {
		ids := rep.StanzaIDs
		if ids == nil {
			ids = []store.StanzaRef{}
		}
		return report{ID: rep.ID, Time: rep.Time.UTC(), Reporter: rep.Reporter + "@" + a.o.Ops.Domain.String(),
			Reported: rep.Reported, Reason: rep.Reason, Text: rep.Text, StanzaIDs: ids}
	}))
}
