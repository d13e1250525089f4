// Package loadgen is a load generator for XMPP servers. It speaks plain
// RFC 6120 client streams (STARTTLS or plaintext on loopback, SCRAM or
// PLAIN, resource binding), negotiated by the test client
// (internal/xmpptest) and then read by a lean splitter of its own that
// parses only what it measures, so it runs unchanged against parley,
// ejabberd and Prosody and spends little CPU of its own; it measures the
// server under test from /proc (RSS, CPU time) while it runs.
//
// The workloads are a table (Workloads): login rate, chat throughput with a
// bounded window per sender/receiver pair, latency at a fixed offered rate,
// memory per idle connection, and group chat fan-out (XEP-0045): hundreds
// of occupants in one room, a few of them sending. Every run is bounded in time and count and only ever connects to
// loopback addresses. bench/cmd/loadgen is the command; bench/compare runs
// it side by side against ejabberd and Prosody.
package loadgen
