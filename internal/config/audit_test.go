package config

import (
	"testing"
)

// TestValidateAudit: [audit] and [[audit.sinks]] are checked key by key,
// and a file gives what it says.
func TestValidateAudit(t *testing.T) {
	file := AuditSink{Name: "local", Type: "file", Path: "/var/log/parley/audit.jsonl"}
	checkValidate(t, []validateCase{
		0: {mod: func(c *Config) {
			c.Audit.Sinks = []AuditSink{file, {Name: "siem", Type: "syslog", Address: "siem.example.com:6514", Format: "cef"},
				{Name: "udp", Type: "syslog", Network: "udp", Address: "[::1]:514", Facility: 10}}
		}},
		1: {mod: func(c *Config) {
			c.Audit.Sinks = []AuditSink{file, {Name: "local", Type: "mail"}, {Name: "a b", Type: "file", Format: "xml", MaxSize: -1, Keep: -1}}
		}, want: []string{`audit.sinks[1].name: "local" is used`, `audit.sinks[1].type: "mail"`, `audit.sinks[2].name: "a b"`,
			`audit.sinks[2].format: "xml"`, `audit.sinks[2].path:`, `audit.sinks[2].max_size: -1`, `audit.sinks[2].keep: -1`}},
		2: {mod: func(c *Config) {
			c.Audit.Sinks = []AuditSink{{Name: "s", Type: "syslog", Network: "relp", Address: "nohost", Cert: "c.pem", Facility: 24}}
		}, want: []string{`audit.sinks[0].network: "relp"`, `audit.sinks[0].address: "nohost"`, `audit.sinks[0].cert:`, `audit.sinks[0].facility: 24`}},
		3: {mod: func(c *Config) { c.Audit.CheckpointEvery = -1; c.Audit.CheckpointInterval.Duration = -1 },
			want: []string{`audit.checkpoint_every: -1`, `audit.checkpoint_interval:`}},
	})
}
