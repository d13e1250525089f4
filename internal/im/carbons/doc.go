// Package carbons implements Message Carbons (XEP-0280,
// urn:xmpp:carbons:2): every device of a user that enabled carbons sees
// the user's conversations, the messages it sent from other devices as
// <sent/> copies and the messages delivered to other devices as
// <received/> copies.
//
// The module is a router.MessageObserver: Outgoing copies what a user
// sends, Incoming copies what a user receives to the enabled sessions
// that were not delivery targets. Enablement belongs to a session, not to
// a full JID: a client that reconnects under the same resource starts
// disabled (XEP-0280 §4: carbons are enabled per session).
package carbons
