// Package audit is parley's tamper-evident audit log (issue 13): records of
// security-relevant events (logins, account and token changes, admin
// actions) kept in the store as a hash chain (each record carries the
// SHA-256 of the previous record's canonical encoding) with periodic
// Ed25519-signed checkpoints, verified by Verify, queried and exported as
// JSON Lines, and forwarded to SIEMs (JSON Lines files, syslog RFC 5424
// over TLS, TCP and UDP, optionally CEF) from a durable per-sink cursor.
//
// The audit log is a separate stream from the server's slog output: a
// record is written because an event happened, never because of a log
// level. docs/design/12_audit.md explains the choices.
package audit
