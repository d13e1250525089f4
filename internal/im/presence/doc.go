// Package presence implements presence of RFC 6121: the subscription state
// machine of §3 and Appendix A on both the user's and the contact's side,
// subscription pre-approval (§3.4), availability broadcast and probes
// (§4.2-§4.5) and directed presence (§4.6).
//
// A Handler is the router's PresenceHandler. Subscription stanzas leave
// with the user's bare JID as 'from' (§3.1.2) through router.Send, so a
// local contact's side runs Inbound exactly as a remote server's stanza
// would. Roster state lives in the roster module, whose Modify makes each
// transition atomic and pushes it to interested resources.
//
// A session's availability and last presence are kept once, in the
// router's table, where routing reads them; the handler keeps only the
// entities a session sent directed presence to, and drops them when the
// router tells that the session ended (closed or replaced).
package presence
