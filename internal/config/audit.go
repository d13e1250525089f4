package config

import (
	"fmt"
	"net"
	"regexp"
)

// Audit configures the tamper-evident audit log (internal/audit) and its
// forwarding to SIEMs ([audit] and [[audit.sinks]]).
type Audit struct {
	// CheckpointEvery is how many records pass between signed
	// checkpoints; 0 means 1000.
	CheckpointEvery int `toml:"checkpoint_every"`
	// CheckpointInterval is the longest time records wait for a
	// checkpoint; 0 means 1h.
	CheckpointInterval Duration `toml:"checkpoint_interval"`
	// Sinks receive every record, each from its own durable cursor.
	Sinks []AuditSink `toml:"sinks"`
}

// AuditSink is one place records are forwarded to.
type AuditSink struct {
	// Name identifies the sink's cursor in the store: renaming a sink
	// sends it everything again.
	Name string `toml:"name"`
	// Type is "file" (JSON Lines, or CEF lines) or "syslog" (RFC 5424).
	Type string `toml:"type"`
	// Format is "json" (default) or "cef" (ArcSight Common Event Format).
	Format string `toml:"format"`

	// Path is the file a file sink appends to.
	Path string `toml:"path"`
	// MaxSize rotates the file before it would exceed this many bytes;
	// 0 means 100 MiB. Keep is how many rotated files are kept
	// (path.1 is the newest); 0 means 5.
	MaxSize int64 `toml:"max_size"`
	Keep    int   `toml:"keep"`

	// Network is tls (RFC 5425, default), tcp (RFC 6587 octet counting)
	// or udp (RFC 5426) for a syslog sink; Address is its host:port.
	Network string `toml:"network"`
	Address string `toml:"address"`
	// CA is a PEM file of the certificates that may sign the receiver's
	// (empty: the system's roots); ServerName overrides the name checked
	// (default: Address's host). Cert and Key are an optional client
	// certificate.
	CA         string `toml:"ca"`
	ServerName string `toml:"server_name"`
	Cert       string `toml:"cert"`
	Key        string `toml:"key"`
	// Facility is the syslog facility number (0-23); 0 means 13 (log
	// audit). Hostname is the HOSTNAME field; empty means the machine's.
	Facility int    `toml:"facility"`
	Hostname string `toml:"hostname"`
}

var sinkName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

func (a Audit) validate() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	notNegative(&errs, "audit.checkpoint_every", a.CheckpointEvery)
	notNegative(&errs, "audit.checkpoint_interval", a.CheckpointInterval.Duration)
	names := map[string]bool{}
	for i, s := range a.Sinks {
		key := func(k string) string { return fmt.Sprintf("audit.sinks[%d].%s", i, k) }
		if !sinkName.MatchString(s.Name) {
			bad(key("name"), "%q is not 1-64 letters, digits, '.', '_' or '-'", s.Name)
		} else if names[s.Name] {
			bad(key("name"), "%q is used by another sink", s.Name)
		}
		names[s.Name] = true
		switch s.Format {
		case "", "json", "cef":
		default:
			bad(key("format"), "%q is not json or cef", s.Format)
		}
		switch s.Type {
		case "file":
			if s.Path == "" {
				bad(key("path"), "a file sink needs a path")
			}
			notNegative(&errs, key("max_size"), s.MaxSize)
			notNegative(&errs, key("keep"), s.Keep)
		case "syslog":
			switch s.Network {
			case "", "tls", "tcp", "udp":
			default:
				bad(key("network"), "%q is not tls, tcp or udp", s.Network)
			}
			if _, _, err := net.SplitHostPort(s.Address); err != nil {
				bad(key("address"), "%q is not host:port", s.Address)
			}
			if (s.Cert == "") != (s.Key == "") {
				bad(key("cert"), "cert and key go together")
			}
			if s.Facility < 0 || s.Facility > 23 {
				bad(key("facility"), "%d is not a syslog facility (0-23)", s.Facility)
			}
		default:
			bad(key("type"), "%q is not file or syslog", s.Type)
		}
	}
	return errs
}
