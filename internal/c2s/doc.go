// Package c2s serves client-to-server XMPP streams: RFC 6120 stream
// negotiation (STARTTLS §5, SASL §6, resource binding §7), stream errors
// (§4.9) and whitespace keepalives (§4.6.1), over TCP with STARTTLS, direct
// TLS (XEP-0368) and WebSocket (RFC 7395).
//
// Each connection has one reader goroutine that owns its negotiation state.
// Writes go through a bounded outbox drained by a writer goroutine that
// exists only while there is something to write, so an idle authenticated
// session holds no goroutine and no buffer for writing. Timeouts and
// keepalives are enforced by one sweeper for all sessions.
package c2s
