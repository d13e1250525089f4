package metrics

import (
	"strings"
	"testing"
)

func TestAuditBacklog(t *testing.T) {
	m := New()
	m.AuditBacklog("siem", 7)
	m.AuditBacklog("file", 3)
	m.AuditBacklog("file", 0)
	body := scrape(t, m)
	for _, want := range []string{`parley_audit_sink_backlog{sink="siem"} 7`, `parley_audit_sink_backlog{sink="file"} 0`} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}
