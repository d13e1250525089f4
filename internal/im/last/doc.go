// Package last answers XEP-0012 Last Activity for the server and, on their
// behalf, for local accounts' bare JIDs.
//
// To the domain it is the server's uptime (§5). To an account's bare JID
// (§3): 0 seconds while the account has an available resource, else the
// seconds since its last session ended with the status of its last
// unavailable presence; only to those who may see the account's presence
// (RFC 6121: the account itself, or a contact with a subscription from
// the account, from or both), others get forbidden (§3, §8). Queries to a
// full JID are the client's to answer; the router delivers them.
//
// The logout times are kept in memory (one entry per account that logged
// out since the server started), not in the store: an account that has
// not logged out since is item-not-found until it does.
package last
