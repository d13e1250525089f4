package adminapi

import (
	"net/http"
	"strconv"
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
	limit, after, err := pageParams(r)
	if err != nil {
		return err
	}
	var from int64
	if after != "" {
		if from, err = strconv.ParseInt(after, 10, 64); err != nil || from < 0 {
			return badRequest("cursor: not one this API returned")
		}
	}
	// One more than a page tells whether there is a next one.
	list, err := a.o.Reports.AbuseReports(r.Context(), from, limit+1)
	if err != nil {
		return err
	}
	p := page[report]{Items: make([]report, 0, min(len(list), limit))}
	for i, rep := range list {
		if i == limit {
			p.Next = encodeCursor(strconv.FormatInt(list[i-1].ID, 10))
			break
		}
		ids := rep.StanzaIDs
		if ids == nil {
			ids = []store.StanzaRef{}
		}
		p.Items = append(p.Items, report{ID: rep.ID, Time: rep.Time.UTC(), Reporter: rep.Reporter + "@" + a.o.Ops.Domain.String(),
			Reported: rep.Reported, Reason: rep.Reason, Text: rep.Text, StanzaIDs: ids})
	}
	return writeJSON(w, http.StatusOK, p)
}
