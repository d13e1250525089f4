// Package extdisco answers XEP-0215 External Service Discovery: the STUN
// and TURN servers the operator configured, for local users' calls
// (Jingle ICE). A TURN server that shares a secret with parley gets
// time-limited credentials in the TURN REST API scheme that coturn
// implements (use-auth-secret): username "expiry:user@domain", where
// expiry is the Unix time the credentials end, and password
// base64(HMAC-SHA1(secret, username)); the TURN server recomputes the
// password and refuses it after the expiry. Credentials are given in the
// service list (§3.1, §3.2) and on request (§3.3).
//
// Only local users get the list (§3: "forbidden if the requesting entity
// does not have permission"): credentials let their holder relay traffic
// through the operator's TURN server.
package extdisco
