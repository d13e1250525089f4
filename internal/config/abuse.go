package config

import (
	"fmt"
	"strings"

	"parley/internal/jid"
)

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
	// Blocked is the server blocklist: domains (with their subdomains),
	// bare or full JIDs the server exchanges no stanza with, in either
	// direction (internal/im/spam). Not this server's domain or a parent
	// of it: that would cut off every local user.
	Blocked []string `toml:"blocked"`
	// NewAccountPeriod is how long an account counts as new (default
	// 24h); NewAccountRate is how many messages a minute a new account
	// may send to JIDs not in its roster (default 5); beyond it,
	// policy-violation.
	NewAccountPeriod Duration `toml:"new_account_period"`
	NewAccountRate   int      `toml:"new_account_rate"`
}

func (a *Abuse) validate(domain string) []error {
	var errs []error
	notNegative(&errs, "abuse.new_account_period", a.NewAccountPeriod.Duration)
	for i, b := range a.Blocked {
		key := fmt.Sprintf("abuse.blocked[%d]", i)
		j, err := jid.Parse(b)
		switch {
		case err != nil:
			errs = append(errs, &KeyError{Key: key, Msg: fmt.Sprintf("%q is not a JID: %v", b, err)})
		case j.IsDomain() && (domain == j.Domain() || strings.HasSuffix(domain, "."+j.Domain())):
			errs = append(errs, &KeyError{Key: key, Msg: fmt.Sprintf("%q would block this server's own domain %s", b, domain)})
		}
	}
	notNegative(&errs, "abuse.report_text", a.ReportText)
	notNegative(&errs, "abuse.report_stanza_ids", a.ReportStanzaIDs)
	notNegative(&errs, "abuse.reports_per_day", a.ReportsPerDay)
	notNegative(&errs, "abuse.new_account_rate", a.NewAccountRate)
	return errs
}
