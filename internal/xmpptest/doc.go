// Package xmpptest is a small, real XMPP client for tests and load
// generation: it opens a stream over TCP (STARTTLS or direct TLS, XEP-0368)
// or WebSocket (RFC 7395), authenticates with SCRAM-SHA-256, SCRAM-SHA-1
// (RFC 5802, RFC 7677) or PLAIN (RFC 4616), binds a resource (RFC 6120 §7)
// and then sends raw XML and receives parsed elements.
//
// The SCRAM client side is written here independently of the server's
// internal/sasl so that a shared mistake cannot make both ends agree on a
// wrong answer. DialRaw gives the bare connection for tests that send bad
// input on purpose.
//
// Eventually waits for a condition in tests, instead of sleeping. JoinRoom
// (XEP-0045) and QueryArchive (XEP-0313) are the room join and the archive
// query that integration tests of many packages need.
//
// Subpackage testserver starts an in-process parley for tests.
package xmpptest
