// Package blocking implements XEP-0191 Blocking Command (urn:xmpp:blocking):
// a user's list of blocked JIDs, its retrieval and change, the pushes that
// keep every interested session in step, and the two router interceptors
// that enforce the list on stanzas to and from the user.
//
// The interceptors run for every stanza a local user sends or receives, so
// each user's list is cached in memory after its first use and matching an
// empty list costs one map lookup. A change writes the store first and then
// drops the cached copy; the next check reloads it.
package blocking
