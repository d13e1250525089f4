package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// EncodeStanzaRefs is a report's stanza ids as both backends store them:
// a JSON array of {"by","id"}, [] for none (the column is NOT NULL).
func EncodeStanzaRefs(refs []StanzaRef) (string, error) {
	if refs == nil {
		refs = []StanzaRef{}
	}
	b, err := json.Marshal(refs)
	return string(b), err
}

// ScanAbuseReport reads one row of (id, stamp, reporter, reported, reason,
// text, stanza_ids) with scan. stamp is the backend's destination for the
// stamp column; when converts it to the report's time after the scan.
func ScanAbuseReport(scan func(dest ...any) error, stamp any, when func() time.Time) (AbuseReport, error) {
	var r AbuseReport
	var ids string
	if err := scan(&r.ID, stamp, &r.Reporter, &r.Reported, &r.Reason, &r.Text, &ids); err != nil {
		return AbuseReport{}, err
	}
	r.Time = when()
	if err := json.Unmarshal([]byte(ids), &r.StanzaIDs); err != nil {
		return AbuseReport{}, fmt.Errorf("abuse report %d: %w", r.ID, err)
	}
	return r, nil
}
