package metrics

import (
	"strings"
	"testing"
	"time"
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

func TestDirectorySync(t *testing.T) {
	m := New()
	m.DirectorySync(true, 42, time.Unix(1700000000, 0))
	m.DirectorySync(false, 0, time.Unix(1700000060, 0))
	body := scrape(t, m)
	for _, want := range []string{`parley_directory_syncs_total{outcome="success"} 1`, `parley_directory_syncs_total{outcome="failure"} 1`,
		`parley_directory_users 42`, `parley_directory_last_sync_timestamp_seconds 1.7e+09`} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}
