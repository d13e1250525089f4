// Package roster implements the roster of RFC 6121 §2 (jabber:iq:roster):
// roster get with roster versioning (§2.6), roster set to add, update and
// remove items (§2.3-§2.5), and roster pushes to interested resources
// (§2.1.6).
//
// The Module also owns the per-user roster cache that presence fan-out
// reads (DESIGN.md: presence reads a roster cache, not the store) and the
// only write path to roster items: the presence package drives the
// subscription state machine of RFC 6121 §3 through Modify, so every
// change is stored, cached and pushed in one place and in version order.
package roster
