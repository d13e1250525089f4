// Package sasl implements the server side of the SASL mechanisms parley
// offers to clients (RFC 4422, as profiled for XMPP by RFC 6120 §6):
// SCRAM-SHA-256 (RFC 7677) and SCRAM-SHA-1 (RFC 5802), their -PLUS
// variants bound to tls-exporter (RFC 9266) or tls-server-end-point (RFC
// 5929) with XEP-0474's downgrade protection hash in every server-first
// message, and PLAIN (RFC 4616) over TLS only.
//
// Verification uses the salted keys kept in the store (store.ScramKeys),
// never a cleartext password. Passwords are prepared with the PRECIS
// OpaqueString profile (RFC 8265 §4.2), which replaces SASLprep.
//
// The package speaks in decoded bytes: base64 on the wire and the XMPP
// elements (<auth/>, <challenge/>, <response/>, <success/>, <failure/>) are
// the caller's job, as is mapping a *Failure to the <failure/> element of
// RFC 6120 §6.5. A body that is not valid base64 is the caller's
// incorrect-encoding failure; it never reaches Step.
package sasl
