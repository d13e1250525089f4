package config

import "fmt"

// Abuse configures abuse reports (XEP-0377) and spam controls
// (docs/SECURITY.md, "Abuse and spam"). Zero means the default.
type Abuse struct {
	// ForwardReports sends each stored report to the admins (the
	// top-level admins key) as a message from the server (default false:
	// reports are stored, audited and listed by the admin API).
	ForwardReports bool `toml:"forward_reports"`
	// ReportText bounds the user's text in a report, in bytes (default
	// 4096); longer text is cut.
	ReportText int `toml:"report_text"`
	// ReportStanzaIDs bounds the reported messages' ids kept per report
	// (default 20); further ids are ignored.
	ReportStanzaIDs int `toml:"report_stanza_ids"`
	// ReportsPerDay bounds the reports one account files in 24 hours
	// (default 10); further reports are not stored (the block happens).
	ReportsPerDay int `toml:"reports_per_day"`
}

func (a *Abuse) validate() []error {
	var errs []error
	for key, v := range map[string]int{"abuse.report_text": a.ReportText, "abuse.report_stanza_ids": a.ReportStanzaIDs,
		"abuse.reports_per_day": a.ReportsPerDay} {
		if v < 0 {
			errs = append(errs, &KeyError{Key: key, Msg: fmt.Sprintf("%d is negative (0 means the default)", v)})
		}
	}
	return errs
}
