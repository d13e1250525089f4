package adminapi

import (
	"errors"
	"net/http"
	"time"

	"parley/internal/audit"
	"parley/internal/store"
)

var (
	errNoAuditLog = errors.New("adminapi: this server keeps no audit log")
	errNoReports  = errors.New("adminapi: this server keeps no abuse reports")
	errNoUserData = errors.New("adminapi: this server serves no account data")
)

func serverInfo(a *API, w http.ResponseWriter, r *http.Request) error {
	if a.o.Info == nil {
		return writeJSON(w, http.StatusOK, ServerInfo{})
	}
	info, err := a.o.Info(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, info)
}

// auditQuery reads ?since= ?until= (RFC 3339 or a date) ?actor= ?action=.
func auditQuery(r *http.Request) (store.AuditQuery, error) {
	v := r.URL.Query()
	q := store.AuditQuery{Actor: v.Get("actor"), Action: v.Get("action")}
	var err error
	if q.Since, err = parseTime("since", v.Get("since")); err != nil {
		return q, err
	}
	q.Until, err = parseTime("until", v.Get("until"))
	return q, err
}

func parseTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, badRequest(name + ": want RFC 3339 (2026-12-01T00:00:00Z) or a date (2026-12-01)")
}

func queryAudit(a *API, w http.ResponseWriter, r *http.Request) error {
	if a.o.AuditLog == nil {
		return errNoAuditLog
	}
	q, err := auditQuery(r)
	if err != nil {
		return err
	}
	limit, after, err := seqPageParams(r)
	if err != nil {
		return err
	}
	q.After, q.Limit = after, limit+1 // one more tells whether there is a next page
	recs, err := audit.Query(r.Context(), a.o.AuditLog, q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, seqPage(recs, limit, func(rec audit.Record) int64 { return rec.Seq }, func(rec audit.Record) audit.Record { return rec }))
}

func exportAudit(a *API, w http.ResponseWriter, r *http.Request) error {
	if a.o.AuditLog == nil {
		return errNoAuditLog
	}
	q, err := auditQuery(r)
	if err != nil {
		return err
	}
	// JSON Lines, one record per line with its hash (audit.Export).
	w.Header().Set("Content-Type", "application/jsonl")
	w.Header().Set("Content-Disposition", `attachment; filename="audit.jsonl"`)
	_, err = audit.Export(r.Context(), a.o.AuditLog, q, w)
	if err != nil {
		// Lines may have gone out already: the status cannot change.
		a.o.Log.Error("adminapi: audit export", "err", err)
	}
	return nil
}
