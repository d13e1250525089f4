package config

import (
	"strings"
	"testing"
)

func TestValidateAbuse(t *testing.T) {
	c := Default()
	c.Domain = "chat.example.com"
	c.Abuse = Abuse{ReportText: -1, ReportStanzaIDs: -1, ReportsPerDay: -1, NewAccountRate: -1, NewAccountPeriod: Duration{-1},
		Blocked: []string{"ok.example", "example.com", "chat.example.com", "@bad"}}
	err := c.Validate()
	for _, key := range []string{"abuse.report_text", "abuse.report_stanza_ids", "abuse.reports_per_day", "abuse.new_account_rate", "abuse.new_account_period",
		"abuse.blocked[1]", "abuse.blocked[2]", "abuse.blocked[3]"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("Validate: %v, want an error naming %s", err, key)
		}
	}
	if strings.Contains(err.Error(), "abuse.blocked[0]") {
		t.Errorf("Validate refused a foreign domain: %v", err)
	}
	c.Abuse = Abuse{ForwardReports: true, ReportsPerDay: 3, Blocked: []string{"evil.example", "spam@chat.example.com", "other.example.com"}}
	if err := c.Validate(); err != nil {
		t.Fatalf("a valid [abuse]: %v", err)
	}
}
