// Package register implements XEP-0077 In-Band Registration
// (jabber:iq:register) for the server's own accounts: creating an account
// before authentication, and changing the password or cancelling the
// account after it.
//
// In-band registration is off unless the operator turns it on; then c2s
// hands unauthenticated jabber:iq:register IQs to PreAuth with the
// client's address, and registrations are rate limited per address (per
// /64 for IPv6, since one host holds a whole /64). Passwords are never
// stored: only SCRAM-SHA-1 and SCRAM-SHA-256 keys derived by internal/sasl.
package register
