// Package control holds the operations an operator runs on a parley
// server: accounts, their sessions, rooms. The same operations serve the
// CLI and, later, the admin API (docs/design: "one set of operations").
//
// On a running server they act on live state as well as on the store:
// deleting an account ends its sessions with <not-authorized/> (RFC 6120
// §4.9.3.12), a password change ends its sessions, destroying a loaded
// room tells its occupants (XEP-0045 §10.9). The CLI reaches a running
// server through a Unix socket in its data directory (Serve, Dial), which
// only the owner may use (mode 0600); when no server runs it builds Ops on
// the store alone and the same code writes the store directly.
package control
